#include "parser/command_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "parser/alloc_counter_test_util.h"  // replaces operator new: counts allocations
#include "parser/command_cases_test_util.h"
#include "parser/command_stream_test_util.h"

namespace smtp {
namespace {

using testing::CommandStreamDiff;

// The server's reader bound (harness/server/session.cc): room for an AUTH
// line.
constexpr std::size_t kServerMaxLine = std::max(kMaxCommandLine, kMaxAuthLine);

CommandOptions Options(Leniencies leniencies, bool utf8 = false) {
  CommandOptions o;
  o.leniencies = leniencies;
  o.utf8 = utf8;
  return o;
}

// Every line of the command tests, alone, before and after another command,
// fed whole and in pieces, strictly, with its own leniencies and with all.
void ExpectTableLineAgrees(const std::string& line, Leniencies own, bool utf8) {
  for (const Leniencies len : {Leniencies{kStrict}, own, Leniencies{kAllLeniencies}}) {
    const CommandOptions opts = Options(len, utf8);
    for (const std::string& stream : {line, line + "NOOP\r\n", "RSET\r\n" + line}) {
      for (const std::size_t max_line : {kServerMaxLine, kMaxCommandLine, std::size_t{24}}) {
        for (const std::size_t piece : {0, 1, 2, 5}) {
          ASSERT_EQ(CommandStreamDiff(stream, opts, max_line, piece), "");
        }
      }
    }
  }
}

TEST(ParseNextCommand, AgreesWithTwoPassOnTheCommandTables) {
  std::size_t lines = 0;
  for (const testing::OkCase& t : testing::StrictCases()) {
    SCOPED_TRACE(t.line);
    ExpectTableLineAgrees(t.line, t.leniencies, t.utf8);
    ++lines;
  }
  for (const testing::ErrCase& t : testing::ErrCases()) {
    SCOPED_TRACE(t.line);
    ExpectTableLineAgrees(t.line, kStrict, t.utf8);
    ++lines;
  }
  for (const testing::LenientCase& t : testing::LenientCases()) {
    SCOPED_TRACE(t.line);
    ExpectTableLineAgrees(t.line, t.leniencies, false);
    ++lines;
  }
  EXPECT_GT(lines, 200u);
}

// The strictness rules by hand, on the fast path's edges.
TEST(ParseNextCommand, FramingErrorsAndOffsets) {
  Command c;
  CommandFrame f;
  const CommandOptions strict;
  ParseError e;
  // True when a line was framed; its result in `e`.
  const auto next = [&](std::string_view in) {
    e = ParseNextCommand(in, strict, kServerMaxLine, &c, &f);
    return e.code != Errc::kNeedMore;
  };

  ASSERT_TRUE(next("NOOP\r\nQUIT\r\n"));
  EXPECT_EQ(f.size, 6u);
  EXPECT_EQ(e.code, Errc::kOk);
  EXPECT_EQ(c.verb, Verb::kNoop);
  ASSERT_TRUE(next(std::string_view("NO\0OP\r\n", 7)));
  EXPECT_EQ(f.size, 7u);
  EXPECT_EQ(e.code, Errc::kNulByte);
  EXPECT_EQ(e.offset, 2u);
  // Strictly a bare LF or CR does not end the line: it is refused where it
  // is once the CRLF has come.
  EXPECT_FALSE(next("NOOP\n"));
  EXPECT_FALSE(next("NOOP\r"));
  ASSERT_TRUE(next("NO\nOP\r\nQUIT\r\n"));
  EXPECT_EQ(f.size, 7u);
  EXPECT_EQ(e.code, Errc::kBareLf);
  EXPECT_EQ(e.offset, 2u);
  ASSERT_TRUE(next("NOOP\r\r\n"));
  EXPECT_EQ(e.code, Errc::kBareCr);
  EXPECT_EQ(e.offset, 4u);
  // With kBareCrLineEnd a CR at the end of the buffer may be half of CRLF.
  const CommandOptions cr = Options(kBareCrLineEnd);
  EXPECT_EQ(ParseNextCommand("NOOP\r", cr, kServerMaxLine, &c, &f).code, Errc::kNeedMore);
  e = ParseNextCommand("NOOP\rQUIT\r\n", cr, kServerMaxLine, &c, &f);
  EXPECT_EQ(f.size, 5u);
  EXPECT_EQ(f.terminator, LineTerminator::kCr);
  EXPECT_EQ(e.code, Errc::kOk);
  EXPECT_EQ(c.deviations, Leniencies{kBareCrLineEnd});
}

TEST(ParseNextCommand, LineLengthLimits) {
  Command c;
  CommandFrame f;
  const CommandOptions strict;
  ParseError e;
  const auto next = [&](std::string_view in) {
    e = ParseNextCommand(in, strict, kServerMaxLine, &c, &f);
    return e.code != Errc::kNeedMore;
  };
  // 512 octets with CRLF: accepted; 513: kLineTooLong at 512.
  const std::string at_limit = "NOOP " + std::string(kMaxCommandLine - 7, 'a') + "\r\n";
  ASSERT_TRUE(next(at_limit));
  EXPECT_EQ(e.code, Errc::kOk);
  const std::string over = "NOOP " + std::string(kMaxCommandLine - 6, 'a') + "\r\n";
  ASSERT_TRUE(next(over));
  EXPECT_EQ(f.size, over.size());
  EXPECT_EQ(e.code, Errc::kLineTooLong);
  EXPECT_EQ(e.offset, kMaxCommandLine);
  EXPECT_FALSE(f.over_reader_limit);
  // An earlier NUL wins over the length.
  std::string nul = over;
  nul[7] = '\0';
  ASSERT_TRUE(next(nul));
  EXPECT_EQ(e.code, Errc::kNulByte);
  EXPECT_EQ(e.offset, 7u);
  // AUTH may be kMaxAuthLine long.
  const std::string auth = "AUTH PLAIN " + std::string(kMaxAuthLine - 13, 'A') + "\r\n";
  ASSERT_TRUE(next(auth));
  EXPECT_NE(e.code, Errc::kLineTooLong);
  // Past the reader's bound: LineReader's error, whatever the line holds.
  std::string huge = std::string(3, '\0') + std::string(kServerMaxLine, 'a') + "\r\n";
  ASSERT_TRUE(next(huge));
  EXPECT_TRUE(f.over_reader_limit);
  EXPECT_EQ(e.code, Errc::kLineTooLong);
  EXPECT_EQ(e.offset, kServerMaxLine);
  EXPECT_EQ(CommandStreamDiff(huge, strict, kServerMaxLine, 0), "");
  EXPECT_EQ(CommandStreamDiff(huge, strict, kServerMaxLine, 1000), "");
  for (std::size_t len = 500; len < 530; ++len) {
    for (const std::string_view verb : {"NOOP ", "AUTH ", "MAIL FROM:<"}) {
      const std::string line = std::string(verb) + std::string(len - verb.size() - 2, 'x') + "\r\n";
      for (const std::size_t max_line : {kServerMaxLine, kMaxCommandLine, std::size_t{515}}) {
        ASSERT_EQ(CommandStreamDiff(line + "QUIT\r\n", strict, max_line, 0), "");
        ASSERT_EQ(CommandStreamDiff(line, Options(kAllLeniencies), max_line, 7), "");
      }
    }
  }
}

// Six-octet lines, which ParseNextCommand takes without ParseCommandInto
// when they are a verb alone (ParseVerbAlone): every verb and near miss in
// several cases, under command limits around six, strictly and leniently,
// after a MAIL that set the path and the parameters.
TEST(ParseNextCommand, VerbsAloneAsTheTwoPassParse) {
  const std::string_view words[] = {
      "DATA", "data", "DaTa", "RSET", "rset",    "QUIT", "qUIT", "NOOP",  "noop",    "HELP",
      "help", "HELO", "EHLO", "VRFY", "EXPN",    "MAIL", "RCPT", "AUTH",  "BDAT",    "ETRN",
      "LHLO", "XXXX", "DAT1", "DAT@", "D\x01TA", "DAT ", " DAT", "DA\tA", "D\xC1TA", "QUI\x14"};
  std::size_t lines = 0;
  for (const std::string_view w : words) {
    const std::string line = std::string(w) + "\r\n";
    for (const std::size_t command_line :
         {std::size_t{4}, std::size_t{5}, std::size_t{6}, std::size_t{7}, kMaxCommandLine}) {
      for (const Leniencies len : {Leniencies{kStrict}, Leniencies{kAllLeniencies}}) {
        CommandOptions opts = Options(len);
        opts.limits.command_line = command_line;
        const std::string mail = "MAIL FROM:<a@b.example> SIZE=10\r\n";
        ASSERT_EQ(CommandStreamDiff(line + line, opts, kServerMaxLine, 0), "");
        ASSERT_EQ(CommandStreamDiff(mail + line + "QUIT\r\n", opts, kServerMaxLine, 0), "");
        ASSERT_EQ(CommandStreamDiff(mail + line, opts, 6, 3), "");
        ++lines;
      }
    }
  }
  EXPECT_EQ(lines, std::size(words) * 10);
}

// Random streams: fragments of commands, CR / LF / NUL, 8-bit octets, runs
// around the limits, with random options; the reference and the server walk
// fed in every piece size up to the stream's length.
TEST(ParseNextCommand, AgreesWithTwoPassOnRandomStreams) {
  static const char* const kFragments[] = {
      "MAIL FROM:<a@b.example>",
      " SIZE=100",
      " BODY=8BITMIME",
      "RCPT TO:<x@[192.0.2.1]>",
      " NOTIFY=SUCCESS,FAILURE",
      "EHLO c.example",
      "AUTH PLAIN ",
      "AHRlc3Q=",
      "BDAT 10 LAST",
      "DATA",
      "NOOP",
      "HELP x",
      "VRFY \"a b\"",
      "QUIT",
      "STARTTLS",
      "XFOO bar",
      "mail from:",
      "<>",
      " ",
      "  ",
      "\t",
      "\r",
      "\n",
      "\r\n",
      "\r\n",
      "\r\n",
      "NUL",
      "\xC3\xA9",
      "\xFF",
      ":",
      "<",
      ">",
      "\"",
      "=",
      "SMTPUTF8",
  };
  constexpr std::size_t kNumFragments = sizeof(kFragments) / sizeof(kFragments[0]);
  std::mt19937 rng(20261206);
  const auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  constexpr int kInputs = 3000;
  int with_line = 0;
  for (int round = 0; round < kInputs; ++round) {
    std::string s;
    const std::size_t parts = 1 + pick(12);
    for (std::size_t k = 0; k < parts; ++k) {
      switch (pick(10)) {
        case 0:
          s += std::string(1, static_cast<char>(pick(256)));
          break;
        case 1:
          s += std::string(20 + pick(60), "ax .<"[pick(5)]);
          break;
        case 2:
          s.push_back('\0');
          break;
        default: {
          const std::size_t f = pick(kNumFragments);
          s += std::string_view(kFragments[f]) == "NUL" ? std::string(1, '\0')
                                                        : std::string(kFragments[f]);
        }
      }
    }
    if (pick(4) != 0) s += "\r\n";
    CommandOptions opts;
    opts.leniencies = pick(3) == 0 ? kStrict : static_cast<Leniencies>(rng()) & kAllLeniencies;
    opts.utf8 = pick(4) == 0;
    const std::size_t limits[] = {kMaxCommandLine, 16, 30, 64};
    opts.limits.command_line = limits[pick(4)];
    const std::size_t max_lines[] = {kServerMaxLine, opts.limits.command_line, 20, 48};
    const std::size_t max_line = max_lines[pick(4)];
    SCOPED_TRACE(round);
    ASSERT_EQ(CommandStreamDiff(s, opts, max_line, 0), "");
    for (std::size_t piece = 1; piece <= s.size(); ++piece) {
      ASSERT_EQ(CommandStreamDiff(s, opts, max_line, piece), "");
    }
    Command c;
    CommandFrame f;
    with_line += ParseNextCommand(s, opts, max_line, &c, &f).code != Errc::kNeedMore ? 1 : 0;
  }
  // The generator is not degenerate: most inputs frame a line, some do not.
  EXPECT_GT(with_line, kInputs / 2);
  EXPECT_LT(with_line, kInputs);
}

TEST(ParseNextCommand, AllocatesNothing) {
  std::string stream;
  for (const testing::OkCase& t : testing::StrictCases()) stream += t.line;
  for (const testing::ErrCase& t : testing::ErrCases()) stream += t.line + "\r\n";
  const CommandOptions opts;
  Command c;
  CommandFrame f;
  std::size_t lines = 0;
  const std::size_t before = smtp::testing::AllocationCount();
  for (std::string_view rest = stream;
       ParseNextCommand(rest, opts, kServerMaxLine, &c, &f).code != Errc::kNeedMore;) {
    rest.remove_prefix(f.size);
    ++lines;
  }
  EXPECT_EQ(smtp::testing::AllocationCount() - before, 0u);
  EXPECT_GT(lines, 200u);
}

}  // namespace
}  // namespace smtp
