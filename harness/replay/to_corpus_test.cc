#include "harness/replay/to_corpus.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "harness/replay/test_util.h"
#include "results/absl_compat.h"

namespace smtp::replay {
namespace {

using namespace std::string_literals;
using fuzz::SessionInput;
using fuzz::SessionStep;
using fuzz::StepKind;
using testing::Record;

Record Session() {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n");
  r.C("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n").S("250 ok\r\n250 ok\r\n354 go\r\n");
  r.C("..x\r\n.\r\n").S("250 queued\r\n");
  r.C("BDAT 2 LAST\r\nhi").S("250 ok\r\n");
  r.C("NOOP\n").S("250 ok\r\n");
  r.C("STARTTLS\r\n").S("220 go\r\n").Tls().C("QUIT\r\n").S("221 bye\r\n");
  return r;
}

TEST(ToCorpusTest, SessionInput) {
  const Record r = Session();
  const SessionInput in = ToSessionInput(SplitExchanges(r.t));
  EXPECT_EQ(fuzz::DebugString(in),
            "command EHLO a\n"
            "command MAIL FROM:<a@b>\n"
            "| command RCPT TO:<c@d>\n"
            "| data 4 bytes\n"
            "bdat last 2 bytes\n"
            "raw 5 bytes\n"
            "starttls\n"
            "command QUIT\n");
  EXPECT_EQ(in.steps[3].bytes, ".x\r\n");
  EXPECT_EQ(in.steps[4].bytes, "hi");
  EXPECT_EQ(in.steps[5].bytes, "NOOP\n");
}

TEST(ToCorpusTest, NonCanonicalFormsGoRawAndOpaqueTlsStops) {
  Record r;
  // The client did not stuff ".x": the body's wire form is not DotStuff of its content.
  r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n").C("a\r\n.x\r\n.\r\n").S("250 ok\r\n");
  r.C("DATA\r\n").S("354 go\r\n").C("b\x01\r\n.\r\n").S("250 ok\r\n");  // canonical
  r.C("bdat 3 last\r\nabc").S("250 ok\r\n");                            // not "BDAT 3 LAST"
  r.C("STARTTLS\r\n").S("220 go\r\n").Event(harness::EntryKind::kTlsOpaque).C("x\r\n");
  const SessionInput in = ToSessionInput(SplitExchanges(r.t));
  EXPECT_EQ(fuzz::DebugString(in),
            "command DATA\n"
            "raw 10 bytes\n"
            "data 4 bytes\n"
            "raw 16 bytes\n"
            "starttls\n");
  EXPECT_EQ(in.steps[1].bytes, "a\r\n.x\r\n.\r\n");
  EXPECT_EQ(in.steps[2].bytes, "b\x01\r\n");
}

TEST(ToCorpusTest, Seeds) {
  const Record r = Session();
  const std::vector<CorpusSeed> seeds = CorpusSeeds(SplitExchanges(r.t));
  std::map<std::string, std::vector<std::string>> by;
  for (const CorpusSeed& s : seeds) by[s.target].push_back(s.bytes);
  const std::string cmd = "\0\0\0\0"s;
  EXPECT_EQ(by["fuzz_command"],
            (std::vector<std::string>{cmd + "EHLO a\r\n", cmd + "MAIL FROM:<a@b>\r\n",
                                      cmd + "RCPT TO:<c@d>\r\n", cmd + "DATA\r\n",
                                      cmd + "BDAT 2 LAST\r\n", cmd + "NOOP\n", cmd + "STARTTLS\r\n",
                                      cmd + "QUIT\r\n"}));
  const std::string data = "\0\0\x03\0"s;
  EXPECT_EQ(by["fuzz_data"], (std::vector<std::string>{data + "\x14\0\0\0"s + "..x\r\n.\r\n",
                                                       data + "\x02\0\0\0"s + "hi"}));
  ASSERT_EQ(by["fuzz_reply"].size(), 10u);
  EXPECT_EQ(by["fuzz_reply"][0], "\0\0\0\0\x05\0"s + "220 mx\r\n");
  ASSERT_EQ(by["session"].size(), 1u);
  EXPECT_EQ(fuzz::ParseSessionInput(by["session"][0]), ToSessionInput(SplitExchanges(r.t)));
}

TEST(ToCorpusTest, Sha1Hex) {
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(ToCorpusTest, WriteCorpusNamesByHashAndDedups) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / "to_corpus_test_out";
  std::filesystem::remove_all(dir);
  const std::vector<CorpusSeed> seeds = {{"fuzz_command", "\0\0\0\0NOOP\r\n"s},
                                         {"fuzz_command", "\0\0\0\0NOOP\r\n"s},
                                         {"session", "\x01\x04NOOP"s}};
  absl::StatusOr<std::size_t> n = WriteCorpus(seeds, dir.string());
  ASSERT_TRUE(n.ok()) << Message(n.status());
  EXPECT_EQ(*n, 2u);
  const std::filesystem::path f = dir / "session" / Sha1Hex("\x01\x04NOOP"s);
  std::ifstream in(f, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "\x01\x04NOOP"s);
  EXPECT_TRUE(std::filesystem::exists(dir / "fuzz_command" / Sha1Hex("\0\0\0\0NOOP\r\n"s)));
  n = WriteCorpus(seeds, dir.string());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    files += e.is_regular_file();
  EXPECT_EQ(files, 2u);
}

}  // namespace
}  // namespace smtp::replay
