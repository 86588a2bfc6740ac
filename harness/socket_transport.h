// TCP/TLS transport over an already connected socket: for the server side
// (embedded server, recording proxy, loopback test servers). Clients use
// ConnectTcp/ConnectTls from transport.h. Separate from transport.h because
// it pulls in <boost/asio/ip/tcp.hpp>.
#ifndef SMTP_HARNESS_SOCKET_TRANSPORT_H_
#define SMTP_HARNESS_SOCKET_TRANSPORT_H_

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "harness/endpoint.h"  // FormatEndpoint, for the transports' users
#include "harness/transport.h"

namespace smtp::harness {

// Takes ownership of a connected socket. StartTls(options with
// Role::kServer) turns it into the server end of a TLS session.
std::unique_ptr<Transport> WrapTcpSocket(asio::ip::tcp::socket socket);

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_SOCKET_TRANSPORT_H_
