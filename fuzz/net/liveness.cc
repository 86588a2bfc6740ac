#include "fuzz/net/liveness.h"

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "harness/session.h"
#include "results/absl_compat.h"

namespace smtp::fuzz {

namespace asio = boost::asio;

absl::Status Probe(const harness::Target& target, std::chrono::milliseconds timeout) {
  absl::Status result = absl::OkStatus();
  asio::io_context io;
  const auto probe = [&]() -> asio::awaitable<void> {
    const harness::Deadline end = harness::In(timeout);
    harness::Session s;
    if (absl::Status st = co_await s.Connect(target, end); !st.ok()) {
      result =
          absl::UnavailableError("cannot connect to " + target.ToString() + ": " + Message(st));
      co_return;
    }
    harness::ReplyOutcome o = co_await s.ReadReply(end);
    if (!o.ok()) {
      result = absl::UnavailableError(target.ToString() + " sent no greeting (" +
                                      std::string(harness::ReadStatusName(o.status)) + ")");
    } else if (o.reply.code != 220) {
      result = absl::UnavailableError(target.ToString() + " greets with " +
                                      std::to_string(o.reply.code) + ", not 220");
    } else if (absl::Status st = co_await s.Send("QUIT\r\n", end); st.ok()) {
      co_await s.ReadReply(end);
    }
    co_await s.Close(end);
  };
  asio::co_spawn(io, probe(), asio::detached);
  io.run();
  return result;
}

}  // namespace smtp::fuzz
