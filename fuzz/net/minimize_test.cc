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

// "Fails" when the wire carries "EHLO" and then "BOOM" as lines of its own
// (a server reads the same bytes from a raw step or from command steps).
bool EhloThenBoomOnTheWire(const SessionInput& in) {
  std::string wire;
  for (const auto& s : in.steps) wire += s.kind == StepKind::kRaw ? s.bytes : s.bytes + "\r\n";
  const std::size_t ehlo = wire.find("EHLO\r\n");
  return ehlo != std::string::npos && wire.find("BOOM\r\n", ehlo) != std::string::npos;
}

TEST(Minimize, RawStepsOfWholeLinesBecomeCommands) {
  SessionInput in{{{StepKind::kRaw, "NOOP\r\nEHLO\r\nNOOP\r\n"}, Cmd("BOOM")}};
  ASSERT_TRUE(EhloThenBoomOnTheWire(in));
  const SessionInput m = Minimize(in, EhloThenBoomOnTheWire, 10'000);
  ASSERT_EQ(m.steps.size(), 2u);
  EXPECT_EQ(m.steps[0].kind, StepKind::kCommand);
  EXPECT_EQ(m.steps[0].bytes, "EHLO");
  EXPECT_EQ(m.steps[1].bytes, "BOOM");
  // A raw step with a bare LF or a cut line stays raw: its bytes are the
  // point.
  SessionInput bare{{{StepKind::kRaw, "EHLO\nX\r\n"}, Cmd("BOOM")}};
  const auto ehlo_lf_then_boom = [](const SessionInput& c) {
    return !c.steps.empty() && c.steps[0].bytes.starts_with("EHLO\n") && c.steps.size() == 2;
  };
  EXPECT_EQ(Minimize(bare, ehlo_lf_then_boom, 10'000).steps[0].kind, StepKind::kRaw);
  // A raw step that a bare CR keeps from being lines stays raw.
  SessionInput cr{{{StepKind::kRaw, "EHLO\rX\r\n"}, Cmd("BOOM")}};
  const auto ehlo_cr_then_boom = [](const SessionInput& c) {
    return !c.steps.empty() && c.steps[0].bytes.starts_with("EHLO\r") && c.steps.size() == 2;
  };
  EXPECT_EQ(Minimize(cr, ehlo_cr_then_boom, 10'000).steps[0].kind, StepKind::kRaw);
}

// A line cut across two steps is read whole: a raw step joined with the next
// raw or command step becomes commands when the finding holds for them (CI
// met a tiny server's overflow through raw "EHLO " + command "x", which read
// as four steps instead of three commands).
TEST(Minimize, ALineCutAcrossStepsBecomesCommands) {
  SessionInput cut{{{StepKind::kRaw, "EHLO\r\nBO"}, {StepKind::kRaw, "OM\r\n"}}};
  ASSERT_TRUE(EhloThenBoomOnTheWire(cut));
  const SessionInput mc = Minimize(cut, EhloThenBoomOnTheWire, 10'000);
  ASSERT_EQ(mc.steps.size(), 2u);
  EXPECT_EQ(mc.steps[0], Cmd("EHLO"));
  EXPECT_EQ(mc.steps[1], Cmd("BOOM"));

  // "Fails" when an EHLO with a domain comes before BOOM.
  const auto ehlo_domain_then_boom = [](const SessionInput& c) {
    std::string wire;
    for (const auto& s : c.steps) wire += s.kind == StepKind::kRaw ? s.bytes : s.bytes + "\r\n";
    const std::size_t ehlo = wire.find("EHLO ");
    return ehlo != std::string::npos && wire[ehlo + 5] != '\r' &&
           wire.find("\r\nBOOM\r\n", ehlo) != std::string::npos;
  };
  SessionInput half{{Cmd("NOOP"), {StepKind::kRaw, "EHLO "}, Cmd("\xaf"), Cmd("BOOM")}};
  ASSERT_TRUE(ehlo_domain_then_boom(half));
  MinimizeStats stats;
  const SessionInput mh = Minimize(half, ehlo_domain_then_boom, 10'000, &stats);
  ASSERT_EQ(mh.steps.size(), 2u);
  EXPECT_EQ(mh.steps[0], Cmd("EHLO \xaf"));
  EXPECT_EQ(mh.steps[1], Cmd("BOOM"));
  EXPECT_EQ(stats.steps_after, 2u);

  // A BDAT chunk that a server without CHUNKING reads as commands.
  SessionInput chunk{{{StepKind::kBdat, "EHLO y\r\nBOOM\r\n", false, true}}};
  const auto bdat_wire_ehlo_then_boom = [&](const SessionInput& c) {
    SessionInput raw;
    for (const auto& s : c.steps) {
      raw.steps.push_back(
          s.kind == StepKind::kBdat ? SessionStep{StepKind::kRaw, "BDAT x\r\n" + s.bytes} : s);
    }
    return ehlo_domain_then_boom(raw);
  };
  const SessionInput mb = Minimize(chunk, bdat_wire_ehlo_then_boom, 10'000);
  ASSERT_EQ(mb.steps.size(), 2u);
  EXPECT_EQ(mb.steps[0], Cmd("EHLO y"));
  EXPECT_EQ(mb.steps[1], Cmd("BOOM"));

  // A line cut short at the end stays raw: nothing completes it.
  SessionInput open_end{{Cmd("EHLO"), {StepKind::kRaw, "BOOM"}}};
  const auto ends_in_cut_boom = [](const SessionInput& c) {
    return !c.steps.empty() && c.steps.back().kind == StepKind::kRaw &&
           c.steps.back().bytes == "BOOM";
  };
  EXPECT_EQ(Minimize(open_end, ends_in_cut_boom, 10'000).steps.back().kind, StepKind::kRaw);
}

// Bare LFs are read as CRLF when the finding holds that way (many servers
// take either), and kept when it does not.
TEST(Minimize, BareLineFeedsBecomeCommandsWhenTheyDoNotMatter) {
  const auto lf_lenient = [](const SessionInput& c) {
    std::string wire;
    for (const auto& s : c.steps) wire += s.kind == StepKind::kRaw ? s.bytes : s.bytes + "\r\n";
    std::string lf;
    for (char ch : wire) {
      if (ch != '\r') lf += ch;
    }
    const std::size_t ehlo = lf.find("EHLO\n");
    return ehlo != std::string::npos && lf.find("BOOM\n", ehlo) != std::string::npos;
  };
  SessionInput in{{{StepKind::kRaw, "EHLO\nBOOM\n"}}};
  const SessionInput m = Minimize(in, lf_lenient, 10'000);
  ASSERT_EQ(m.steps.size(), 2u);
  EXPECT_EQ(m.steps[0], Cmd("EHLO"));
  EXPECT_EQ(m.steps[1], Cmd("BOOM"));
  // The smuggling case: the bare LF is the finding, so it stays.
  const auto needs_bare_lf = [](const SessionInput& c) {
    return !c.steps.empty() && c.steps[0].kind == StepKind::kRaw &&
           c.steps[0].bytes.find("\n.\n") != std::string::npos;
  };
  SessionInput smuggle{{{StepKind::kRaw, "x\n.\nMAIL\r\n"}}};
  const SessionInput ms = Minimize(smuggle, needs_bare_lf, 10'000);
  EXPECT_EQ(ms.steps[0].kind, StepKind::kRaw);
  EXPECT_EQ(ms.steps[0].bytes, "\n.\n");
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
