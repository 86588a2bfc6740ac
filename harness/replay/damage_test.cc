#include "harness/replay/damage.h"

#include <string>

#include "gtest/gtest.h"
#include "harness/replay/exchanges.h"
#include "harness/replay/test_util.h"

namespace smtp::replay {
namespace {

using harness::Direction;
using harness::EntryKind;
using testing::Record;

constexpr std::string_view kMidstream =
    "capture started mid-stream: no SYN seen; each direction starts at the first byte captured";

TEST(CutAtDamage, AWholeRecordIsKeptAsItIs) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 mx\r\n");
  const Undamaged u = CutAtDamage(r.t);
  EXPECT_FALSE(u.damage);
  EXPECT_EQ(u.transcript, r.t);
}

// A client gap inside a DATA body: import-pcap reports it when the capture
// ends, after the replies to what followed. The cut keeps the exchanges
// whose bytes all came before the gap, not the replies that came later.
TEST(CutAtDamage, AClientGapStopsBeforeTheUnitItDamages) {
  Record r;
  r.Event(EntryKind::kConnect, "127.0.0.1:25");
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 mx\r\n").C("MAIL FROM:<a@b>\r\n").S("250 ok\r\n");
  r.C("DATA\r\n").S("354 go\r\n").C("Subject: x\r\n\r\nline one\r\n");
  r.S("250 queued\r\n").S("221 bye\r\n").Event(EntryKind::kPeerClosed, "fin");
  r.Event(EntryKind::kError, "capture gap: 1448 bytes from the client lost (never captured)");
  r.C("line three\r\n.\r\nQUIT\r\n");
  const Undamaged u = CutAtDamage(r.t);
  ASSERT_TRUE(u.damage);
  EXPECT_EQ(u.damage->kind, "capture gap");
  EXPECT_EQ(u.damage->exchanges_kept, 4u);  // greeting, EHLO, MAIL, DATA
  EXPECT_EQ(u.transcript.SideBytes(Direction::kClientToServer),
            "EHLO a\r\nMAIL FROM:<a@b>\r\nDATA\r\n");
  EXPECT_EQ(u.transcript.SideBytes(Direction::kServerToClient),
            "220 mx\r\n250 mx\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(u.damage->Describe(),
            "capture gap: 1448 bytes from the client lost (never captured), after exchange 3");
  const Exchanges x = SplitExchanges(r.t);
  ASSERT_TRUE(x.damage);
  EXPECT_EQ(x.exchanges.size(), 4u);
  EXPECT_FALSE(x.peer_closed);
}

// Snaplen: the greeting itself is cut; nothing can be replayed.
TEST(CutAtDamage, AServerGapInTheGreetingLeavesNothing) {
  Record r;
  r.Event(EntryKind::kConnect, "127.0.0.1:25");
  r.S("220 mx.exa");
  r.Event(EntryKind::kError,
          "capture gap: 20 bytes from the server lost (not captured (snapshot length))");
  r.C("EHLO client.ex");
  const Undamaged u = CutAtDamage(r.t);
  ASSERT_TRUE(u.damage);
  EXPECT_EQ(u.damage->exchanges_kept, 0u);
  EXPECT_TRUE(u.transcript.entries().empty());
  const Exchanges x = SplitExchanges(r.t);
  ASSERT_EQ(x.exchanges.size(), 1u);
  EXPECT_TRUE(x.exchanges[0].replies.empty());
}

// Mid-stream: a 250 first is not a greeting.
TEST(CutAtDamage, AMidStreamCaptureIsNotReplayable) {
  Record r;
  r.Event(EntryKind::kNote, kMidstream);
  r.S("250 2.1.0 Ok\r\n").C("RCPT TO:<b@c>\r\n").S("250 2.1.5 Ok\r\n");
  const Undamaged u = CutAtDamage(r.t);
  ASSERT_TRUE(u.damage);
  EXPECT_EQ(u.damage->kind, "capture started mid-stream");
  EXPECT_EQ(u.damage->exchanges_kept, 0u);
  EXPECT_TRUE(SplitExchanges(r.t).exchanges[0].replies.empty());
}

// The storage cap (record --max_session_bytes): a chunk stored in part.
TEST(CutAtDamage, TheStorageCapEndsTheRecord) {
  harness::TranscriptOptions o;
  o.max_stored_bytes = 40;
  Record r{harness::Transcript(o)};
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 mx\r\n").C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
  r.S("250 ok\r\n250 ok\r\n");
  ASSERT_TRUE(r.t.truncated());
  const Undamaged u = CutAtDamage(r.t);
  ASSERT_TRUE(u.damage);
  EXPECT_EQ(u.damage->kind, "truncated recording");
  EXPECT_EQ(u.damage->exchanges_kept, 2u);
  EXPECT_FALSE(u.transcript.truncated());
  EXPECT_EQ(u.transcript.SideBytes(Direction::kClientToServer), "EHLO a\r\n");
}

// A gap in the server's stream after a whole reply: what the client sent
// before is kept only as far as its replies are whole.
TEST(CutAtDamage, AServerGapKeepsTheWholeRepliesBeforeIt) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250-mx\r\n250 SIZE\r\n").C("MAIL FROM:<a@b>\r\n");
  r.S("250 o");
  r.Event(EntryKind::kError, "capture gap: 3 bytes from the server lost (never captured)");
  r.S("\r\n").C("QUIT\r\n").S("221 bye\r\n");
  const Undamaged u = CutAtDamage(r.t);
  ASSERT_TRUE(u.damage);
  EXPECT_EQ(u.damage->exchanges_kept, 2u);
  EXPECT_EQ(u.transcript.SideBytes(Direction::kClientToServer), "EHLO a\r\n");
  EXPECT_EQ(u.damage->Describe(),
            "capture gap: 3 bytes from the server lost (never captured), after exchange 1");
}

}  // namespace
}  // namespace smtp::replay
