#include "fuzz/net/minimize.h"

#include <gtest/gtest.h>

#include <string>

namespace smtp::fuzz {
namespace {

SessionStep Cmd(std::string s, bool pipelined = false) {
  return {.kind = StepKind::kCommand, .bytes = std::move(s), .pipelined = pipelined};
}

// "Fails" when a step "EHLO ..." comes before a step containing "BOOM".
bool EhloThenBoom(const SessionInput& in) {
  bool ehlo = false;
  for (const auto& s : in.steps) {
    if (s.bytes.rfind("EHLO", 0) == 0) ehlo = true;
    if (ehlo && s.bytes.find("BOOM") != std::string::npos) return true;
  }
  return false;
}

TEST(Minimize, KeepsOnlyTheStepsAndBytesThatMatter) {
  SessionInput in;
  for (int i = 0; i < 20; ++i) in.steps.push_back(Cmd("NOOP " + std::to_string(i)));
  in.steps.insert(in.steps.begin() + 5, Cmd("EHLO client.example"));
  in.steps.insert(in.steps.begin() + 15, Cmd("HELP xxBOOMyy", true));
  ASSERT_TRUE(EhloThenBoom(in));
  MinimizeStats stats;
  const SessionInput m = Minimize(in, EhloThenBoom, 10'000, &stats);
  ASSERT_TRUE(EhloThenBoom(m));
  ASSERT_EQ(m.steps.size(), 2u);
  EXPECT_EQ(m.steps[0].bytes, "EHLO");
  EXPECT_EQ(m.steps[1].bytes, "BOOM");
  EXPECT_FALSE(m.steps[1].pipelined);
  EXPECT_EQ(stats.steps_before, 22u);
  EXPECT_EQ(stats.steps_after, 2u);
  EXPECT_EQ(stats.bytes_after, 8u);
  EXPECT_GT(stats.runs, 0u);
}

TEST(Minimize, StopsAtTheRunBudget) {
  SessionInput in;
  for (int i = 0; i < 200; ++i) in.steps.push_back(Cmd("EHLO BOOM " + std::to_string(i)));
  std::size_t calls = 0;
  const auto f = [&](const SessionInput& c) {
    ++calls;
    return EhloThenBoom(c);
  };
  MinimizeStats stats;
  const SessionInput m = Minimize(in, f, 7, &stats);
  EXPECT_EQ(calls, 7u);
  EXPECT_EQ(stats.runs, 7u);
  EXPECT_TRUE(EhloThenBoom(m));  // whatever it kept still fails
}

}  // namespace
}  // namespace smtp::fuzz
