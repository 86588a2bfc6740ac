#include "results/session_input.h"

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace smtp::fuzz {
namespace {

using namespace std::string_literals;

SessionStep Step(StepKind kind, std::string bytes, bool pipelined = false, bool last = false) {
  return {kind, std::move(bytes), pipelined, last};
}

SessionInput Example() {
  return {{Step(StepKind::kCommand, "EHLO client.example"),
           Step(StepKind::kCommand, "MAIL FROM:<a@b.example>"),
           Step(StepKind::kCommand, "RCPT TO:<c@d.example>", /*pipelined=*/true),
           Step(StepKind::kData, "Subject: x\r\n\r\n.hi\r\n", /*pipelined=*/true),
           Step(StepKind::kBdat, std::string(200, 'x'), false, /*last=*/true),
           Step(StepKind::kRaw, "RSET\n\0\xff"s), Step(StepKind::kStartTls, ""),
           Step(StepKind::kCommand, "QUIT")}};
}

TEST(SessionInputTest, WireFormIsTheDocumentedOne) {
  const SessionInput in{{Step(StepKind::kCommand, "NOOP"),
                         Step(StepKind::kBdat, "ab", /*pipelined=*/true, /*last=*/true),
                         Step(StepKind::kStartTls, ""),
                         Step(StepKind::kRaw, std::string(130, 'r'))}};
  const std::string want = "\x01\x04NOOP"s +
                           "\x33\x02"
                           "ab" +
                           "\x05\x00"s + "\x04\x82\x01" + std::string(130, 'r');
  EXPECT_EQ(SerializeSessionInput(in), want);
  EXPECT_EQ(ParseSessionInput(want), in);
  // The example of docs/fuzzing.md, "Session inputs".
  const SessionInput doc{{Step(StepKind::kCommand, "EHLO a"),
                          Step(StepKind::kCommand, "MAIL FROM:<a@b>"),
                          Step(StepKind::kCommand, "RCPT TO:<c@d>", /*pipelined=*/true)}};
  EXPECT_EQ(SerializeSessionInput(doc),
            "\x01\x06"
            "EHLO a"
            "\x01\x0f"
            "MAIL FROM:<a@b>"
            "\x11\x0d"
            "RCPT TO:<c@d>");
}

TEST(SessionInputTest, RoundTrip) {
  const SessionInput in = Example();
  const std::string wire = SerializeSessionInput(in);
  EXPECT_EQ(ParseSessionInput(wire), in) << DebugString(ParseSessionInput(wire));
  EXPECT_EQ(SerializeSessionInput(ParseSessionInput(wire)), wire);
  EXPECT_EQ(ParseSessionInput(""), SessionInput{});
  EXPECT_EQ(SerializeSessionInput({}), "");
}

TEST(SessionInputTest, DebugString) {
  EXPECT_EQ(DebugString(Example()),
            "command EHLO client.example\n"
            "command MAIL FROM:<a@b.example>\n"
            "| command RCPT TO:<c@d.example>\n"
            "| data 19 bytes\n"
            "bdat last 200 bytes\n"
            "raw 7 bytes\n"
            "starttls\n"
            "command QUIT\n");
}

// Each row: bytes that are not a canonical serialization, and what they read as.
TEST(SessionInputTest, BestEffortReading) {
  const struct {
    std::string name;
    std::string in;
    SessionInput want;
  } cases[] = {
      {"unknown kind skipped", "\x00\x02zz\x01\x01Q"s, {{Step(StepKind::kCommand, "Q")}}},
      {"kind 6..15 skipped", "\x0f\x01x\x06\x00\x01\x01Q"s, {{Step(StepKind::kCommand, "Q")}}},
      {"high head bits ignored", "\xc1\x01Q"s, {{Step(StepKind::kCommand, "Q")}}},
      {"non-minimal length", "\x01\x81\x80\x00Q"s, {{Step(StepKind::kCommand, "Q")}}},
      {"length past the end", "\x01\x09QUIT"s, {{Step(StepKind::kCommand, "QUIT")}}},
      {"head alone", "\x04"s, {{Step(StepKind::kRaw, "")}}},
      {"cut-off length", "\x04\xff"s, {{Step(StepKind::kRaw, "")}}},
      {"huge length saturates",
       "\x04\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"
       "ab"s,
       {{Step(StepKind::kRaw, "ab")}}},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ParseSessionInput(c.in), c.want) << c.name;
  }
}

TEST(SessionInputTest, StepsAreBounded) {
  std::string many;
  for (std::size_t i = 0; i < kMaxSteps + 10; ++i) many += "\x05\x00"s;
  EXPECT_EQ(ParseSessionInput(many).steps.size(), kMaxSteps);
  const std::string big = "\x04\x80\x80\x80\x01"s + std::string(kMaxStepBytes + 5, 'b');
  const SessionInput in = ParseSessionInput(big);
  ASSERT_EQ(in.steps.size(), 1u);
  EXPECT_EQ(in.steps[0].bytes.size(), kMaxStepBytes);
}

// The libFuzzer-style property, over random byte strings and over mutated
// serializations: Parse never fails, and Serialize(Parse(b)) is a fixed point
// of Serialize ∘ Parse.
void CheckProperty(std::string_view bytes) {
  const SessionInput x = ParseSessionInput(bytes);
  const std::string s = SerializeSessionInput(x);
  ASSERT_LE(x.steps.size(), kMaxSteps);
  const SessionInput y = ParseSessionInput(s);
  ASSERT_EQ(y, x) << DebugString(x);
  ASSERT_EQ(SerializeSessionInput(y), s);
}

TEST(SessionInputTest, PropertyOverRandomBytes) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) {
      // Bias towards small values so that heads and lengths are often valid.
      c = static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 8);
    }
    CheckProperty(bytes);
  }
}

TEST(SessionInputTest, PropertyOverMutatedInputs) {
  std::mt19937 rng(777);
  const std::string seed = SerializeSessionInput(Example());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = seed;
    for (int m = 1 + static_cast<int>(rng() % 4); m > 0 && !bytes.empty(); --m) {
      const std::size_t at = rng() % bytes.size();
      switch (rng() % 4) {
        case 0:
          bytes[at] = static_cast<char>(rng());
          break;
        case 1:
          bytes.erase(at, 1 + rng() % 8);
          break;
        case 2:
          bytes.insert(at, 1, static_cast<char>(rng()));
          break;
        default:
          bytes.resize(at);
      }
    }
    CheckProperty(bytes);
  }
}

}  // namespace
}  // namespace smtp::fuzz
