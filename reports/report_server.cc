#include "reports/report_server.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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
#include <boost/optional.hpp>

#include "net/connection_limiter.h"
#include "reports/escape.h"

namespace smtp::reports {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// A rendered response body, shared read-only by every connection sending
// the same bytes. A page's CSP nonce is fresh per response (report_site.h),
// so it is stored as the server's own placeholder, at `nonce_at`, and each
// connection writes its own nonce there as it streams.
struct Page {
  std::string text;
  std::vector<std::size_t> nonce_at;  // offsets of the placeholder, ascending
  std::size_t nonce_size = 0;
};
using SharedPage = std::shared_ptr<const Page>;

// Beast's Body for a Page: one connection's nonce over the shared text,
// streamed in kPiece pieces; nothing of the page is copied.
struct PageBody {
  static constexpr std::size_t kPiece = 64 * 1024;
  struct value_type {
    SharedPage page;
    std::string nonce;  // this response's; nonce_size bytes
  };
  static std::uint64_t size(const value_type& body) {
    return body.page ? body.page->text.size() : 0;
  }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      const Page* page = body_.page.get();
      const std::size_t total = page != nullptr ? page->text.size() : 0;
      if (pos_ >= total) return boost::none;
      const std::vector<std::size_t>& at = page->nonce_at;
      asio::const_buffer piece;
      if (next_ < at.size() && at[next_] == pos_) {
        piece = asio::const_buffer(body_.nonce.data(), page->nonce_size);
        pos_ += page->nonce_size;
        ++next_;
      } else {
        std::size_t stop = std::min(total, pos_ + kPiece);
        if (next_ < at.size()) stop = std::min(stop, at[next_]);
        piece = asio::const_buffer(page->text.data() + pos_, stop - pos_);
        pos_ = stop;
      }
      return std::make_pair(piece, pos_ < total);
    }

   private:
    const value_type& body_;
    std::size_t pos_ = 0;
    std::size_t next_ = 0;  // the next nonce_at entry
  };
};

// The nonce of a CSP value ("... 'nonce-XYZ' ..."); "" without one.
std::string_view CspNonce(std::string_view csp) {
  constexpr std::string_view kKey = "'nonce-";
  const std::size_t at = csp.find(kKey);
  if (at == std::string_view::npos) return {};
  const std::size_t from = at + kKey.size();
  const std::size_t to = csp.find('\'', from);
  return to == std::string_view::npos ? std::string_view() : csp.substr(from, to - from);
}

}  // namespace

struct ReportServer::Impl {
  Impl(asio::io_context& ioc, ReportServerOptions opts)
      : ioc(ioc),
        options(std::move(opts)),
        site(options.dir, options.site),
        limiter({options.max_connections, options.max_connections_per_ip}),
        acceptor(ioc) {}

  // The body of a reply whose CSP nonce is `nonce`, as a shared page: the
  // copy an earlier identical response still holds, or `body` itself (the
  // nonce replaced by the placeholder), now shared.
  PageBody::value_type Share(std::string body, std::string_view nonce) {
    Page page;
    if (!nonce.empty() && nonce.size() == placeholder.size()) {
      for (std::size_t at = body.find(nonce); at != std::string::npos;
           at = body.find(nonce, at + nonce.size())) {
        body.replace(at, nonce.size(), placeholder);
        page.nonce_at.push_back(at);
      }
      page.nonce_size = nonce.size();
    }
    page.text = std::move(body);
    PageBody::value_type out{nullptr, std::string(nonce)};
    const std::size_t hash = std::hash<std::string_view>()(page.text);
    const auto range = bodies.equal_range(hash);
    for (auto it = range.first; it != range.second; ++it) {
      SharedPage held = it->second.lock();
      if (held && held->text == page.text && held->nonce_at == page.nonce_at) {
        out.page = std::move(held);
        return out;
      }
    }
    out.page = std::make_shared<const Page>(std::move(page));
    // Forget the pages no connection holds any more (bounded by the
    // connections: at most one live entry each, plus these stale ones).
    if (bodies.size() >= 2 * options.max_connections) {
      std::erase_if(bodies, [](const auto& e) { return e.second.expired(); });
    }
    bodies.emplace(hash, out.page);
    return out;
  }

  asio::io_context& ioc;
  ReportServerOptions options;
  ReportSite site;
  // Before the coroutines that hold slots (they end with `ioc`).
  net::ConnectionLimiter limiter;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::multimap<std::size_t, std::weak_ptr<const Page>> bodies;  // by hash of the text
  // Stands for the nonce in shared pages: random, so that a run's data
  // cannot contain it (a nonce's length: RandomNonce()).
  const std::string placeholder = RandomNonce();
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
  http::response<PageBody> res;
  SetHeaders(res, reply, req.keep_alive(), req.version());
  res.body() = impl.Share(std::move(reply.body), CspNonce(reply.csp));
  res.prepare_payload();
  return res;
}

// `slot` is the connection's place under the limits, freed when it ends.
asio::awaitable<void> Session(std::shared_ptr<ReportServer::Impl> impl, tcp::socket socket,
                              net::ConnectionLimiter::Slot slot) {
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
  slot.Release();
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
    beast::error_code ep_ec;
    const tcp::endpoint remote = socket.remote_endpoint(ep_ec);
    std::optional<net::ConnectionLimiter::Slot> slot;
    if (!ep_ec) slot = impl->limiter.TryAcquire(remote.address().to_string());
    if (!slot) {  // over a limit, or already gone
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(impl->ioc, Session(impl, std::move(socket), *std::move(slot)), asio::detached);
  }
}

}  // namespace

ReportServer::ReportServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ReportServer::~ReportServer() { Stop(); }

std::uint16_t ReportServer::port() const { return impl_->port; }

std::size_t ReportServer::bodies_held() const {
  return static_cast<std::size_t>(std::count_if(impl_->bodies.begin(), impl_->bodies.end(),
                                                [](const auto& e) { return !e.second.expired(); }));
}

std::size_t ReportServer::body_bytes_held() const {
  std::size_t bytes = 0;
  for (const auto& [hash, weak] : impl_->bodies) {
    if (SharedPage held = weak.lock()) bytes += held->text.size();
  }
  return bytes;
}

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
