#include "harness/replay/exchanges.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness/replay/test_util.h"

namespace smtp::replay {
namespace {

using harness::EntryKind;
using testing::Record;

// "C:EHLO a|S:250" per exchange: what was sent (each unit's text, or its
// kind) and the reply codes.
std::string Shape(const Exchanges& x) {
  std::string out;
  for (const Exchange& e : x.exchanges) {
    std::vector<std::string> parts;
    if (e.greeting) parts.push_back("greet");
    for (const Sent& s : e.sent) {
      switch (s.kind) {
        case Sent::Kind::kCommand:
          parts.push_back("C:" + s.text + ";");
          break;
        case Sent::Kind::kSasl:
          parts.push_back("A:" + s.text + ";");
          break;
        case Sent::Kind::kDataBody:
          parts.push_back("body;");
          break;
        case Sent::Kind::kBdat:
          parts.push_back("bdat;");
          break;
        case Sent::Kind::kPartial:
          parts.push_back("partial;");
          break;
        case Sent::Kind::kRaw:
          parts.push_back("raw;");
          break;
      }
    }
    for (const Reply& r : e.replies) parts.push_back(std::to_string(r.code));
    if (e.tls_established) parts.push_back("+tls");
    if (e.tls_opaque) parts.push_back("+opaque");
    if (!out.empty()) out += " / ";
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? " " : "") + parts[i];
  }
  return out;
}

TEST(SplitExchangesTest, CommandByCommand) {
  Record r;
  r.S("220 mx ESMTP\r\n").C("EHLO a\r\n").S("250-mx\r\n250 PIPELINING\r\n").C("QUIT\r\n");
  r.S("221 2.0.0 bye\r\n").Event(EntryKind::kPeerClosed);
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:EHLO a; 250 / C:QUIT; 221");
  ASSERT_EQ(x.exchanges.size(), 3u);
  EXPECT_EQ(x.exchanges[1].sent[0].verb, Verb::kEhlo);
  EXPECT_EQ(x.exchanges[1].sent[0].bytes, "EHLO a\r\n");
  EXPECT_EQ(x.exchanges[1].replies[0].lines, (std::vector<std::string>{"mx", "PIPELINING"}));
  EXPECT_EQ(x.exchanges[1].reply_bytes[0], "250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(x.exchanges[2].replies[0].enhanced->ToString(), "2.0.0");
  EXPECT_TRUE(x.peer_closed);
  EXPECT_FALSE(x.truncated);
  EXPECT_TRUE(x.notes.empty());
}

TEST(SplitExchangesTest, PipelinedGroupStaysTogether) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n");
  // Two client writes before any reply: one group of three.
  r.C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n").C("DATA\r\n");
  r.S("250 ok\r\n250 ok\r\n").S("354 go\r\n");
  r.C("hi\r\n.\r\n").S("250 queued\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x),
            "greet 220 / C:EHLO a; 250 / C:MAIL FROM:<a@b>; C:RCPT TO:<c@d>; C:DATA; 250 250 354 "
            "/ body; 250");
}

TEST(SplitExchangesTest, ReplyBeforeTheNextWriteEndsTheGroup) {
  Record r;
  r.S("220 mx\r\n").C("MAIL FROM:<a@b>\r\n").S("250 ok\r\n").C("RCPT TO:<c@d>\r\n").S("250 ok\r\n");
  EXPECT_EQ(Shape(SplitExchanges(r.t)),
            "greet 220 / C:MAIL FROM:<a@b>; 250 / C:RCPT TO:<c@d>; 250");
}

TEST(SplitExchangesTest, DataBodyUnstuffedAndSplit) {
  Record r;
  r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n");
  r.C("Subject: x\r\n\r\n..dot").C("ted\r\n.").C("\r\nQUIT\r\n").S("250 ok\r\n221 bye\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:DATA; 354 / body; C:QUIT; 250 221");
  const Sent& body = x.exchanges[2].sent[0];
  EXPECT_EQ(body.bytes, "Subject: x\r\n\r\n..dotted\r\n.\r\n");
  EXPECT_EQ(body.text, "Subject: x\r\n\r\n.dotted\r\n");
}

TEST(SplitExchangesTest, RefusedDataIsFollowedByCommands) {
  Record r;
  r.S("220 mx\r\n").C("DATA\r\n").S("503 5.5.1 no\r\n").C("QUIT\r\n").S("221 bye\r\n");
  EXPECT_EQ(Shape(SplitExchanges(r.t)), "greet 220 / C:DATA; 503 / C:QUIT; 221");
}

TEST(SplitExchangesTest, BodyTheServerEndedEarlyIsRaw) {
  // A server that ends the data at LF "." LF (SMTP smuggling): its replies
  // come before the strict end of data, so the bytes they answer are raw.
  Record r;
  r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n").C("a\n.\nNOOP\r\n");
  r.S("250 2.0.0 queued\r\n250 2.0.0 ok\r\n").C("QUIT\r\n").S("221 bye\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:DATA; 354 / raw; 250 250 / C:QUIT; 221");
  EXPECT_EQ(x.exchanges[2].sent[0].bytes, "a\n.\nNOOP\r\n");
  EXPECT_EQ(x.exchanges[2].unsolicited, 1u);
}

TEST(SplitExchangesTest, BdatChunksByTheirSize) {
  Record r;
  r.S("220 mx\r\n").C("BDAT 5\r\nhel").C("loBDAT 3 LAST\r\nabcBDAT 0 LAST\r\n");
  r.S("250 a\r\n250 b\r\n250 c\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / bdat; bdat; bdat; 250 250 250");
  const auto& s = x.exchanges[1].sent;
  EXPECT_EQ(s[0].bytes, "BDAT 5\r\nhello");
  EXPECT_EQ(s[0].text, "hello");
  EXPECT_FALSE(s[0].bdat_last);
  EXPECT_EQ(s[1].text, "abc");
  EXPECT_TRUE(s[1].bdat_last);
  EXPECT_EQ(s[2].text, "");
  EXPECT_EQ(s[2].bytes, "BDAT 0 LAST\r\n");
}

TEST(SplitExchangesTest, AuthChallengesAreAnsweredBySaslLines) {
  Record r;
  r.S("220 mx\r\n").C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n").C("dXNlcg==\r\n");
  r.S("334 UGFzc3dvcmQ6\r\n").C("***\r\n").S("235 2.7.0 ok\r\n").C("NOOP\r\n").S("250 ok\r\n");
  EXPECT_EQ(Shape(SplitExchanges(r.t)),
            "greet 220 / C:AUTH LOGIN; 334 / A:dXNlcg==; 334 / A:***; 235 / C:NOOP; 250");
}

TEST(SplitExchangesTest, StartTlsSeen) {
  Record r;
  r.S("220 mx\r\n").C("STARTTLS\r\n").S("220 go\r\n").Tls().C("EHLO a\r\n").S("250 ok\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:STARTTLS; 220 +tls / C:EHLO a; 250");
  EXPECT_FALSE(x.tls_opaque);
  EXPECT_FALSE(x.implicit_tls);
}

TEST(SplitExchangesTest, ImplicitTls) {
  Record r;
  r.Tls().S("220 mx\r\n").C("QUIT\r\n").S("221 bye\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_TRUE(x.implicit_tls);
  EXPECT_EQ(Shape(x), "greet 220 / C:QUIT; 221");
}

TEST(SplitExchangesTest, OpaqueTlsStopsTheSplit) {
  Record r;
  r.S("220 mx\r\n").C("STARTTLS\r\n").S("220 go\r\n").Event(EntryKind::kTlsOpaque, "not seen");
  r.C("\x16\x03\x01 garbage").S("\x16\x03\x03 more");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:STARTTLS; 220 +opaque");
  EXPECT_TRUE(x.tls_opaque);
  EXPECT_TRUE(x.notes.empty());
}

TEST(SplitExchangesTest, ReplySplitOverManyChunks) {
  Record r;
  const std::string reply = "250-mx.example\r\n250-SIZE 1000\r\n250 2.0.0 OK\r\n";
  r.S("220 mx\r\n").C("EHLO a\r\n");
  for (char c : reply) r.S(std::string(1, c));
  r.C("QUIT\r\n").S("22").S("1 bye\r").S("\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:EHLO a; 250 / C:QUIT; 221");
  EXPECT_EQ(x.exchanges[1].reply_bytes[0], reply);
  EXPECT_EQ(x.exchanges[1].replies[0].lines.size(), 3u);
  EXPECT_EQ(x.exchanges[2].reply_bytes[0], "221 bye\r\n");
}

TEST(SplitExchangesTest, TruncatedRecord) {
  {
    Record r;  // the client's last line has no end
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("MAIL FROM:<a@b");
    const Exchanges x = SplitExchanges(r.t);
    EXPECT_EQ(Shape(x), "greet 220 / C:EHLO a; 250 / partial;");
    EXPECT_TRUE(x.truncated);
    EXPECT_EQ(x.exchanges[2].sent[0].bytes, "MAIL FROM:<a@b");
  }
  {
    Record r;  // a body without its end, and a reply cut off
    r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n").C("text\r\n");
    const Exchanges x = SplitExchanges(r.t);
    EXPECT_EQ(Shape(x), "greet 220 / C:DATA; 354 / partial;");
    EXPECT_TRUE(x.truncated);
  }
  {
    Record r;
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250-mx\r\n25");
    const Exchanges x = SplitExchanges(r.t);
    EXPECT_EQ(Shape(x), "greet 220 / C:EHLO a;");
    EXPECT_TRUE(x.truncated);
    ASSERT_FALSE(x.notes.empty());
    EXPECT_EQ(x.notes.back(), "the record ends in the middle of a reply");
  }
  {
    Record r;  // nothing at all
    const Exchanges x = SplitExchanges(r.t);
    EXPECT_EQ(Shape(x), "greet");
    EXPECT_FALSE(x.truncated);
  }
}

TEST(SplitExchangesTest, GarbageFromTheServerIsNotedAndSkipped) {
  Record r;
  r.S("HELLO THERE\r\n220 mx\r\n").C("QUIT\r\n").S("221 bye\r\nX").S("YZ\r\n421 x\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:QUIT; 221 421");
  ASSERT_EQ(x.notes.size(), 2u);
  EXPECT_TRUE(x.notes[0].starts_with("server bytes at offset 0 are not a reply")) << x.notes[0];
  // Offsets count the whole server stream, across skips and chunks.
  EXPECT_TRUE(x.notes[1].starts_with("server bytes at offset 30 are not a reply")) << x.notes[1];
  EXPECT_TRUE(x.exchanges[0].reply_error);
  EXPECT_TRUE(x.exchanges[1].reply_error);  // after its reply: the last exchange
}

TEST(SplitExchangesTest, UnaskedRepliesAndBareLf) {
  Record r;
  r.S("220 mx\r\n").C("NOOP\n").S("250 ok\r\n421 4.4.2 idle\r\n");
  const Exchanges x = SplitExchanges(r.t);
  EXPECT_EQ(Shape(x), "greet 220 / C:NOOP; 250 421");
  EXPECT_EQ(x.exchanges[1].unsolicited, 1u);
  EXPECT_FALSE(x.exchanges[1].sent[0].crlf);
  EXPECT_EQ(x.exchanges[1].sent[0].bytes, "NOOP\n");
}

}  // namespace
}  // namespace smtp::replay
