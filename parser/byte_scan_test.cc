#include "parser/byte_scan.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace smtp
