// Connect: the dispatcher from a Target to its transport (TCP and TLS in
// socket_transport.cc, exec: in exec_transport.cc).
#include "harness/transport.h"

#include <boost/asio/this_coro.hpp>

namespace smtp::harness {

asio::awaitable<absl::StatusOr<std::unique_ptr<Transport>>> Connect(const Target& target,
                                                                    const TlsOptions& tls,
                                                                    Deadline deadline) {
  switch (target.kind) {
    case Target::Kind::kTcp:
      co_return co_await ConnectTcp(target.host, target.port, deadline);
    case Target::Kind::kTls:
      co_return co_await ConnectTls(target.host, target.port, tls, deadline);
    case Target::Kind::kExec:
      co_return SpawnExec(co_await asio::this_coro::executor, target.command);
  }
  co_return absl::InvalidArgumentError("bad target kind");
}

}  // namespace smtp::harness
