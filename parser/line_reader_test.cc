#include "parser/line_reader.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "parser/grind_test_util.h"

namespace smtp {
namespace {

// One line as a golden string: the escaped line, its terminator, then only
// the fields that are set, e.g. `"NOOP\nQUIT" crlf @0 lf=1@4`.
std::string Escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Describe(const LineReader& r) {
  std::string s = "\"" + Escape(r.line()) + "\" " +
                  std::string(LineTerminatorName(r.terminator())) + " @" +
                  std::to_string(r.line_offset());
  if (r.error().code != Errc::kOk) {
    s += " err=" + std::string(ErrcName(r.error().code)) + "@" + std::to_string(r.error().offset);
  }
  ForEachLeniency(r.deviations(), [&](std::string_view n) { s += " dev=" + std::string(n); });
  const LineObservations& o = r.observations();
  const auto obs = [&](const char* name, std::size_t count, std::size_t first) {
    if (count != 0)
      s += std::string(" ") + name + "=" + std::to_string(count) + "@" + std::to_string(first);
  };
  obs("lf", o.bare_lf, o.first_bare_lf);
  obs("cr", o.bare_cr, o.first_bare_cr);
  obs("nul", o.nul, o.first_nul);
  obs("8bit", o.eight_bit, o.first_eight_bit);
  return s;
}

struct LineRun {
  std::vector<std::string> lines;  // Describe() of each line, in order
  std::size_t consumed = 0;
  bool capacity_stable = true;  // the buffer never grew
};

// Feeds `chunks` in order, collecting every completed line.
LineRun Drive(const LineReaderOptions& opts, const std::vector<std::string_view>& chunks) {
  LineReader r(opts);
  const std::size_t cap = r.buffer_capacity();
  LineRun run;
  for (std::string_view chunk : chunks) {
    do {
      const std::size_t n = r.Feed(chunk);
      EXPECT_LE(n, chunk.size());
      chunk.remove_prefix(n);
      run.consumed += n;
      if (r.buffer_capacity() != cap) run.capacity_stable = false;
      if (r.has_line()) run.lines.push_back(Describe(r));
    } while (!chunk.empty());
  }
  EXPECT_EQ(run.consumed, r.offset());
  return run;
}

struct LineCase {
  const char* name;
  Leniencies leniencies;
  std::size_t max_line;
  std::string input;
  std::vector<std::string> want;
};

const std::vector<LineCase>& LineCases() {
  const Leniencies lf = kBareLfLineEnd, cr = kBareCrLineEnd, both = lf | cr;
  static const auto* cases = new std::vector<LineCase>{
      // RFC 5321 §4.1.1.1 / appendix D examples.
      {"ehlo", kStrict, 512, "EHLO bar.com\r\n", {R"("EHLO bar.com" crlf @0)"}},
      {"pipelined",
       kStrict,
       512,
       "MAIL FROM:<Smith@bar.com>\r\nRCPT TO:<Jones@foo.com>\r\nDATA\r\n",
       {R"("MAIL FROM:<Smith@bar.com>" crlf @0)", R"("RCPT TO:<Jones@foo.com>" crlf @27)",
        R"("DATA" crlf @52)"}},
      {"reply",
       kStrict,
       kMaxReplyLine,
       "250-foo.com greets bar.com\r\n250 HELP\r\n",
       {R"("250-foo.com greets bar.com" crlf @0)", R"("250 HELP" crlf @28)"}},
      {"empty line", kStrict, 512, "\r\n\r\n", {R"("" crlf @0)", R"("" crlf @2)"}},
      {"incomplete", kStrict, 512, "QUIT", {}},
      {"incomplete after cr", kStrict, 512, "QUIT\r", {}},
      // §2.3.8: strict readers carry lone CR / LF and report them.
      {"bare lf strict", kStrict, 512, "NOOP\nQUIT\r\n", {R"("NOOP\nQUIT" crlf @0 lf=1@4)"}},
      {"bare cr strict", kStrict, 512, "NOOP\rQUIT\r\n", {R"("NOOP\rQUIT" crlf @0 cr=1@4)"}},
      {"cr cr lf strict", kStrict, 512, "A\r\r\n", {R"("A\r" crlf @0 cr=1@1)"}},
      {"lf cr strict", kStrict, 512, "A\n\rB\r\n", {R"("A\n\rB" crlf @0 lf=1@1 cr=1@2)"}},
      {"second line offsets",
       kStrict,
       512,
       "A\r\nB\nC\r\n",
       {R"("A" crlf @0)", R"("B\nC" crlf @3 lf=1@4)"}},
      // Leniencies: LF / CR alone end the line and say so.
      {"bare lf lenient",
       lf,
       512,
       "NOOP\nQUIT\r\n",
       {R"("NOOP" lf @0 dev=bare_lf_line_end)", R"("QUIT" crlf @5)"}},
      {"bare lf lenient keeps cr",
       lf,
       512,
       "A\rB\n",
       {R"("A\rB" lf @0 dev=bare_lf_line_end cr=1@1)"}},
      {"bare cr lenient",
       cr,
       512,
       "NOOP\rQUIT\r\n",
       {R"("NOOP" cr @0 dev=bare_cr_line_end)", R"("QUIT" crlf @5)"}},
      {"bare cr lenient carries lf", cr, 512, "A\nB\r\n", {R"("A\nB" crlf @0 lf=1@1)"}},
      {"cr cr lf lenient",
       cr,
       512,
       "A\r\r\n",
       {R"("A" cr @0 dev=bare_cr_line_end)", R"("" crlf @2)"}},
      {"lf cr both",
       both,
       512,
       "A\n\rB\r\n",
       {R"("A" lf @0 dev=bare_lf_line_end)", R"("" cr @2 dev=bare_cr_line_end)", R"("B" crlf @3)"}},
      {"trailing cr waits", cr, 512, "A\r", {}},
      // Octets the grammar forbids are carried and observed.
      {"nul", kStrict, 512, std::string("NO\0OP\r\n", 7), {R"("NO\x00OP" crlf @0 nul=1@2)"}},
      {"8bit", kStrict, 512, "H\xC3\xA9LO\r\n", {R"("H\xC3\xA9LO" crlf @0 8bit=2@1)"}},
      // §4.5.3.1.4: 512 octets including CRLF.
      {"max line fits",
       kStrict,
       512,
       std::string(510, 'a') + "\r\n",
       {"\"" + std::string(510, 'a') + "\" crlf @0"}},
      {"max line + 1",
       kStrict,
       512,
       std::string(511, 'a') + "\r\nQUIT\r\n",
       {R"("" crlf @0 err=line_too_long@512)", R"("QUIT" crlf @513)"}},
      {"max line cr split",
       kStrict,
       512,
       std::string(510, 'a') + "\r\r\n",
       {R"("" crlf @0 err=line_too_long@512 cr=1@510)"}},
      {"lf counts one",
       lf,
       512,
       std::string(511, 'a') + "\n",
       {"\"" + std::string(511, 'a') + "\" lf @0 dev=bare_lf_line_end"}},
      {"lenient crlf over",
       lf,
       512,
       std::string(511, 'a') + "\r\n",
       {R"("" crlf @0 err=line_too_long@512)"}},
      {"lenient lf over",
       lf,
       512,
       std::string(512, 'a') + "\n",
       {R"("" lf @0 err=line_too_long@512 dev=bare_lf_line_end)"}},
      {"discard to next line",
       kStrict,
       8,
       "0123456789\r\nQUIT\r\n",
       {R"("" crlf @0 err=line_too_long@8)", R"("QUIT" crlf @12)"}},
      {"discard observes",
       kStrict,
       4,
       std::string("abc\0def\nx\r\n", 11),
       {R"("" crlf @0 err=line_too_long@4 lf=1@7 nul=1@3)"}},
      {"zero limit",
       kStrict,
       0,
       "\r\nA\r\n",
       {R"("" crlf @0 err=line_too_long@0)", R"("" crlf @2 err=line_too_long@2)"}},
  };
  return *cases;
}

TEST(LineReaderTest, Table) {
  for (const LineCase& c : LineCases()) {
    SCOPED_TRACE(c.name);
    const LineRun run = Drive({c.leniencies, c.max_line}, {c.input});
    EXPECT_EQ(run.lines, c.want);
    EXPECT_TRUE(run.capacity_stable);
  }
}

// Beast's "parsegrind": every split gives the same lines as one-shot feeding.
TEST(LineReaderTest, SplitAtEveryByteMatchesOneShot) {
  for (const LineCase& c : LineCases()) {
    SCOPED_TRACE(c.name);
    const LineReaderOptions opts{c.leniencies, c.max_line};
    const auto drive = [&](const auto& chunks) { return Drive(opts, chunks); };
    for (const auto& [how, run] : testing::Grind(c.input, drive)) {
      SCOPED_TRACE(how);
      ASSERT_EQ(run.lines, c.want);
      ASSERT_TRUE(run.capacity_stable);
      ASSERT_EQ(run.consumed, c.input.size());
    }
  }
}

// Random inputs of CR, LF, NUL and 8-bit octets, every leniency, small limits.
TEST(LineReaderTest, RandomInputsSplitEquivalence) {
  std::mt19937 rng(2821);
  const char alphabet[] = {'a', '\r', '\r', '\n', '\n', '\0', '\xE9'};
  const Leniencies lens[] = {kStrict, kBareLfLineEnd, kBareCrLineEnd,
                             kBareLfLineEnd | kBareCrLineEnd};
  for (int i = 0; i < 1500; ++i) {
    std::string in;
    const int len = 1 + static_cast<int>(rng() % 30);
    for (int j = 0; j < len; ++j) in += alphabet[rng() % sizeof alphabet];
    const LineReaderOptions opts{lens[rng() % 4], 1 + rng() % 6};
    SCOPED_TRACE("leniencies=" + std::to_string(opts.leniencies) +
                 " max_line=" + std::to_string(opts.max_line) + " input=" + Escape(in));
    const LineRun whole = Drive(opts, {in});
    ASSERT_TRUE(whole.capacity_stable);
    const auto drive = [&](const auto& chunks) { return Drive(opts, chunks); };
    for (const auto& [how, split] : testing::Grind(in, drive)) {
      ASSERT_EQ(split.lines, whole.lines) << how;
      ASSERT_TRUE(split.capacity_stable) << how;
    }
  }
}

TEST(LineReaderTest, ZeroCopyWhenTheLineFitsOneFeed) {
  LineReader r;
  const std::string in = "NOOP\r\nQUIT\r\n";
  const std::size_t n = r.Feed(in);
  ASSERT_EQ(n, 6u);
  ASSERT_TRUE(r.has_line());
  EXPECT_EQ(r.line().data(), in.data());
  EXPECT_EQ(r.Feed(std::string_view(in).substr(n)), 6u);
  EXPECT_EQ(r.line().data(), in.data() + 6);
}

TEST(LineReaderTest, SplitLineIsCopiedOnce) {
  LineReader r;
  std::string a = "NO", b = "OP\r\n";
  EXPECT_EQ(r.Feed(a), 2u);
  EXPECT_FALSE(r.has_line());
  a.assign("xx");  // the caller may reuse its buffer
  EXPECT_EQ(r.Feed(b), 4u);
  ASSERT_TRUE(r.has_line());
  EXPECT_EQ(r.line(), "NOOP");
  EXPECT_NE(r.line().data(), b.data());
}

TEST(LineReaderTest, CrAtChunkEndDecidedByNextByte) {
  LineReader r({kBareCrLineEnd, 512});
  EXPECT_EQ(r.Feed("RSET\r"), 5u);
  EXPECT_FALSE(r.has_line());
  EXPECT_EQ(r.Feed("QUIT\r\n"), 0u);  // the CR was a terminator; QUIT is the next line
  ASSERT_TRUE(r.has_line());
  EXPECT_EQ(r.line(), "RSET");
  EXPECT_EQ(r.terminator(), LineTerminator::kCr);
  EXPECT_EQ(r.Feed("QUIT\r\n"), 6u);
  EXPECT_EQ(r.line(), "QUIT");
  EXPECT_EQ(r.line_offset(), 5u);
}

TEST(LineReaderTest, ResetStartsOver) {
  LineReader r;
  EXPECT_EQ(r.Feed("HALF"), 4u);
  r.Reset();
  EXPECT_EQ(r.offset(), 0u);
  EXPECT_EQ(r.Feed("QUIT\r\n"), 6u);
  EXPECT_EQ(r.line(), "QUIT");
  EXPECT_EQ(r.line_offset(), 0u);
}

// Hostile peers: memory stays at max_line whatever they send.
TEST(LineReaderTest, MegabyteLineStaysBounded) {
  const std::string mib(1 << 20, 'a');
  for (std::size_t chunk : {std::size_t{1}, std::size_t{4096}, mib.size()}) {
    SCOPED_TRACE(chunk);
    LineReader r;
    const std::size_t cap = r.buffer_capacity();
    ASSERT_GE(cap, kMaxCommandLine);
    ASSERT_LT(cap, 2 * kMaxCommandLine);
    for (std::size_t i = 0; i < mib.size(); i += chunk) {
      ASSERT_EQ(r.Feed(std::string_view(mib).substr(i, chunk)), std::min(chunk, mib.size() - i));
      ASSERT_FALSE(r.has_line());
      ASSERT_EQ(r.buffer_capacity(), cap);
    }
    EXPECT_EQ(r.Feed("\r\nQUIT\r\n"), 2u);
    ASSERT_TRUE(r.has_line());
    EXPECT_EQ(r.error().code, Errc::kLineTooLong);
    EXPECT_EQ(r.error().offset, kMaxCommandLine);
    EXPECT_EQ(r.line(), "");
    EXPECT_EQ(r.Feed("QUIT\r\n"), 6u);
    EXPECT_EQ(r.line(), "QUIT");
    EXPECT_EQ(r.error().code, Errc::kOk);
  }
}

TEST(LineReaderTest, NulFloodIsCountedNotStored) {
  std::string in(1 << 20, '\0');
  in += "\r\n";
  LineReader r;
  const std::size_t cap = r.buffer_capacity();
  EXPECT_EQ(r.Feed(in), in.size());
  ASSERT_TRUE(r.has_line());
  EXPECT_EQ(r.error().code, Errc::kLineTooLong);
  EXPECT_EQ(r.observations().nul, std::size_t{1} << 20);
  EXPECT_EQ(r.observations().first_nul, 0u);
  EXPECT_EQ(r.buffer_capacity(), cap);
}

TEST(LineReaderTest, EndlessCr) {
  const std::string crs(1 << 20, '\r');
  {  // Strict: each CR is followed by CR, so all are carried: one over-long line.
    LineReader r;
    const std::size_t cap = r.buffer_capacity();
    for (std::size_t i = 0; i < crs.size(); i += 1000) {
      ASSERT_EQ(r.Feed(std::string_view(crs).substr(i, 1000)),
                std::min<std::size_t>(1000, crs.size() - i));
      ASSERT_FALSE(r.has_line());
    }
    EXPECT_EQ(r.buffer_capacity(), cap);
    EXPECT_EQ(r.Feed("\n"), 1u);
    ASSERT_TRUE(r.has_line());
    EXPECT_EQ(r.error().code, Errc::kLineTooLong);
    EXPECT_EQ(r.observations().bare_cr, crs.size() - 1);
  }
  {  // kBareCrLineEnd: each CR ends an empty line.
    LineReader r({kBareCrLineEnd, 512});
    std::string_view in = crs;
    std::size_t lines = 0;
    while (!in.empty()) {
      in.remove_prefix(r.Feed(in));
      if (r.has_line()) {
        ASSERT_EQ(r.line(), "");
        ++lines;
      }
    }
    EXPECT_EQ(lines, crs.size() - 1);  // the last CR waits for its successor
  }
}

TEST(LineReaderTest, EndlessLfStrictIsOneOverlongLine) {
  const std::string lfs(1 << 20, '\n');
  LineReader r;
  EXPECT_EQ(r.Feed(lfs), lfs.size());
  EXPECT_FALSE(r.has_line());
  EXPECT_EQ(r.Feed("\r\n"), 2u);
  EXPECT_EQ(r.error().code, Errc::kLineTooLong);
  EXPECT_EQ(r.observations().bare_lf, lfs.size());
}

TEST(LineReaderTest, TerminatorNames) {
  EXPECT_EQ(LineTerminatorName(LineTerminator::kNone), "none");
  EXPECT_EQ(LineTerminatorName(LineTerminator::kCrLf), "crlf");
  EXPECT_EQ(LineTerminatorName(LineTerminator::kLf), "lf");
  EXPECT_EQ(LineTerminatorName(LineTerminator::kCr), "cr");
}

// at_line_start / SkipLine: what ParseNextCommand's callers use to take
// whole lines past the reader and hand it only partial ones.
TEST(LineReader, AtLineStartAndSkipLine) {
  LineReader r(LineReaderOptions{.leniencies = kBareCrLineEnd});
  EXPECT_TRUE(r.at_line_start());
  EXPECT_EQ(r.Feed("NO"), 2u);
  EXPECT_FALSE(r.at_line_start());  // a partial line is carried
  EXPECT_EQ(r.Feed("OP\r\nRS"), 4u);
  EXPECT_TRUE(r.has_line());
  EXPECT_TRUE(r.at_line_start());  // the next Feed starts a line
  r.SkipLine(6);                   // "RSET\r\n" framed by the caller
  EXPECT_FALSE(r.has_line());
  EXPECT_EQ(r.offset(), 12u);
  EXPECT_EQ(r.line_offset(), 12u);
  EXPECT_EQ(r.Feed("QUIT\r"), 5u);
  EXPECT_FALSE(r.at_line_start());  // a CR waits for its next octet
  EXPECT_EQ(r.Feed("X"), 0u);
  EXPECT_TRUE(r.has_line());
  EXPECT_EQ(r.line(), "QUIT");
  EXPECT_EQ(r.line_offset(), 12u);
  EXPECT_TRUE(r.at_line_start());
}

}  // namespace
}  // namespace smtp
