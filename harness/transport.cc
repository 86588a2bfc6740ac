// Transport basics: targets, the Boost→absl error mapping, the dispatcher and
// the in-memory pair. TCP/TLS live in socket_transport.cc, exec: in
// exec_transport.cc.
#include "harness/transport.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace smtp::harness {
namespace {

bool ParsePort(std::string_view s, std::uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) {
    return false;
  }
  *port = static_cast<std::uint16_t>(value);
  return true;
}

// host[:port] | "[" v6 "]" [":" port]
absl::Status ParseHostPort(std::string_view spec, Target* t) {
  std::string_view host = spec;
  std::string_view port;
  if (!spec.empty() && spec.front() == '[') {
    const std::size_t close = spec.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("target: missing ']'");
    host = spec.substr(1, close - 1);
    std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return absl::InvalidArgumentError("target: junk after ']'");
      port = rest.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("target: empty port");
    }
  } else if (const std::size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    if (spec.find(':') != colon) {
      return absl::InvalidArgumentError("target: IPv6 address must be in brackets: [::1]:25");
    }
    host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    if (port.empty()) return absl::InvalidArgumentError("target: empty port");
  }
  if (host.empty()) return absl::InvalidArgumentError("target: empty host");
  if (host.find_first_of(" \t\r\n/") != std::string_view::npos) {
    return absl::InvalidArgumentError("target: bad character in host");
  }
  if (!port.empty() && !ParsePort(port, &t->port)) {
    return absl::InvalidArgumentError("target: bad port");
  }
  t->host.assign(host);
  return absl::OkStatus();
}

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

asio::awaitable<absl::Status> Transport::StartTls(const TlsOptions&, Deadline) {
  co_return absl::UnimplementedError("STARTTLS is not supported on " + peer());
}

std::string Target::ToString() const {
  switch (kind) {
    case Kind::kExec:
      return "exec:" + command;
    case Kind::kTcp:
    case Kind::kTls: {
      std::string out = kind == Kind::kTls ? "tls:" : "";
      if (host.find(':') != std::string::npos) {
        out += "[" + host + "]";
      } else {
        out += host;
      }
      return out + ":" + std::to_string(port);
    }
  }
  return {};
}

absl::StatusOr<Target> ParseTarget(std::string_view spec) {
  Target t;
  if (spec.starts_with("exec:")) {
    t.kind = Target::Kind::kExec;
    t.command.assign(spec.substr(5));
    if (t.command.empty()) return absl::InvalidArgumentError("target: empty exec: command");
    return t;
  }
  if (spec.starts_with("tls:")) {
    t.kind = Target::Kind::kTls;
    t.port = 465;
    spec.remove_prefix(4);
  } else if (spec.starts_with("tcp:")) {
    spec.remove_prefix(4);
  }
  if (absl::Status s = ParseHostPort(spec, &t); !s.ok()) return s;
  return t;
}

absl::Status ErrorToStatus(const boost::system::error_code& ec, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += ec.message();
  namespace err = asio::error;
  if (ec == err::timed_out || ec == err::operation_aborted) {
    return absl::DeadlineExceededError(msg);
  }
  if (ec == err::eof || ec == asio::ssl::error::stream_truncated) {
    return absl::OutOfRangeError(msg);  // peer closed where bytes were required
  }
  if (ec == err::connection_refused || ec == err::connection_reset ||
      ec == err::connection_aborted || ec == err::broken_pipe || ec == err::network_unreachable ||
      ec == err::host_unreachable || ec == err::network_down || ec == err::not_connected) {
    return absl::UnavailableError(msg);
  }
  if (ec == err::host_not_found || ec == err::host_not_found_try_again || ec == err::no_data ||
      ec == err::service_not_found) {
    return absl::NotFoundError(msg);
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return absl::FailedPreconditionError(msg);  // TLS failure: handshake, certificate, record
  }
  if (ec == err::bad_descriptor) return absl::FailedPreconditionError(msg);
  return absl::UnknownError(msg);
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> Connect(const Target& target,
                                                                    const TlsOptions& tls,
                                                                    Deadline deadline) {
  switch (target.kind) {
    case Target::Kind::kTcp:
      co_return co_await ConnectTcp(target.host, target.port, deadline);
    case Target::Kind::kTls:
      co_return co_await ConnectTls(target.host, target.port, tls, deadline);
    case Target::Kind::kExec:
      co_return SpawnExec(co_await asio::this_coro::executor, target.command);
  }
  co_return absl::InvalidArgumentError("bad target kind");
}

std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> MakeMemoryPair(
    asio::any_io_executor executor, std::size_t capacity) {
  auto c2s = std::make_shared<Pipe>(executor, std::max<std::size_t>(capacity, 1));
  auto s2c = std::make_shared<Pipe>(executor, std::max<std::size_t>(capacity, 1));
  return {std::make_unique<MemoryTransport>(s2c, c2s, "memory:server"),
          std::make_unique<MemoryTransport>(c2s, s2c, "memory:client")};
}

}  // namespace smtp::harness
