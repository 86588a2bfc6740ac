// The in-memory transport pair (MakeMemoryPair): bounded pipes whose readers
// and writers wait on timers, for tests and the in-process fuzz target.
#include "harness/transport.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace smtp::harness {
namespace {

// One direction of an in-memory pair. `readable` wakes the reader, `writable`
// the writer: a waiter arms its timer for its deadline, a notifier cancels it.
struct Pipe {
  Pipe(asio::any_io_executor ex, std::size_t cap) : capacity(cap), readable(ex), writable(ex) {}
  std::string buf;
  std::size_t capacity;
  bool eof = false;          // writer closed
  bool reader_gone = false;  // reader closed
  asio::steady_timer readable;
  asio::steady_timer writable;
};

// Waits until `timer` is cancelled (a notification) or `deadline` passes.
// Returns false when the waiting coroutine itself was cancelled (the
// runner's Stop): a notification and a cancellation both end the wait with
// operation_aborted, so the coroutine's cancellation state tells them apart.
asio::awaitable<bool> WaitOn(asio::steady_timer& timer, Deadline deadline) {
  timer.expires_at(deadline);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
  co_return state.cancelled() == asio::cancellation_type::none;
}

class MemoryTransport final : public Transport {
 public:
  MemoryTransport(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out, std::string name)
      : in_(std::move(in)), out_(std::move(out)), name_(std::move(name)) {}
  ~MemoryTransport() override { Shut(); }

  asio::awaitable<absl::StatusOr<std::size_t>> ReadSome(char* buf, std::size_t max,
                                                        Deadline deadline) override {
    for (;;) {
      if (closed_) co_return absl::FailedPreconditionError("read: transport closed");
      if (Clock::now() >= deadline) co_return absl::DeadlineExceededError("read: deadline");
      if (!in_->buf.empty()) {
        const std::size_t n = std::min(max, in_->buf.size());
        std::memcpy(buf, in_->buf.data(), n);
        in_->buf.erase(0, n);
        in_->writable.cancel();
        co_return n;
      }
      if (in_->eof) co_return std::size_t{0};
      if (!co_await WaitOn(in_->readable, deadline)) {
        co_return absl::CancelledError("read: cancelled");
      }
    }
  }

  asio::awaitable<absl::Status> Write(std::string_view bytes, Deadline deadline,
                                      std::size_t* written) override {
    std::size_t done = 0;
    absl::Status status;
    while (done < bytes.size()) {
      if (closed_) {
        status = absl::FailedPreconditionError("write: transport closed");
        break;
      }
      if (out_->reader_gone) {
        status = absl::UnavailableError("write: broken pipe");
        break;
      }
      const std::size_t room = out_->capacity - std::min(out_->capacity, out_->buf.size());
      if (room > 0) {
        const std::size_t n = std::min(room, bytes.size() - done);
        out_->buf.append(bytes.substr(done, n));
        done += n;
        out_->readable.cancel();
        continue;
      }
      if (Clock::now() >= deadline) {
        status = absl::DeadlineExceededError("write: deadline");
        break;
      }
      if (!co_await WaitOn(out_->writable, deadline)) {
        status = absl::CancelledError("write: cancelled");
        break;
      }
    }
    if (written) *written = done;
    co_return status;
  }

  asio::awaitable<absl::Status> Close(Deadline) override {
    Shut();
    co_return absl::OkStatus();
  }

  std::string peer() const override { return name_; }

 private:
  void Shut() {
    if (closed_) return;
    closed_ = true;
    out_->eof = true;
    out_->readable.cancel();
    in_->reader_gone = true;
    in_->buf.clear();
    in_->writable.cancel();
  }

  std::shared_ptr<Pipe> in_;
  std::shared_ptr<Pipe> out_;
  std::string name_;
  bool closed_ = false;
};

}  // namespace

std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> MakeMemoryPair(
    asio::any_io_executor executor, std::size_t capacity) {
  auto c2s = std::make_shared<Pipe>(executor, std::max<std::size_t>(capacity, 1));
  auto s2c = std::make_shared<Pipe>(executor, std::max<std::size_t>(capacity, 1));
  return {std::make_unique<MemoryTransport>(s2c, c2s, "memory:server"),
          std::make_unique<MemoryTransport>(c2s, s2c, "memory:client")};
}

}  // namespace smtp::harness
