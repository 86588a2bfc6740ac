// FormatEndpoint: a TCP endpoint as both ends of a connection name it; and
// ListenTcp, AcceptNext and RefuseConnection, the listening side of the
// embedded server and the recording proxy. Header-only (Asio's ip types only), so that the embedded
// server names its clients without linking the client transports.
#ifndef SMTP_HARNESS_ENDPOINT_H_
#define SMTP_HARNESS_ENDPOINT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smtp::harness {

// "127.0.0.1:25" / "[::1]:25"; an IPv4-mapped IPv6 address in its IPv4 form.
inline std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& ep) {
  auto address = ep.address();
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; name them as
  // the client names itself, so both ends agree on "127.0.0.1:40000".
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// A socket listening on `address` (numeric, resolved passively) and `port`
// (0: ephemeral), with SO_REUSEADDR and the system's largest backlog.
// InvalidArgument when the address does not resolve, Unavailable when it
// cannot be bound (in use, not local, not permitted).
inline absl::StatusOr<boost::asio::ip::tcp::acceptor> ListenTcp(
    const boost::asio::any_io_executor& executor, const std::string& address, std::uint16_t port) {
  using boost::asio::ip::tcp;
  boost::system::error_code ec;
  tcp::resolver resolver(executor);
  auto results = resolver.resolve(address, std::to_string(port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError("cannot resolve listen address '" + address +
                                      "': " + ec.message());
  }
  const tcp::endpoint want = results.begin()->endpoint();
  tcp::acceptor acceptor(executor);
  acceptor.open(want.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(want, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("cannot listen on " + FormatEndpoint(want) + ": " + ec.message());
  }
  return acceptor;
}

// The next connection on `acceptor`; nullopt once it is closed or the
// accept cancelled (the accept loop ends). Other errors (EMFILE and friends)
// back off 50 ms and try again instead of spinning.
inline boost::asio::awaitable<std::optional<boost::asio::ip::tcp::socket>> AcceptNext(
    boost::asio::ip::tcp::acceptor& acceptor) {
  namespace asio = boost::asio;
  for (;;) {
    boost::system::error_code ec;
    asio::ip::tcp::socket sock =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return std::nullopt;
    if (!ec) co_return std::move(sock);
    asio::steady_timer t(acceptor.get_executor(), std::chrono::milliseconds(50));
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Refuses an accepted connection politely: writes `reply` (e.g. "421 4.7.0
// Too many connections\r\n"), shuts the sending side and reads until the
// client closes, so that the reply is not lost to a reset; all within
// `deadline`, then closes. `reply` must outlive the call (a literal).
// `in_flight` counts the refusals running (the caller caps them: beyond its
// cap it closes connections without a word).
inline boost::asio::awaitable<void> RefuseConnection(boost::asio::ip::tcp::socket sock,
                                                     std::string_view reply,
                                                     std::chrono::milliseconds deadline,
                                                     std::size_t& in_flight) {
  namespace asio = boost::asio;
  ++in_flight;
  asio::steady_timer watchdog(sock.get_executor(), deadline);
  watchdog.async_wait([&sock](boost::system::error_code ec) {
    if (!ec) sock.close(ec);
  });
  boost::system::error_code ec;
  co_await asio::async_write(sock, asio::buffer(reply.data(), reply.size()),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) {
    sock.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
    char drain[512];
    while (!ec && sock.is_open()) {
      const std::size_t n = co_await sock.async_read_some(
          asio::buffer(drain), asio::redirect_error(asio::use_awaitable, ec));
      if (n == 0) break;
    }
  }
  watchdog.cancel();
  sock.close(ec);
  --in_flight;
}

// The stop-on-signal wiring of the embedded server and the recording proxy:
// SIGINT or SIGTERM delivered to `io` calls `begin_stop` once. `signals`
// (the caller's, so it outlives the wait) holds the signal set.
template <class F>
void StopOnSignals(boost::asio::io_context& io, std::optional<boost::asio::signal_set>& signals,
                   F begin_stop) {
  signals.emplace(io, SIGINT, SIGTERM);
  signals->async_wait([begin_stop](const boost::system::error_code& ec, int) {
    if (!ec) begin_stop();
  });
}

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_ENDPOINT_H_
