#include "fuzz/net/state_feedback.h"

#include <array>

namespace smtp::fuzz {
namespace {

// SplitMix64's finalizer: a cheap, well-mixed 64-bit hash step.
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t LinesBucket(std::uint16_t lines) {
  if (lines <= 1) return 0;
  if (lines <= 3) return 1;
  if (lines <= 7) return 2;
  return 3;
}

// The state a reply leaves the session in, as the next transition sees it.
std::uint64_t StateOf(const ReplyEvent& e) {
  return (std::uint64_t{static_cast<std::uint8_t>(e.verb)} << 48) | (std::uint64_t{e.code} << 32) |
         e.enhanced;
}

alignas(64) std::array<std::uint8_t, kStateCounterCount> g_counters{};

}  // namespace

std::vector<std::uint64_t> TransitionKeys(std::span<const ReplyEvent> replies) {
  std::vector<std::uint64_t> keys;
  keys.reserve(replies.size());
  std::uint64_t prev = 0x636f6e6e656374ULL;  // "connect"
  for (const ReplyEvent& e : replies) {
    const std::uint64_t now = StateOf(e);
    const std::uint64_t shape = LinesBucket(e.lines) | (e.owed ? 4u : 0u);
    keys.push_back(Mix(Mix(prev) ^ now ^ (shape << 56)));
    prev = now;
  }
  return keys;
}

void AddTransitions(std::span<const std::uint64_t> keys, std::span<std::uint8_t> counters) {
  if (counters.empty()) return;
  for (const std::uint64_t k : keys) {
    std::uint8_t& c = counters[k % counters.size()];
    if (c != 0xff) ++c;
  }
}

std::span<std::uint8_t> StateCounters() { return g_counters; }

}  // namespace smtp::fuzz
