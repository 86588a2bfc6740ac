#include "harness/record/tcp_reassembly.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::harness::pcap {
namespace {

// Collects the stream as text: data as is, a gap as "<lost N: why>".
struct Collect final : StreamOutput {
  std::string text;
  void OnData(std::string_view data) override { text += data; }
  void OnGap(std::uint64_t lost, std::string_view why) override {
    text += "<lost " + std::to_string(lost) + ": " + std::string(why) + ">";
  }
  void OnConflict(std::uint64_t offset, std::uint64_t bytes) override {
    conflicts.push_back(std::to_string(bytes) + "@" + std::to_string(offset));
  }
  std::vector<std::string> conflicts;  // "BYTES@OFFSET"
};

struct Seg {
  std::uint32_t seq;
  std::string data;
  std::size_t wire = 0;  // 0: data.size()
  bool fin = false;
};

struct Case {
  const char* name;
  std::vector<Seg> segs;  // after a SYN with ISN 99 (data from 100)
  std::string want;       // after Finish()
  std::uint64_t duplicates = 0;
};

class ReassemblyTable : public ::testing::TestWithParam<Case> {};

TEST_P(ReassemblyTable, Stream) {
  const Case& c = GetParam();
  TcpReassembler r;
  Collect out;
  r.Syn(99);
  for (const Seg& s : c.segs) r.Segment(s.seq, s.data, s.wire ? s.wire : s.data.size(), s.fin, out);
  r.Finish(out);
  EXPECT_EQ(out.text, c.want);
  EXPECT_EQ(r.duplicate_bytes(), c.duplicates);
  EXPECT_FALSE(r.midstream());
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ReassemblyTable,
    ::testing::Values(
        Case{"InOrder", {{100, "abc"}, {103, "def"}}, "abcdef"},
        Case{"Retransmission", {{100, "abc"}, {100, "abc"}, {103, "def"}}, "abcdef", 3},
        Case{"OverlapFrontDelivered", {{100, "abc"}, {101, "XYde"}}, "abcde", 2},
        Case{"OverlapInBufferFirstWins", {{103, "def"}, {102, "Xghij"}, {100, "ab"}}, "abXdefj", 3},
        Case{"OutOfOrder", {{106, "ghi"}, {103, "def"}, {100, "abc"}}, "abcdefghi"},
        Case{"HoleAtTheEnd", {{100, "abc"}, {106, "ghi"}}, "abc<lost 3: never captured>ghi"},
        Case{"SnapLength",
             {{100, "ab", 5}, {105, "fg"}},
             "ab<lost 3: not captured (snapshot length)>fg"},
        Case{"FinEndsTheStream", {{100, "abc", 0, true}, {103, "late"}}, "abc"},
        Case{"FinAfterHole", {{100, "abc"}, {106, "g", 0, true}}, "abc<lost 3: never captured>g"},
        Case{"EmptySegmentsChangeNothing", {{100, ""}, {100, "abc"}, {103, ""}}, "abc"},
        Case{"FarBehindIsARetransmission", {{0xFFFFFFFEu, "ab"}, {100, "c"}}, "c", 2}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Reassembly, MidStreamStartsAtTheFirstSegment) {
  TcpReassembler r;
  Collect out;
  r.Segment(5000, "xyz", 3, false, out);
  r.Segment(4990, "old", 3, false, out);  // before the start: taken as a retransmission
  EXPECT_TRUE(r.midstream());
  EXPECT_EQ(r.first_seq(), 5000u);
  EXPECT_EQ(out.text, "xyz");
}

TEST(Reassembly, SequenceNumbersWrap) {
  TcpReassembler r;
  Collect out;
  r.Syn(0xFFFFFFFDu);
  r.Segment(0x00000001u, "cd", 2, false, out);  // after the wrap, out of order
  r.Segment(0xFFFFFFFEu, "ab", 2, false, out);
  r.Segment(0xFFFFFFFFu, "XY", 2, false, out);  // overlaps "b", fills the hole
  r.Finish(out);
  EXPECT_EQ(out.text, "abYcd");
  EXPECT_EQ(r.duplicate_bytes(), 1u);
}

TEST(Reassembly, PendingBytesAreBounded) {
  ReassemblyOptions o;
  o.max_pending_bytes = 10;
  TcpReassembler r(o);
  Collect out;
  r.Syn(0);
  r.Segment(3, "12345", 5, false, out);
  EXPECT_EQ(r.pending_bytes(), 5u);
  r.Segment(8, "67890X", 6, false, out);  // 11 pending: the hole before is given up
  EXPECT_EQ(out.text, "<lost 2: out-of-order buffer full>1234567890X");
  EXPECT_EQ(r.pending_bytes(), 0u);
}

TEST(Reassembly, PendingSegmentsAreBounded) {
  ReassemblyOptions o;
  o.max_pending_segments = 2;
  TcpReassembler r(o);
  Collect out;
  r.Syn(0);
  r.Segment(3, "a", 1, false, out);
  r.Segment(5, "b", 1, false, out);
  EXPECT_EQ(out.text, "");
  r.Segment(7, "c", 1, false, out);
  EXPECT_EQ(out.text, "<lost 2: out-of-order buffer full>a");  // 1 byte before "b" still awaited
  r.Segment(4, "-", 1, false, out);
  EXPECT_EQ(out.text, "<lost 2: out-of-order buffer full>a-b");
}

// A retransmission must repeat the bytes it copies; one that does not is
// reported (first copy kept), against delivered bytes and buffered ones.
TEST(Reassembly, RetransmissionWithDifferentBytesIsReported) {
  TcpReassembler r;
  Collect out;
  r.Syn(99);
  r.Segment(100, "MAIL FROM:<a@b>\r\n", 0, false, out);
  r.Segment(100, "MAIL FROM:<a@b>\r\n", 0, false, out);  // same bytes: nothing to say
  EXPECT_TRUE(out.conflicts.empty());
  r.Segment(100, "MAIL FROM:<x@y>\r\n", 0, false, out);  // wholly before next
  r.Segment(115, "\n\rRCPT", 0, false, out);             // front delivered, rest new
  EXPECT_EQ(out.conflicts, (std::vector<std::string>{"3@11", "2@15"}));
  EXPECT_EQ(r.conflicting_bytes(), 5u);
  // Buffered beyond a hole: a later copy that disagrees is reported too.
  r.Segment(130, "abcdef", 0, false, out);
  r.Segment(132, "cXe", 0, false, out);
  EXPECT_EQ(out.conflicts.back(), "1@33");
  r.Finish(out);
  EXPECT_EQ(out.text, "MAIL FROM:<a@b>\r\nRCPT<lost 9: never captured>abcdef");
}

// Only the last kConflictWindow delivered bytes are compared; a gap empties
// the window (what came before it is not next to the stream any more).
TEST(Reassembly, ConflictWindowIsBounded) {
  TcpReassembler r;
  Collect out;
  r.Syn(99);
  const std::string big(TcpReassembler::kConflictWindow + 100, 'a');
  r.Segment(100, big, 0, false, out);
  r.Segment(100, std::string(big.size(), 'b'), 0, false, out);
  EXPECT_EQ(out.conflicts,
            (std::vector<std::string>{std::to_string(TcpReassembler::kConflictWindow) + "@100"}));
  out.conflicts.clear();
  const auto after = static_cast<std::uint32_t>(100 + big.size());
  r.Segment(after + 10, "xyz", 0, false, out);
  r.Finish(out);  // the 10-byte hole is lost
  // Bytes from before the hole are no longer in the window: not compared.
  r.Segment(after - 5, "zzzzz", 0, false, out);
  EXPECT_TRUE(out.conflicts.empty());
  r.Segment(after + 10, "xYz", 0, false, out);  // after it, they are
  EXPECT_EQ(out.conflicts, (std::vector<std::string>{"1@" + std::to_string(big.size() + 10 + 1)}));
}

}  // namespace
}  // namespace smtp::harness::pcap
