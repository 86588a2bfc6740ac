#include "harness/server/test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

namespace smtp::server::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct TestClient::Impl {
  asio::io_context io{1};
  tcp::socket sock{io};
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<ssl::stream<tcp::socket&>> tls;
  std::string in;  // received, not yet taken
  bool eof = false;

  // Runs the operation `start(handler)` until it completes or `timeout`
  // passes (then cancels it and waits for the cancellation).
  template <class Start>
  error_code Run(Start&& start, Millis timeout, std::size_t* n = nullptr) {
    bool done = false;
    error_code result;
    start([&](error_code ec, std::size_t k = 0) {
      done = true;
      result = ec;
      if (n) *n = k;
    });
    io.restart();
    io.run_for(timeout);
    if (!done) {
      error_code ignored;
      sock.cancel(ignored);
      io.restart();
      io.run();
      return asio::error::timed_out;
    }
    return result;
  }

  // Reads once into `in`; false on EOF, error or timeout.
  bool ReadMore(Millis timeout, error_code* out) {
    char buf[16384];
    std::size_t n = 0;
    error_code ec = Run(
        [&](auto h) {
          if (tls) {
            tls->async_read_some(asio::buffer(buf), h);
          } else {
            sock.async_read_some(asio::buffer(buf), h);
          }
        },
        timeout, &n);
    in.append(buf, n);
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated) eof = true;
    if (out) *out = ec;
    return !ec;
  }
};

TestClient::TestClient() : impl_(std::make_unique<Impl>()) {}
TestClient::~TestClient() = default;
TestClient::TestClient(TestClient&&) noexcept = default;
TestClient& TestClient::operator=(TestClient&&) noexcept = default;

absl::Status TestClient::Connect(std::uint16_t port, const ClientOptions& o) {
  error_code ec;
  const tcp::endpoint ep(asio::ip::make_address(o.host, ec), port);
  if (ec) return absl::InvalidArgumentError(ec.message());
  impl_->sock.open(ep.protocol(), ec);
  if (o.rcvbuf > 0) impl_->sock.set_option(asio::socket_base::receive_buffer_size(o.rcvbuf), ec);
  if (o.sndbuf > 0) impl_->sock.set_option(asio::socket_base::send_buffer_size(o.sndbuf), ec);
  if (!o.source.empty()) {
    const asio::ip::address from = asio::ip::make_address(o.source, ec);
    if (!ec) impl_->sock.bind(tcp::endpoint(from, 0), ec);
    if (ec) return absl::InvalidArgumentError("bind " + o.source + ": " + ec.message());
  }
  ec = impl_->Run([&](auto h) { impl_->sock.async_connect(ep, h); }, o.connect_timeout);
  if (ec) return absl::UnavailableError("connect: " + ec.message());
  return absl::OkStatus();
}

absl::Status TestClient::Send(std::string_view bytes, Millis timeout, std::size_t* written) {
  std::size_t n = 0;
  error_code ec = impl_->Run(
      [&](auto h) {
        if (impl_->tls) {
          asio::async_write(*impl_->tls, asio::buffer(bytes.data(), bytes.size()), h);
        } else {
          asio::async_write(impl_->sock, asio::buffer(bytes.data(), bytes.size()), h);
        }
      },
      timeout, &n);
  if (written) *written = n;
  if (ec == asio::error::timed_out) return absl::DeadlineExceededError("send timed out");
  if (ec) return absl::UnavailableError("send: " + ec.message());
  return absl::OkStatus();
}

absl::StatusOr<Reply> TestClient::ReadReply(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // RFC 4954 §4: "334 " (SP, no text) is how an empty challenge looks.
  ReplyOptions lenient;
  lenient.leniencies = kTrailingWhitespace;
  ReplyReader reader(lenient);
  std::size_t used = 0;
  for (;;) {
    used += reader.Feed(std::string_view(impl_->in).substr(used));
    if (reader.has_reply()) {
      impl_->in.erase(0, used);
      return reader.TakeReply();
    }
    if (reader.failed()) {
      return absl::DataLossError("bad reply: " + std::string(ErrcName(reader.error().code)) +
                                 " in '" + impl_->in.substr(0, 200) + "'");
    }
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (impl_->eof) return absl::UnavailableError("server closed the connection");
    if (left.count() <= 0) return absl::DeadlineExceededError("no reply in time");
    error_code ec;
    if (!impl_->ReadMore(left, &ec) && !impl_->eof) {
      if (ec == asio::error::timed_out) return absl::DeadlineExceededError("no reply in time");
      return absl::UnavailableError("read: " + ec.message());
    }
  }
}

absl::StatusOr<Reply> TestClient::Command(std::string_view line, Millis timeout) {
  std::string wire(line);
  wire += "\r\n";
  if (absl::Status s = Send(wire, timeout); !s.ok()) return s;
  return ReadReply(timeout);
}

std::string TestClient::Drain(Millis timeout, bool* closed) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->eof) {
    const auto left =
        std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    error_code ec;
    if (!impl_->ReadMore(left, &ec)) {
      if (ec != asio::error::timed_out) impl_->eof = true;
      break;
    }
  }
  if (closed) *closed = impl_->eof;
  std::string out = std::move(impl_->in);
  impl_->in.clear();
  return out;
}

absl::Status TestClient::StartTls(Millis timeout) {
  impl_->ctx.set_verify_mode(ssl::verify_none);
  impl_->tls = std::make_unique<ssl::stream<tcp::socket&>>(impl_->sock, impl_->ctx);
  error_code ec = impl_->Run(
      [&](auto h) {
        impl_->tls->async_handshake(ssl::stream_base::client,
                                    [h](error_code e) mutable { h(e, 0); });
      },
      timeout);
  if (ec) return absl::UnavailableError("TLS handshake: " + ec.message());
  return absl::OkStatus();
}

void TestClient::Close() {
  error_code ec;
  impl_->sock.close(ec);
}

bool TestClient::is_open() const { return impl_->sock.is_open(); }

absl::StatusOr<TestClient> ConnectAndGreet(std::uint16_t port, const ClientOptions& options) {
  TestClient c;
  if (absl::Status s = c.Connect(port, options); !s.ok()) return s;
  absl::StatusOr<Reply> greeting = c.ReadReply();
  if (!greeting.ok()) return greeting.status();
  if (greeting->code != 220)
    return absl::UnavailableError("greeting: " + SerializeReply(*greeting));
  return c;
}

absl::StatusOr<TestServer> StartTestServer(ServerConfig config, bool memory_sink) {
  TestServer t;
  config.listen_address = "127.0.0.1";
  config.port = 0;
  if (memory_sink) t.sink = std::make_shared<MemorySink>();
  t.server = std::make_unique<Server>(std::move(config), t.sink);
  absl::StatusOr<Endpoint> ep = t.server->Start();
  if (!ep.ok()) return ep.status();
  t.port = ep->port;
  return t;
}

std::string Describe(const absl::StatusOr<Reply>& r) {
  if (!r.ok()) return std::string(r.status().ToString());
  return SerializeReply(*r);
}

}  // namespace smtp::server::testing
