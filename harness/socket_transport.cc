// TCP and TLS transports (plain, implicit TLS, STARTTLS upgrade in place).
#include "harness/socket_transport.h"

#include <poll.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "harness/asio_deadline.h"

namespace smtp::harness {
namespace {

namespace ssl = asio::ssl;
using asio::ip::tcp;
using internal::RunWithDeadline;
using internal::RunWithDeadlineNoSize;

std::string SubjectOf(X509* cert) {
  if (cert == nullptr) return {};
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len > 0 ? len : 0));
  BIO_free(bio);
  return out;
}

bool IsIpLiteral(std::string_view host) {
  boost::system::error_code ec;
  asio::ip::make_address(std::string(host), ec);
  return !ec;
}

// Builds the SSL context for `o`. Errors are configuration errors
// (InvalidArgument), not peer behaviour.
absl::StatusOr<std::unique_ptr<ssl::context>> MakeContext(const TlsOptions& o) {
  const bool server = o.role == TlsOptions::Role::kServer;
  auto ctx =
      std::make_unique<ssl::context>(server ? ssl::context::tls_server : ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(
      ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3, ec);
  if (!o.cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(o.cert_pem), ec);
    if (ec) return absl::InvalidArgumentError("TLS certificate: " + ec.message());
    ctx->use_private_key(asio::buffer(o.key_pem), ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError("TLS private key: " + ec.message());
  } else if (server) {
    return absl::InvalidArgumentError("TLS server role needs cert_pem and key_pem");
  }
  if (o.verify_peer) {
    if (!o.ca_file.empty()) {
      ctx->load_verify_file(o.ca_file, ec);
    } else {
      ctx->set_default_verify_paths(ec);
    }
    if (ec) return absl::InvalidArgumentError("TLS trust anchors: " + ec.message());
    ctx->set_verify_mode(
        server ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert : ssl::verify_peer, ec);
    if (!server && !o.server_name.empty()) {
      ctx->set_verify_callback(ssl::host_name_verification(o.server_name), ec);
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none, ec);
  }
  if (ec) return absl::InvalidArgumentError("TLS setup: " + ec.message());
  return ctx;
}

// The context for `o`, shared by every connection with the same options.
// Building one is most of the client's CPU in a STARTTLS under OpenSSL 3
// (algorithm fetches, PEM parsing), and the fuzzer and replay upgrade
// thousands of sessions with the same options; an SSL_CTX is safe to share
// between connections and threads once set up. A handful of option sets at
// most is normal: past 16 the cache starts over.
absl::StatusOr<std::shared_ptr<ssl::context>> SharedContext(const TlsOptions& o) {
  using Key =
      std::tuple<TlsOptions::Role, bool, std::string, std::string, std::string, std::string>;
  static std::mutex mu;
  static std::map<Key, std::shared_ptr<ssl::context>>* cache =
      new std::map<Key, std::shared_ptr<ssl::context>>;  // never destroyed: no exit-order race
  Key key{o.role, o.verify_peer, o.server_name, o.ca_file, o.cert_pem, o.key_pem};
  std::lock_guard lock(mu);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  absl::StatusOr<std::unique_ptr<ssl::context>> made = MakeContext(o);
  if (!made.ok()) return made.status();
  if (cache->size() >= 16) cache->clear();
  std::shared_ptr<ssl::context> ctx = std::move(*made);
  cache->emplace(std::move(key), ctx);
  return ctx;
}

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(tcp::socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? "unknown" : FormatEndpoint(ep);
    auto self = socket_.local_endpoint(ec);
    local_ = ec ? "" : FormatEndpoint(self);
  }

  asio::awaitable<absl::StatusOr<std::size_t>> ReadSome(char* buf, std::size_t max,
                                                        Deadline deadline) override {
    if (closed_) co_return absl::FailedPreconditionError("read: transport closed");
    // An expired deadline wins over waiting data (transport.h).
    if (Clock::now() >= deadline) co_return absl::DeadlineExceededError("read: deadline");
    auto b = asio::buffer(buf, max);
    std::pair<boost::system::error_code, std::size_t> r;
    if (tls_) {
      r = co_await RunWithDeadline(tls_->async_read_some(b, asio::deferred), deadline);
    } else {
      r = co_await RunWithDeadline(socket_.async_read_some(b, asio::deferred), deadline);
    }
    const auto [ec, n] = r;
    if (n > 0) co_return n;  // data wins over a simultaneous error; the error recurs
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) co_return std::size_t{0};
    if (!ec) co_return std::size_t{0};
    co_return ErrorToStatus(ec, "read from " + peer_);
  }

  bool ReadReady() override {
    if (closed_) return true;
    if (tls_ && SSL_pending(tls_->native_handle()) > 0) return true;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  asio::awaitable<absl::Status> Write(std::string_view bytes, Deadline deadline,
                                      std::size_t* written) override {
    if (closed_) co_return absl::FailedPreconditionError("write: transport closed");
    auto b = asio::buffer(bytes.data(), bytes.size());
    std::pair<boost::system::error_code, std::size_t> r;
    if (tls_) {
      r = co_await RunWithDeadline(asio::async_write(*tls_, b, asio::deferred), deadline);
    } else {
      r = co_await RunWithDeadline(asio::async_write(socket_, b, asio::deferred), deadline);
    }
    const auto [ec, n] = r;
    if (written) *written = n;
    if (ec) co_return ErrorToStatus(ec, "write to " + peer_);
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> StartTls(const TlsOptions& options, Deadline deadline) override {
    if (closed_) co_return absl::FailedPreconditionError("STARTTLS: transport closed");
    if (tls_) co_return absl::FailedPreconditionError("STARTTLS: TLS already active");
    auto ctx = SharedContext(options);
    if (!ctx.ok()) co_return ctx.status();
    ctx_ = std::move(*ctx);
    tls_ = std::make_unique<ssl::stream<tcp::socket&>>(socket_, *ctx_);
    const bool server = options.role == TlsOptions::Role::kServer;
    if (!server && !options.server_name.empty() && !IsIpLiteral(options.server_name)) {
      SSL_set_tlsext_host_name(tls_->native_handle(), options.server_name.c_str());
    }
    auto ec = co_await RunWithDeadlineNoSize(
        tls_->async_handshake(server ? ssl::stream_base::server : ssl::stream_base::client,
                              asio::deferred),
        deadline);
    if (ec) {
      // The stream is unusable after a failed handshake; no plain fallback.
      closed_ = true;
      boost::system::error_code ignored;
      socket_.close(ignored);
      co_return ErrorToStatus(ec, "TLS handshake with " + peer_);
    }
    SSL* s = tls_->native_handle();
    TlsInfo info;
    info.protocol = SSL_get_version(s);
    info.cipher = SSL_get_cipher_name(s);
    X509* cert = SSL_get1_peer_certificate(s);
    info.peer_subject = SubjectOf(cert);
    X509_free(cert);
    tls_info_ = std::move(info);
    co_return absl::OkStatus();
  }

  asio::awaitable<absl::Status> Close(Deadline deadline) override {
    if (closed_) co_return absl::OkStatus();
    closed_ = true;
    boost::system::error_code ec;
    if (tls_) {
      // close_notify, then wait (bounded) for the peer's; errors are normal
      // here (the peer may already be gone) and are not reported.
      co_await RunWithDeadlineNoSize(tls_->async_shutdown(asio::deferred), deadline);
    }
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    co_return absl::OkStatus();
  }

  absl::Status ShutdownSend() override {
    if (tls_) return Transport::ShutdownSend();
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return absl::UnavailableError("shutdown: " + ec.message());
    return absl::OkStatus();
  }

  std::optional<TlsInfo> tls() const override { return tls_info_; }
  std::string peer() const override { return peer_; }
  std::string local() const override { return local_; }

 private:
  tcp::socket socket_;
  std::shared_ptr<ssl::context> ctx_;               // outlives tls_
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;  // set once TLS is up
  std::optional<TlsInfo> tls_info_;
  std::string peer_;
  std::string local_;
  bool closed_ = false;
};

// Resolution with a deadline. getaddrinfo cannot be cancelled, so on timeout
// the lookup is abandoned (its completion, holding `State`, is discarded).
struct ResolveState {
  explicit ResolveState(asio::any_io_executor ex) : resolver(ex), done(ex) {}
  tcp::resolver resolver;
  asio::steady_timer done;
  bool finished = false;
  boost::system::error_code ec;
  tcp::resolver::results_type results;
};

asio::awaitable<absl::StatusOr<std::vector<tcp::endpoint>>> Resolve(std::string_view host,
                                                                    std::uint16_t port,
                                                                    Deadline deadline) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(std::string(host), ec);
  if (!ec) co_return std::vector<tcp::endpoint>{tcp::endpoint(address, port)};
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<ResolveState>(ex);
  st->done.expires_at(deadline);
  st->resolver.async_resolve(
      std::string(host), std::to_string(port),
      [st](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        st->finished = true;
        st->ec = ec;
        st->results = std::move(results);
        st->done.cancel();
      });
  co_await st->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!st->finished) {
    st->resolver.cancel();
    co_return absl::DeadlineExceededError("resolve " + std::string(host) + ": deadline");
  }
  if (st->ec) co_return ErrorToStatus(st->ec, "resolve " + std::string(host));
  std::vector<tcp::endpoint> out;
  for (const auto& entry : st->results) out.push_back(entry.endpoint());
  if (out.empty()) co_return absl::NotFoundError("resolve " + std::string(host) + ": no address");
  co_return out;
}

}  // namespace

