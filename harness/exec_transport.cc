// exec: transport: a child process (`/bin/sh -c COMMAND`) speaking SMTP on
// its stdin/stdout. Its stderr is drained in the background (bounded), its
// exit status captured. The child leads its own process group so that Close
// can kill whatever it started.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>

#include "harness/asio_deadline.h"
#include "harness/child_process.h"

namespace smtp::harness {
namespace {

using asio::posix::stream_descriptor;
using internal::RunWithDeadline;

// Poll interval while waiting for the child to exit after its stdin closed.
constexpr auto kReapPoll = std::chrono::milliseconds(5);

absl::Status Errno(std::string_view what) {
  return absl::InternalError(std::string(what) + ": " + std::strerror(errno));
}

// Shared with the stderr drain coroutine, which may outlive the transport.
struct StderrState {
  explicit StderrState(asio::any_io_executor ex, int fd, std::size_t cap)
      : pipe(ex, fd), max(cap) {}
  stream_descriptor pipe;
  std::size_t max;
  std::string head;
  std::size_t total = 0;
};

asio::awaitable<void> DrainStderr(std::shared_ptr<StderrState> st) {
  char buf[4096];
  for (;;) {
    auto [ec, n] =
        co_await st->pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    st->total += n;
    if (st->head.size() < st->max) {
      st->head.append(buf, std::min(n, st->max - st->head.size()));
    }
    if (ec) co_return;  // EOF, or cancelled because the transport went away
  }
}

class ExecTransport final : public Transport {
 public:
  ExecTransport(asio::any_io_executor ex, pid_t pid, int in_fd, int out_fd,
                std::shared_ptr<StderrState> err, std::string command)
      : pid_(pid),
        stdin_(ex, in_fd),
        stdout_(ex, out_fd),
        err_(std::move(err)),
        peer_("exec:" + std::move(command)) {}

  ~ExecTransport() override {
    boost::system::error_code ec;
    stdin_.close(ec);
    stdout_.close(ec);
    err_->pipe.cancel(ec);  // the drain coroutine ends; it owns err_ jointly
    if (status_.running) {
      ::kill(-pid_, SIGKILL);
      int wstatus = 0;
      ::waitpid(pid_, &wstatus, 0);  // prompt after SIGKILL; no zombie left
    }
  }

  asio::awaitable<absl::StatusOr<std::size_t>> ReadSome(char* buf, std::size_t max,
                                                        Deadline deadline) override {
    if (!stdout_.is_open()) co_return absl::FailedPreconditionError("read: transport closed");
    if (Clock::now() >= deadline) co_return absl::DeadlineExceededError("read: deadline");
    auto [ec, n] = co_await RunWithDeadline(
        stdout_.async_read_some(asio::buffer(buf, max), asio::deferred), deadline);
    if (n > 0) co_return n;
    if (!ec || ec == asio::error::eof) co_return std::size_t{0};
    co_return ErrorToStatus(ec, "read from " + peer_);
  }

  bool ReadReady() override {
    if (!stdout_.is_open()) return true;
    pollfd p{stdout_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  asio::awaitable<absl::Status> Write(std::string_view bytes, Deadline deadline,
                                      std::size_t* written) override {
    if (!stdin_.is_open()) co_return absl::FailedPreconditionError("write: transport closed");
    auto [ec, n] = co_await RunWithDeadline(
        asio::async_write(stdin_, asio::buffer(bytes.data(), bytes.size()), asio::deferred),
        deadline);
    if (written) *written = n;
    if (ec) co_return ErrorToStatus(ec, "write to " + peer_);
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> Close(Deadline deadline) override {
    boost::system::error_code ec;
    stdin_.close(ec);  // EOF on the child's stdin: a polite server exits
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (Poll() && Clock::now() < deadline) {
      timer.expires_at(std::min(deadline, Clock::now() + kReapPoll));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    stdout_.close(ec);
    absl::Status result;
    if (status_.running) {
      ::kill(-pid_, SIGKILL);
      int wstatus = 0;
      if (::waitpid(pid_, &wstatus, 0) == pid_) Record(wstatus);
      result = absl::DeadlineExceededError(peer_ + ": did not exit after stdin closed; killed");
    }
    co_return result;
  }

  std::string peer() const override { return peer_; }

  std::optional<ProcessStatus> process() override {
    Poll();
    ProcessStatus out = status_;
    out.stderr_head = err_->head;
    out.stderr_bytes = err_->total;
    return out;
  }

 private:
  // Reaps the child if it has exited; returns whether it is still running.
  bool Poll() {
    if (!status_.running) return false;
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) Record(wstatus);
    return status_.running;
  }

  void Record(int wstatus) {
    status_.running = false;
    if (WIFEXITED(wstatus)) {
      status_.exited = true;
      status_.exit_code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
      status_.signal = WTERMSIG(wstatus);
    }
  }

  pid_t pid_;
  stream_descriptor stdin_;
  stream_descriptor stdout_;
  std::shared_ptr<StderrState> err_;
  std::string peer_;
  ProcessStatus status_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Transport>> SpawnExec(asio::any_io_executor executor,
                                                     std::string_view command,
                                                     ExecOptions options) {
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];  // [0] read end, [1] write end
  if (::pipe2(in, O_CLOEXEC) != 0) return Errno("pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return Errno("pipe");
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return Errno("pipe");
  }
  const std::string cmd(command);
  // In a process group of its own: Close kills the whole of it.
  const absl::StatusOr<pid_t> started = StartChild({.path = "/bin/sh",
                                                    .argv = {"sh", "-c", cmd},
                                                    .stdin_fd = in[0],
                                                    .stdout_fd = out[1],
                                                    .stderr_fd = err[1]});
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!started.ok()) {
    for (int fd : {in[1], out[0], err[0]}) ::close(fd);
    return started.status();
  }
  const pid_t pid = *started;
  auto err_state = std::make_shared<StderrState>(executor, err[0], options.max_stderr);
  asio::co_spawn(executor, DrainStderr(err_state), asio::detached);
  return std::unique_ptr<Transport>(
      std::make_unique<ExecTransport>(executor, pid, in[1], out[0], std::move(err_state), cmd));
}

}  // namespace smtp::harness
