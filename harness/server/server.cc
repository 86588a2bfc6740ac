// Server: the Asio side of the embedded server. The listener (Bind), the
// accept loop and its connection limits, and the graceful stop; each
// accepted client is a Connection (server_connection.cc). With that file and
// server_internal.h, the only part of the server that includes Asio.
#include "harness/server/server.h"

#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/endpoint.h"
#include "harness/server/server_internal.h"
#include "harness/tls_cert.h"

namespace smtp::server {

namespace {

// Over-limit connections get their 421 from at most this many coroutines
// at a time; beyond that they are closed without a word.
constexpr std::size_t kMaxRejecters = 256;
constexpr auto kRejectDeadline = std::chrono::milliseconds(1000);

}  // namespace

std::string Endpoint::ToString() const {
  return address.find(':') != std::string::npos ? "[" + address + "]:" + std::to_string(port)
                                                : address + ":" + std::to_string(port);
}

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
  absl::StatusOr<tcp::acceptor> listening =
      harness::ListenTcp(io.get_executor(), config.listen_address, config.port);
  if (!listening.ok()) return listening.status();
  acceptor.emplace(*std::move(listening));
  error_code ec;
  const tcp::endpoint got = acceptor->local_endpoint(ec);
  endpoint = Endpoint{got.address().to_string(), got.port()};
  bound = true;
  asio::co_spawn(io, AcceptLoop(), asio::detached);
  return endpoint;
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  for (;;) {
    std::optional<tcp::socket> next = co_await harness::AcceptNext(*acceptor);
    if (stopping || !next) break;
    tcp::socket sock = *std::move(next);
    error_code ec;
    const tcp::endpoint remote = sock.remote_endpoint(ec);
    if (ec) continue;  // already gone
    const tcp::endpoint local = sock.local_endpoint(ec);
    if (ec) continue;
    std::string ip = remote.address().to_string();
    std::optional<net::ConnectionLimiter::Slot> slot = limiter.TryAcquire(ip);
    if (!slot) {
      ++rejected;
      if (rejecters < kMaxRejecters && !config.tls.implicit) {
        static constexpr std::string_view kReply = "421 4.7.0 Too many connections\r\n";
        asio::co_spawn(
            io, harness::RefuseConnection(std::move(sock), kReply, kRejectDeadline, rejecters),
            asio::detached);
      }
      continue;
    }
    ++accepted;
    auto c =
        std::make_shared<Connection>(*this, std::move(sock), *std::move(slot), ++next_id,
                                     harness::FormatEndpoint(remote), local.address().to_string());
    asio::co_spawn(io, RunConnection(std::move(c)), asio::detached);
  }
}

void Server::Impl::Register(Connection* c) {
  conns[c->id()] = c;
  active = conns.size();
}

void Server::Impl::Unregister(Connection* c) {
  conns.erase(c->id());
  c->ReleaseSlot();
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
    harness::StopOnSignals(impl_->io, impl_->signals, [impl = impl_.get()] { impl->BeginStop(); });
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
