#include "harness/scenario/regex.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace smtp::scenario {
namespace {

TEST(Regex, CompileErrorsNameRe2sReason) {
  struct Row {
    const char* pattern;
    const char* why;  // "" = compiles
  };
  const Row rows[] = {
      {"([a-z", "bad regex: missing ]: [a-z"},
      {"(", "bad regex: missing ): ("},
      {"a**", "bad regex: bad repetition operator: **"},
      {"a{1001}", "bad regex: invalid repetition size: {1001}"},
      // What ECMAScript and Perl have and RE2 leaves out (it would need
      // backtracking).
      {"(a)\\1",
       "bad regex: invalid escape sequence: \\1 (RE2 syntax: no backreferences or lookaround)"},
      {"^(?=[0-9])",
       "bad regex: invalid perl operator: (?= (RE2 syntax: no backreferences or lookaround)"},
      {"a(?!b)",
       "bad regex: invalid perl operator: (?! (RE2 syntax: no backreferences or lookaround)"},
      {"(?<=a)b",
       "bad regex: invalid perl operator: (?< (RE2 syntax: no backreferences or lookaround)"},
      {"\\u0041",
       "bad regex: invalid escape sequence: \\u (RE2 syntax: no backreferences or lookaround)"},
      // fuzz_scenario_loader once overflowed libstdc++'s regex compiler with
      // this (corpus/fuzz_scenario_loader/regress-regex-number-overflow).
      {"(a)\\9223372036854775808",
       "bad regex: invalid escape sequence: \\9 (RE2 syntax: no backreferences or lookaround)"},
      // A number RE2 cannot read makes '{' a literal, as in Perl.
      {"a{99999999999}", ""},
      // What scenarios use.
      {"^SIZE [0-9]+$", ""},
      {"^AUTH (\\S+)", ""},
      {"^\\d{3}[ -]", ""},
      {"(?i)^starttls( |$)", ""},
      {"^(?:PIPELINING|8BITMIME)$", ""},
      {"[[:alpha:]]\\b", ""},
      {"\\x41\\/\\-\\.", ""},
      {"(?P<name>x)", ""},
  };
  for (const Row& r : rows) {
    std::string why;
    const auto re = Regex::Compile(r.pattern, false, &why);
    EXPECT_EQ(re.has_value(), *r.why == '\0') << r.pattern;
    EXPECT_EQ(why, r.why) << r.pattern;
  }
}

TEST(Regex, Limits) {
  std::string why;
  EXPECT_FALSE(Regex::Compile(std::string(kMaxRegexPatternBytes + 1, 'a'), false, &why));
  EXPECT_EQ(why, "regex longer than 1024 bytes");
  EXPECT_TRUE(Regex::Compile(std::string(kMaxRegexPatternBytes, 'a'), false, &why));
  // A short pattern whose program outgrows kMaxRegexMemoryBytes: 200
  // two-letter alternatives, repeated 1000 times (400,000 instructions).
  std::string big = "(";
  for (int i = 0; i < 200; ++i) {
    if (i > 0) big += '|';
    big += static_cast<char>('a' + i % 26);
    big += static_cast<char>('a' + i / 26);
  }
  big += "){1000}";
  ASSERT_LE(big.size(), kMaxRegexPatternBytes);
  why.clear();
  EXPECT_FALSE(Regex::Compile(big, false, &why));
  EXPECT_EQ(why,
            "bad regex: pattern too large - compile failed (more than the 1048576-byte regex "
            "memory limit)");
}

TEST(Regex, SearchFindsAMatchAnywhereInTheLine) {
  std::string why;
  const auto size = Regex::Compile("^SIZE [0-9]+$", false, &why);
  ASSERT_TRUE(size.has_value()) << why;
  EXPECT_TRUE(size->Search("SIZE 1000"));
  EXPECT_FALSE(size->Search("size 1000"));
  EXPECT_FALSE(size->Search("X SIZE 1000"));
  EXPECT_FALSE(size->Search("SIZE 1000 "));
  const auto icase = Regex::Compile("^size", true, &why);
  ASSERT_TRUE(icase.has_value()) << why;
  EXPECT_TRUE(icase->Search("SIZE 1000"));
  EXPECT_TRUE(icase->ignore_case());
  EXPECT_EQ(icase->source(), "^size");
  const auto found = Regex::Compile("CHUNK", false, &why);
  ASSERT_TRUE(found.has_value()) << why;
  EXPECT_TRUE(found->Search("250-CHUNKING"));
  EXPECT_FALSE(Regex().Search(""));  // default-constructed: matches nothing
}

// Patterns and subjects are bytes: '.' is one byte, and a server's invalid
// UTF-8 matches like any other byte.
TEST(Regex, BytesNotCharacters) {
  std::string why;
  const auto four = Regex::Compile("^.{4}$", false, &why);
  ASSERT_TRUE(four.has_value()) << why;
  EXPECT_TRUE(four->Search("caf\xff"));
  EXPECT_FALSE(four->Search("caf\xc3\xa9"));  // five bytes
  const auto utf8 = Regex::Compile("caf\xc3\xa9$", false, &why);
  ASSERT_TRUE(utf8.has_value()) << why;
  EXPECT_TRUE(utf8->Search("un caf\xc3\xa9"));
  const auto escaped = Regex::Compile("caf\\xc3\\xa9$", false, &why);
  ASSERT_TRUE(escaped.has_value()) << why;
  EXPECT_TRUE(escaped->Search("un caf\xc3\xa9"));
  const auto nul = Regex::Compile("a\\x00b", false, &why);
  ASSERT_TRUE(nul.has_value()) << why;
  EXPECT_TRUE(nul->Search(std::string("a\0b", 3)));
}

TEST(Regex, CaptureGroups) {
  std::string why;
  const auto re = Regex::Compile("^(SIZE) ([0-9]+)?(x)?", false, &why);
  ASSERT_TRUE(re.has_value()) << why;
  EXPECT_EQ(re->groups(), 3);
  std::string out = "unchanged";
  EXPECT_TRUE(re->Search("SIZE 35882577", 2, &out));
  EXPECT_EQ(out, "35882577");
  EXPECT_TRUE(re->Search("SIZE 35882577", 0, &out));
  EXPECT_EQ(out, "SIZE 35882577");
  out = "unchanged";
  EXPECT_FALSE(re->Search("SIZE 35882577", 3, &out));  // (x) took no part
  EXPECT_EQ(out, "unchanged");
  EXPECT_FALSE(re->Search("AUTH PLAIN", 1, &out));  // no match
  EXPECT_FALSE(re->Search("SIZE 1", 4, &out));      // no such group
  EXPECT_EQ(out, "unchanged");
  EXPECT_FALSE(re->Search("SIZE ", 2, &out));  // ([0-9]+)? took no part
  const auto empty = Regex::Compile("^SIZE ([0-9]*)", false, &why);
  ASSERT_TRUE(empty.has_value()) << why;
  EXPECT_TRUE(empty->Search("SIZE ", 1, &out));  // an empty group that matched
  EXPECT_EQ(out, "");
}

TEST(Regex, HugeLinesAreCut) {
  std::string why;
  const auto re = Regex::Compile("(a|b)*c", false, &why);
  ASSERT_TRUE(re.has_value()) << why;
  std::string line(1 << 20, 'a');
  line += 'c';
  EXPECT_FALSE(re->Search(line));  // the 'c' is past the cut
  EXPECT_TRUE(re->Search(std::string(kMaxRegexSubjectBytes - 1, 'a') + "c"));
}

// Patterns that backtrack exponentially (std::regex took minutes, and did
// not stop at --scenario_timeout_ms, on such a 41-byte reply line) are
// searched in time linear in the line. A hang here is caught by the 10 s
// bound below or, when the search never returns, by ctest's TIMEOUT.
TEST(Regex, BacktrackingPatternsDoNotHang) {
  const std::string hostile = std::string(40, 'a') + "!";
  struct Row {
    const char* pattern;
    const char* matching;  // a line the pattern does match
  };
  const Row rows[] = {
      {"(((a*)*)*)*b", "aaab"},
      {"(a+)+$", "aaaa"},
      {"(a|aa)+$", "aaaa"},
      {"(a|a?)+b", "aab"},
  };
  for (const Row& r : rows) {
    std::string why;
    const auto re = Regex::Compile(r.pattern, false, &why);
    ASSERT_TRUE(re.has_value()) << r.pattern << ": " << why;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(re->Search(hostile)) << r.pattern;
    EXPECT_FALSE(re->Search(std::string(kMaxRegexSubjectBytes - 1, 'a') + "!")) << r.pattern;
    std::string group;
    EXPECT_FALSE(re->Search(hostile, 1, &group)) << r.pattern;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10)) << r.pattern;
    EXPECT_TRUE(re->Search(r.matching)) << r.pattern;
  }
}

}  // namespace
}  // namespace smtp::scenario
