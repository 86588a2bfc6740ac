#include "parser/data_reader.h"

#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "parser/grind_test_util.h"

namespace smtp {
namespace {

using M = DataEndMode;

std::string EventsString(const DataReader& r) {
  std::string s;
  for (const DataEvent& e : r.events()) {
    if (!s.empty()) s += ' ';
    s += std::string(DataEventKindName(e.kind)) + "@" + std::to_string(e.offset);
  }
  return s;
}

// "crlf.lf@3", or "" before the end.
std::string EndString(const DataReader& r) {
  if (!r.done()) return "";
  return std::string(WireEndName(r.end().before)) + "." + std::string(WireEndName(r.end().after)) +
         "@" + std::to_string(r.end().dot_offset);
}

struct DataRun {
  std::string body;
  std::size_t consumed = 0;
  std::string end;
  std::string events;
  std::vector<std::size_t> counts;
  std::size_t dropped = 0;
  friend bool operator==(const DataRun&, const DataRun&) = default;
};

// Feeds `chunks` until the end of data; the remaining chunks are not fed.
DataRun Drive(DataEndMode mode, const std::vector<std::string_view>& chunks,
              std::size_t max_line = kMaxTextLine) {
  DataReader r({mode, max_line});
  DataRun run;
  for (std::string_view chunk : chunks) {
    const std::size_t n = r.Feed(chunk, &run.body);
    EXPECT_LE(n, chunk.size());
    if (!r.done()) {
      EXPECT_EQ(n, chunk.size());
    }
    run.consumed += n;
    if (r.done()) break;
  }
  EXPECT_EQ(run.consumed, r.offset());
  run.end = EndString(r);
  run.events = EventsString(r);
  for (std::size_t k = 0; k < kDataEventKinds; ++k) {
    run.counts.push_back(r.count(static_cast<DataEventKind>(k)));
  }
  run.dropped = r.dropped_events();
  return run;
}

struct DataCase {
  const char* name;
  DataEndMode mode;
  std::string input;
  std::string body;
  std::string rest;    // input after the end of data ("" if all consumed)
  std::string end;     // EndString(); "" if the data did not end
  std::string events;  // EventsString()
};

// Offsets in the comments count from 0 at the first body byte.
const std::vector<DataCase>& DataCases() {
  static const auto* cases = new std::vector<DataCase>{
      // RFC 5321 §4.1.1.4 / §4.5.2, strict.
      {"simple", M::kStrict, "Hello\r\n.\r\n", "Hello\r\n", "", "crlf.crlf@7", ""},
      {"empty body", M::kStrict, ".\r\n", "", "", "crlf.crlf@0", ""},
      {"unstuff", M::kStrict, "..\r\n.\r\n", ".\r\n", "", "crlf.crlf@4", ""},
      {"unstuff more", M::kStrict, "..foo\r\n...\r\nb.c\r\n.\r\n", ".foo\r\n..\r\nb.c\r\n", "",
       "crlf.crlf@17", ""},
      {"pipelined rest", M::kStrict, "A\r\n.\r\nQUIT\r\n", "A\r\n", "QUIT\r\n", "crlf.crlf@3", ""},
      {"not ended", M::kStrict, "A\r\n.", "A\r\n", "", "", ""},
      {"dot cr pending", M::kStrict, "A\r\n.\r", "A\r\n", "", "", ""},
      // Every smuggling sequence, strict: none ends the data; all are seen.
      {"lf.lf", M::kStrict, "A\n.\nB\r\n.\r\n", "A\n.\nB\r\n", "", "crlf.crlf@7",
       "bare_lf@1 lf_dot_lf@2 bare_lf@3"},
      {"lf.crlf", M::kStrict, "A\n.\r\nB\r\n.\r\n", "A\n.\r\nB\r\n", "", "crlf.crlf@8",
       "bare_lf@1 lf_dot_cr_lf@2"},
      {"cr.crlf", M::kStrict, "A\r.\r\nB\r\n.\r\n", "A\r.\r\nB\r\n", "", "crlf.crlf@8",
       "bare_cr@1 cr_dot_cr_lf@2"},
      {"crlf.lf", M::kStrict, "A\r\n.\nB\r\n.\r\n", "A\r\n\nB\r\n", "", "crlf.crlf@8",
       "cr_lf_dot_lf@3 bare_lf@4"},
      {"crlf.cr", M::kStrict, "A\r\n.\rB\r\n.\r\n", "A\r\n\rB\r\n", "", "crlf.crlf@8",
       "cr_lf_dot_cr@3 bare_cr@4"},
      {"cr.lf", M::kStrict, "A\r.\nB\r\n.\r\n", "A\r.\nB\r\n", "", "crlf.crlf@7",
       "bare_cr@1 cr_dot_lf@2 bare_lf@3"},
      {"lf.cr", M::kStrict, "A\n.\rB\r\n.\r\n", "A\n.\rB\r\n", "", "crlf.crlf@7",
       "bare_lf@1 lf_dot_cr@2 bare_cr@3"},
      {"cr.cr", M::kStrict, "A\r.\rB\r\n.\r\n", "A\r.\rB\r\n", "", "crlf.crlf@7",
       "bare_cr@1 cr_dot_cr@2 bare_cr@3"},
      {"crlf.crcrlf", M::kStrict, "A\r\n.\r\r\nB\r\n.\r\n", "A\r\n\r\r\nB\r\n", "", "crlf.crlf@10",
       "cr_lf_dot_cr@3 bare_cr@4 dot_cr_cr_lf@3"},
      {"dot nul", M::kStrict, std::string("A\r\n.\0\r\n.\r\n", 10), std::string("A\r\n\0\r\n", 6),
       "", "crlf.crlf@7", "dot_nul@3"},
      {"nul dot", M::kStrict, std::string("A\r\n\0.\r\n.\r\n", 10), std::string("A\r\n\0.\r\n", 7),
       "", "crlf.crlf@7", "nul_dot@3"},
      {"body starts .lf", M::kStrict, ".\nA\r\n.\r\n", "\nA\r\n", "", "crlf.crlf@5",
       "cr_lf_dot_lf@0 bare_lf@1"},
      // kLfLinesStrictEnd: LF ends lines (unstuffing) but not the data.
      {"normalize lf.lf", M::kLfLinesStrictEnd, "A\n.\nB\r\n.\r\n", "A\n\nB\r\n", "", "crlf.crlf@7",
       "bare_lf@1 lf_dot_lf@2 bare_lf@3"},
      {"normalize unstuff", M::kLfLinesStrictEnd, "A\n..\r\n.\r\n", "A\n.\r\n", "", "crlf.crlf@6",
       "bare_lf@1"},
      {"normalize crlf.lf", M::kLfLinesStrictEnd, "A\r\n.\nB\r\n.\r\n", "A\r\n\nB\r\n", "",
       "crlf.crlf@8", "cr_lf_dot_lf@3 bare_lf@4"},
      // kBareLf: Sendmail / Exim before their fixes.
      {"bare_lf lf.lf", M::kBareLf, "A\n.\nB", "A\n", "B", "lf.lf@2",
       "bare_lf@1 lf_dot_lf@2 bare_lf@3"},
      {"bare_lf lf.crlf", M::kBareLf, "A\n.\r\nB", "A\n", "B", "lf.crlf@2",
       "bare_lf@1 lf_dot_cr_lf@2"},
      {"bare_lf crlf.lf", M::kBareLf, "A\r\n.\nB", "A\r\n", "B", "crlf.lf@3",
       "cr_lf_dot_lf@3 bare_lf@4"},
      {"bare_lf cr.crlf", M::kBareLf, "A\r.\r\nB\r\n.\r\n", "A\r.\r\nB\r\n", "", "crlf.crlf@8",
       "bare_cr@1 cr_dot_cr_lf@2"},
      {"bare_lf crlf.crcrlf", M::kBareLf, "A\r\n.\r\r\nB\r\n.\r\n", "A\r\n\r\r\nB\r\n", "",
       "crlf.crlf@10", "cr_lf_dot_cr@3 bare_cr@4 dot_cr_cr_lf@3"},
      {"bare_lf unstuff", M::kBareLf, "A\n..\nB\n.\n", "A\n.\nB\n", "", "lf.lf@7",
       "bare_lf@1 bare_lf@4 bare_lf@6 lf_dot_lf@7 bare_lf@8"},
      // kBareLfStripCr: old Postfix strips every CR before LF.
      {"strip crlf.crcrlf", M::kBareLfStripCr, "A\r\n.\r\r\nB", "A\r\n", "B", "crlf.crs_lf@3",
       "cr_lf_dot_cr@3 bare_cr@4 dot_cr_cr_lf@3"},
      {"strip lf.crcrcrlf", M::kBareLfStripCr, "A\n.\r\r\r\nB", "A\n", "B", "lf.crs_lf@2",
       "bare_lf@1 lf_dot_cr@2 bare_cr@3 bare_cr@4 dot_cr_cr_lf@2"},
      {"strip lf.lf", M::kBareLfStripCr, "A\n.\nB", "A\n", "B", "lf.lf@2",
       "bare_lf@1 lf_dot_lf@2 bare_lf@3"},
      {"strip cr.crlf", M::kBareLfStripCr, "A\r.\r\nB\r\n.\r\n", "A\r.\r\nB\r\n", "", "crlf.crlf@8",
       "bare_cr@1 cr_dot_cr_lf@2"},
      // kAnyLineEnd: Cisco "Clean".
      {"any cr.cr", M::kAnyLineEnd, "A\r.\rB", "A\r", "B", "cr.cr@2",
       "bare_cr@1 cr_dot_cr@2 bare_cr@3"},
      {"any cr.crlf", M::kAnyLineEnd, "A\r.\r\nB", "A\r", "B", "cr.crlf@2",
       "bare_cr@1 cr_dot_cr_lf@2"},
      {"any lf.cr", M::kAnyLineEnd, "A\n.\rB", "A\n", "B", "lf.cr@2",
       "bare_lf@1 lf_dot_cr@2 bare_cr@3"},
      {"any cr.lf", M::kAnyLineEnd, "A\r.\nB", "A\r", "B", "cr.lf@2",
       "bare_cr@1 cr_dot_lf@2 bare_lf@3"},
      {"any crlf.cr", M::kAnyLineEnd, "A\r\n.\rB", "A\r\n", "B", "crlf.cr@3",
       "cr_lf_dot_cr@3 bare_cr@4"},
      {"any crlf.crcrlf", M::kAnyLineEnd, "A\r\n.\r\r\n", "A\r\n", "\r\n", "crlf.cr@3",
       "cr_lf_dot_cr@3 bare_cr@4"},
      {"any unstuff after cr", M::kAnyLineEnd, "A\r..\rB\r\n.\r\n", "A\r.\rB\r\n", "",
       "crlf.crlf@8", "bare_cr@1 bare_cr@4"},
      {"any dot cr waits", M::kAnyLineEnd, "A\r\n.\r", "A\r\n", "", "", ""},
  };
  return *cases;
}

TEST(DataReaderTest, Table) {
  for (const DataCase& c : DataCases()) {
    SCOPED_TRACE(c.name);
    const DataRun run = Drive(c.mode, {c.input});
    EXPECT_EQ(run.body, c.body);
    EXPECT_EQ(std::string_view(c.input).substr(run.consumed), c.rest);
    EXPECT_EQ(run.end, c.end);
    EXPECT_EQ(run.events, c.events);
  }
}

// Every split (and byte-by-byte) gives the same body, end, events and counts.
TEST(DataReaderTest, SplitAtEveryByteMatchesOneShot) {
  for (const DataCase& c : DataCases()) {
    SCOPED_TRACE(c.name);
    const DataRun whole = Drive(c.mode, {c.input});
    const auto drive = [&](const auto& chunks) { return Drive(c.mode, chunks); };
    for (const auto& [how, run] : testing::Grind(c.input, drive)) {
      ASSERT_EQ(run, whole) << how;
    }
  }
}

// The same over random inputs built from the interesting octets, in every
// mode, with small line limits so over-long lines mix with dot sequences.
TEST(DataReaderTest, RandomInputsSplitEquivalence) {
  std::mt19937 rng(3030);
  const char alphabet[] = {'a', '.', '.', '\r', '\r', '\n', '\n', '\0'};
  const M modes[] = {M::kStrict, M::kLfLinesStrictEnd, M::kBareLf, M::kBareLfStripCr,
                     M::kAnyLineEnd};
  for (int i = 0; i < 1500; ++i) {
    std::string in;
    const int len = 1 + static_cast<int>(rng() % 30);
    for (int j = 0; j < len; ++j) in += alphabet[rng() % sizeof alphabet];
    const std::size_t max_line = 2 + rng() % 5;
    const M mode = modes[rng() % 5];
    SCOPED_TRACE(std::string(DataEndModeName(mode)) + " max_line=" + std::to_string(max_line) +
                 " input=" + ::testing::PrintToString(in));
    const DataRun whole = Drive(mode, {in}, max_line);
    const auto drive = [&](const auto& chunks) { return Drive(mode, chunks, max_line); };
    for (const auto& [how, run] : testing::Grind(in, drive)) {
      ASSERT_EQ(run, whole) << how;
    }
  }
}

// Which mode ends the data at which smuggled sequence: "A" <seq> "B" CRLF
// "." CRLF either ends at the dot of <seq> or at the final dot.
TEST(DataReaderTest, ModeMatrix) {
  struct Row {
    const char* seq;
    std::size_t dot;   // offset of the dot in "A" + seq
    std::string ends;  // one char per mode in enum order: S=strict N=normalize L=bare_lf
                       // P=strip_cr A=any; '.' = does not end there
  };
  const std::vector<Row> rows = {
      {"\n.\n", 2, "..LPA"},     {"\n.\r\n", 2, "..LPA"}, {"\r\n.\n", 3, "..LPA"},
      {"\r.\r", 2, "....A"},     {"\r.\r\n", 2, "....A"}, {"\r.\n", 2, "....A"},
      {"\n.\r", 2, "....A"},     {"\r\n.\r", 3, "....A"}, {"\r\n.\r\r\n", 3, "...PA"},
      {"\r\n.\r\n", 3, "SNLPA"},
  };
  const M modes[] = {M::kStrict, M::kLfLinesStrictEnd, M::kBareLf, M::kBareLfStripCr,
                     M::kAnyLineEnd};
  for (const Row& row : rows) {
    const std::string in = std::string("A") + row.seq + "B\r\n.\r\n";
    for (std::size_t m = 0; m < 5; ++m) {
      SCOPED_TRACE(std::string(DataEndModeName(modes[m])) + " " + row.seq);
      DataReader r({modes[m]});
      std::string body;
      const std::size_t n = r.Feed(in, &body);
      ASSERT_TRUE(r.done());
      const bool early = row.ends[m] != '.';
      EXPECT_EQ(r.end().dot_offset, early ? row.dot : in.size() - 3);
      if (!early) {
        EXPECT_EQ(n, in.size());
      }
      EXPECT_EQ(r.end().standard(), std::string_view(row.seq) == "\r\n.\r\n" || !early);
    }
  }
}

TEST(DataReaderTest, FeedAfterDoneConsumesNothing) {
  DataReader r;
  EXPECT_EQ(r.Feed(".\r\nMAIL"), 3u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.Feed("MAIL"), 0u);
  r.Reset();
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.offset(), 0u);
  std::string body;
  EXPECT_EQ(r.Feed("x\r\n.\r\n", &body), 6u);
  EXPECT_EQ(body, "x\r\n");
}

TEST(DataReaderTest, CallbackSinkIsZeroCopy) {
  const std::string in = "Subject: x\r\n\r\nbody\r\n.\r\n";
  std::vector<std::string_view> pieces;
  DataReader r;
  r.Feed(in, [&](std::string_view p) { pieces.push_back(p); });
  ASSERT_EQ(pieces.size(), 1u);  // one run: no dot to remove
  EXPECT_EQ(pieces[0].data(), in.data());
  EXPECT_EQ(pieces[0], "Subject: x\r\n\r\nbody\r\n");
}

// §4.5.3.1.6: 1000 octets with CRLF, the transparency dot not counted.
TEST(DataReaderTest, LineLength) {
  const std::string ok = std::string(998, 'a') + "\r\n";
  const std::string stuffed_ok = "." + std::string(998, '.') + "\r\n";
  const std::string over = std::string(999, 'b') + "\r\n";
  DataReader r;
  std::string body;
  r.Feed(ok + stuffed_ok + over + ".\r\n", &body);
  ASSERT_TRUE(r.done());
  EXPECT_EQ(EventsString(r), "line_too_long@" + std::to_string(2000 + 1 + 998));
  ASSERT_TRUE(r.line_error().has_value());
  EXPECT_EQ(r.line_error()->code, Errc::kDataLineTooLong);
  EXPECT_EQ(r.line_error()->offset, 2999u);
  EXPECT_EQ(body, ok + stuffed_ok.substr(1) + over);
  EXPECT_FALSE(DataReader().line_error().has_value());
}

// Hostile input: the reader keeps no body bytes, so memory is constant.
TEST(DataReaderTest, MegabyteLineWithoutTerminator) {
  const std::string mib(1 << 20, 'x');
  DataReader r;
  std::size_t body_bytes = 0;
  const auto count = [&](std::string_view p) { body_bytes += p.size(); };
  for (std::size_t i = 0; i < mib.size(); i += 4096) {
    ASSERT_EQ(r.Feed(std::string_view(mib).substr(i, 4096), count), 4096u);
  }
  EXPECT_EQ(EventsString(r), "line_too_long@998");  // reported before the line ends
  EXPECT_EQ(r.Feed("\r\n.\r\n", count), 5u);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(body_bytes, mib.size() + 2);
  EXPECT_EQ(r.count(DataEventKind::kLineTooLong), 1u);
}

TEST(DataReaderTest, EventFloodIsBounded) {
  std::string in;
  constexpr std::size_t kLines = 100000;
  for (std::size_t i = 0; i < kLines; ++i) in.append(".\0\r\n", 4);
  in += ".\r\n";
  DataReader r;
  EXPECT_EQ(r.Feed(in), in.size());
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.count(DataEventKind::kDotNul), kLines);
  EXPECT_EQ(r.events().size(), DataReader::kMaxStoredEvents);
  EXPECT_EQ(r.dropped_events(), kLines - DataReader::kMaxStoredEvents);
  EXPECT_EQ(r.events()[63], (DataEvent{DataEventKind::kDotNul, 63 * 4}));
}

