#include "parser/enhanced_code.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace smtp {
namespace {

struct PrefixCase {
  std::string_view in;
  std::size_t len;  // 0: not a status-code
  EnhancedCode code;
};

TEST(EnhancedCodeTest, ParsePrefixTable) {
  const PrefixCase cases[] = {
      {"2.0.0", 5, {2, 0, 0}},
      {"2.1.5 Ok", 5, {2, 1, 5}},  // RFC 2034 §4 reply text
      {"5.1.1 <x@y>: User unknown", 5, {5, 1, 1}},
      {"4.7.0 Try again later", 5, {4, 7, 0}},
      {"5.7.26 multiple checks", 6, {5, 7, 26}},
      {"5.999.999", 9, {5, 999, 999}},
      {"4.4.7", 5, {4, 4, 7}},
      {"5.1.1.1", 5, {5, 1, 1}},  // prefix only; the caller checks what follows
      {"5.1.1;", 5, {5, 1, 1}},
      // Not status-codes.
      {"", 0, {}},
      {"2", 0, {}},
      {"2.", 0, {}},
      {"2.0", 0, {}},
      {"2.0.", 0, {}},
      {"3.0.0", 0, {}},  // class is 2 / 4 / 5
      {"1.0.0", 0, {}},
      {"5..1", 0, {}},
      {"5.1..", 0, {}},
      {"5-1-1", 0, {}},
      {"a.1.1", 0, {}},
      {" 5.1.1", 0, {}},
      {"5.01.1", 0, {}},  // RFC 3463 §2: no leading zeros
      {"5.1.01", 0, {}},
      {"5.00.0", 0, {}},
      {"5.1000.1", 0, {}},  // 1*3digit
      {"2.0.0123", 0, {}},  // greedy: detail has four digits
      {"Ok 2.0.0", 0, {}},
  };
  for (const PrefixCase& c : cases) {
    EnhancedCode got{9, 9, 9};
    const std::size_t n = EnhancedCode::Parse(c.in, &got);
    EXPECT_EQ(n, c.len) << c.in;
    if (c.len != 0) {
      EXPECT_EQ(got, c.code) << c.in;
    } else {
      EXPECT_EQ(got, (EnhancedCode{9, 9, 9})) << "out must be untouched: " << c.in;
    }
  }
}

struct ErrorCase {
  std::string_view in;
  std::size_t offset;
};

TEST(EnhancedCodeTest, ParseWholeErrorsCarryOffsets) {
  const ErrorCase cases[] = {
      {"", 0},         {"6.1.1", 0},   {"x", 0},         {"5-1.1", 1},  {"5", 1},
      {"5.", 2},       {"5.x.1", 2},   {"5.1", 3},       {"5.1x1", 3},  {"5.1.", 4},
      {"5.01.1", 3},   {"5.1.01", 5},  {"5.1000.1", 5},  {"5.1.1 ", 5}, {"5.0.00", 5},
      {"5.1.1000", 7}, {"2.0.0.0", 5}, {"5.1.1\r\n", 5},
  };
  for (const ErrorCase& c : cases) {
    Result<EnhancedCode> r = ParseEnhancedCode(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_EQ(r.error().code, Errc::kBadEnhancedCode) << c.in;
    EXPECT_EQ(r.error().offset, c.offset) << c.in;
    EXPECT_FALSE(r.error().reason.empty());
  }
}

TEST(EnhancedCodeTest, ToStringRoundTrips) {
  for (std::uint8_t k : {2, 4, 5}) {
    for (std::uint16_t s : {0, 1, 7, 10, 99, 100, 999}) {
      for (std::uint16_t d : {0, 5, 26, 100, 999}) {
        const EnhancedCode code{k, s, d};
        const std::string text = code.ToString();
        Result<EnhancedCode> back = ParseEnhancedCode(text);
        ASSERT_TRUE(back.ok()) << text;
        EXPECT_EQ(*back, code) << text;
      }
    }
  }
  EXPECT_EQ((EnhancedCode{5, 7, 1}).ToString(), "5.7.1");
  EXPECT_EQ((EnhancedCode{4, 100, 20}).ToString(), "4.100.20");
}

TEST(EnhancedCodeTest, ConsistentWithReplyCode) {
  struct Case {
    EnhancedCode code;
    std::uint16_t reply;
    bool consistent;
  };
  const Case cases[] = {
      {{2, 1, 5}, 250, true},  {{2, 0, 0}, 221, true},  {{5, 1, 1}, 550, true},
      {{4, 7, 0}, 421, true},  {{5, 5, 1}, 503, true},  {{5, 1, 1}, 250, false},
      {{2, 0, 0}, 550, false}, {{4, 2, 2}, 552, false}, {{2, 0, 0}, 354, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.code.ConsistentWith(c.reply), c.consistent)
        << c.code.ToString() << " with " << c.reply;
  }
}

TEST(EnhancedCodeTest, RegistryNames) {
  struct Case {
    std::uint16_t subject, detail;
    std::string_view text;
  };
  const Case cases[] = {
      {0, 0, "Other undefined Status"},
      {1, 1, "Bad destination mailbox address"},
      {1, 10, "Recipient address has null MX"},
      {2, 2, "Mailbox full"},
      {3, 4, "Message too big for system"},
      {4, 7, "Delivery time expired"},
      {5, 6, "Authentication Exchange line is too long"},
      {6, 7, "Non-ASCII addresses not permitted for that sender/recipient"},
      {7, 1, "Delivery not authorized, message refused"},
      {7, 8, "Authentication credentials invalid"},
      {7, 26, "Multiple authentication checks failed"},
      {7, 30, "REQUIRETLS support required"},
      {7, 28, ""},  // not in our table
      {1, 11, ""},
      {8, 0, ""},
      {999, 999, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EnhancedDetailName(c.subject, c.detail), c.text) << c.subject << "." << c.detail;
  }
  EXPECT_EQ(EnhancedSubjectName(1), "Addressing Status");
  EXPECT_EQ(EnhancedSubjectName(7), "Security or Policy Status");
  EXPECT_EQ(EnhancedSubjectName(8), "");
}

TEST(EnhancedCodeTest, Describe) {
  EXPECT_EQ(Describe({5, 1, 1}), "5.1.1 Bad destination mailbox address");
  EXPECT_EQ(Describe({4, 2, 2}), "4.2.2 Mailbox full");
  EXPECT_EQ(Describe({2, 0, 0}), "2.0.0 Other undefined Status");
  EXPECT_EQ(Describe({5, 1, 99}), "5.1.99 Addressing Status");  // subject fallback
  EXPECT_EQ(Describe({5, 9, 9}), "5.9.9");                      // nothing registered
}

}  // namespace
}  // namespace smtp
