#include "harness/runner/rate_limiter.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace smtp::runner {
namespace {

using namespace std::chrono_literals;
using harness::Clock;

TEST(RateLimiter, UnlimitedNeverWaits) {
  RateLimiter r(0);
  EXPECT_TRUE(r.unlimited());
  const auto now = Clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_EQ(r.Reserve(now), now);
}

TEST(RateLimiter, SpacesTokensByTheInterval) {
  RateLimiter r(10);  // 100 ms per token, burst 1
  const auto t0 = Clock::now();
  EXPECT_EQ(r.Reserve(t0), t0);
  EXPECT_EQ(r.Reserve(t0), t0 + 100ms);
  EXPECT_EQ(r.Reserve(t0), t0 + 200ms);
  // After a long idle period only one token is available at once.
  const auto t1 = t0 + 10s;
  EXPECT_EQ(r.Reserve(t1), t1);
  EXPECT_EQ(r.Reserve(t1), t1 + 100ms);
}

TEST(RateLimiter, BurstAllowsSeveralAtOnce) {
  RateLimiter r(1, /*burst=*/3);
  const auto t0 = Clock::now() + 1h;
  EXPECT_EQ(r.Reserve(t0), t0);
  EXPECT_EQ(r.Reserve(t0), t0);
  EXPECT_EQ(r.Reserve(t0), t0);
  EXPECT_EQ(r.Reserve(t0), t0 + 1s);
}

TEST(RateLimiter, AcquireWaitsInRealTime) {
  asio::io_context io;
  RateLimiter r(50);  // 20 ms apart
  std::vector<Clock::time_point> got;
  const auto start = Clock::now();
  for (int i = 0; i < 6; ++i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await r.Acquire();
          got.push_back(Clock::now());
        },
        asio::detached);
  }
  io.run();
  ASSERT_EQ(got.size(), 6u);
  EXPECT_GE(got.back() - start, 95ms);  // 5 intervals after the first token
  EXPECT_LT(got.back() - start, 2s);
}

}  // namespace
}  // namespace smtp::runner
