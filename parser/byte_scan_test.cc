#include "parser/byte_scan.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "parser/internal/domain_fast.h"
#include "parser/internal/path_fast.h"
#include "parser/scan_diff_test_util.h"

namespace smtp {
namespace {

TEST(ByteScan, FindsTheFirstOctetOfItsSetAcrossBlockBoundaries) {
  for (const ScanImpl impl : {ScanImpl::kScalar, ScanImpl::kSse2, ScanImpl::kAvx2}) {
    if (SetScanImpl(impl) != impl) continue;
    SCOPED_TRACE(std::string(ScanImplName(impl)));
    for (std::size_t at = 0; at < 70; ++at) {
      std::string s(80, 'a');
      s[at] = '\r';
      EXPECT_EQ(FindCrLf(s.data(), s.data() + s.size()) - s.data(), static_cast<long>(at));
      s[at] = '\x80';
      EXPECT_EQ(FindLineSpecial(s.data(), s.data() + s.size()) - s.data(), static_cast<long>(at));
      EXPECT_EQ(FindNonText(s.data(), s.data() + s.size()) - s.data(), static_cast<long>(at));
      s[at] = '\t';  // textstring: not a stop
      EXPECT_EQ(FindNonText(s.data(), s.data() + s.size()) - s.data(), 80);
      s[at] = '\x7f';
      EXPECT_EQ(FindNonText(s.data(), s.data() + s.size()) - s.data(), static_cast<long>(at));
    }
    const std::string none(100, 'x');
    EXPECT_EQ(FindCrLf(none.data(), none.data() + none.size()), none.data() + none.size());
    // Two plain lines, then one starting with a dot: stops after its CRLF.
    const std::string lines = "abc\r\ndef\r\n.x\r\nghi\r\n";
    EXPECT_EQ(SkipCrLfLines(lines.data(), lines.data() + lines.size(), 10, 10) - lines.data(), 10);
    // The first line has room for 2 octets only: nothing is skipped.
    EXPECT_EQ(SkipCrLfLines(lines.data(), lines.data() + lines.size(), 2, 10), lines.data());
    // A bare CR stops the skip before its line.
    const std::string bare = "ab\r\ncd\rx\r\n";
    EXPECT_EQ(SkipCrLfLines(bare.data(), bare.data() + bare.size(), 10, 10) - bare.data(), 4);
  }
  SetScanImpl(BestScanImpl());
}

TEST(ByteScan, EveryImplementationGivesTheScalarResultsOnRandomInputs) {
  EXPECT_NE(BestScanImpl(), ScanImpl::kScalar) << "no SIMD path on this CPU: nothing compared";
  std::mt19937 rng(27);
  static constexpr char kAlphabet[] = {'a',    'b',    '.',    ' ', '\t', '\r', '\n', '\0',
                                       '\x80', '\xff', '\x7f', '2', '5',  '0',  '-',  'x'};
  for (int round = 0; round < 400; ++round) {
    std::string in(rng() % 120, 'a');
    for (char& c : in) c = rng() % 3 == 0 ? kAlphabet[rng() % sizeof kAlphabet] : 'a' + rng() % 26;
    if (round % 4 == 0) in = "250-mx\r\n250 " + in + "\r\n";
    const std::string diff = testing::ScanDiff(in);
    ASSERT_EQ(diff, "") << "input: " << testing::PrintableForTest(in);
  }
}

// Each irregularity at each position around SkipCrLfLines's block edges
// (a line start at the last octet of a block, a CR at the last octet, ...),
// with short and long tails after it.
TEST(ByteScan, EveryImplementationGivesTheScalarResultsAtBlockEdges) {
  for (std::size_t at = 60; at < 200; ++at) {
    for (const std::string_view what :
         {std::string_view("."), std::string_view("\0", 1), std::string_view("\r"),
          std::string_view("\n"), std::string_view("x")}) {
      for (const std::size_t tail : {std::size_t{0}, std::size_t{5}, std::size_t{70}}) {
        std::string in = "ab\r\n" + std::string(at - 4, 'y');  // a line start at `at`
        in.replace(in.size() - 2, 2, "\r\n");
        in += what;
        in += std::string(tail, 'z') + "\r\n";
        const std::string diff = testing::ScanDiff(in);
        ASSERT_EQ(diff, "") << "input: " << testing::PrintableForTest(in);
      }
    }
  }
}

// SkipCrLfLines's 64-octet blocks need lines of mail: mostly plain CRLF
// lines of 0-150 octets, now and then a bare CR or LF, a line starting with
// "." or NUL, or a line over the limits ScanOutcomes uses (64 and 100).
TEST(ByteScan, EveryImplementationGivesTheScalarResultsOnMailLikeInputs) {
  std::mt19937 rng(5321);
  for (int round = 0; round < 300; ++round) {
    std::string in;
    const std::size_t size = 64 + rng() % 700;
    while (in.size() < size) {
      const unsigned roll = rng() % 40;
      if (roll == 0) in += '.';
      if (roll == 1) in += '\0';
      std::string line(rng() % (roll == 2 ? 400 : 150), 'x');
      for (char& c : line) c = 'a' + rng() % 26;
      if (roll == 3 && !line.empty()) line[rng() % line.size()] = '\r';
      if (roll == 4 && !line.empty()) line[rng() % line.size()] = '\n';
      in += line;
      in += roll == 5 ? "\n" : roll == 6 ? "\r" : "\r\n";
    }
    in.resize(size);
    const std::string diff = testing::ScanDiff(in);
    ASSERT_EQ(diff, "") << "input: " << testing::PrintableForTest(in);
  }
}

// The Domain fast path (parser/internal/domain_fast.h) against the scalar
// scan: domain-like strings of labels, dots, hyphens, "_", 8-bit octets and
// the octets that end a Domain in a path or command, of every length around
// the 16-octet blocks and the 63-octet label limit. The fast path must also
// be taken (a fast path that always declined would agree too).
TEST(ByteScan, TheDomainFastPathGivesTheScalarResults) {
  std::mt19937 rng(1035);
  static const std::string_view kPieces[] = {"a", "Z", "0", "9", "-", ".",        "_",    ">",
                                             " ", "@", "[", "]", ":", "\xc3\xa9", "\x80", "\r"};
  for (int round = 0; round < 4000; ++round) {
    std::string in = round % 3 == 0 ? "<a@" : "";
    const std::size_t len = rng() % 90;
    while (in.size() < len) {
      const unsigned roll = rng() % 64;
      in += roll < 48 ? std::string(1, "abcxyzABC019"[roll % 12]) : std::string(kPieces[roll % 16]);
    }
    if (rng() % 2) in += rng() % 2 ? ">" : "> SIZE=1";
    const std::string diff = testing::GrammarDiff(in);
    ASSERT_EQ(diff, "") << "input: " << testing::PrintableForTest(in);
  }
  // Block edges: a domain of every length up to 70, then each kind of end.
  for (std::size_t n = 1; n <= 70; ++n) {
    std::string d;
    for (std::size_t i = 0; i < n; ++i) d += (i % 7 == 6 && i + 1 < n) ? '.' : "ab-c9"[i % 5];
    if (d.back() == '-') d.back() = 'x';
    for (const std::string_view end : {"", ">", "_x>", "\xc3\xa9>", ".>", "-", " x"}) {
      const std::string in = "<u@" + d + std::string(end);
      ASSERT_EQ(testing::GrammarDiff(in), "") << "input: " << testing::PrintableForTest(in);
    }
  }
  // The fast path is taken: a Domain at the start of 16 octets or more.
  if (BestScanImpl() != ScanImpl::kScalar) {
    SetScanImpl(BestScanImpl());
    EXPECT_EQ(internal::FastDomainEnd("mail.example.com>", 0, 255), 16u);
    EXPECT_EQ(internal::FastDomainEnd("<bob@example.com> SIZE=1", 5, 255), 16u);
    EXPECT_EQ(internal::FastDomainEnd("a-b.c", 0, 255), 0u);  // fewer than 16 octets
    EXPECT_EQ(internal::FastDomainEnd("<bob@example-.com>", 5, 255), 0u);
    EXPECT_EQ(internal::FastDomainEnd("<bob@example..com>", 5, 255), 0u);
    EXPECT_EQ(internal::FastDomainEnd("<bob@example.com.>", 5, 255), 0u);
    EXPECT_EQ(internal::FastDomainEnd("<bob@exa_mple.com>", 5, 255), 0u);
    EXPECT_EQ(internal::FastDomainEnd("<bob@example.com>", 5, 10), 0u);  // over the limit
  }
}

// The bracketed path's fast path (parser/internal/path_fast.h) against the
// scalar parse, through MAIL and RCPT lines (GrammarDiff): path-shaped
// strings of local-parts and domains with dots, hyphens, the octets that
// other rules take ("_", "+", DQUOTE, "[", "@", ">", SP, 8-bit), of every
// length around the 16-octet blocks, the 64 octets the fast path looks at
// and the limits, with and without parameters. The fast path must also be
// taken (a fast path that always declined would agree too).
TEST(ByteScan, TheMailboxFastPathGivesTheScalarResults) {
  std::mt19937 rng(5321);
  static const std::string_view kPieces[] = {"a",  "Z", "0", "-", ".", "..", "_",        "+",
                                             "\"", "@", "[", "]", ">", " ",  "\xc3\xa9", "\x80"};
  const auto word = [&](std::size_t len, bool odd) {
    std::string w;
    while (w.size() < len) {
      const unsigned roll = rng() % 64;
      w += !odd || roll < 52 ? std::string(1, "abcxyzABC019-."[roll % 14])
                             : std::string(kPieces[roll % 16]);
    }
    return w;
  };
  static const std::string_view kTails[] = {
      "", " SIZE=1", " NOTIFY=NEVER", "  SIZE=1", "\tX", " ", ">", "x", " BODY=8BITMIME RET=FULL"};
  for (int round = 0; round < 3000; ++round) {
    const bool odd = round % 4 == 0;
    std::string in = "<" + word(rng() % 24, odd) + "@" + word(rng() % 48, odd);
    if (rng() % 8 != 0) in += ">";
    in += kTails[rng() % 9];
    ASSERT_EQ(testing::GrammarDiff(in), "") << "input: " << testing::PrintableForTest(in);
  }
  // Block edges: paths of every length to 70, split at each "@" position.
  for (std::size_t n = 4; n <= 70; ++n) {
    for (std::size_t at = 1; at + 2 < n; at += (n < 20 ? 1 : 5)) {
      std::string in = "<";
      for (std::size_t i = 1; i < n - 1; ++i) {
        in += i == at                                                   ? '@'
              : (i % 6 == 5 && i + 2 < n && i != at - 1 && i != at + 1) ? '.'
                                                                        : "ab-9"[i % 4];
      }
      in += '>';
      for (const std::string_view tail : {"", " SIZE=1", "x"}) {
        const std::string line = in + std::string(tail);
        ASSERT_EQ(testing::GrammarDiff(line), "") << "input: " << testing::PrintableForTest(line);
      }
    }
  }
  // IPv4 address-literals and what is almost one: groups of 0-4 digits of
  // every value to 999, three to five groups, other octets, and each end.
  for (int round = 0; round < 3000; ++round) {
    std::string lit = "[";
    const int groups = 3 + static_cast<int>(rng() % 3);
    for (int g = 0; g < groups; ++g) {
      if (g > 0) lit += rng() % 16 == 0 ? "" : rng() % 24 == 0 ? ":" : ".";
      const unsigned digits = rng() % 16 == 0 ? 0 : rng() % 8 == 0 ? 4 : 1 + rng() % 3;
      const std::string v = std::to_string(rng() % (rng() % 2 ? 1000 : 256));
      lit += std::string(digits > v.size() ? digits - v.size() : 0, '0') +
             v.substr(0, std::min<std::size_t>(digits, v.size()));
    }
    static const std::string_view kEnds[] = {"]>", "]> SIZE=1", "]", "]x>", ">", "]]>", "x]>"};
    lit += kEnds[rng() % 7];
    const std::string in = "<" + word(1 + rng() % 10, false) + "@" + lit;
    ASSERT_EQ(testing::GrammarDiff(in), "") << "input: " << testing::PrintableForTest(in);
  }
  // Quoted-strings: qtext with SP, "\\" pairs, DQUOTEs, controls and 8-bit
  // octets, then "@" and a Domain or something else.
  static const std::string_view kQuoted[] = {"a",    "Z",        "9",    " ",   ".",  "@",
                                             "<",    ">",        "\\\"", "\\x", "\"", "\t",
                                             "\x7f", "\xc3\xa9", "\\",   "]"};
  for (int round = 0; round < 3000; ++round) {
    std::string q = "\"";
    const std::size_t len = rng() % 24;
    while (q.size() < len) {
      const unsigned roll = rng() % 64;
      q += roll < 40 ? std::string(1, "dave smith.-"[roll % 12]) : std::string(kQuoted[roll % 16]);
    }
    q += rng() % 8 == 0 ? "" : "\"";
    static const std::string_view kAfter[] = {"@", "@", "@", "@", "x@", "", "@[1.2.3.4]"};
    const std::string in = "<" + q + std::string(kAfter[rng() % 7]) +
                           word(rng() % 30, rng() % 4 == 0) + (rng() % 8 == 0 ? "" : ">") +
                           std::string(kTails[rng() % 9]);
    ASSERT_EQ(testing::GrammarDiff(in), "") << "input: " << testing::PrintableForTest(in);
  }
  // "<>" and "<Postmaster>" (FastPathInto), and what is almost them.
  for (const std::string_view in :
       {"<>", "<> SIZE=1", "<>x", "<> ", "<>>", "<Postmaster>", "<postMASTER> NOTIFY=NEVER",
        "<Postmaster", "<Postmaster >", "<Postmasterx>", "<Postmaste>", "<Postmaster@x.org>",
        "<Postmaster@example.com> SIZE=1", "<P\x10stmaster>", "<Postmaster>>", "<Post-aster>",
        "<>\xc3\xa9", "<Postmaster> SMTPUTF8"}) {
    ASSERT_EQ(testing::GrammarDiff(in), "") << "input: " << testing::PrintableForTest(in);
  }
  if (BestScanImpl() != ScanImpl::kScalar) {
    SetScanImpl(BestScanImpl());
    Path p;
    EXPECT_EQ(internal::FastPathInto("<> SIZE=1", false, Limits{}, &p), 2u);
    EXPECT_TRUE(p.is_null);
    EXPECT_EQ(internal::FastPathInto("<>", true, Limits{}, &p), 0u);  // kEmptyPath
    p = Path{};
    EXPECT_EQ(internal::FastPathInto("<pOSTMASTER>", true, Limits{}, &p), 12u);
    EXPECT_TRUE(p.is_postmaster);
    EXPECT_EQ(p.local_part, "pOSTMASTER");
    EXPECT_EQ(internal::FastPathInto("<Postmaster>", false, Limits{}, &p), 0u);  // kMissingAt
    internal::FastMailbox f;
    const auto fast = [&](std::string_view in) {
      return internal::FastBracketedMailbox(in, 64, 255, 256, &f);
    };
    EXPECT_TRUE(fast("<bob@example.com>"));
    EXPECT_EQ(f.at, 4u);
    EXPECT_EQ(f.gt, 16u);
    EXPECT_TRUE(fast("<carol.recipient@mail.example.com> NOTIFY=SUCCESS,FAILURE"));
    EXPECT_EQ(f.gt, 33u);
    EXPECT_TRUE(fast("<a@b.c> SIZE=12345678"));
    EXPECT_EQ(f.gt, 6u);
    EXPECT_FALSE(fast("<a@b.c>"));  // fewer than 16 octets
    EXPECT_FALSE(fast("<.bob@example.com>"));
    EXPECT_FALSE(fast("<bob.@example.com>"));
    EXPECT_FALSE(fast("<b..ob@example.com>"));
    EXPECT_FALSE(fast("<bob@-example.com>"));
    EXPECT_FALSE(fast("<bob@example-.com>"));
    EXPECT_FALSE(fast("<bob@example..com>"));
    EXPECT_FALSE(fast("<bob@example.com.>"));
    EXPECT_FALSE(fast("<bob@example.com-> "));
    EXPECT_FALSE(fast("<b_b@example.com>"));    // "_" and "+": the scalar parse
    EXPECT_FALSE(fast("<\"b\"@example.com>"));  // Quoted-string: FastQuotedMailbox
    EXPECT_TRUE(internal::FastQuotedMailbox("<\"dave smith\"@example.net>", 64, 255, 256, &f));
    EXPECT_EQ(f.at, 13u);
    EXPECT_EQ(f.gt, 25u);
    EXPECT_FALSE(internal::FastQuotedMailbox("<\"dave\\ smith\"@example.net>", 64, 255, 256, &f));
    EXPECT_FALSE(internal::FastQuotedMailbox("<\"dave smith\"@example.net>", 11, 255, 256, &f));
    EXPECT_TRUE(internal::FastQuotedMailbox("<\"dave smith\"@example.net>", 12, 255, 256, &f));
    // The closing DQUOTE at offset 61, 62 and 63 (fuzz_command found a shift
    // by 64 there under UBSan).
    for (std::size_t close = 61; close <= 63; ++close) {
      const std::string q = "<\"" + std::string(close - 2, 'q') + "\"@d.example> SIZE=1";
      EXPECT_FALSE(internal::FastQuotedMailbox(q, 255, 255, 256, &f)) << close;
      ASSERT_EQ(testing::GrammarDiff(q), "") << close;
    }
    p = Path{};
    EXPECT_EQ(internal::FastPathInto("<\"dave smith\"@example.net>", true, Limits{}, &p), 26u);
    EXPECT_TRUE(p.quoted_local_part);
    EXPECT_EQ(p.local_part, "\"dave smith\"");
    EXPECT_EQ(p.domain, "example.net");
    EXPECT_TRUE(fast("<ops@[192.0.2.17]> SIZE=1"));  // IPv4 address-literal
    EXPECT_EQ(f.kind, DomainKind::kIpv4Literal);
    EXPECT_EQ(f.gt, 17u);
    EXPECT_FALSE(fast("<ops@[192.0.2.256]> SIZE=1"));
    EXPECT_FALSE(fast("<ops@[192.0.2.0017]> SIZE=1"));
    EXPECT_FALSE(fast("<ops@[192.0.2]> SIZE=1"));
    EXPECT_FALSE(fast("<bob@[IPv6:::1]> SIZE=1"));
    EXPECT_FALSE(fast("<bob@example.com x"));  // no ">"
    EXPECT_FALSE(fast("bob@example.com> x"));  // no "<"
    EXPECT_FALSE(internal::FastBracketedMailbox("<bob@example.com>", 2, 255, 256, &f));
    EXPECT_FALSE(internal::FastBracketedMailbox("<bob@example.com>", 64, 10, 256, &f));
    EXPECT_FALSE(internal::FastBracketedMailbox("<bob@example.com>", 64, 255, 16, &f));
    EXPECT_TRUE(internal::FastBracketedMailbox("<bob@example.com>", 3, 11, 17, &f));
    const std::string long_path = "<" + std::string(30, 'a') + "@" + std::string(31, 'b') + ">";
    EXPECT_TRUE(fast(long_path));                    // the ">" at offset 63
    EXPECT_FALSE(fast("<a" + long_path.substr(1)));  // at offset 64
  }
}

}  // namespace
}  // namespace smtp
