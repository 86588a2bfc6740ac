#include "fuzz/net/report_symbolizer.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include "harness/child_process.h"

namespace smtp::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

// The symbolizer's output for one run, at most.
constexpr std::size_t kMaxOutput = 1 << 20;

bool Executable(const std::string& path) {
  return !path.empty() && ::access(path.c_str(), X_OK) == 0 && !std::filesystem::is_directory(path);
}

// The newest of `dir`/`prefix`N... (llvm-symbolizer-14, llvm-16): by N.
std::string Newest(const std::string& dir, std::string_view prefix, std::string_view suffix) {
  std::error_code ec;
  std::string best;
  long best_n = -1;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long n = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    const std::string candidate = e.path().string() + std::string(suffix);
    if (n > best_n && Executable(candidate)) {
      best_n = n;
      best = candidate;
    }
  }
  return best;
}

// A frame line without a symbol: "    #N 0xADDR  (MODULE+0xOFF)...".
struct RawFrame {
  std::string_view number;   // "#3"
  std::string_view address;  // "0x55d0c1a2b4df"
  std::string module, offset;
};

std::optional<RawFrame> ParseRawFrame(std::string_view line) {
  const std::size_t hash = line.find_first_not_of(' ');
  if (hash == std::string_view::npos || line[hash] != '#') return std::nullopt;
  const std::size_t sp = line.find(' ', hash);
  if (sp == std::string_view::npos || line.substr(sp + 1, 2) != "0x") return std::nullopt;
  const std::size_t addr_end = line.find(' ', sp + 1);
  if (addr_end == std::string_view::npos || line.substr(addr_end, 3) != "  (") return std::nullopt;
  const std::size_t close = line.find(')', addr_end + 3);
  if (close == std::string_view::npos) return std::nullopt;
  const std::string_view inner = line.substr(addr_end + 3, close - addr_end - 3);
  const std::size_t plus = inner.rfind("+0x");
  if (plus == std::string_view::npos || plus == 0) return std::nullopt;
  return RawFrame{line.substr(hash, sp - hash), line.substr(sp + 1, addr_end - sp - 1),
                  std::string(inner.substr(0, plus)), std::string(inner.substr(plus + 1))};
}

}  // namespace

std::string FindLlvmSymbolizer() {
  if (const char* env = std::getenv("ASAN_SYMBOLIZER_PATH"); env != nullptr && Executable(env)) {
    return env;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (!dir.empty() && Executable(dir + "/llvm-symbolizer")) return dir + "/llvm-symbolizer";
    }
  }
  if (std::string s = Newest("/usr/bin", "llvm-symbolizer-", ""); !s.empty()) return s;
  return Newest("/usr/lib", "llvm-", "/bin/llvm-symbolizer");
}

std::string AsanOptionsWithoutSymbolizing(std::string_view base, bool* added) {
  // ASAN_OPTIONS is a list of name=value separated by ':' (or spaces, commas).
  std::size_t at = 0;
  while ((at = base.find("symbolize=", at)) != std::string_view::npos) {
    if (at == 0 || std::string_view(": ,\t").find(base[at - 1]) != std::string_view::npos) {
      *added = false;
      return std::string(base);
    }
    ++at;
  }
  *added = true;
  return base.empty() ? "symbolize=0" : std::string(base) + ":symbolize=0";
}

