#include "reports/report_server.h"

#include <filesystem>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace smtp::reports {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ReportServer::Impl {
  Impl(asio::io_context& ioc, ReportServerOptions opts)
      : ioc(ioc), options(std::move(opts)), site(options.dir, options.site), acceptor(ioc) {}

  asio::io_context& ioc;
  ReportServerOptions options;
  ReportSite site;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::size_t active = 0;
};

namespace {

constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);
constexpr std::string_view kStrictCsp = "default-src 'none'; frame-ancestors 'none'";

// Host header check against DNS rebinding: only loopback names, on our port.
bool HostAllowed(std::string_view host, std::uint16_t port) {
  const std::string p = ":" + std::to_string(port);
  for (std::string_view name : {"127.0.0.1", "localhost"}) {
    if (host == name || host == std::string(name) + p) return true;
  }
  return false;
}

template <class Body>
void SetHeaders(http::response<Body>& res, const HttpReply& reply, bool keep_alive,
                unsigned version) {
  res.version(version);
  res.result(static_cast<http::status>(reply.status));
  res.set(http::field::server, "smtp-harness");
  res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  res.set("Content-Security-Policy",
          (reply.csp.empty() ? std::string(kStrictCsp) : reply.csp + "; frame-ancestors 'none'"));
  if (!reply.location.empty()) res.set(http::field::location, reply.location);
  res.keep_alive(keep_alive);
}

http::message_generator Respond(ReportServer::Impl& impl,
                                const http::request<http::empty_body>& req) {
  HttpReply reply;
  if (!HostAllowed(req[http::field::host], impl.port)) {
    reply.status = 403;
    reply.body = "forbidden host\n";
  } else {
    reply = impl.site.Handle(req.method_string(), req.target());
  }
  if (req.method() == http::verb::head) {
    http::response<http::empty_body> res;
    SetHeaders(res, reply, req.keep_alive(), req.version());
    res.content_length(reply.body.size());
    return res;
  }
  http::response<http::string_body> res;
  SetHeaders(res, reply, req.keep_alive(), req.version());
  res.body() = std::move(reply.body);
  res.prepare_payload();
  return res;
}

// `impl->active` was counted for this session by the accept loop.
asio::awaitable<void> Session(std::shared_ptr<ReportServer::Impl> impl, tcp::socket socket) {
  struct Release {
    ReportServer::Impl* impl;
    ~Release() { --impl->active; }
  } release{impl.get()};

  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(impl->options.max_header_bytes + 1024);
  for (std::size_t i = 0; i < impl->options.max_requests_per_connection; ++i) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(impl->options.max_header_bytes));
    stream.expires_after(impl->options.read_timeout);
    auto [read_ec, read_n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;  // closed, timed out, malformed or over a limit
    http::message_generator msg = Respond(*impl, parser.get());
    const bool keep_alive = msg.keep_alive();
    stream.expires_after(impl->options.write_timeout);
    auto [write_ec, write_n] =
        co_await beast::async_write(stream, std::move(msg), asio::as_tuple(asio::use_awaitable));
    if (write_ec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<ReportServer::Impl> impl) {
  for (;;) {
    auto [ec, socket] = co_await impl->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!impl->acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      asio::steady_timer delay(impl->ioc, kAcceptRetryDelay);
      auto [timer_ec] = co_await delay.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)timer_ec;
      continue;
    }
    if (impl->active >= impl->options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++impl->active;
    asio::co_spawn(impl->ioc, Session(impl, std::move(socket)), asio::detached);
  }
}

}  // namespace

ReportServer::ReportServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ReportServer::~ReportServer() { Stop(); }

std::uint16_t ReportServer::port() const { return impl_->port; }

void ReportServer::Stop() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

absl::StatusOr<std::unique_ptr<ReportServer>> ReportServer::Start(asio::io_context& ioc,
                                                                  ReportServerOptions options) {
  std::error_code fs_ec;
  if (!std::filesystem::is_directory(options.dir, fs_ec)) {
    return absl::NotFoundError("not a directory: " + options.dir);
  }
  auto impl = std::make_shared<Impl>(ioc, std::move(options));
  beast::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), impl->options.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        "cannot listen on 127.0.0.1:" + std::to_string(impl->options.port) + ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  asio::co_spawn(ioc, AcceptLoop(impl), asio::detached);
  return std::unique_ptr<ReportServer>(new ReportServer(std::move(impl)));
}

absl::Status ServeReports(ReportServerOptions options,
                          const std::function<void(std::uint16_t port)>& on_listening) {
  asio::io_context ioc;
  auto server = ReportServer::Start(ioc, std::move(options));
  if (!server.ok()) return server.status();
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) { ioc.stop(); });
  if (on_listening) on_listening((*server)->port());
  ioc.run();
  return absl::OkStatus();
}

}  // namespace smtp::reports
