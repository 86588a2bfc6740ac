#include "harness/scenario/json_source.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

std::string Msg(const absl::Status& st) { return Message(st); }

std::string Pos(TextPosition p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

TEST(AppendPointer, EscapesTildeAndSlash) {
  EXPECT_EQ(AppendPointer("", "steps"), "/steps");
  EXPECT_EQ(AppendPointer("/steps", std::size_t{2}), "/steps/2");
  EXPECT_EQ(AppendPointer("/a", "x/y~z"), "/a/x~1y~0z");
  EXPECT_EQ(AppendPointer("", ""), "/");
}

TEST(JsonSource, PositionsOfKeysAndValues) {
  const std::string text =
      "{\n"
      "  \"id\": \"x\",\n"
      "  \"steps\": [\n"
      "    {\"send\": \"NOOP\"},\n"
      "\t{\"a/b\": {\"~\": [1, 2.5, true, null]}}\n"
      "  ],\n"
      "  \"\\u00e9t\\u00e9\": \"caf\\u00e9\", \"n\": -1e3\n"
      "}\n";
  auto src = JsonSource::Parse("p.json", text);
  ASSERT_TRUE(src.ok()) << src.status();
  struct Row {
    const char* pointer;
    const char* key;    // KeyPosition
    const char* value;  // ValuePosition
  };
  const Row rows[] = {
      {"", "1:1", "1:1"},
      {"/id", "2:3", "2:9"},
      {"/steps", "3:3", "3:12"},
      {"/steps/0", "4:5", "4:5"},  // array elements have no key
      {"/steps/0/send", "4:6", "4:14"},
      {"/steps/1", "5:2", "5:2"},  // a tab is one column
      {"/steps/1/a~1b", "5:3", "5:10"},
      {"/steps/1/a~1b/~0", "5:11", "5:16"},
      {"/steps/1/a~1b/~0/1", "5:20", "5:20"},
      {"/steps/1/a~1b/~0/3", "5:31", "5:31"},
      {"/\xc3\xa9t\xc3\xa9", "7:3", "7:20"},  // escaped key "été"
      {"/n", "7:33", "7:38"},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(Pos(src->KeyPosition(r.pointer)), r.key) << r.pointer;
    EXPECT_EQ(Pos(src->ValuePosition(r.pointer)), r.value) << r.pointer;
  }
  EXPECT_EQ(Pos(src->ValuePosition("/nope")), "0:0");
  EXPECT_EQ(src->Where({}), "p.json");
  EXPECT_EQ(Msg(src->ErrorAt({2, 9}, "bad")), "p.json:2:9: bad");
}

TEST(JsonSource, ColumnsCountCodePointsAndSkipTheBom) {
  // "é" is two bytes, one column; "😀" four bytes, one column.
  auto src = JsonSource::Parse("u.json", "\xEF\xBB\xBF{\"\xC3\xA9\xF0\x9F\x98\x80\": 1}");
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(Pos(src->KeyPosition("/\xC3\xA9\xF0\x9F\x98\x80")), "1:2");
  EXPECT_EQ(Pos(src->ValuePosition("/\xC3\xA9\xF0\x9F\x98\x80")), "1:8");
}

TEST(JsonSource, CrLfLineEndings) {
  auto src = JsonSource::Parse("c.json", "{\r\n  \"a\": 1,\r\n  \"b\": 2\r\n}\r\n");
  ASSERT_TRUE(src.ok());
  EXPECT_EQ(Pos(src->KeyPosition("/b")), "3:3");
  EXPECT_EQ(Pos(src->ValuePosition("/b")), "3:8");
}

TEST(JsonSource, StringBytePositionFollowsJsonEscapes) {
  // Decoded: a \n é(2) 😀(4) b  -> byte indexes 0 1 2-3 4-7 8
  auto src = JsonSource::Parse("s.json", R"({"k": "a\n\u00e9\ud83d\ude00b"})");
  ASSERT_TRUE(src.ok()) << src.status();
  const std::pair<std::size_t, const char*> rows[] = {
      {0, "1:8"},  {1, "1:9"},  {2, "1:11"}, {3, "1:11"},
      {4, "1:17"}, {7, "1:17"}, {8, "1:29"}, {9, "1:30"},  // one past the end: the closing quote
  };
  for (auto [index, want] : rows)
    EXPECT_EQ(Pos(src->StringBytePosition("/k", index)), want) << index;
  EXPECT_EQ(Pos(src->StringBytePosition("/missing", 0)), "0:0");
}

struct SyntaxCase {
  const char* text;
  const char* message;
};

TEST(JsonSource, SyntaxAndStructureErrors) {
  const SyntaxCase cases[] = {
      {"",
       "e.json:1:1: syntax error while parsing value - unexpected end of input; expected "
       "'[', '{', or a literal"},
      {"{\"a\": }",
       "e.json:1:7: syntax error while parsing value - unexpected '}'; expected "
       "'[', '{', or a literal"},
      {"{\"a\": 1,\n \"b\" 2}",
       "e.json:2:6: syntax error while parsing object separator - unexpected number literal; "
       "expected ':'"},
      {"[1, 2]\n[3]",
       "e.json:2:1: syntax error while parsing value - unexpected '['; expected "
       "end of input"},
      {"{\"a\": \"x\ny\"}",
       "e.json:1:9: syntax error while parsing value - invalid string: control character "
       "U+000A (LF) must be escaped to \\u000A or \\n; last read: '\"x<U+000A>'"},
      {"{\"a\": 1, \"a\": 2}", "e.json:1:10: duplicate key 'a'"},
      {"{\"a\": {\"b\": 1,\n  \"\\u0062\": 2}}", "e.json:2:3: duplicate key 'b'"},
      // Too large for a double: nlohmann throws out_of_range (fuzz_scenario_loader).
      {"{\"a\":\n  1e999}", "e.json:2:7: number overflow parsing '1e999'"},
  };
  for (const SyntaxCase& c : cases) {
    auto src = JsonSource::Parse("e.json", c.text);
    ASSERT_FALSE(src.ok()) << c.text;
    EXPECT_EQ(Msg(src.status()), c.message) << c.text;
  }
}

TEST(JsonSource, NestingIsBounded) {
  std::string deep(kMaxJsonDepth + 1, '[');
  deep += std::string(kMaxJsonDepth + 1, ']');
  auto src = JsonSource::Parse("d.json", deep);
  EXPECT_EQ(Msg(src.status()), "d.json:1:65: nesting deeper than 64 levels");
  std::string ok(kMaxJsonDepth, '[');
  ok += std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(JsonSource::Parse("d.json", ok).ok());
}

TEST(JsonSource, ReadFileLimits) {
  auto missing = JsonSource::ReadFile("/nonexistent/x.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  const std::string big = ::testing::TempDir() + "/h6_big.json";
  {
    std::ofstream out(big, std::ios::binary);
    out << "[\"" << std::string(kMaxJsonFileBytes, 'a') << "\"]";
  }
  auto st = JsonSource::ReadFile(big);
  EXPECT_EQ(Msg(st.status()), big + ": file larger than 4194304 bytes");
  std::remove(big.c_str());
}

}  // namespace
}  // namespace smtp::scenario
