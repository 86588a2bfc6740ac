// Connection: one client of the embedded server (server_internal.h). A
// coroutine moves bytes between the socket and the connection's Session
// under deadlines: the pre-greeting wait, reads, writes (all at once or, with
// the slow profile, reply by reply), STARTTLS / implicit TLS handshakes, and
// a lingering close.
#include "harness/server/server_internal.h"

#include <algorithm>
#include <atomic>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace smtp::server {

namespace {

constexpr std::size_t kReadBuffer = 16 * 1024;
// After the last reply: how long we wait for the client to close before we
// do (a lingering close, so our last reply is not lost to a reset).
constexpr auto kLingerDeadline = std::chrono::milliseconds(500);
constexpr std::size_t kLingerBytes = 64 * 1024;

void NoteMax(std::atomic<std::uint64_t>& m, std::uint64_t v) {
  std::uint64_t cur = m.load();
  while (v > cur && !m.compare_exchange_weak(cur, v)) {
  }
}

}  // namespace

Connection::Connection(Server::Impl& server, tcp::socket sock, net::ConnectionLimiter::Slot slot,
                       std::uint64_t id, std::string client, std::string local_address)
    : server_(server),
      sock_(std::move(sock)),
      watchdog_(sock_.get_executor()),
      delay_(sock_.get_executor()),
      slot_(std::move(slot)),
      session_(
          server.config, server.sink.get(),
          SessionInfo{id, std::move(client), server.tls.has_value(), std::move(local_address)}),
      buf_(kReadBuffer) {}

asio::awaitable<std::size_t> Connection::Read(Clock::time_point deadline, error_code& ec) {
  Arm(deadline);
  std::size_t n = 0;
  if (tls_) {
    n = co_await tls_->async_read_some(asio::buffer(buf_),
                                       asio::redirect_error(asio::use_awaitable, ec));
  } else {
    n = co_await sock_.async_read_some(asio::buffer(buf_),
                                       asio::redirect_error(asio::use_awaitable, ec));
  }
  Disarm();
  co_return n;
}