TEST(DataReaderTest, EndlessCr) {
  const std::string crs(1 << 20, '\r');
  for (M mode : {M::kStrict, M::kBareLfStripCr, M::kAnyLineEnd}) {
    SCOPED_TRACE(DataEndModeName(mode));
    for (std::string_view prefix : {"", "."}) {
      DataReader r({mode});
      EXPECT_EQ(r.Feed(prefix), prefix.size());
      for (std::size_t i = 0; i < crs.size() && !r.done(); i += 65536) {
        r.Feed(std::string_view(crs).substr(i, 65536));
      }
      if (mode == M::kAnyLineEnd && !prefix.empty()) {
        EXPECT_TRUE(r.done());  // "." CR CR: the first CR ends the data
        EXPECT_EQ(r.offset(), 2u);
        continue;
      }
      EXPECT_FALSE(r.done());
      EXPECT_EQ(r.count(DataEventKind::kBareCr), crs.size() - 1);  // the last one waits
      EXPECT_EQ(r.count(DataEventKind::kLineTooLong), mode == M::kAnyLineEnd ? 0u : 1u);
    }
  }
}

TEST(DataReaderTest, NulFlood) {
  std::string in(1 << 20, '\0');
  in += "\r\n.\r\n";
  DataReader r;
  std::string body;
  EXPECT_EQ(r.Feed(in, &body), in.size());
  EXPECT_TRUE(r.done());
  EXPECT_EQ(body.size(), in.size() - 3);
  EXPECT_EQ(EventsString(r), "line_too_long@998");
}

