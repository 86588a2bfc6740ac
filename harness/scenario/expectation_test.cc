#include "harness/scenario/expectation.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::scenario {
namespace {

TEST(CodePattern, Parse) {
  struct Row {
    const char* text;
    bool ok;
  };
  const Row rows[] = {
      {"250", true},  {"2xx", true},   {"2XX", true},  {"55x", true},
      {"x5x", true},  {"xxx", true},   {"599", true},  {"200", true},
      {"25", false},  {"2500", false}, {"", false},    {"150", false},
      {"650", false}, {"2x ", false},  {"2y0", false}, {"-50", false},
  };
  for (const Row& r : rows) {
    std::string why;
    auto p = CodePattern::Parse(r.text, &why);
    EXPECT_EQ(p.has_value(), r.ok) << r.text;
    if (!r.ok) {
      EXPECT_EQ(why, std::string("bad code pattern '") + r.text +
                         "' (three characters, each a digit or 'x', starting 2-5 or 'x')");
    }
  }
  std::string why;
  EXPECT_EQ(CodePattern::Parse("2XX", &why)->ToString(), "2xx");
  EXPECT_FALSE(CodePattern::Exact(199, &why));
  EXPECT_EQ(why, "bad reply code 199 (200..599)");
  EXPECT_FALSE(CodePattern::Exact(600, &why));
  EXPECT_EQ(CodePattern::Exact(421, &why)->ToString(), "421");
}

TEST(CodePattern, Matches) {
  struct Row {
    const char* pattern;
    int code;
    bool match;
  };
  const Row rows[] = {
      {"250", 250, true},   {"250", 251, false}, {"2xx", 200, true},
      {"2xx", 299, true},   {"2xx", 354, false}, {"25x", 251, true},
      {"25x", 260, false},  {"x5x", 550, true},  {"xxx", 0, true},  // "000": every digit is 'x'
      {"xxx", 1000, false}, {"xxx", -1, false},  {"250", 0, false},
  };
  for (const Row& r : rows) {
    std::string why;
    EXPECT_EQ(CodePattern::Parse(r.pattern, &why)->Matches(r.code), r.match)
        << r.pattern << " vs " << r.code;
  }
}

TEST(EnhancedPattern, ParseAndMatch) {
  struct Row {
    const char* pattern;
    const char* actual;
    bool match;
  };
  const Row rows[] = {
      {"5.1.1", "5.1.1", true},
      {"5.1.1", "5.1.10", false},
      {"5.x.x", "5.7.1", true},
      {"5.x.x", "4.7.1", false},
      {"x.7.x", "4.7.0", true},
      {"2.0.0", "2.0.0", true},
      {"5.1.x", "", false},
      {"5.x.x", "5.x.1", false},  // a reply carries digits
      {"5.123.456", "5.123.456", true},
      {"4.4.2", "4.4.2x", false},
  };
  for (const Row& r : rows) {
    std::string why;
    auto p = EnhancedPattern::Parse(r.pattern, &why);
    ASSERT_TRUE(p.has_value()) << r.pattern << ": " << why;
    EXPECT_EQ(p->Matches(r.actual), r.match) << r.pattern << " vs " << r.actual;
    EXPECT_EQ(p->ToString(), r.pattern);
  }
  for (const char* bad : {"", "5", "5.1", "6.1.1", "1.0.0", "5.1.1.1", "5..1", "5.1234.1", "5.1.",
                          " 5.1.1", "5.y.1"}) {
    std::string why;
    EXPECT_FALSE(EnhancedPattern::Parse(bad, &why)) << bad;
    EXPECT_NE(why.find("bad enhanced code pattern"), std::string::npos) << bad;
  }
}

TEST(ExtractEnhancedCode, FromReplyText) {
  const std::pair<const char*, const char*> rows[] = {
      {"5.1.1 <x@y>: no such user", "5.1.1"},
      {"2.0.0 Ok", "2.0.0"},
      {"2.0.0", "2.0.0"},
      {"mx.example ESMTP", ""},
      {"5.x.1 nope", ""},
      {"6.1.1 nope", ""},
      {"", ""},
      {"5.1.1; no", ""},  // must be followed by SP or end
  };
  for (auto [text, want] : rows) EXPECT_EQ(ExtractEnhancedCode(text), want) << text;
}

Expectation Make(std::vector<const char*> codes, const char* text = nullptr,
                 const char* enhanced = nullptr, bool icase = false) {
  Expectation e;
  std::string why;
  for (const char* c : codes) e.codes.push_back(*CodePattern::Parse(c, &why));
  if (text != nullptr) {
    e.text = Regex::Compile(text, icase, &why);
    e.ignore_case = icase;
  }
  if (enhanced != nullptr) e.enhanced = EnhancedPattern::Parse(enhanced, &why);
  return e;
}

struct MatchRow {
  Expectation expect;
  int code;
  std::vector<std::string> lines;
  const char* enhanced;
  bool matched;
  const char* description;
};

TEST(Expectation, MatchTable) {
  const std::vector<MatchRow> rows{
      {Make({"250"}), 250, {"ok"}, "", true, "got 250 \"ok\""},
      {Make({"250"}),
       550,
       {"5.1.1 no such user"},
       "5.1.1",
       false,
       "expected code 250, got 550 \"5.1.1 no such user\""},
      {Make({"250", "251"}), 550, {"no"}, "", false, "expected code 250 or 251, got 550 \"no\""},
      {Make({"250", "251", "2xx"}),
       452,
       {},
       "",
       false,
       "expected code 250, 251 or 2xx, got 452 \"\""},
      {Make({"2xx"}), 221, {"bye"}, "", true, "got 221 \"bye\""},
      {Make({"250"}, "^SIZE [0-9]+$"),
       250,
       {"mx.example", "PIPELINING", "SIZE 1000"},
       "",
       true,
       "got 250 \"mx.example | PIPELINING | SIZE 1000\""},
      {Make({"250"}, "^SIZE"),
       250,
       {"mx.example", "size 10"},
       "",
       false,
       "expected text matching /^SIZE/, got 250 \"mx.example | size 10\""},
      {Make({"250"}, "^SIZE", nullptr, true),
       250,
       {"mx.example", "size 10"},
       "",
       true,
       "got 250 \"mx.example | size 10\""},
      {Make({"250"}, "^x$", nullptr, true),
       250,
       {"y"},
       "",
       false,
       "expected text matching /^x$/i, got 250 \"y\""},
      {Make({"5xx"}, nullptr, "5.1.x"), 550, {"5.1.1 no"}, "5.1.1", true, "got 550 \"5.1.1 no\""},
      {Make({"5xx"}, nullptr, "5.1.x"),
       550,
       {"5.7.1 denied"},
       "5.7.1",
       false,
       "expected enhanced code 5.1.x, got 5.7.1 in 550 \"5.7.1 denied\""},
      {Make({"5xx"}, nullptr, "5.1.x"),
       550,
       {"denied"},
       "",
       false,
       "expected enhanced code 5.1.x, got none in 550 \"denied\""},
      // The code is checked first, then the enhanced code, then the text.
      {Make({"250"}, "never", "2.0.0"),
       421,
       {"bye"},
       "4.4.2",
       false,
       "expected code 250, got 421 \"bye\""},
      {Make({"4xx"}, "never", "2.0.0"),
       421,
       {"bye"},
       "4.4.2",
       false,
       "expected enhanced code 2.0.0, got 4.4.2 in 421 \"bye\""},
      // Unprintable bytes and quotes are escaped in the description.
      {Make({"250"}),
       500,
       {"a\"b\\c\x01\xff"},
       "",
       false,
       "expected code 250, got 500 \"a\\\"b\\\\c\\x01\\xff\""},
      // A code outside 000..999 (e.g. no reply) is shown as such.
      {Make({"xxx"}), -1, {}, "", false, "expected code xxx, got <-1> \"\""},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const MatchRow& r = rows[i];
    const MatchResult m = r.expect.Match(r.code, r.lines, r.enhanced);
    EXPECT_EQ(m.matched, r.matched) << "row " << i;
    EXPECT_EQ(m.description, r.description) << "row " << i;
  }
}

TEST(Expectation, LongReplyTextIsCutInDescriptions) {
  const std::vector<std::string> lines{std::string(500, 'z')};
  const MatchResult m = Make({"250"}).Match(500, lines, "");
  EXPECT_EQ(m.description, "expected code 250, got 500 \"" + std::string(160, 'z') + "...\"");
}

TEST(Expectation, Describe) {
  EXPECT_EQ(Make({"250"}).Describe(), "250");
  EXPECT_EQ(Make({"2xx", "354"}, "^go", "2.x.x", true).Describe(),
            "2xx or 354, enhanced 2.x.x, "
            "text /^go/i");
}

}  // namespace
}  // namespace smtp::scenario
