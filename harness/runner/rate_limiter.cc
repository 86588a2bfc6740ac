#include "harness/runner/rate_limiter.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace smtp::runner {

using harness::Clock;

RateLimiter::RateLimiter(double per_second, int burst) {
  if (per_second > 0) {
    interval_ = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / per_second));
    if (interval_.count() == 0) interval_ = Clock::duration(1);
    burst_span_ = interval_ * (std::max(burst, 1) - 1);
  }
}

Clock::time_point RateLimiter::Reserve(Clock::time_point now) {
  if (unlimited()) return now;
  // GCRA: a token is available at max(now, next_ - burst_span_); taking it
  // moves the theoretical arrival time one interval on.
  const Clock::time_point earliest = std::max(now, next_ - burst_span_);
  next_ = std::max(next_, earliest) + interval_;
  return earliest;
}

asio::awaitable<void> RateLimiter::Acquire() {
  const Clock::time_point at = Reserve(Clock::now());
  if (at <= Clock::now()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace smtp::runner
