#include "harness/client/client_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "harness/child_process.h"
#include "results/absl_compat.h"

namespace smtp::client {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status Errno(std::string_view what) {
  return absl::InternalError(absl::StrCat(AV(what), ": ", std::strerror(errno)));
}

// Reads what is available on `fd` into `head` (bounded), counting all.
// Returns false at EOF or on an error.
bool Drain(int fd, std::string* head, std::size_t* total, std::size_t max) {
  char buf[8192];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN;
  if (n == 0) return false;
  *total += static_cast<std::size_t>(n);
  if (head->size() < max) head->append(buf, std::min<std::size_t>(n, max - head->size()));
  return true;
}

}  // namespace

std::string SignalName(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGINT:
      return "SIGINT";
    default:
      return absl::StrCat("signal ", sig);
  }
}

std::string ProcessOutcome::Describe() const {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  if (timed_out) {
    return absl::StrCat(stopped ? "stopped by the harness" : "still running", " after ", ms,
                        " ms: killed");
  }
  if (exited) return absl::StrCat("exit ", exit_code);
  if (signal != 0) return absl::StrCat("killed by ", SignalName(signal));
  return "unknown end";
}

absl::StatusOr<std::unique_ptr<ClientProcess>> ClientProcess::Start(ProcessOptions options) {
  std::unique_ptr<ClientProcess> p(new ClientProcess());
  p->o_ = std::move(options);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Errno("pipe");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Errno("pipe");
  }
  p->started_ = Clock::now();
  // In a process group of its own (KillGroup), stdin /dev/null, in its
  // directory (exit 126 when it cannot change to it), with its variables.
  const absl::StatusOr<pid_t> pid = harness::StartChild({.path = "/bin/sh",
                                                         .argv = {"/bin/sh", "-c", p->o_.command},
                                                         .env = harness::EnvironmentWith(p->o_.env),
                                                         .stdout_fd = out[1],
                                                         .stderr_fd = err[1],
                                                         .cwd = p->o_.cwd});
  ::close(out[1]);
  ::close(err[1]);
  if (!pid.ok()) {
    ::close(out[0]);
    ::close(err[0]);
    return pid.status();
  }
  p->pid_ = *pid;
  p->out_fd_ = out[0];
  p->err_fd_ = err[0];
  ::fcntl(p->out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(p->err_fd_, F_SETFL, O_NONBLOCK);
  return p;
}

void ClientProcess::KillGroup(int sig) {
  if (pid_ > 0) ::kill(-pid_, sig);
}

ProcessOutcome ClientProcess::Wait() {
  ProcessOutcome r;
  const Clock::time_point deadline = started_ + o_.timeout;
  std::optional<Clock::time_point> drain_until;  // set once the process ended
  std::optional<Clock::time_point> kill_at;      // SIGKILL after SIGTERM
  bool out_open = true, err_open = true;
  // Bounded: every pass waits at most 20 ms and the deadlines end it.
  while (true) {
    const Clock::time_point now = Clock::now();
    if (!reaped_) {
      int status = 0;
      const pid_t w = ::waitpid(pid_, &status, WNOHANG);
      if (w == pid_) {
        reaped_ = true;
        r.duration = std::chrono::duration_cast<std::chrono::microseconds>(now - started_);
        if (WIFEXITED(status)) {
          r.exited = !r.timed_out;
          r.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
          r.signal = r.timed_out ? 0 : WTERMSIG(status);
        }
        drain_until = now + std::chrono::milliseconds(300);
      } else if (!r.timed_out && (now >= deadline || stop_.load())) {
        r.timed_out = true;
        r.stopped = stop_.load() && now < deadline;
        KillGroup(SIGTERM);
        kill_at = now + o_.kill_grace;
      } else if (kill_at && now >= *kill_at) {
        KillGroup(SIGKILL);
        kill_at.reset();
      }
    }
    if ((!out_open && !err_open && reaped_) || (drain_until && now >= *drain_until)) break;
    pollfd fds[2] = {{out_open ? out_fd_ : -1, POLLIN, 0}, {err_open ? err_fd_ : -1, POLLIN, 0}};
    ::poll(fds, 2, 20);
    if (out_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      out_open = Drain(out_fd_, &r.stdout_head, &r.stdout_bytes, o_.max_output);
    }
    if (err_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      err_open = Drain(err_fd_, &r.stderr_head, &r.stderr_bytes, o_.max_output);
    }
  }
  // What the client left behind in its group (a daemonized helper) goes too.
  KillGroup(SIGKILL);
  ::close(out_fd_);
  ::close(err_fd_);
  out_fd_ = err_fd_ = -1;
  return r;
}

ClientProcess::~ClientProcess() {
  if (pid_ > 0 && !reaped_) {
    KillGroup(SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

}  // namespace smtp::client
