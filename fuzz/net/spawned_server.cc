#include "fuzz/net/spawned_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "fuzz/net/liveness.h"
#include "fuzz/net/run_control.h"
#include "harness/child_process.h"

namespace smtp::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

// Without a pidfd (a kernel before 5.3): how often a wait looks again.
constexpr auto kPoll = std::chrono::milliseconds(2);
// A (re)start probes for the greeting after 1, 2, 4 ... ms, at most this
// far apart (listening has no event to wait for).
constexpr auto kMaxStartBackoff = std::chrono::milliseconds(16);
constexpr auto kStopGrace = std::chrono::milliseconds(1000);
constexpr std::string_view kPortPlaceholder = "{port}";

std::string ReplaceAll(std::string s, std::string_view from, const std::string& to) {
  for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

// Whether `port` on the loopback address can be bound now (0: the
// kernel's choice); the port bound, 0 if none.
std::uint16_t BindLoopback(bool v6, std::uint16_t want) {
  const int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(want);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(want);
    len = sizeof *a;
  }
  std::uint16_t port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
    port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ::close(s);
  return port;
}

// A loopback port free a moment ago, below the kernel's ephemeral range
// (ip_local_port_range) where one is free: a port in that range may be
// taken as the source port of one of our own connections just when the
// standby is to bind it. Else the kernel's choice.
std::uint16_t FreeLoopbackPort(bool v6) {
  int low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
  if (low > 1024 + 1) {
    const unsigned span = static_cast<unsigned>(low - 1 - 1024);
    const auto seed = static_cast<unsigned>(::getpid());
    for (unsigned i = 0; i < 64; ++i) {
      const auto want = static_cast<std::uint16_t>(1024 + (seed * 7919u + i * 104729u) % span);
      if (BindLoopback(v6, want) == want) return want;
    }
  }
  return BindLoopback(v6, 0);
}

// The log of the slot on `port` beside `primary` (".../spawned-server.log"
// -> ".../spawned-server.40232.log").
std::string SlotLog(const std::string& primary, std::uint16_t port) {
  const std::string ext = ".log";
  const bool has_ext = primary.size() > ext.size() &&
                       primary.compare(primary.size() - ext.size(), ext.size(), ext) == 0;
  return (has_ext ? primary.substr(0, primary.size() - ext.size()) : primary) + "." +
         std::to_string(port) + ext;
}

absl::Status Errno(const std::string& what) {
  return absl::InternalError(what + ": " + std::strerror(errno));
}

// readlink(2) into a string; "" on error.
std::string ReadLink(const std::string& path) {
  char buf[4096];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

bool IsShell(const std::string& exe) {
  const std::string name = std::filesystem::path(exe).filename().string();
  return name == "sh" || name == "dash" || name == "bash";
}

// How long gdb may take over one core.
constexpr auto kGdbTimeout = std::chrono::milliseconds(10'000);

}  // namespace

SpawnedServer::SpawnedServer(SpawnOptions options) : o_(std::move(options)) {
  if (o_.core_backtraces) {
    cores_ = DetectCoreDumps();
  } else {
    cores_.why_not = "turned off";
  }
  slots_[0].listen = o_.listen;
  slots_[0].log_path = o_.log_path;
  if (!o_.standby) {
    standby_why_not_ = "turned off";
  } else if (o_.command.find(kPortPlaceholder) == std::string::npos) {
    standby_why_not_ = "the --spawn command has no {port} for the fuzzer to fill";
  } else {
    const std::uint16_t port =
        o_.standby_port != 0 ? o_.standby_port
                             : FreeLoopbackPort(o_.listen.host.find(':') != std::string::npos);
    if (port == 0 || port == o_.listen.port) {
      standby_why_not_ = "no second port";
    } else {
      standby_on_ = true;
      slots_[1].listen = o_.listen;
      slots_[1].listen.port = port;
      slots_[1].log_path = SlotLog(o_.log_path, port);
    }
  }
  if (o_.symbolize_in_fuzzer) {
    symbolizer_path_ = FindLlvmSymbolizer();
    if (!symbolizer_path_.empty()) {
      const char* env = std::getenv("ASAN_OPTIONS");
      bool added = false;
      const std::string opts = AsanOptionsWithoutSymbolizing(env ? env : "", &added);
      if (added) {
        asan_options_ = opts;
        symbolizer_ = ReportSymbolizer(symbolizer_path_);
      } else {
        symbolizer_path_.clear();
      }
    }
  }
}

std::string SpawnedServer::Symbolize(std::string text) {
  if (asan_options_.empty()) return text;
  return symbolizer_.Symbolize(std::move(text));
}

void SpawnedServer::WaitOn(int pidfd, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return;
  if (pidfd < 0) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(timeout, kPoll));
    return;
  }
  pollfd p{pidfd, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(timeout.count()));
}

