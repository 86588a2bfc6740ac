#include "parser/bdat_reader.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "parser/grind_test_util.h"

namespace smtp {
namespace {

struct BdatCase {
  const char* name;
  std::uint64_t chunk_size;
  std::string input;  // bytes after the BDAT command line
  std::string chunk;  // the chunk payload
  std::string rest;   // what belongs to the next command
};

const std::vector<BdatCase>& BdatCases() {
  static const auto* cases = new std::vector<BdatCase>{
      // Shaped like RFC 3030 §4.2: a header-only chunk, then the next command.
      {"header chunk", 88,
       "To: Susan@random.com\r\nFrom: Sam@random.com\r\nSubject: This is a bodyless test "
       "message\r\n\r\nBDAT 0 LAST\r\n",
       "To: Susan@random.com\r\nFrom: Sam@random.com\r\nSubject: This is a bodyless test "
       "message\r\n\r\n",
       "BDAT 0 LAST\r\n"},
      {"zero size", 0, "QUIT\r\n", "", "QUIT\r\n"},
      // No dot-stuffing, no end marker: "\r\n.\r\n" is just payload.
      {"dots are payload", 7, "\r\n.\r\n..QUIT\r\n", "\r\n.\r\n..", "QUIT\r\n"},
      {"binary", 4, std::string("\0\r\xFF\n", 4) + "RSET\r\n", std::string("\0\r\xFF\n", 4),
       "RSET\r\n"},
      {"short", 10, "abc", "abc", ""},
  };
  return *cases;
}

// Feeds `chunks`; returns the payload and the bytes left after the chunk.
std::pair<std::string, std::string> Drive(std::uint64_t size,
                                          const std::vector<std::string_view>& chunks) {
  BdatReader r(size);
  std::string payload, rest;
  for (std::string_view c : chunks) {
    const std::string_view piece = r.Feed(c);
    EXPECT_EQ(piece.data(), c.data());  // a view into the input: zero copy
    payload += piece;
    rest += c.substr(piece.size());
    EXPECT_EQ(r.offset(), payload.size());
    EXPECT_EQ(r.remaining(), size - payload.size());
  }
  EXPECT_EQ(r.done(), payload.size() == size);
  return {payload, rest};
}

TEST(BdatReaderTest, TableAndEverySplit) {
  for (const BdatCase& c : BdatCases()) {
    SCOPED_TRACE(c.name);
    const auto whole = Drive(c.chunk_size, {c.input});
    EXPECT_EQ(whole.first, c.chunk);
    EXPECT_EQ(whole.second, c.rest);
    const auto drive = [&](const auto& chunks) { return Drive(c.chunk_size, chunks); };
    for (const auto& [how, run] : testing::Grind(c.input, drive)) {
      ASSERT_EQ(run, whole) << how;
    }
  }
}

TEST(BdatReaderTest, HugeChunkSizeDoesNotOverflow) {
  BdatReader r(UINT64_MAX);
  EXPECT_EQ(r.Feed("abc").size(), 3u);
  EXPECT_EQ(r.remaining(), UINT64_MAX - 3);
  EXPECT_FALSE(r.done());
}

TEST(BdatReaderTest, ResetStartsTheNextChunk) {
  BdatReader r(2);
  EXPECT_EQ(r.Feed("abBDAT"), "ab");
  EXPECT_TRUE(r.done());
  EXPECT_EQ(r.Feed("more"), "");
  r.Reset(3);
  EXPECT_FALSE(r.done());
  EXPECT_EQ(r.chunk_size(), 3u);
  EXPECT_EQ(r.Feed("xyz!"), "xyz");
}

}  // namespace
}  // namespace smtp
