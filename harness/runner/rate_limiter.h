// A token bucket for the runner's connection-rate limit (--rate N: at most N
// new connections per second, with a burst of `burst`). Single-threaded: all
// callers run on one io_context thread.
#ifndef SMTP_HARNESS_RUNNER_RATE_LIMITER_H_
#define SMTP_HARNESS_RUNNER_RATE_LIMITER_H_

#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "harness/transport.h"

namespace smtp::runner {

namespace asio = boost::asio;

class RateLimiter {
 public:
  // `per_second` <= 0: unlimited (Acquire never waits). `burst` >= 1 tokens
  // may be taken at once after an idle period.
  explicit RateLimiter(double per_second, int burst = 1);

  bool unlimited() const { return interval_.count() == 0; }

  // Takes one token, waiting (on a timer of the caller's executor) until one
  // is available. Waiters are served in call order.
  asio::awaitable<void> Acquire();

  // The time at which the next token would be granted if taken now, and the
  // bookkeeping of taking it; exposed for tests (no waiting).
  harness::Clock::time_point Reserve(harness::Clock::time_point now);

 private:
  harness::Clock::duration interval_{};  // time per token
  harness::Clock::duration burst_span_{};
  // Theoretical arrival time of the next token (GCRA form of a token bucket).
  harness::Clock::time_point next_{};
};

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_RATE_LIMITER_H_
