// Server: the Asio side of the embedded server. The accept loop and its
// limits, one coroutine per connection driving a Session, deadlines on every
// wait, STARTTLS / implicit TLS, and the graceful stop. The only file of the
// server that includes Asio.
//
// Threading: one io_context run by one thread. Everything below that is not
// an atomic is touched on that thread only; Stop()/RequestStop() post to it.
#include "harness/server/server.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "harness/server/session.h"
#include "harness/tls_cert.h"

namespace smtp::server {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadBuffer = 16 * 1024;
// Over-limit connections get their 421 from at most this many coroutines
// at a time; beyond that they are closed without a word.
constexpr std::size_t kMaxRejecters = 256;
constexpr auto kRejectDeadline = std::chrono::seconds(1);
// After the last reply: how long we wait for the client to close before we
// do (a lingering close, so our last reply is not lost to a reset).
constexpr auto kLingerDeadline = std::chrono::milliseconds(500);
constexpr std::size_t kLingerBytes = 64 * 1024;

void NoteMax(std::atomic<std::uint64_t>& m, std::uint64_t v) {
  std::uint64_t cur = m.load();
  while (v > cur && !m.compare_exchange_weak(cur, v)) {
  }
}

std::string EndpointString(const asio::ip::address& a, std::uint16_t port) {
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(port)
                   : a.to_string() + ":" + std::to_string(port);
}

}  // namespace

std::string Endpoint::ToString() const {
  return address.find(':') != std::string::npos ? "[" + address + "]:" + std::to_string(port)
                                                : address + ":" + std::to_string(port);
}

class Connection;

class Server::Impl {
 public:
  Impl(ServerConfig c, std::shared_ptr<MessageSink> s)
      : config(std::move(c)), sink(std::move(s)), grace_timer(io) {}

  absl::StatusOr<Endpoint> Bind();
  void RunLoop();
  void BeginStop();  // on the io thread
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Reject(tcp::socket sock);
  void Register(Connection* c);
  void Unregister(Connection* c);
  void Record(SessionRecord r) {
    std::lock_guard lock(recent_mu);
    if (recent.size() == kRecentSessions) recent.pop_front();
    recent.push_back(std::move(r));
  }

  ServerConfig config;
  std::shared_ptr<MessageSink> sink;
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<ssl::context> tls;
  std::optional<asio::signal_set> signals;
  asio::steady_timer grace_timer;
  std::thread thread;
  Endpoint endpoint;
  bool bound = false;
  std::atomic<bool> stop_requested{false};

  // io thread only.
  bool stopping = false;
  std::unordered_map<std::uint64_t, Connection*> conns;
  std::unordered_map<std::string, std::size_t> per_ip;
  std::uint64_t next_id = 0;
  std::size_t rejecters = 0;

  std::atomic<std::uint64_t> accepted{0}, rejected{0}, messages{0}, timeouts{0}, tls_ok{0},
      tls_failed{0}, peak_output{0}, active{0};

  mutable std::mutex recent_mu;
  std::deque<SessionRecord> recent;

  std::mutex run_mu;
  std::condition_variable run_cv;
  bool running = false;
  bool finished = false;
};

// One client connection: a coroutine that moves bytes between the socket and
// its Session, under deadlines.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket sock, std::uint64_t id, std::string ip,
             std::string client, std::string local_address)
      : server_(server),
        sock_(std::move(sock)),
        watchdog_(sock_.get_executor()),
        delay_(sock_.get_executor()),
        ip_(std::move(ip)),
        session_(
            server.config, server.sink.get(),
            SessionInfo{id, std::move(client), server.tls.has_value(), std::move(local_address)}),
        buf_(kReadBuffer) {}

  const std::string& ip() const { return ip_; }
  std::uint64_t id() const { return session_.id(); }

  asio::awaitable<void> Run();

  // Graceful stop: a session waiting for input (or tarpitting) is woken up
  // and answers 421; a write in progress is left to finish.
  void Interrupt() {
    interrupted_ = true;
    delay_.cancel();
    if (!writing_) {
      error_code ec;
      sock_.cancel(ec);
    }
  }
  // End of the grace period: cut the connection.
  void ForceClose() {
    interrupted_ = true;
    delay_.cancel();
    error_code ec;
    sock_.close(ec);
  }

 private:
  // The watchdog cancels the socket's operations when `deadline` passes.
  void Arm(Clock::time_point deadline) {
    const std::uint64_t gen = ++gen_;
    timed_out_ = false;
    watchdog_.expires_at(deadline);
    watchdog_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->sock_.cancel(ignored);
    });
  }
  void Disarm() {
    ++gen_;
    watchdog_.cancel();
  }

  asio::awaitable<std::size_t> Read(Clock::time_point deadline, error_code& ec);
  asio::awaitable<bool> Write(std::string_view bytes);
  asio::awaitable<bool> Flush();
  asio::awaitable<bool> Handshake();
  asio::awaitable<void> Close();
  // Listens for ServerConfig::pregreet_delay before the greeting; starts
  // the session (refused if the client talked). Returns the early input.
  asio::awaitable<std::size_t> Greet();

  Server::Impl& server_;
  tcp::socket sock_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer watchdog_;
  asio::steady_timer delay_;
  std::uint64_t gen_ = 0;
  bool timed_out_ = false;
  bool interrupted_ = false;
  bool writing_ = false;
  std::string ip_;
  Session session_;
  std::vector<char> buf_;
};

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
  session_.StartRefused();
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
      const std::size_t n = co_await Read(deadline, ec);
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
  server_.Record(SessionRecord{session_.id(), ip_, session_.StateLog()});
  server_.Unregister(this);
}

