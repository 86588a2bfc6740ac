#include "fuzz/net/spawned_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "fuzz/net/liveness.h"
#include "harness/child_process.h"

namespace smtp::fuzz {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(2);
constexpr auto kStartPoll = std::chrono::milliseconds(20);
constexpr auto kStopGrace = std::chrono::milliseconds(1000);

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

void SpawnedServer::LocateCrash(bool read) {
  crash_frame_.clear();
  if (!cores_.usable || exe_.empty() || cwd_.empty()) return;
  const std::optional<std::filesystem::path> core =
      FindCoreFile(cores_, cwd_, server_pid_, exe_, started_at_);
  if (!core) return;
  if (read) {
    const absl::StatusOr<std::string> bt = GdbBacktrace(cores_, exe_, core->string(), kGdbTimeout);
    if (bt.ok()) crash_frame_ = CrashFrame(*bt);
  }
  std::error_code ec;
  std::filesystem::remove(*core, ec);  // read once; cores are large
}

absl::Status SpawnedServer::Start() {
  if (running()) return absl::OkStatus();
  const int out = ::open(o_.log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) return Errno("cannot open " + o_.log_path);
  if (log_fd_ < 0) {
    log_fd_ = ::open(o_.log_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (log_fd_ < 0) {
      ::close(out);
      return Errno("cannot read " + o_.log_path);
    }
    struct stat st {};
    if (::fstat(log_fd_, &st) == 0) log_offset_ = static_cast<std::uint64_t>(st.st_size);
  }
  // `sh -c CMD` in its own process group (Stop signals the whole of it),
  // its output into the log, dying with the fuzzer even when the fuzzer is
  // killed without running its exit handlers; cores to locate crashes in.
  harness::ChildSpec spec{.path = "/bin/sh",
                          .argv = {"sh", "-c", o_.command},
                          .stdout_fd = out,
                          .stderr_fd = out,
                          .die_with_parent = true};
  struct rlimit core_limit {};
  if (cores_.usable && ::getrlimit(RLIMIT_CORE, &core_limit) == 0) {
    spec.core_limit = core_limit.rlim_max == RLIM_INFINITY
                          ? o_.max_core_bytes
                          : std::min<rlim_t>(core_limit.rlim_max, o_.max_core_bytes);
  }
  started_at_ = std::filesystem::file_time_type::clock::now();
  const absl::StatusOr<pid_t> pid = harness::StartChild(spec);
  ::close(out);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  ++starts_;
  last_ = {};
  crash_frame_.clear();
  server_pid_ = -1;
  exe_.clear();
  cwd_.clear();
  const Clock::time_point end = Clock::now() + o_.startup_timeout;
  absl::Status probe = absl::UnavailableError("not probed");
  while (Clock::now() < end) {
    if (Reap(false)) {
      const std::string said = ReadNewOutput();
      const std::string how = last_.signal != 0
                                  ? "was killed by signal " + std::to_string(last_.signal)
                                  : "exited with status " + std::to_string(last_.exit_code);
      return absl::FailedPreconditionError("the spawned server (" + o_.command + ") " + how +
                                           " before it greeted on " + o_.listen.ToString() +
                                           (said.empty() ? "" : "; it said: " + said));
    }
    probe = Probe(o_.listen, std::chrono::milliseconds(500));
    if (probe.ok()) {
      NoteServerProcess();
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(kStartPoll);
  }
  Stop();
  return absl::DeadlineExceededError("the spawned server (" + o_.command + ") did not greet on " +
                                     o_.listen.ToString() + " within " +
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
  if (log_fd_ < 0) return {};
  struct stat st {};
  if (::fstat(log_fd_, &st) != 0) return {};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < log_offset_) log_offset_ = size;  // truncated by someone
  std::string out(std::min<std::uint64_t>(size - log_offset_, o_.max_output), '\0');
  const ssize_t n =
      out.empty() ? 0 : ::pread(log_fd_, out.data(), out.size(), static_cast<off_t>(log_offset_));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  log_offset_ = size;  // beyond max_output: skipped, still in the file
  return out;
}

harness::ProcessStatus SpawnedServer::Check(std::chrono::milliseconds settle) {
  if (running() && !Reap(false) && settle.count() > 0) {
    const Clock::time_point end = Clock::now() + settle;
    while (Clock::now() < end && !Reap(false)) std::this_thread::sleep_for(kPoll);
  }
  harness::ProcessStatus s = running() ? harness::ProcessStatus{} : last_;
  s.stderr_head = ReadNewOutput();
  s.stderr_bytes = s.stderr_head.size();
  return s;
}

absl::Status SpawnedServer::Restart() {
  Stop();
  ++restarts_;
  return Start();
}

void SpawnedServer::Stop() {
  stopping_ = true;
  if (pid_ > 0) {
    ::kill(-pid_, SIGTERM);
    const Clock::time_point end = Clock::now() + kStopGrace;
    while (Clock::now() < end && !Reap(false)) std::this_thread::sleep_for(kPoll);
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      Reap(true);
    }
  }
  stopping_ = false;
}

SpawnedServer::~SpawnedServer() {
  Stop();
  if (log_fd_ >= 0) ::close(log_fd_);
}

}  // namespace smtp::fuzz
