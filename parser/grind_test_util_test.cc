#include "parser/grind_test_util.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace smtp {
namespace {

using Chunks = std::vector<std::string_view>;

// The cuts of a short input, spelt out: the reader tests rely on every one
// being there.
TEST(GrindTest, EverySplitOfAShortInput) {
  const std::string in = "abc";
  std::vector<std::string> got;
  for (const testing::Split& s : testing::EverySplit(in, /*three_way_up_to=*/3)) {
    std::string cut = s.how + ":";
    std::string joined;
    for (std::string_view c : s.chunks) {
      cut += " '" + std::string(c) + "'";
      joined += c;
      // Views into the input, never copies.
      EXPECT_TRUE(c.empty() || (c.data() >= in.data() && c.data() < in.data() + in.size()));
    }
    EXPECT_EQ(joined, in) << cut;
    got.push_back(cut);
  }
  const std::vector<std::string> want = {
      "split at 0: '' 'abc'",      "split at 1: 'a' 'bc'",      "split at 2: 'ab' 'c'",
      "split at 3: 'abc' ''",      "split at 0,0: '' '' 'abc'", "split at 0,1: '' 'a' 'bc'",
      "split at 0,2: '' 'ab' 'c'", "split at 0,3: '' 'abc' ''", "split at 1,1: 'a' '' 'bc'",
      "split at 1,2: 'a' 'b' 'c'", "split at 1,3: 'a' 'bc' ''", "split at 2,2: 'ab' '' 'c'",
      "split at 2,3: 'ab' 'c' ''", "split at 3,3: 'abc' '' ''", "byte by byte: 'a' 'b' 'c'",
  };
  EXPECT_EQ(got, want);
}

TEST(GrindTest, ThreeWayCutsOnlyUpToTheLimit) {
  EXPECT_EQ(testing::EverySplit("abcd").size(), 5u + 1u);
  EXPECT_EQ(testing::EverySplit("abcd", 3).size(), 5u + 1u);
  EXPECT_EQ(testing::EverySplit("abcd", 4).size(), 5u + 15u + 1u);
  // The empty input: one cut into two empty chunks, and no octets; with
  // three-way cuts, three empty chunks as well.
  const std::vector<testing::Split> empty = testing::EverySplit("");
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].chunks, (Chunks{"", ""}));
  EXPECT_TRUE(empty[1].chunks.empty());
  const std::vector<testing::Split> empty3 = testing::EverySplit("", 1);
  ASSERT_EQ(empty3.size(), 3u);
  EXPECT_EQ(empty3[1].chunks, (Chunks{"", "", ""}));
}

TEST(GrindTest, GrindReturnsWhatEachCutProduced) {
  const auto count = [](const Chunks& chunks) { return chunks.size(); };
  const auto produced = testing::Grind("ab", count);
  ASSERT_EQ(produced.size(), 4u);
  EXPECT_EQ(produced[0].first, "split at 0");
  EXPECT_EQ(produced[0].second, 2u);
  EXPECT_EQ(produced[3].first, "byte by byte");
  EXPECT_EQ(produced[3].second, 2u);
}

}  // namespace
}  // namespace smtp