// The frame owns the connection (a parameter is copied into the frame; a
// member coroutine started lazily would not keep its object alive).
asio::awaitable<void> RunConnection(std::shared_ptr<Connection> c) { co_await c->Run(); }

// --- Server::Impl -------------------------------------------------------------

absl::StatusOr<Endpoint> Server::Impl::Bind() {
  if (bound) return absl::FailedPreconditionError("server already bound");
  if (!sink) {
    absl::StatusOr<std::unique_ptr<MessageSink>> s = MakeSink(config.sink);
    if (!s.ok()) return s.status();
    sink = std::move(*s);
  }
  if (config.tls.enabled || config.tls.implicit) {
    std::string cert = config.tls.cert_pem, key = config.tls.key_pem;
    if (cert.empty() != key.empty()) {
      return absl::InvalidArgumentError("TLS needs both a certificate and a key");
    }
    if (cert.empty()) {
      absl::StatusOr<harness::CertAndKey> ck = harness::MakeSelfSignedCert(config.hostname);
      if (!ck.ok()) return ck.status();
      cert = ck->cert_pem;
      key = ck->key_pem;
    }
    tls.emplace(ssl::context::tls_server);
    error_code ec;
    tls->set_options(
        ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3, ec);
    if (!ec) tls->use_certificate_chain(asio::buffer(cert), ec);
    if (!ec) tls->use_private_key(asio::buffer(key), ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("TLS certificate or key: " + ec.message());
  }
  error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(config.listen_address, std::to_string(config.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError("cannot resolve listen address '" + config.listen_address +
                                      "': " + ec.message());
  }
  const tcp::endpoint want = results.begin()->endpoint();
  acceptor.emplace(io);
  acceptor->open(want.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(want, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.reset();
    return absl::UnavailableError(
        "cannot listen on " + EndpointString(want.address(), want.port()) + ": " + ec.message());
  }
  const tcp::endpoint got = acceptor->local_endpoint(ec);
  endpoint = Endpoint{got.address().to_string(), got.port()};
  bound = true;
  asio::co_spawn(io, AcceptLoop(), asio::detached);
  return endpoint;
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  for (;;) {
    error_code ec;
    tcp::socket sock =
        co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || !acceptor->is_open()) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      // EMFILE and friends: back off instead of spinning.
      asio::steady_timer t(io, std::chrono::milliseconds(50));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const tcp::endpoint remote = sock.remote_endpoint(ec);
    if (ec) continue;  // already gone
    const tcp::endpoint local = sock.local_endpoint(ec);
    if (ec) continue;
    std::string ip = remote.address().to_string();
    const std::size_t from_ip = per_ip.count(ip) ? per_ip[ip] : 0;
    if (conns.size() >= config.max_connections ||
        (config.max_connections_per_ip > 0 && from_ip >= config.max_connections_per_ip)) {
      ++rejected;
      if (rejecters < kMaxRejecters && !config.tls.implicit) {
        asio::co_spawn(io, Reject(std::move(sock)), asio::detached);
      }
      continue;
    }
    ++accepted;
    auto c = std::make_shared<Connection>(*this, std::move(sock), ++next_id, std::move(ip),
                                          EndpointString(remote.address(), remote.port()),
                                          local.address().to_string());
    asio::co_spawn(io, RunConnection(std::move(c)), asio::detached);
  }
}

// "421 4.7.0 Too many connections", then a short lingering close.
asio::awaitable<void> Server::Impl::Reject(tcp::socket sock) {
  ++rejecters;
  static constexpr std::string_view kReply = "421 4.7.0 Too many connections\r\n";
  asio::steady_timer watchdog(io, kRejectDeadline);
  watchdog.async_wait([&sock](error_code ec) {
    if (!ec) sock.close(ec);
  });
  error_code ec;
  co_await asio::async_write(sock, asio::buffer(kReply.data(), kReply.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    sock.shutdown(tcp::socket::shutdown_send, ec);
    char drain[512];
    while (!ec && sock.is_open()) {
      const std::size_t n = co_await sock.async_read_some(
          asio::buffer(drain), asio::redirect_error(asio::use_awaitable, ec));
      if (n == 0) break;
    }
  }
  watchdog.cancel();
  sock.close(ec);
  --rejecters;
}

void Server::Impl::Register(Connection* c) {
  conns[c->id()] = c;
  ++per_ip[c->ip()];
  active = conns.size();
}

void Server::Impl::Unregister(Connection* c) {
  conns.erase(c->id());
  if (auto it = per_ip.find(c->ip()); it != per_ip.end() && --it->second == 0) per_ip.erase(it);
  active = conns.size();
  if (stopping && conns.empty()) grace_timer.cancel();
}

void Server::Impl::BeginStop() {
  if (stopping) return;
  stopping = true;
  error_code ec;
  if (acceptor) acceptor->close(ec);
  if (signals) signals->cancel(ec);
  for (auto& [id, c] : conns) c->Interrupt();
  if (!conns.empty()) {
    grace_timer.expires_after(config.shutdown_grace);
    grace_timer.async_wait([this](error_code ec) {
      if (ec) return;
      for (auto& [id, c] : conns) c->ForceClose();
    });
  }
}

void Server::Impl::RunLoop() {
  io.run();
  if (sink) (void)sink->Flush();
  std::lock_guard lock(run_mu);
  finished = true;
  run_cv.notify_all();
}

// --- Server -------------------------------------------------------------------

Server::Server(ServerConfig config, std::shared_ptr<MessageSink> sink)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(sink))) {}

Server::~Server() { Stop(); }

absl::StatusOr<Endpoint> Server::Bind() { return impl_->Bind(); }

absl::StatusOr<Endpoint> Server::Start() {
  if (!impl_->bound) {
    absl::StatusOr<Endpoint> ep = impl_->Bind();
    if (!ep.ok()) return ep;
  }
  {
    std::lock_guard lock(impl_->run_mu);
    if (impl_->running) return absl::FailedPreconditionError("server already running");
    impl_->running = true;
  }
  impl_->thread = std::thread([impl = impl_.get()] { impl->RunLoop(); });
  return impl_->endpoint;
}

absl::Status Server::Run(bool stop_on_signals) {
  if (!impl_->bound) {
    absl::StatusOr<Endpoint> ep = impl_->Bind();
    if (!ep.ok()) return ep.status();
  }
  {
    std::lock_guard lock(impl_->run_mu);
    if (impl_->running) return absl::FailedPreconditionError("server already running");
    impl_->running = true;
  }
  if (stop_on_signals) {
    impl_->signals.emplace(impl_->io, SIGINT, SIGTERM);
    impl_->signals->async_wait([impl = impl_.get()](error_code ec, int) {
      if (!ec) impl->BeginStop();
    });
  }
  if (impl_->stop_requested) asio::post(impl_->io, [impl = impl_.get()] { impl->BeginStop(); });
  impl_->RunLoop();
  return absl::OkStatus();
}

void Server::RequestStop() {
  if (impl_->stop_requested.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->BeginStop(); });
}

void Server::Stop() {
  RequestStop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
    return;
  }
  std::unique_lock lock(impl_->run_mu);
  if (!impl_->running) return;
  impl_->run_cv.wait(lock, [this] { return impl_->finished; });
}

ServerStats Server::stats() const {
  ServerStats s;
  s.connections_accepted = impl_->accepted;
  s.connections_rejected = impl_->rejected;
  s.active_connections = impl_->active;
  s.messages_accepted = impl_->messages;
  s.timeouts = impl_->timeouts;
  s.tls_handshakes = impl_->tls_ok;
  s.tls_failures = impl_->tls_failed;
  s.peak_output_bytes = impl_->peak_output;
  return s;
}

MessageSink* Server::sink() const { return impl_->sink.get(); }

const ServerConfig& Server::config() const { return impl_->config; }

std::vector<SessionRecord> Server::RecentSessions() const {
  std::lock_guard lock(impl_->recent_mu);
  return {impl_->recent.begin(), impl_->recent.end()};
}

}  // namespace smtp::server
