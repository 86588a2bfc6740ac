// FormatEndpoint: a TCP endpoint as both ends of a connection name it.
// Header-only (Asio's ip types only), so that the embedded server names its
// clients without linking the client transports.
#ifndef SMTP_HARNESS_ENDPOINT_H_
#define SMTP_HARNESS_ENDPOINT_H_

#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

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

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_ENDPOINT_H_