asio::awaitable<bool> Connection::Write(std::string_view bytes) {
  Arm(Clock::now() + server_.config.idle_timeout);
  writing_ = true;
  error_code ec;
  if (tls_) {
    co_await asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(sock_, asio::buffer(bytes.data(), bytes.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  }
  writing_ = false;
  Disarm();
  co_return !ec;
}

// Writes the session's replies: all at once, or with the slow profile one by
// one after SlowOptions::reply_delay each (not delayed once stopping).
asio::awaitable<bool> Connection::Flush() {
  const std::string& out = session_.output();
  if (out.empty()) co_return true;
  NoteMax(server_.peak_output, out.size());
  bool ok = true;
  if (server_.config.profile == Profile::kSlow) {
    std::size_t start = 0;
    for (std::size_t end : session_.reply_ends()) {
      if (!interrupted_) {
        delay_.expires_after(server_.config.slow.reply_delay);
        error_code ec;
        co_await delay_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      ok = co_await Write(std::string_view(out).substr(start, end - start));
      if (!ok) break;
      start = end;
    }
  } else {
    ok = co_await Write(out);
  }
  session_.ClearOutput();
  co_return ok;
}

asio::awaitable<bool> Connection::Handshake() {
  tls_ = std::make_unique<ssl::stream<tcp::socket&>>(sock_, *server_.tls);
  Arm(Clock::now() + server_.config.idle_timeout);
  error_code ec;
  co_await tls_->async_handshake(ssl::stream_base::server,
                                 asio::redirect_error(asio::use_awaitable, ec));
  Disarm();
  if (ec) {
    ++server_.tls_failed;
    tls_.reset();  // unusable after a failed handshake
    co_return false;
  }
  ++server_.tls_ok;
  co_return true;
}

asio::awaitable<std::size_t> Connection::Greet() {
  const ServerConfig& cfg = server_.config;
  if (cfg.pregreet_delay.count() <= 0) {
    session_.Start();
    co_return 0;
  }
  error_code ec;
  const std::size_t n = co_await Read(Clock::now() + cfg.pregreet_delay, ec);
  if (timed_out_) {  // silence: a well-behaved client
    session_.Start();
    co_return 0;
  }
  if (interrupted_ && (ec || n == 0)) {
    session_.OnShutdown();  // RFC 5321 §3.1: 421 may replace the greeting
    co_return 0;
  }
  if (ec || n == 0) {
    session_.OnPeerClosed();
    co_return 0;
  }
  session_.StartRefused("input before the greeting");
  co_return n;
}

// Lingering close: TLS close_notify, FIN, then read (and drop) until the
// client closes too or kLingerDeadline passes, so that our last reply is
// not destroyed by a reset caused by unread input.
asio::awaitable<void> Connection::Close() {
  error_code ec;
  if (!sock_.is_open()) co_return;
  if (session_.action() != SessionAction::kAbort) {
    if (tls_) {
      Arm(Clock::now() + kLingerDeadline / 2);
      co_await tls_->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      Disarm();
    }
    sock_.shutdown(tcp::socket::shutdown_send, ec);
    const auto deadline = Clock::now() + kLingerDeadline;
    std::size_t drained = 0;
    while (drained < kLingerBytes && Clock::now() < deadline) {
      Arm(deadline);
      const std::size_t n = co_await sock_.async_read_some(
          asio::buffer(buf_), asio::redirect_error(asio::use_awaitable, ec));
      Disarm();
      if (ec || n == 0) break;
      drained += n;
    }
  }
  sock_.close(ec);
}

asio::awaitable<void> Connection::Run() {
  server_.Register(this);
  const ServerConfig& cfg = server_.config;
  error_code ec;
  sock_.set_option(tcp::no_delay(true), ec);

  bool ok = true;
  if (cfg.tls.implicit) {
    ok = co_await Handshake();
    if (ok) {
      session_.OnTlsStarted();
    } else {
      session_.OnTlsFailed();
    }
  }
  std::string_view pending;
  if (ok) {
    const std::size_t early = co_await Greet();
    pending = std::string_view(buf_.data(), early);
  }

  std::uint64_t last_progress = session_.progress();
  std::uint64_t messages_seen = 0;
  auto unit_start = Clock::now();
  while (ok) {
    if (!co_await Flush()) break;
    const SessionAction act = session_.action();
    if (act == SessionAction::kClose || act == SessionAction::kAbort) break;
    if (act == SessionAction::kStartTls) {
      pending = {};  // RFC 3207 §4.2 / CVE-2011-0411: drop plaintext sent after STARTTLS
      if (!co_await Handshake()) {
        session_.OnTlsFailed();
        break;
      }
      session_.OnTlsStarted();
      continue;
    }
    if (session_.progress() != last_progress) {
      last_progress = session_.progress();
      unit_start = Clock::now();
    }
    if (pending.empty()) {
      if (interrupted_) {
        session_.OnShutdown();
        continue;
      }
      // A command line must be complete within idle_timeout of the moment
      // we started waiting for it; a body may take data_timeout in total,
      // with at most idle_timeout between reads.
      const auto now = Clock::now();
      const auto deadline = session_.in_body()
                                ? std::min(now + cfg.idle_timeout, unit_start + cfg.data_timeout)
                                : unit_start + cfg.idle_timeout;
      // The watchdog fires only while a read waits; a client that streams
      // without pause never leaves one waiting, so the deadline is checked
      // here as well.
      std::size_t n = 0;
      if (now < deadline) {
        n = co_await Read(deadline, ec);
      } else {
        timed_out_ = true;
      }
      if (interrupted_ && (ec || n == 0)) {
        session_.OnShutdown();
        continue;
      }
      if (timed_out_) {
        ++server_.timeouts;
        session_.OnTimeout();
        continue;
      }
      if (ec || n == 0) {
        session_.OnPeerClosed();
        break;
      }
      pending = std::string_view(buf_.data(), n);
    }
    const std::size_t used = session_.Feed(pending);
    pending.remove_prefix(used);
    if (const std::uint64_t m = session_.messages_accepted(); m != messages_seen) {
      server_.messages += m - messages_seen;
      messages_seen = m;
    }
    if (used == 0 && session_.output().empty() && session_.action() == SessionAction::kNone) {
      break;  // no progress possible: never spin
    }
  }
  co_await Close();
  server_.Record(SessionRecord{session_.id(), ip(), session_.StateLog()});
  server_.Unregister(this);
}

asio::awaitable<void> RunConnection(std::shared_ptr<Connection> c) { co_await c->Run(); }

}  // namespace smtp::server