void ReportSymbolizer::Resolve(const std::string& module, const std::vector<std::string>& offsets,
                               std::chrono::milliseconds timeout) {
  // Unknown until resolved: a symbolizer that fails is not asked again.
  for (const std::string& off : offsets) cache_[{module, off}] = {};
  int fds[2];
  if (path_.empty() || ::pipe2(fds, O_CLOEXEC) != 0) return;
  harness::ChildSpec spec{.path = path_,
                          .argv = {path_, "--obj=" + module, "--inlines", "--demangle"},
                          .stdout_fd = fds[1]};
  for (const std::string& off : offsets) spec.argv.push_back(off);
  const absl::StatusOr<pid_t> pid = harness::StartChild(spec);
  ::close(fds[1]);
  if (!pid.ok()) {
    ::close(fds[0]);
    return;
  }
  ++runs_;
  std::string out;
  const Clock::time_point end = Clock::now() + timeout;
  for (char buf[4096]; out.size() < kMaxOutput;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    pollfd p{fds[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ::kill(*pid, SIGKILL);  // done or out of time: it has nothing more to say
  ::waitpid(*pid, nullptr, 0);
  // One block per address, in order, separated by an empty line; in each,
  // a function line and a location line per inlined frame.
  std::size_t pos = 0;
  for (const std::string& off : offsets) {
    Frames frames;
    while (pos < out.size()) {
      const std::size_t eol = out.find('\n', pos);
      if (eol == std::string::npos) break;
      const std::string fn = out.substr(pos, eol - pos);
      pos = eol + 1;
      if (fn.empty()) break;  // end of this address's block
      const std::size_t eol2 = out.find('\n', pos);
      if (eol2 == std::string::npos) break;
      std::string loc = out.substr(pos, eol2 - pos);
      pos = eol2 + 1;
      if (fn != "??") frames.emplace_back(fn, loc.rfind("??", 0) == 0 ? std::string() : loc);
    }
    cache_[{module, off}] = std::move(frames);
  }
}

std::string ReportSymbolizer::Symbolize(std::string text, std::chrono::milliseconds timeout) {
  if (text.find("  (") == std::string::npos) return text;
  // The frames not resolved yet, by module: one symbolizer run per module.
  std::map<std::string, std::vector<std::string>> wanted;
  std::set<std::pair<std::string, std::string>> seen;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t eol = std::min(text.find('\n', pos), text.size());
    if (const std::optional<RawFrame> f =
            ParseRawFrame(std::string_view(text).substr(pos, eol - pos))) {
      if (!cache_.count({f->module, f->offset}) && seen.insert({f->module, f->offset}).second) {
        wanted[f->module].push_back(f->offset);
      }
    }
    pos = eol + 1;
  }
  for (const auto& [module, offsets] : wanted) Resolve(module, offsets, timeout);
  std::string out;
  out.reserve(text.size());
  // An address with inlined calls becomes one line per function, numbered
  // on as the sanitizer numbers them (its next frames move down): `shift`
  // is how far, within the stack that the last "#0" began.
  std::size_t shift = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t nl = text.find('\n', pos);
    const std::size_t eol = nl == std::string::npos ? text.size() : nl;
    const std::string_view line = std::string_view(text).substr(pos, eol - pos);
    const std::optional<RawFrame> f = ParseRawFrame(line);
    std::size_t n = 0;
    const bool numbered =
        f && std::from_chars(f->number.data() + 1, f->number.data() + f->number.size(), n).ec ==
                 std::errc();
    if (numbered && n == 0) shift = 0;
    const std::string indent(line.substr(0, line.find('#')));
    const auto hit = f ? cache_.find({f->module, f->offset}) : cache_.end();
    if (hit == cache_.end() || hit->second.empty()) {
      if (numbered && shift > 0) {
        out += indent + "#" + std::to_string(n + shift) +
               std::string(line.substr(indent.size() + f->number.size()));
      } else {
        out.append(line);
      }
    } else {
      for (std::size_t i = 0; i < hit->second.size(); ++i) {
        const auto& [fn, loc] = hit->second[i];
        if (i > 0) out.push_back('\n');
        const std::string number =
            numbered ? "#" + std::to_string(n + shift + i) : std::string(f->number);
        out += indent + number + " " + std::string(f->address) + " in " + fn + " " +
               (loc.empty() ? "(" + f->module + "+" + f->offset + ")" : loc);
      }
      if (numbered) shift += hit->second.size() - 1;
    }
    if (nl != std::string::npos) out.push_back('\n');
    pos = eol + 1;
  }
  return out;
}

}  // namespace smtp::fuzz
