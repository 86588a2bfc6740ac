#include "net/connection_limiter.h"

#include <optional>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace smtp::net {
namespace {

using Verdict = ConnectionLimiter::Verdict;

TEST(ConnectionLimiter, PerAddressLimitLeavesRoomForOthers) {
  ConnectionLimiter limiter({.max_total = 10, .max_per_address = 3});
  std::vector<ConnectionLimiter::Slot> attacker;
  for (int i = 0; i < 3; ++i) {
    std::optional<ConnectionLimiter::Slot> s = limiter.TryAcquire("127.0.0.1");
    ASSERT_TRUE(s.has_value()) << i;
    attacker.push_back(*std::move(s));
  }
  EXPECT_EQ(limiter.Check("127.0.0.1"), Verdict::kAddressFull);
  EXPECT_FALSE(limiter.TryAcquire("127.0.0.1").has_value());
  std::optional<ConnectionLimiter::Slot> other = limiter.TryAcquire("127.0.0.2");
  EXPECT_TRUE(other.has_value());
  EXPECT_EQ(limiter.active(), 4u);
  EXPECT_EQ(limiter.active_from("127.0.0.1"), 3u);
}

TEST(ConnectionLimiter, TotalLimit) {
  ConnectionLimiter limiter({.max_total = 2, .max_per_address = 0});
  auto a = limiter.TryAcquire("10.0.0.1");
  auto b = limiter.TryAcquire("10.0.0.2");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(limiter.Check("10.0.0.3"), Verdict::kTotalFull);
  EXPECT_FALSE(limiter.TryAcquire("10.0.0.3").has_value());
}

TEST(ConnectionLimiter, SlotFreesOnDestructionReleaseAndMoveOnce) {
  ConnectionLimiter limiter({.max_total = 0, .max_per_address = 1});
  {
    auto s = limiter.TryAcquire("::1");
    ASSERT_TRUE(s.has_value());
    EXPECT_FALSE(limiter.TryAcquire("::1").has_value());
    ConnectionLimiter::Slot moved = *std::move(s);
    s.reset();  // the moved-from slot frees nothing
    EXPECT_EQ(limiter.active(), 1u);
    moved.Release();
    EXPECT_EQ(limiter.active(), 0u);
    moved.Release();  // idempotent
    EXPECT_EQ(limiter.active(), 0u);
  }
  auto again = limiter.TryAcquire("::1");
  ASSERT_TRUE(again.has_value());
  {
    auto other = limiter.TryAcquire("::2");
    ASSERT_TRUE(other.has_value());
    *again = *std::move(other);  // assignment frees what `again` held
  }
  EXPECT_EQ(limiter.active(), 1u);
  EXPECT_EQ(limiter.active_from("::1"), 0u);
  EXPECT_EQ(limiter.active_from("::2"), 1u);
}

// A connection's coroutine may be destroyed after the listener that owned
// the limiter (at io_context shutdown): its slot still frees safely.
TEST(ConnectionLimiter, SlotMayOutliveItsLimiter) {
  std::optional<ConnectionLimiter::Slot> slot;
  {
    ConnectionLimiter limiter({.max_total = 2, .max_per_address = 1});
    slot = limiter.TryAcquire("10.0.0.1");
    ASSERT_TRUE(slot.has_value());
    EXPECT_EQ(limiter.active(), 1u);
  }
  slot->Release();  // no use of the destroyed limiter (ASan checks)
  slot.reset();
}

}  // namespace
}  // namespace smtp::net
