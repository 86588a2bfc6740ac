#include "app/parse_stream.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "app/wire_json.h"
#include "harness/server/sink.h"
#include "parser/command.h"

namespace smtp::app {
namespace {

using nlohmann::json;

enum class Mode { kCommand, kCommandExact, kReply, kData, kDataBareLf };

std::unique_ptr<ParseStream> Make(Mode m, std::vector<json>* out) {
  EmitJson emit = [out](const json& j) { out->push_back(j); };
  switch (m) {
    case Mode::kCommand:
      return MakeCommandStream(false, kStrict, emit);
    case Mode::kCommandExact:
      return MakeCommandStream(true, kStrict, emit);
    case Mode::kReply:
      return MakeReplyStream(kStrict, emit);
    case Mode::kData:
      return MakeDataStream(DataEndMode::kStrict, kStrict, emit);
    case Mode::kDataBareLf:
      return MakeDataStream(DataEndMode::kBareLf, kStrict, emit);
  }
  return nullptr;
}

struct Output {
  std::vector<json> lines;
  int rejected = 0;
  bool operator==(const Output&) const = default;
};

// Feeds `pieces` in order, stopping as parse does when Feed says so.
Output Drive(Mode m, const std::vector<std::string_view>& pieces) {
  Output o;
  auto s = Make(m, &o.lines);
  for (std::string_view p : pieces) {
    if (!s->Feed(p)) break;
  }
  s->Finish();
  o.rejected = s->rejected();
  return o;
}

Output Whole(Mode m, std::string_view in) { return Drive(m, {in}); }

// Every split of the input into two pieces, and one octet at a time, gives
// the output of the whole input ("parsegrind").
TEST(ParseStream, OutputDoesNotDependOnHowTheInputIsSplit) {
  struct Case {
    Mode mode;
    std::string in;
  } cases[] = {
      {Mode::kCommand, "EHLO a.example\r\nMAIL FROM:<a@b.example>\nRCPT TO:<c@d>\r\nQUIT"},
      {Mode::kCommand, "NOOP\r\r\n\nMAIL FROM: <x@y>\r\n"},
      {Mode::kCommandExact, "NOOP\nNOOP\r\nNO\rOP\r\n"},
      {Mode::kReply, "220 a ESMTP\r\n250-a\r\n250-SIZE 100\r\n250 8BITMIME\r\n354 go\r\n"},
      {Mode::kReply, "250-a\r\n251 b\r\n220 never\r\n"},
      {Mode::kReply, "220 ok\r\n250-unfinished\r\n"},
      {Mode::kData, "a\r\n..b\r\n\nc\r\n.\r\nQUIT\r\nNOOP"},
      {Mode::kData, "no end\r\n.."},
      {Mode::kDataBareLf, "hi\n.\nMAIL FROM:<evil@x.example>\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    const Output whole = Whole(c.mode, c.in);
    ASSERT_FALSE(whole.lines.empty());
    for (std::size_t cut = 0; cut <= c.in.size(); ++cut) {
      const std::string_view in = c.in;
      ASSERT_EQ(Drive(c.mode, {in.substr(0, cut), in.substr(cut)}), whole) << "cut at " << cut;
    }
    std::vector<std::string_view> octets;
    for (std::size_t i = 0; i < c.in.size(); ++i)
      octets.push_back(std::string_view(c.in).substr(i, 1));
    EXPECT_EQ(Drive(c.mode, octets), whole);
  }
}

TEST(ParseStream, CommandLinesKeepTheirOffsetsAndUtf8State) {
  const Output o = Whole(Mode::kCommand, "MAIL FROM:<a@b> SMTPUTF8\nRCPT TO:<\xc3\xa9@b>\r\nQUIT");
  ASSERT_EQ(o.lines.size(), 3u);
  EXPECT_EQ(o.lines[1]["offset"], 25);
  EXPECT_EQ(o.lines[1]["ok"], true);
  EXPECT_EQ(o.lines[2]["line"], 3);
  EXPECT_EQ(o.lines[2]["input"], "QUIT\r\n");
  EXPECT_FALSE(o.lines[2].contains("truncated"));
  EXPECT_EQ(o.rejected, 0);
}

// A line longer than kHeldCommandLine is not held, yet gets the verdict of
// the whole line: ParseCommand on the whole framed line is the reference.
TEST(ParseStream, LongLinesGetTheVerdictOfTheWholeLine) {
  const std::size_t held = kHeldCommandLine;
  struct Case {
    std::string prefix;
    std::size_t length;  // of the raw line, LF included
    std::string ending;
    bool exact;
  };
  std::vector<Case> cases;
  for (const std::string prefix : {"NOOP ", "AUTH PLAIN ", "MAIL FROM:<", "VRFY \r"}) {
    for (std::size_t len : {held - 2, held - 1, held, held + 1, held + 2, held + 3, 3 * held}) {
      for (const std::string ending : {"\n", "\r\n", "\r\r\n"}) {
        cases.push_back({prefix, len, ending, false});
        cases.push_back({prefix, len, ending, true});
      }
    }
  }
  for (const Case& c : cases) {
    const std::string raw =
        c.prefix + std::string(c.length - c.prefix.size() - c.ending.size(), 'a') + c.ending;
    ASSERT_EQ(raw.size(), c.length);
    SCOPED_TRACE(c.prefix + " length " + std::to_string(c.length) + (c.exact ? " exact" : ""));
    std::string framed = raw;
    if (!c.exact) {
      framed.pop_back();
      if (framed.back() == '\r') framed.pop_back();
      framed += "\r\n";
    }
    const auto want = ParseCommand(framed);
    ASSERT_FALSE(want.ok());
    const Output o = Whole(c.exact ? Mode::kCommandExact : Mode::kCommand, raw + "QUIT\r\n");
    ASSERT_EQ(o.lines.size(), 2u);
    EXPECT_EQ(o.lines[0]["error"], ErrorJson(want.error()));
    const bool truncated = c.length > held;
    EXPECT_EQ(o.lines[0].contains("truncated"), truncated);
    if (truncated) {
      EXPECT_EQ(o.lines[0]["input_length"], c.length);
      EXPECT_EQ(o.lines[0]["input"].get<std::string>().size(), held);
    } else {
      EXPECT_EQ(o.lines[0]["input"], framed);
    }
    EXPECT_EQ(o.lines[1]["offset"], c.length);
    EXPECT_EQ(o.lines[1]["ok"], true);
  }
}

TEST(ParseStream, ReplyModeStopsAtTheFirstMalformedReply) {
  std::vector<json> out;
  auto s = Make(Mode::kReply, &out);
  EXPECT_TRUE(s->Feed("220 ok\r\n"));
  EXPECT_FALSE(s->Feed("250 " + std::string(1000, 'x')));
  EXPECT_FALSE(s->Feed("\r\n220 more\r\n"));  // ignored
  s->Finish();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1]["offset"], 8);
  EXPECT_EQ(out[1]["error"]["code"], "line_too_long");
  EXPECT_EQ(s->rejected(), 1);
}

TEST(ParseStream, DataBodyIsCountedDigestedAndPreviewed) {
  std::string body;
  for (int i = 0; body.size() < 3 * kDataPreview; ++i) body += "line " + std::to_string(i) + "\r\n";
  const std::string after = "QUIT\r\n" + std::string(2 * kDataPreview, 'z');
  std::vector<json> out;
  auto s = Make(Mode::kData, &out);
  for (std::size_t i = 0; i < body.size(); i += 4000)
    s->Feed(std::string_view(body).substr(i, 4000));
  s->Feed(".\r\n");
  EXPECT_TRUE(out.empty());  // "after_end" still gathering
  s->Feed(after);
  ASSERT_FALSE(out.empty());  // gathered enough: the body's object is out
  s->Finish();
  ASSERT_EQ(out.size(), 3u);
  const json& d = out[0];
  EXPECT_EQ(d["ok"], true);
  EXPECT_EQ(d["body_length"], body.size());
  EXPECT_EQ(d["body_sha256"], server::Sha256Hex(body));
  EXPECT_EQ(d["body"], body.substr(0, kDataPreview));
  EXPECT_EQ(d["body_truncated"], true);
  EXPECT_EQ(d["consumed"], body.size() + 3);
  EXPECT_EQ(d["after_end"], after.substr(0, kDataPreview));
  EXPECT_EQ(d["after_end_truncated"], true);
  EXPECT_EQ(out[1]["command"]["verb"], "QUIT");
  EXPECT_EQ(out[2]["offset"], 6);
  EXPECT_EQ(out[2]["input_length"], 2 * kDataPreview);
  EXPECT_EQ(s->rejected(), 1);  // the z line has no CRLF
}

TEST(ParseStream, SmallDataBodyIsShownWhole) {
  const Output o = Whole(Mode::kData, "a\r\n..b\r\n.\r\n");
  ASSERT_EQ(o.lines.size(), 1u);
  EXPECT_EQ(o.lines[0]["body"], "a\r\n.b\r\n");
  EXPECT_EQ(o.lines[0]["body_length"], 7);
  EXPECT_EQ(o.lines[0]["body_sha256"], server::Sha256Hex("a\r\n.b\r\n"));
  EXPECT_FALSE(o.lines[0].contains("body_truncated"));
  EXPECT_FALSE(o.lines[0].contains("after_end"));
  EXPECT_EQ(o.rejected, 0);
}

TEST(ParseStream, UnendedDataIsRejectedAtTheEndOfInput) {
  const Output o = Whole(Mode::kData, "abc\r\n");
  ASSERT_EQ(o.lines.size(), 1u);
  EXPECT_EQ(o.lines[0]["ended"], false);
  EXPECT_EQ(o.lines[0]["error"]["code"], "need_more");
  EXPECT_EQ(o.lines[0]["error"]["offset"], 5);
  EXPECT_EQ(o.rejected, 1);
}

}  // namespace
}  // namespace smtp::app