std::unique_ptr<Transport> WrapTcpSocket(tcp::socket socket) {
  return std::make_unique<SocketTransport>(std::move(socket));
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTcp(std::string_view host,
                                                                       std::uint16_t port,
                                                                       Deadline deadline) {
  auto endpoints = co_await Resolve(host, port, deadline);
  if (!endpoints.ok()) co_return endpoints.status();
  // Each address in turn until one answers; the deadline covers them all.
  tcp::socket socket(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  for (const tcp::endpoint& ep : *endpoints) {
    socket.close(ec);
    ec = co_await RunWithDeadlineNoSize(socket.async_connect(ep, asio::deferred), deadline);
    if (!ec || ec == asio::error::timed_out) break;
  }
  if (ec) {
    co_return ErrorToStatus(ec, "connect to " + std::string(host) + ":" + std::to_string(port));
  }
  socket.set_option(tcp::no_delay(true), ec);
  co_return std::unique_ptr<Transport>(std::make_unique<SocketTransport>(std::move(socket)));
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> ConnectTls(std::string_view host,
                                                                       std::uint16_t port,
                                                                       TlsOptions options,
                                                                       Deadline deadline) {
  auto transport = co_await ConnectTcp(host, port, deadline);
  if (!transport.ok()) co_return transport.status();
  if (options.server_name.empty() && !IsIpLiteral(host)) options.server_name.assign(host);
  absl::Status status = co_await (*transport)->StartTls(options, deadline);
  if (!status.ok()) co_return status;
  co_return std::move(*transport);
}

}  // namespace smtp::harness