bool SpawnedServer::WaitForExit(std::chrono::milliseconds timeout) {
  const Clock::time_point end = Clock::now() + timeout;
  while (running() && !Reap(false)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() <= 0) return false;
    WaitOn(pidfd_, left);
  }
  return true;
}

bool SpawnedServer::Dying() const {
  const pid_t pid = server_pid_ > 0 ? server_pid_ : pid_;
  if (pid <= 0) return false;
  // read(2), not a stream: a process that exits meanwhile makes the read
  // fail (ESRCH), which libstdc++'s filebuf throws.
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  char buf[1024];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return true;  // exiting
  const std::string stat(buf, static_cast<std::size_t>(n));
  const std::size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return true;  // gone: reapable any moment
  // After "comm)": state ppid pgrp session tty_nr tpgid flags.
  std::istringstream fields(stat.substr(paren + 1));
  char state = 0;
  long skip = 0;
  unsigned long flags = 0;
  fields >> state >> skip >> skip >> skip >> skip >> skip >> flags;
  constexpr unsigned long kPfExiting = 0x00000004;  // PF_EXITING, include/linux/sched.h
  return state == 'Z' || state == 'X' || (flags & kPfExiting) != 0;
}

void SpawnedServer::NoteServerProcess() {
  server_pid_ = pid_;
  exe_ = ReadLink("/proc/" + std::to_string(pid_) + "/exe");
  if (IsShell(exe_)) {
    // `sh -c CMD` that did not exec CMD (a compound command): the server is
    // its child.
    std::ifstream in("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) +
                     "/children");
    long child = 0;
    if (in >> child && child > 0) {
      server_pid_ = static_cast<pid_t>(child);
      exe_ = ReadLink("/proc/" + std::to_string(child) + "/exe");
    }
  }
  cwd_ = ReadLink("/proc/" + std::to_string(server_pid_) + "/cwd");
}

std::optional<std::filesystem::path> SpawnedServer::FindCore(
    std::filesystem::file_time_type since) const {
  if (!cores_.usable || exe_.empty() || cwd_.empty()) return std::nullopt;
  return FindCoreFile(cores_, cwd_, server_pid_, exe_, since);
}

void SpawnedServer::LocateCrash(bool read) {
  crash_frame_.clear();
  const std::optional<std::filesystem::path> core = FindCore(started_at_);
  if (!core) return;
  if (read) {
    const absl::StatusOr<std::string> bt = GdbBacktrace(cores_, exe_, core->string(), kGdbTimeout);
    if (bt.ok()) crash_frame_ = CrashFrame(*bt);
  }
  std::error_code ec;
  std::filesystem::remove(*core, ec);  // read once; cores are large
}

absl::StatusOr<SpawnedServer::Proc> SpawnedServer::Launch(Slot& slot) {
  const int out = ::open(slot.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) return Errno("cannot open " + slot.log_path);
  if (slot.log_fd < 0) {
    slot.log_fd = ::open(slot.log_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (slot.log_fd < 0) {
      ::close(out);
      return Errno("cannot read " + slot.log_path);
    }
    struct stat st {};
    if (::fstat(slot.log_fd, &st) == 0) slot.log_offset = static_cast<std::uint64_t>(st.st_size);
  }
  // `sh -c CMD` in its own process group (Stop signals the whole of it),
  // its output into the log, dying with the fuzzer even when the fuzzer is
  // killed without running its exit handlers; cores to locate crashes in.
  harness::ChildSpec spec{
      .path = "/bin/sh",
      .argv = {"sh", "-c",
               ReplaceAll(o_.command, kPortPlaceholder, std::to_string(slot.listen.port))},
      .stdout_fd = out,
      .stderr_fd = out,
      .die_with_parent = true};
  if (!asan_options_.empty())
    spec.env = harness::EnvironmentWith({{"ASAN_OPTIONS", asan_options_}});
  struct rlimit core_limit {};
  if (cores_.usable && ::getrlimit(RLIMIT_CORE, &core_limit) == 0) {
    spec.core_limit = core_limit.rlim_max == RLIM_INFINITY
                          ? o_.max_core_bytes
                          : std::min<rlim_t>(core_limit.rlim_max, o_.max_core_bytes);
  }
  Proc p;
  p.started_at = std::filesystem::file_time_type::clock::now();
  const absl::StatusOr<pid_t> pid = harness::StartChild(spec);
  ::close(out);
  if (!pid.ok()) return pid.status();
  p.pid = *pid;
  // (The syscall itself: glibc 2.36's <sys/pidfd.h> lacks extern "C".)
  p.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, p.pid, 0));  // -1 before Linux 5.3

  if (p.pidfd >= 0) ::fcntl(p.pidfd, F_SETFD, FD_CLOEXEC);
  return p;
}