TEST(DotStuffTest, Goldens) {
  EXPECT_EQ(DotStuff(""), ".\r\n");
  EXPECT_EQ(DotStuff("a"), "a\r\n.\r\n");
  EXPECT_EQ(DotStuff("a\r\n"), "a\r\n.\r\n");
  EXPECT_EQ(DotStuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(DotStuff("a\r\n.\r\n"), "a\r\n..\r\n.\r\n");
  EXPECT_EQ(DotStuff(".a\r\n..b\r\nc.\r\n"), "..a\r\n...b\r\nc.\r\n.\r\n");
  EXPECT_EQ(DotStuff("x\n.\n"), "x\n.\n\r\n.\r\n");  // bare LF passed through, not stuffed
}

TEST(DotStuffTest, StrictReaderInvertsIt) {
  std::mt19937 rng(5321);
  const char alphabet[] = {'a', '.', '.', '\r', '\n', '\0', 'z'};
  std::vector<std::string> bodies = {"",           "\r\n",           ".\r\n",        "..\r\n",
                                     "a\r\n.\r\n", "\r\n.\r\n.\r\n", "x\r\n.\n.\r\n"};
  for (int i = 0; i < 2000; ++i) {
    std::string b;
    const int len = static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) b += alphabet[rng() % sizeof alphabet];
    b += "\r\n";
    bodies.push_back(b);
  }
  for (const std::string& b : bodies) {
    const std::string wire = DotStuff(b);
    DataReader r;
    std::string got;
    ASSERT_EQ(r.Feed(wire, &got), wire.size()) << b;
    ASSERT_TRUE(r.done());
    ASSERT_TRUE(r.end().standard());
    ASSERT_EQ(got, b);
  }
}

TEST(DataReaderTest, Names) {
  EXPECT_EQ(DataEndModeName(M::kBareLfStripCr), "bare_lf_strip_cr");
  EXPECT_EQ(DataEventKindName(DataEventKind::kLfDotCrLf), "lf_dot_cr_lf");
  EXPECT_EQ(DataEventKindName(DataEventKind::kLineTooLong), "line_too_long");
  EXPECT_EQ(WireEndName(WireEnd::kCrsLf), "crs_lf");
}

}  // namespace
}  // namespace smtp
