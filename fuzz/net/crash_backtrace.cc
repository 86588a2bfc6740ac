#include "fuzz/net/crash_backtrace.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "harness/child_process.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxGdbOutput = 64 * 1024;

std::string ReadSmallFile(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

std::optional<std::string> OnPath(std::string_view name) {
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "/usr/bin:/bin";
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string_view dir = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + std::string(name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// The C library's (and the compiler runtime's) own frames on the way to a
// signal: not where the program went wrong.
bool LibraryFrame(std::string_view fn) {
  if (fn.empty() || fn == "??" || fn.substr(0, 2) == "__") return true;
  for (const std::string_view name :
       {"raise", "abort", "gsignal", "pthread_kill", "kill", "tgkill", "assert", "_start",
        "libc_start_main", "std::terminate", "std::__terminate", "__cxa_throw",
        "__gnu_cxx::__verbose_terminate_handler"}) {
    if (fn == name) return true;
  }
  return false;
}

}  // namespace

CoreDumps DetectCoreDumps() {
  CoreDumps c;
  c.pattern = ReadSmallFile("/proc/sys/kernel/core_pattern");
  c.uses_pid = ReadSmallFile("/proc/sys/kernel/core_uses_pid") == "1";
  const std::optional<std::string> gdb = OnPath("gdb");
  if (!gdb) {
    c.why_not = "gdb is not installed";
  } else if (c.pattern.empty() || c.pattern[0] == '|') {
    c.why_not = "the kernel's core_pattern pipes cores to a program (" + c.pattern + ")";
  } else {
    c.gdb = *gdb;
    c.usable = true;
  }
  return c;
}

std::optional<fs::path> FindCoreFile(const CoreDumps& cores, const std::string& cwd, pid_t pid,
                                     const std::string& exe, fs::file_time_type since) {
  if (!cores.usable) return std::nullopt;
  // The pattern with what we know expanded; the rest of it (%t, %h, ...)
  // matches anything: the file's name must start with the literal part
  // before the first unknown specifier.
  std::string comm = fs::path(exe).filename().string().substr(0, 15);
  std::string name;
  bool has_pid = false, open_ended = false;
  for (std::size_t i = 0; i < cores.pattern.size() && !open_ended; ++i) {
    const char ch = cores.pattern[i];
    if (ch != '%' || i + 1 == cores.pattern.size()) {
      name += ch;
      continue;
    }
    switch (cores.pattern[++i]) {
      case 'p':
      case 'P':
        name += std::to_string(pid);
        has_pid = true;
        break;
      case 'e':
        name += comm;
        break;
      case '%':
        name += '%';
        break;
      default:
        open_ended = true;
        break;
    }
  }
  if (!has_pid && !open_ended && cores.uses_pid) name += "." + std::to_string(pid);
  fs::path full = fs::path(name).is_absolute() ? fs::path(name) : fs::path(cwd) / name;
  const fs::path dir = full.parent_path();
  const std::string prefix = full.filename().string();
  std::error_code ec;
  std::optional<fs::path> best;
  fs::file_time_type best_time{};
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const bool match = open_ended ? file.rfind(prefix, 0) == 0 : file == prefix;
    if (!match || !it->is_regular_file(ec)) continue;
    const fs::file_time_type t = it->last_write_time(ec);
    if (ec || t < since) continue;
    if (!best || t > best_time) {
      best = it->path();
      best_time = t;
    }
  }
  return best;
}

absl::StatusOr<std::string> GdbBacktrace(const CoreDumps& cores, const std::string& exe,
                                         const std::string& core,
                                         std::chrono::milliseconds timeout) {
  if (!cores.usable) return absl::FailedPreconditionError(cores.why_not);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
  // No debuginfod: gdb must not reach out to the network for symbols.
  const harness::ChildSpec spec{
      .path = cores.gdb,
      .argv = {cores.gdb, "-nx", "-batch", "-iex", "set debuginfod enabled off", "-iex",
               "set auto-load no", "-ex", "bt 32", exe, core},
      .env = harness::EnvironmentWith({}, {"DEBUGINFOD_URLS"}),
      .stdout_fd = fds[1],
      .stderr_fd = fds[1]};
  const absl::StatusOr<pid_t> started = harness::StartChild(spec);
  ::close(fds[1]);
  if (!started.ok()) {
    ::close(fds[0]);
    return started.status();
  }
  const pid_t pid = *started;
  std::string out;
  const Clock::time_point end = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    std::array<char, 4096> buf;
    const ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n <= 0) break;
    if (out.size() < kMaxGdbOutput) out.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) {
    return absl::DeadlineExceededError("gdb took longer than " + std::to_string(timeout.count()) +
                                       " ms");
  }
  return out;
}

std::string CrashFrame(std::string_view bt) {
  while (!bt.empty()) {
    const std::size_t eol = bt.find('\n');
    std::string_view line = bt.substr(0, eol);
    bt = eol == std::string_view::npos ? std::string_view{} : bt.substr(eol + 1);
    // "#4  0x000055f31a46c162 in bug_one () at ab.c:3" or "#5  main (c=1) at ab.c:5".
    if (line.size() < 2 || line[0] != '#' || line[1] < '0' || line[1] > '9') continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    line = line.substr(space);
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    if (line.substr(0, 2) == "0x") {
      const std::size_t in = line.find(" in ");
      if (in == std::string_view::npos) continue;
      line = line.substr(in + 4);
    }
    const std::size_t paren = line.find(" (");
    const std::string_view fn = line.substr(0, paren);
    if (LibraryFrame(fn)) continue;
    return std::string(fn);
  }
  return "";
}

}  // namespace smtp::fuzz
