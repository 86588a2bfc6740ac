// What every transport shares: the default StartTls and the one mapping from
// Boost error codes to absl::Status. Targets are in target.cc, the dispatcher
// in connect.cc, the transports in socket_transport.cc, exec_transport.cc and
// memory_transport.cc.
#include "harness/transport.h"

#include <string>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace smtp::harness {

asio::awaitable<absl::Status> Transport::StartTls(const TlsOptions&, Deadline) {
  co_return absl::UnimplementedError("STARTTLS is not supported on " + peer());
}

absl::Status ErrorToStatus(const boost::system::error_code& ec, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += ec.message();
  namespace err = asio::error;
  if (ec == err::timed_out || ec == err::operation_aborted) {
    return absl::DeadlineExceededError(msg);
  }
  if (ec == err::eof || ec == asio::ssl::error::stream_truncated) {
    return absl::OutOfRangeError(msg);  // peer closed where bytes were required
  }
  if (ec == err::connection_refused || ec == err::connection_reset ||
      ec == err::connection_aborted || ec == err::broken_pipe || ec == err::network_unreachable ||
      ec == err::host_unreachable || ec == err::network_down || ec == err::not_connected) {
    return absl::UnavailableError(msg);
  }
  if (ec == err::host_not_found || ec == err::host_not_found_try_again || ec == err::no_data ||
      ec == err::service_not_found) {
    return absl::NotFoundError(msg);
  }
  if (ec.category() == asio::error::get_ssl_category() ||
      ec.category() == asio::ssl::error::get_stream_category()) {
    return absl::FailedPreconditionError(msg);  // TLS failure: handshake, certificate, record
  }
  if (ec == err::bad_descriptor) return absl::FailedPreconditionError(msg);
  return absl::UnknownError(msg);
}

}  // namespace smtp::harness