void SpawnedServer::Adopt(const Proc& p) {
  pid_ = p.pid;
  pidfd_ = p.pidfd;
  started_at_ = p.started_at;
  if (first_started_at_ == std::filesystem::file_time_type{}) first_started_at_ = p.started_at;
}

void SpawnedServer::LaunchStandby() {
  if (!standby_on_ || standby_.pid > 0) return;
  const absl::StatusOr<Proc> p = Launch(slots_[1 - cur_]);
  if (p.ok()) standby_ = *p;
}

absl::Status SpawnedServer::Start() {
  if (running()) return absl::OkStatus();
  const Clock::time_point t0 = Clock::now();
  const absl::Status st = StartCurrent();
  start_wait_ += Clock::now() - t0;
  // The next incarnation starts now, beside the sessions of this one.
  if (st.ok()) LaunchStandby();
  return st;
}

absl::Status SpawnedServer::StartCurrent() {
  bool switched = false;
  if (standby_.pid > 0) {
    // The standby's slot becomes current. A standby that has died (it
    // could not listen, say) is reaped with what it said left in its log,
    // and its slot gets a fresh start below.
    cur_ = 1 - cur_;
    Adopt(standby_);
    standby_ = {};
    switched = true;
  } else {
    const absl::StatusOr<Proc> p = Launch(slots_[cur_]);
    if (!p.ok()) return p.status();
    Adopt(*p);
  }
  ++starts_;
  last_ = {};
  crash_frame_.clear();
  server_pid_ = -1;
  exe_.clear();
  cwd_.clear();
  // (The slot may change below: a standby that died hands back to the other.)
  const auto where = [this]() -> const harness::Target& { return slots_[cur_].listen; };
  const Clock::time_point end = Clock::now() + o_.startup_timeout;
  absl::Status probe = absl::UnavailableError("not probed");
  auto backoff = std::chrono::milliseconds(1);
  while (Clock::now() < end) {
    if (Reap(false)) {
      const std::string said = ReadNewOutput();
      if (switched) {
        // The standby died before it was needed (it could not listen on
        // its port, say; what it said is in its log): back to the other
        // port, free now, for a fresh start, once (a second death is the
        // server's failure to start). After three such deaths in a row
        // the standby is given up.
        switched = false;
        if (++standby_deaths_ >= 3) {
          standby_on_ = false;
          standby_why_not_ = "the standby on " + slots_[cur_].listen.ToString() +
                             " died before it was needed three times in a row" +
                             (said.empty() ? "" : "; it said: " + said.substr(0, 300));
        }
        cur_ = 1 - cur_;
        const absl::StatusOr<Proc> p = Launch(slots_[cur_]);
        if (!p.ok()) return p.status();
        Adopt(*p);
        last_ = {};
        continue;
      }
      const std::string how = last_.signal != 0
                                  ? "was killed by signal " + std::to_string(last_.signal)
                                  : "exited with status " + std::to_string(last_.exit_code);
      return absl::FailedPreconditionError("the spawned server (" + o_.command + ") " + how +
                                           " before it greeted on " + where().ToString() +
                                           (said.empty() ? "" : "; it said: " + said));
    }
    probe = Probe(where(), std::chrono::milliseconds(500));
    if (probe.ok()) {
      NoteServerProcess();
      if (switched) {
        ++switches_;
        standby_deaths_ = 0;
      }
      return absl::OkStatus();
    }
    // Its death wakes this wait at once; a server still starting is looked
    // at again soon.
    WaitOn(pidfd_, backoff);
    backoff = std::min(backoff * 2, kMaxStartBackoff);
  }
  StopCurrent();
  return absl::DeadlineExceededError("the spawned server (" + o_.command + ") did not greet on " +
                                     where().ToString() + " within " +
                                     std::to_string(o_.startup_timeout.count()) + " ms (" +
                                     std::string(probe.message()) + ")");
}

