#include "parser/ascii.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace smtp {
namespace {

using namespace std::literals;

TEST(AsciiTest, ToUpperFoldsOnlyLetters) {
  struct Case {
    char in;
    char want;
  };
  const Case cases[] = {
      // Lower case folds; upper case stays.
      {'a', 'A'},
      {'m', 'M'},
      {'z', 'Z'},
      {'A', 'A'},
      {'Z', 'Z'},
      // Just outside the letter ranges: "@" "[" "`" "{".
      {'@', '@'},
      {'[', '['},
      {'`', '`'},
      {'{', '{'},
      // Digits, punctuation, controls, and 8-bit octets (Latin-1 "á").
      {'0', '0'},
      {'-', '-'},
      {'\0', '\0'},
      {'\x7F', '\x7F'},
      {'\xE1', '\xE1'},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ToUpper(c.in), c.want) << ::testing::PrintToString(c.in);
  }
}

TEST(AsciiTest, ToUpperCopy) {
  EXPECT_EQ(ToUpperCopy(""), "");
  EXPECT_EQ(ToUpperCopy("8bitMime-x.y"), "8BITMIME-X.Y");
  EXPECT_EQ(ToUpperCopy("a\0b\xE9"sv), "A\0B\xE9"sv);  // binary-safe, 8-bit unchanged
}

TEST(AsciiTest, EqualsIgnoreCaseTable) {
  struct Case {
    std::string_view a;
    std::string_view b;
    bool want;
  };
  const Case cases[] = {
      {"", "", true},
      {"IPv6", "ipv6", true},
      {"smtpUTF8", "SMTPutf8", true},
      {"Postmaster", "POSTMASTER", true},
      {"a.B-c9", "A.b-C9", true},
      {"ab", "abc", false},  // sizes differ
      {"abc", "abd", false},
      // Octets one bit 0x20 apart that are not letters.
      {"@", "`", false},
      {"[", "{", false},
      {"^", "~", false},
      {"\x01", "!", false},
      {"0", "\x10", false},
      {"\xC1", "\xE1", false},  // Latin-1 "Á" / "á": no folding outside ASCII
      {"\xE9", "\xE9", true},   // equal octets are equal, 8-bit too
      {"a\0b"sv, "A\0B"sv, true},
      {"a\0b"sv, "A b"sv, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.a) + " vs " + ::testing::PrintToString(c.b));
    EXPECT_EQ(EqualsIgnoreCase(c.a, c.b), c.want);
    EXPECT_EQ(EqualsIgnoreCase(c.b, c.a), c.want);  // symmetric
  }
  static_assert(EqualsIgnoreCase("EHLO", "ehlo"));  // usable in constant expressions
}

TEST(AsciiTest, StartsWithIgnoreCaseTable) {
  struct Case {
    std::string_view s;
    std::string_view prefix;
    bool want;
  };
  const Case cases[] = {
      {"AUTH=LOGIN", "AUTH=", true},
      {"auth=login", "AUTH=", true},
      {"AUTH", "AUTH=", false},  // shorter than the prefix
      {"IPv6:::1", "ipv6:", true},
      {"IPv4:1.2.3.4", "IPv6:", false},
      {"anything", "", true},
      {"", "", true},
      {"", "a", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StartsWithIgnoreCase(c.s, c.prefix), c.want) << c.s << " / " << c.prefix;
  }
}

}  // namespace
}  // namespace smtp
