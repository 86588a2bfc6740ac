#include "parser/reply.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "parser/grind_test_util.h"

namespace smtp {
namespace {

using Lines = std::vector<std::string>;

// What a sequence of chunks does to a fresh reader: the replies taken, the
// error (kOk if none) and the octets consumed.
struct Outcome {
  std::vector<Reply> replies;
  ParseError error;
  std::size_t consumed = 0;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

Outcome Drive(const std::vector<std::string_view>& chunks, const ReplyOptions& opts,
              bool eof = true) {
  ReplyReader r(opts);
  Outcome o;
  for (std::string_view chunk : chunks) {
    for (;;) {
      const std::size_t n = r.Feed(chunk);
      EXPECT_LE(n, chunk.size());
      chunk.remove_prefix(n);
      if (r.has_reply()) {
        o.replies.push_back(r.TakeReply());
        continue;
      }
      if (r.failed()) {
        o.error = r.error();
        o.consumed = r.offset();
        return o;
      }
      EXPECT_TRUE(chunk.empty()) << "need_more must consume the whole chunk";
      break;
    }
  }
  if (eof) {
    r.FeedEof();
    if (r.has_reply()) o.replies.push_back(r.TakeReply());
    if (r.failed()) o.error = r.error();
  }
  o.consumed = r.offset();
  return o;
}

Outcome OneShot(std::string_view in, const ReplyOptions& opts) { return Drive({in}, opts); }

// Re-feeds `in` split at every boundary (two chunks), split at every pair of
// boundaries (three chunks, short inputs) and byte by byte; every way must
// equal one-shot feeding.
void ExpectSplitInvariant(std::string_view in, const ReplyOptions& opts) {
  const Outcome whole = OneShot(in, opts);
  const auto drive = [&](const auto& chunks) { return Drive(chunks, opts); };
  for (const auto& [how, outcome] : testing::Grind(in, drive, /*three_way_up_to=*/64)) {
    ASSERT_EQ(outcome, whole) << how;
  }
}

ReplyOptions With(Leniencies l) {
  ReplyOptions o;
  o.leniencies = l;
  return o;
}

struct AcceptCase {
  std::string_view in;
  Leniencies leniencies;
  std::uint16_t code;
  Lines lines;
  Leniencies deviations;
  bool canonical;  // SerializeReply gives `in` back
};

const AcceptCase kAccept[] = {
    // RFC 5321 §4.2 and Appendix D.1.
    {"220 foo.com Simple Mail Transfer Service Ready\r\n",
     kStrict,
     220,
     {"foo.com Simple Mail Transfer Service Ready"},
     0,
     true},
    {"250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n",
     kStrict,
     250,
     {"foo.com greets bar.com", "8BITMIME", "SIZE", "DSN", "HELP"},
     0,
     true},
    {"250 OK\r\n", kStrict, 250, {"OK"}, 0, true},
    {"354 Start mail input; end with <CRLF>.<CRLF>\r\n",
     kStrict,
     354,
     {"Start mail input; end with <CRLF>.<CRLF>"},
     0,
     true},
    {"221 foo.com Service closing transmission channel\r\n",
     kStrict,
     221,
     {"foo.com Service closing transmission channel"},
     0,
     true},
    {"500 Syntax error, command unrecognized\r\n",
     kStrict,
     500,
     {"Syntax error, command unrecognized"},
     0,
     true},
    {"251 User not local; will forward to <Jones@XYZ.COM>\r\n",
     kStrict,
     251,
     {"User not local; will forward to <Jones@XYZ.COM>"},
     0,
     true},
    {"550 No such user here\r\n", kStrict, 550, {"No such user here"}, 0, true},
    // §4.2.1: a continuation text may itself start with digits.
    {"250-First line\r\n250-Second line\r\n250-234 Text beginning with numbers\r\n"
     "250 The last line\r\n",
     kStrict,
     250,
     {"First line", "Second line", "234 Text beginning with numbers", "The last line"},
     0,
     true},
    // Text is optional on the last line and after "-".
    {"250\r\n", kStrict, 250, {""}, 0, true},
    {"250-\r\n250 x\r\n", kStrict, 250, {"", "x"}, 0, true},
    {"250-a\r\n250\r\n", kStrict, 250, {"a", ""}, 0, true},
    {"250-\r\n250-\r\n250\r\n", kStrict, 250, {"", "", ""}, 0, true},
    // HT and extra SP are textstring.
    {"250  two spaces\t tab \r\n", kStrict, 250, {" two spaces\t tab "}, 0, true},
    {"554 5.7.1 <x@y>: Relay access denied\r\n",
     kStrict,
     554,
     {"5.7.1 <x@y>: Relay access denied"},
     0,
     true},
    {"421 4.7.0 mx.google.com Try again later, closing connection.\r\n",
     kStrict,
     421,
     {"4.7.0 mx.google.com Try again later, closing connection."},
     0,
     true},
    // RFC 4954 §4: continue-req = "334" SP [base64] CRLF. The SP is
    // mandatory and the challenge optional, so "334 " CRLF is strict (and
    // canonical); "334" CRLF needs kChallengeWithoutSpace.
    {"334 \r\n", kStrict, 334, {""}, 0, true},
    {"334 VXNlcm5hbWU6\r\n", kStrict, 334, {"VXNlcm5hbWU6"}, 0, true},
    {"334-\r\n334 \r\n", kStrict, 334, {"", ""}, 0, true},
    {"334 \n", kBareLfLineEnd, 334, {""}, kBareLfLineEnd, false},
    {"334 \r\n", kTrailingWhitespace, 334, {""}, 0, true},  // not a deviation
    // Leniencies that fire.
    {"250-a\n250 b\n", kBareLfLineEnd, 250, {"a", "b"}, kBareLfLineEnd, false},
    {"250\n", kBareLfLineEnd, 250, {""}, kBareLfLineEnd, false},
    {"250-a\r\n250 b\n", kBareLfLineEnd, 250, {"a", "b"}, kBareLfLineEnd, false},
    {"250-a\r250 b\r", kBareCrLineEnd, 250, {"a", "b"}, kBareCrLineEnd, false},
    {"250\r", kBareCrLineEnd, 250, {""}, kBareCrLineEnd, false},
    {"250 caf\xc3\xa9\r\n", kLooseReplyText, 250, {"caf\xc3\xa9"}, kLooseReplyText, true},
    {std::string_view("250 a\0b\x7f\r\n", 10),
     kLooseReplyText,
     250,
     {std::string("a\0b\x7f", 4)},
     kLooseReplyText,
     true},
    {"250 \r\n", kTrailingWhitespace, 250, {""}, kTrailingWhitespace, false},
    {"250-a\r\n250 \r\n", kTrailingWhitespace, 250, {"a", ""}, kTrailingWhitespace, false},
    {"334\r\n", kChallengeWithoutSpace, 334, {""}, kChallengeWithoutSpace, false},
    {"334-a\r\n334\r\n", kChallengeWithoutSpace, 334, {"a", ""}, kChallengeWithoutSpace, false},
    {"334\n",
     kChallengeWithoutSpace | kBareLfLineEnd,
     334,
     {""},
     kChallengeWithoutSpace | kBareLfLineEnd,
     false},
    {"334\r",
     kChallengeWithoutSpace | kBareCrLineEnd,
     334,
     {""},
     kChallengeWithoutSpace | kBareCrLineEnd,
     false},
    // Leniencies allowed but not needed: no deviation.
    {"250 OK\r\n", kAllLeniencies, 250, {"OK"}, 0, true},
    {"250-a\r\n250 b\r\n", kAllLeniencies, 250, {"a", "b"}, 0, true},
    {"334 \r\n", kAllLeniencies, 334, {""}, 0, true},
    {"250\r\n", kChallengeWithoutSpace, 250, {""}, 0, true},  // only 334 needs the SP
};

TEST(ReplyTest, AcceptTable) {
  for (const AcceptCase& c : kAccept) {
    SCOPED_TRACE(::testing::PrintToString(std::string(c.in)));
    const ReplyOptions opts = With(c.leniencies);
    Result<Reply> r = ParseReply(c.in, opts);
    ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->lines, c.lines);
    EXPECT_EQ(r->deviations, c.deviations);
    EXPECT_EQ(r->multiline(), c.lines.size() > 1);
    const std::string wire = SerializeReply(*r);
    if (c.canonical) {
      EXPECT_EQ(wire, c.in);
    }
    // Round trip: re-parsing the canonical form gives the same reply.
    Result<Reply> back = ParseReply(wire, opts);
    ASSERT_TRUE(back.ok()) << wire;
    Reply expected = *r;
    if (!(c.leniencies & kLooseReplyText)) expected.deviations = 0;  // canonical is strict
    EXPECT_EQ(*back, expected);
    if (c.deviations == 0) {
      EXPECT_EQ(*ParseReply(wire), *r) << "strict round trip";
    }
    ExpectSplitInvariant(c.in, opts);
  }
}

struct ErrorCase {
  std::string_view in;
  Leniencies leniencies;
  Errc code;
  std::size_t offset;
};

const ErrorCase kErrors[] = {
    {"", kStrict, Errc::kNeedMore, 0},
    {"25", kStrict, Errc::kNeedMore, 2},
    {"250-a\r\n", kStrict, Errc::kNeedMore, 7},
    {"250 ok", kStrict, Errc::kNeedMore, 6},
    // Reply-code = %x32-35 %x30-35 %x30-39
    {"199 x\r\n", kStrict, Errc::kBadReplyCode, 0},
    {"600 x\r\n", kStrict, Errc::kBadReplyCode, 0},
    {"260 x\r\n", kStrict, Errc::kBadReplyCode, 1},
    {"2a0 x\r\n", kStrict, Errc::kBadReplyCode, 1},
    {"25a x\r\n", kStrict, Errc::kBadReplyCode, 2},
    {"25\r\n", kStrict, Errc::kBadReplyCode, 2},
    {"\r\n", kStrict, Errc::kBadReplyCode, 0},
    {" 250 ok\r\n", kStrict, Errc::kBadReplyCode, 0},
    {"250-a\r\n2x0 b\r\n", kStrict, Errc::kBadReplyCode, 8},
    {"250-a\r\n\r\n", kStrict, Errc::kBadReplyCode, 7},
    // Separator.
    {"250x ok\r\n", kStrict, Errc::kBadReplySeparator, 3},
    {"250\tok\r\n", kStrict, Errc::kBadReplySeparator, 3},
    {"2500 ok\r\n", kStrict, Errc::kBadReplySeparator, 3},
    {"250-a\r\n250_b\r\n", kStrict, Errc::kBadReplySeparator, 10},
    // Inconsistent code: offset of the first differing digit.
    {"250-a\r\n550 b\r\n", kStrict, Errc::kInconsistentCode, 7},
    {"250-a\r\n251 b\r\n", kStrict, Errc::kInconsistentCode, 9},
    {"250-a\r\n250-b\r\n240 c\r\n", kStrict, Errc::kInconsistentCode, 15},
    // Line endings.
    {"250 ok\n", kStrict, Errc::kBareLf, 6},
    {"250\n", kStrict, Errc::kBareLf, 3},
    {"250-a\nb", kStrict, Errc::kBareLf, 5},
    {"250 o\rk\r\n", kStrict, Errc::kBareCr, 5},
    {"250-a\r250 b\r\n", kStrict, Errc::kBareCr, 5},
    {"250 ok\r", kStrict, Errc::kBareCr, 6},  // at end of input
    {"250\r\r\n", kStrict, Errc::kBareCr, 3},
    {"250 ok\n", kBareCrLineEnd, Errc::kBareLf, 6},
    {"250 o\rk\r\n", kBareLfLineEnd, Errc::kBareCr, 5},
    {"250 o\rk\r\n", kLooseReplyText, Errc::kBareCr, 5},  // CR is never text
    // textstring
    {std::string_view("250 a\0b\r\n", 9), kStrict, Errc::kBadReplyText, 5},
    {"250 caf\xc3\xa9\r\n", kStrict, Errc::kBadReplyText, 7},
    {"250 \x7f\r\n", kStrict, Errc::kBadReplyText, 4},
    {"250-\x01\r\n", kStrict, Errc::kBadReplyText, 4},
    {"250 \x1b[31mred\r\n", kBareLfLineEnd, Errc::kBadReplyText, 4},
    {"250 \r\n", kStrict, Errc::kBadReplyText, 4},  // SP needs textstring
    {"250 \n", kBareLfLineEnd, Errc::kBadReplyText, 4},
    {"250 \r", kBareCrLineEnd, Errc::kBadReplyText, 4},
    {"250-a\r\n250 \r\n", kStrict, Errc::kBadReplyText, 11},
    // Only 334 may end in SP: every other code keeps the RFC 5321 rule.
    {"335 \r\n", kStrict, Errc::kBadReplyText, 4},
    {"235 \r\n", kStrict, Errc::kBadReplyText, 4},
    {"354 \r\n", kStrict, Errc::kBadReplyText, 4},
    {"334 \x01\r\n", kStrict, Errc::kBadReplyText, 4},
    {"334 \r", kStrict, Errc::kBareCr, 4},
    // ... and a 334 needs its SP even with no challenge after it (RFC 4954 §4).
    {"334\r\n", kStrict, Errc::kBadReplySeparator, 3},
    {"334\n", kBareLfLineEnd, Errc::kBadReplySeparator, 3},
    {"334\r", kBareCrLineEnd, Errc::kBadReplySeparator, 3},
    {"334-a\r\n334\r\n", kAllLeniencies & ~kChallengeWithoutSpace, Errc::kBadReplySeparator, 10},
    {"334\n", kChallengeWithoutSpace, Errc::kBareLf, 3},
    {"334\r\r\n", kChallengeWithoutSpace, Errc::kBareCr, 3},
    // ParseReply takes exactly one reply.
    {"250 a\r\n250 b\r\n", kStrict, Errc::kTrailingGarbage, 7},
    {"250 a\r\nx", kStrict, Errc::kTrailingGarbage, 7},
    {"250 a\rb", kBareCrLineEnd, Errc::kTrailingGarbage, 6},
};

TEST(ReplyTest, ErrorTable) {
  for (const ErrorCase& c : kErrors) {
    SCOPED_TRACE(::testing::PrintToString(std::string(c.in)));
    const ReplyOptions opts = With(c.leniencies);
    Result<Reply> r = ParseReply(c.in, opts);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code) << ErrcName(r.error().code);
    EXPECT_EQ(r.error().offset, c.offset);
    EXPECT_FALSE(r.error().reason.empty());
    ExpectSplitInvariant(c.in, opts);
  }
}

// Every leniency: off gives the error, on gives the reply and the deviation.
TEST(ReplyTest, EachLeniencyOffAndOn) {
  struct Case {
    Leniency bit;
    std::string_view in;
    Errc strict_error;
    std::size_t offset;
    Lines lines;
  };
  const Case cases[] = {
      {kBareLfLineEnd, "250-a\n250 b\n", Errc::kBareLf, 5, {"a", "b"}},
      {kBareCrLineEnd, "250-a\r250 b\r", Errc::kBareCr, 5, {"a", "b"}},
      {kLooseReplyText, "250 \x80\xff\x01\r\n", Errc::kBadReplyText, 4, {"\x80\xff\x01"}},
      {kTrailingWhitespace, "250 \r\n", Errc::kBadReplyText, 4, {""}},
      {kChallengeWithoutSpace, "334\r\n", Errc::kBadReplySeparator, 3, {""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(LeniencyName(c.bit));
    Result<Reply> off = ParseReply(c.in);
    ASSERT_FALSE(off.ok());
    EXPECT_EQ(off.error().code, c.strict_error);
    EXPECT_EQ(off.error().offset, c.offset);
    Result<Reply> on = ParseReply(c.in, With(c.bit));
    ASSERT_TRUE(on.ok()) << ErrcName(on.error().code);
    EXPECT_EQ(on->lines, c.lines);
    EXPECT_EQ(on->deviations, static_cast<Leniencies>(c.bit));
  }
}

TEST(ReplyTest, LimitsAreExactAndInclusiveOfCrlf) {
  ReplyOptions opts;  // reply_line = 512 incl. CRLF
  const std::string fits = "250 " + std::string(506, 'a') + "\r\n";
  ASSERT_EQ(fits.size(), 512u);
  EXPECT_TRUE(ParseReply(fits, opts).ok());
  const std::string over = "250 " + std::string(507, 'a') + "\r\n";
  Result<Reply> r = ParseReply(over, opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLineTooLong);
  EXPECT_EQ(r.error().offset, 512u);  // the LF is the 513th octet
  ExpectSplitInvariant(over, opts);

  opts.limits.reply_lines = 3;
  EXPECT_TRUE(ParseReply("250-a\r\n250-b\r\n250 c\r\n", opts).ok());
  r = ParseReply("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTooManyReplyLines);
  EXPECT_EQ(r.error().offset, 21u);  // first octet of the fourth line

  opts = {};
  opts.limits.reply_bytes = 20;
  EXPECT_TRUE(ParseReply("250-aaaa\r\n250 bbbb\r\n", opts).ok());  // exactly 20
  r = ParseReply("250-aaaa\r\n250-bbbb\r\n250 c\r\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kReplyTooLarge);
  EXPECT_EQ(r.error().offset, 20u);
  r = ParseReply("250-aaaa\r\n250 bbbbb\r\n", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kReplyTooLarge);
  EXPECT_EQ(r.error().offset, 20u);  // the LF
  ExpectSplitInvariant("250-aaaa\r\n250 bbbbb\r\n", opts);
}

TEST(ReplyTest, EnhancedCodeFromFirstLineOnly) {
  struct Case {
    std::string_view in;
    std::optional<EnhancedCode> enhanced;
  };
  const Case cases[] = {
      {"250 2.1.5 Ok\r\n", EnhancedCode{2, 1, 5}},
      {"250 2.1.5\r\n", EnhancedCode{2, 1, 5}},
      {"550 5.1.1 <nobody@example.com>: Recipient address rejected\r\n", EnhancedCode{5, 1, 1}},
      {"250-2.0.0 first\r\n250 3.0.0 last\r\n", EnhancedCode{2, 0, 0}},
      {"250 5.1.1 inconsistent but kept\r\n", EnhancedCode{5, 1, 1}},
      {"250-First\r\n250 2.0.0 last\r\n", std::nullopt},
      {"250 2.1.5Ok\r\n", std::nullopt},
      {"550 5.1.1\tUser unknown\r\n", std::nullopt},
      {"550 5.01.1 leading zero\r\n", std::nullopt},
      {"250 2.0.0.0 four parts\r\n", std::nullopt},
      {"250 OK\r\n", std::nullopt},
      {"250\r\n", std::nullopt},
  };
  for (const Case& c : cases) {
    Result<Reply> r = ParseReply(c.in);
    ASSERT_TRUE(r.ok()) << c.in;
    EXPECT_EQ(r->enhanced, c.enhanced) << c.in;
    EXPECT_EQ(*ParseReply(SerializeReply(*r)), *r) << c.in;
  }
  EXPECT_FALSE(ParseReply("250 5.1.1 x\r\n")->enhanced->ConsistentWith(250));
}

TEST(ReplyTest, PipelinedRepliesInOneChunkAreTakenOneByOne) {
  const std::string_view stream =
      "250 2.1.0 Ok\r\n"
      "250 2.1.5 Ok\r\n"
      "550-5.1.1 No such user\r\n550 5.1.1 see https://example.com\r\n"
      "354 End data with <CR><LF>.<CR><LF>\r\n";
  ReplyReader r;
  std::string_view rest = stream;
  const std::size_t expect_consumed[] = {14, 14, 59, 37};
  const std::uint16_t expect_code[] = {250, 250, 550, 354};
  for (int i = 0; i < 4; ++i) {
    const std::size_t n = r.Feed(rest);
    EXPECT_EQ(n, expect_consumed[i]) << i;
    ASSERT_TRUE(r.has_reply()) << i;
    EXPECT_EQ(r.Feed(rest.substr(n)), 0u) << "no progress while a reply is pending";
    EXPECT_EQ(r.reply().code, expect_code[i]);
    Reply taken = r.TakeReply();
    EXPECT_EQ(taken.code, expect_code[i]);
    EXPECT_FALSE(r.has_reply());
    rest.remove_prefix(n);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(r.offset(), stream.size());
  EXPECT_TRUE(r.need_more());
  ExpectSplitInvariant(stream, {});
  // Error offsets stay absolute across replies.
  const Outcome o = OneShot("250 a\r\n250 b\r\n25x\r\n", {});
  EXPECT_EQ(o.replies.size(), 2u);
  EXPECT_EQ(o.error.code, Errc::kBadReplyCode);
  EXPECT_EQ(o.error.offset, 16u);
}

TEST(ReplyTest, ErrorsAreStickyUntilReset) {
  ReplyReader r;
  EXPECT_EQ(r.Feed("25x ok\r\n"), 2u);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error().code, Errc::kBadReplyCode);
  EXPECT_EQ(r.Feed("250 ok\r\n"), 0u);
  r.Reset();
  EXPECT_FALSE(r.failed());
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.Feed("250 ok\r\n"), 8u);
  EXPECT_TRUE(r.has_reply());
}

TEST(ReplyTest, FeedEof) {
  ReplyReader clean;
  clean.FeedEof();  // nothing started: not an error
  EXPECT_TRUE(clean.need_more());
  ReplyReader mid;
  EXPECT_EQ(mid.Feed("250-a\r\n25"), 9u);
  mid.FeedEof();
  ASSERT_TRUE(mid.failed());
  EXPECT_EQ(mid.error().code, Errc::kNeedMore);
  EXPECT_EQ(mid.error().offset, 9u);
  // A bare CR that ends a continuation line, then EOF: still incomplete.
  ReplyReader cr(With(kBareCrLineEnd));
  EXPECT_EQ(cr.Feed("250-a\r"), 6u);
  cr.FeedEof();
  EXPECT_EQ(cr.error().code, Errc::kNeedMore);
  // A bare CR completes the reply without consuming the next octet.
  ReplyReader next(With(kBareCrLineEnd));
  EXPECT_EQ(next.Feed("250 a\r"), 6u);
  EXPECT_FALSE(next.has_reply());
  EXPECT_EQ(next.Feed("251 b\r\n"), 0u);
  ASSERT_TRUE(next.has_reply());
  EXPECT_EQ(next.TakeReply().lines, Lines{"a"});
  EXPECT_EQ(next.Feed("251 b\r\n"), 7u);
  EXPECT_EQ(next.TakeReply().code, 251);
}

TEST(ReplyTest, HostileInputStaysBounded) {
  // 10,000 continuation lines: stops at the first octet of line 257.
  std::string flood;
  for (int i = 0; i < 10000; ++i) flood += "250-x\r\n";
  flood += "250 end\r\n";
  ReplyReader r;
  EXPECT_EQ(r.Feed(flood), kMaxReplyLines * 7);
  ASSERT_TRUE(r.failed());
  EXPECT_EQ(r.error().code, Errc::kTooManyReplyLines);
  EXPECT_EQ(r.error().offset, kMaxReplyLines * 7);

  // With a huge line cap, the byte cap stops it.
  ReplyOptions many;
  many.limits.reply_lines = 1000000;
  ReplyReader r2(many);
  EXPECT_EQ(r2.Feed(flood), kMaxReplyBytes);
  EXPECT_EQ(r2.error().code, Errc::kReplyTooLarge);
  EXPECT_EQ(r2.error().offset, kMaxReplyBytes);

  // A 1 MiB line, one shot and in 4 KiB chunks.
  const std::string mib = "250 " + std::string(1 << 20, 'a') + "\r\n";
  for (std::size_t chunk : {mib.size(), std::size_t{4096}, std::size_t{1}}) {
    ReplyReader big;
    std::size_t total = 0;
    for (std::size_t i = 0; i < mib.size() && !big.failed(); i += chunk) {
      total += big.Feed(std::string_view(mib).substr(i, chunk));
    }
    EXPECT_EQ(total, kMaxReplyLine);
    EXPECT_EQ(big.error().code, Errc::kLineTooLong);
    EXPECT_EQ(big.error().offset, kMaxReplyLine);
  }
  ReplyOptions wide;
  wide.limits.reply_line = 2 << 20;
  ReplyReader big2(wide);
  EXPECT_EQ(big2.Feed(mib), kMaxReplyBytes);
  EXPECT_EQ(big2.error().code, Errc::kReplyTooLarge);

  // NUL floods.
  const std::string nuls(1 << 20, '\0');
  EXPECT_EQ(ParseReply(nuls).error().code, Errc::kBadReplyCode);
  EXPECT_EQ(ParseReply("250 " + nuls).error().offset, 4u);
  Result<Reply> loose = ParseReply("250 " + nuls, With(kLooseReplyText));
  EXPECT_EQ(loose.error().code, Errc::kLineTooLong);
  EXPECT_EQ(loose.error().offset, kMaxReplyLine);
}

// Strict reading has one wire form per reply: SerializeReply gives the input
// back octet for octet, so the canonical form fits every limit the input
// fitted. fuzz_reply found "334" CRLF, which strict reading took and
// SerializeReply wrote as "334 " CRLF, one octet over a reply_line limit the
// input met exactly (corpus/fuzz_reply/regress-334-without-space).
TEST(ReplyTest, StrictReplyIsItsOwnCanonicalForm) {
  struct Case {
    std::string_view in;
    bool strict;  // strict reading accepts it
  };
  const Case cases[] = {
      {"250\r\n", true},           {"250 OK\r\n", true},
      {"250-\r\n250\r\n", true},   {"250-a\r\n250-\r\n250 b\r\n", true},
      {"334 \r\n", true},          {"334 VXNlcm5hbWU6\r\n", true},
      {"334-\r\n334 \r\n", true},  {"334\r\n", false},   // continue-req: the SP is mandatory
      {"334-a\r\n334\r\n", false}, {"250 \r\n", false},  // SP needs textstring
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(std::string(c.in)));
    // Limits the input meets exactly: its longest line, its line count and
    // its size.
    ReplyOptions exact;
    exact.limits.reply_line = 0;
    exact.limits.reply_lines = 0;
    for (std::size_t pos = 0; pos < c.in.size();) {
      const std::size_t next = c.in.find('\n', pos) + 1;
      exact.limits.reply_line = std::max(exact.limits.reply_line, next - pos);
      ++exact.limits.reply_lines;
      pos = next;
    }
    exact.limits.reply_bytes = c.in.size();
    Result<Reply> r = ParseReply(c.in, exact);
    ASSERT_EQ(r.ok(), c.strict);
    if (!r.ok()) continue;
    const std::string wire = SerializeReply(*r);
    EXPECT_EQ(wire, c.in);
    Result<Reply> back = ParseReply(wire, exact);
    ASSERT_TRUE(back.ok()) << ErrcName(back.error().code) << " at " << back.error().offset;
    EXPECT_EQ(*back, *r);
  }
}

// Random short inputs over a small alphabet: split invariance everywhere, and
// strict acceptance implies an exact round trip.
TEST(ReplyTest, RandomInputsSplitInvariantAndRoundTrip) {
  const std::string_view tokens[] = {"250", "334", "550", "25", " ",  "-",    "\r\n",  "\r\n",
                                     "\n",  "\r",  "a",   "ok", "\t", "\x01", "2.1.5", "0"};
  std::mt19937 rng(5321);
  int accepted = 0;
  for (int n = 0; n < 3000; ++n) {
    std::string in;
    if (rng() % 4 == 0) {  // token soup
      const std::size_t count = rng() % 10;
      for (std::size_t i = 0; i < count; ++i) in += tokens[rng() % std::size(tokens)];
    } else {  // a plausible reply with the odd mutation
      const std::size_t lines = 1 + rng() % 4;
      const std::string_view code = rng() % 8 ? "250" : "334";  // 334: SP must follow
      for (std::size_t i = 0; i < lines; ++i) {
        in += rng() % 16 ? code : "251";
        const bool last = i + 1 == lines;
        in += last ? (rng() % 3 ? " " : "") : (rng() % 16 ? "-" : " ");
        const std::size_t words = rng() % 3;
        for (std::size_t w = 0; w < words; ++w) in += tokens[8 + rng() % 8];
        in += rng() % 8 ? "\r\n" : tokens[6 + rng() % 4];
      }
    }
    const Leniencies lens[] = {kStrict, kAllLeniencies};
    for (Leniencies l : lens) {
      ExpectSplitInvariant(in, With(l));
      Result<Reply> r = ParseReply(in, With(l));
      if (r.ok() && r->deviations == 0) {
        ++accepted;
        const std::string wire = SerializeReply(*r);
        if (l == kStrict) {
          EXPECT_EQ(wire, in) << "a strict reply is its own canonical form";
        }
        Result<Reply> back = ParseReply(wire);
        ASSERT_TRUE(back.ok()) << ::testing::PrintToString(in);
        EXPECT_EQ(*back, *r) << ::testing::PrintToString(in);
        EXPECT_EQ(SerializeReply(*back), wire);
      }
    }
  }
  EXPECT_GT(accepted, 50);
}

}  // namespace
}  // namespace smtp