bool SpawnedServer::Reap(bool block) {
  if (pid_ <= 0) return false;
  int wstatus = 0;
  if (::waitpid(pid_, &wstatus, block ? 0 : WNOHANG) != pid_) return false;
  last_ = {};
  last_.running = false;
  if (WIFEXITED(wstatus)) {
    last_.exited = true;
    last_.exit_code = WEXITSTATUS(wstatus);
  } else if (WIFSIGNALED(wstatus)) {
    last_.signal = WTERMSIG(wstatus);
  }
  // Whatever it forked per connection goes with it.
  ::kill(-pid_, SIGKILL);
  pid_ = -1;
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
  // A crash (a signal, or the shell's 128 + N for it): where. One met only
  // while stopping (it died after the last session) is not judged, but
  // its core is not left behind either.
  const int sig = last_.signal != 0                       ? last_.signal
                  : last_.exited && last_.exit_code > 128 ? last_.exit_code - 128
                                                          : 0;
  if (sig != 0 && !(stopping_ && (sig == SIGTERM || sig == SIGKILL))) {
    LocateCrash(/*read=*/!stopping_);
  }
  return true;
}

std::string SpawnedServer::ReadNewOutput() {
  Slot& slot = slots_[cur_];
  if (slot.log_fd < 0) return {};
  struct stat st {};
  if (::fstat(slot.log_fd, &st) != 0) return {};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < slot.log_offset) slot.log_offset = size;  // truncated by someone
  std::string out(std::min<std::uint64_t>(size - slot.log_offset, o_.max_output), '\0');
  const ssize_t n = out.empty() ? 0
                                : ::pread(slot.log_fd, out.data(), out.size(),
                                          static_cast<off_t>(slot.log_offset));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  slot.log_offset = size;  // beyond max_output: skipped, still in the file
  return out;
}

harness::ProcessStatus SpawnedServer::Check(std::chrono::milliseconds settle, bool only_if_dying) {
  if (running() && !Reap(false) && settle.count() > 0 && (!only_if_dying || Dying())) {
    WaitForExit(settle);
  }
  harness::ProcessStatus s = running() ? harness::ProcessStatus{} : last_;
  s.stderr_head = ReadNewOutput();
  s.stderr_bytes = s.stderr_head.size();
  return s;
}

absl::Status SpawnedServer::Restart() {
  StopCurrent();
  ++restarts_;
  return Start();
}

void SpawnedServer::StopCurrent() {
  stopping_ = true;
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    if (!WaitForExit(kStopGrace) && pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      Reap(true);
    }
  }
  stopping_ = false;
}

void SpawnedServer::Stop() {
  StopCurrent();
  if (standby_.pid > 0) {
    // Never judged: it served nobody. Its process group goes at once.
    ::kill(-standby_.pid, SIGKILL);
    ::waitpid(standby_.pid, nullptr, 0);
    if (standby_.pidfd >= 0) ::close(standby_.pidfd);
    standby_ = {};
  }
  SweepCores();
}

int SpawnedServer::SweepCores() {
  int removed = 0;
  for (; removed < 100; ++removed) {
    const std::optional<std::filesystem::path> core = FindCore(first_started_at_);
    std::error_code ec;
    if (!core || !std::filesystem::remove(*core, ec)) break;
  }
  if (removed > 0) {
    std::fprintf(Console(),
                 "smtp-harness fuzz: removed %d core file%s of the spawned server that no "
                 "death was located by (a crash as the run stopped)\n",
                 removed, removed == 1 ? "" : "s");
  }
  return removed;
}

SpawnedServer::~SpawnedServer() {
  Stop();
  for (Slot& slot : slots_) {
    if (slot.log_fd >= 0) ::close(slot.log_fd);
  }
}

}  // namespace smtp::fuzz
