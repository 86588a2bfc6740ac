#include "harness/scenario/escapes.h"

#include <string>

#include <gtest/gtest.h>

namespace smtp::scenario {
namespace {

struct Good {
  std::string in;
  std::string out;
};

TEST(DecodeByteEscapes, Decodes) {
  const Good cases[] = {
      {"", ""},
      {"NOOP", "NOOP"},
      {"DATA\\r\\n", "DATA\r\n"},
      {"a\\tb", "a\tb"},
      {"\\\\", "\\"},
      {"\\\\r", "\\r"},  // an escaped backslash, then a plain 'r'
      {"\\0", std::string(1, '\0')},
      {"\\x00\\x7f\\x80\\xff\\xAb", std::string("\x00\x7f\x80\xff\xab", 5)},
      {"\\x41BC", "ABC"},              // exactly two hex digits
      {"\r\n", "\r\n"},                // real CR LF (from JSON's own escapes) pass through
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // UTF-8 passes through
      {"x\\r\\n.\\r\\n", "x\r\n.\r\n"},
  };
  for (const Good& c : cases) {
    std::string out;
    EscapeError err;
    ASSERT_TRUE(DecodeByteEscapes(c.in, &out, &err)) << c.in << ": " << err.message;
    EXPECT_EQ(out, c.out) << c.in;
  }
}

struct Bad {
  std::string in;
  std::size_t offset;
  std::string message;
};

TEST(DecodeByteEscapes, RejectsWithOffset) {
  const Bad cases[] = {
      {"\\", 0, "backslash at end of string (write \\\\ for a literal backslash)"},
      {"abc\\", 3, "backslash at end of string (write \\\\ for a literal backslash)"},
      {"a\\q", 1, "bad escape '\\q' (known: \\r \\n \\t \\\\ \\0 \\xHH)"},
      {"\\R", 0, "bad escape '\\R' (known: \\r \\n \\t \\\\ \\0 \\xHH)"},
      {"\\u0041", 0, "bad escape '\\u' (known: \\r \\n \\t \\\\ \\0 \\xHH)"},
      {"ab\\x4", 2, "bad escape '\\x': expected two hex digits"},
      {"\\xg0", 0, "bad escape '\\x': expected two hex digits"},
      {"\\x", 0, "bad escape '\\x': expected two hex digits"},
      {"\\\\\\ ", 2, "bad escape '\\\\x20' (known: \\r \\n \\t \\\\ \\0 \\xHH)"},
      {std::string("\\\x01", 2), 0, "bad escape '\\\\x01' (known: \\r \\n \\t \\\\ \\0 \\xHH)"},
  };
  for (const Bad& c : cases) {
    std::string out;
    EscapeError err;
    ASSERT_FALSE(DecodeByteEscapes(c.in, &out, &err)) << c.in;
    EXPECT_EQ(err.offset, c.offset) << c.in;
    EXPECT_EQ(err.message, c.message) << c.in;
  }
}

// Every octet survives an escape round trip: "\xHH" for all 256 values.
TEST(DecodeByteEscapes, AllOctets) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string in, want;
  for (int b = 0; b < 256; ++b) {
    in += std::string("\\x") + kHex[b >> 4] + kHex[b & 15];
    want.push_back(static_cast<char>(b));
  }
  std::string out;
  EscapeError err;
  ASSERT_TRUE(DecodeByteEscapes(in, &out, &err));
  EXPECT_EQ(out, want);
}

}  // namespace
}  // namespace smtp::scenario
