#include "results/session_file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "results/results.h"

namespace smtp::harness {
namespace {

namespace fs = std::filesystem;

class SessionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("session_file_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void WriteText(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  fs::path dir_;
};

Transcript Sample() {
  Transcript t;
  t.meta().source = "recorded";
  t.meta().client = "127.0.0.1:40000";
  t.meta().server = "127.0.0.1:25";
  t.meta().started_at = Iso8601Micros(1'796'342'400'123'456);
  t.AddEventAt(0, EntryKind::kConnect, "127.0.0.1:25");
  t.AddDataAt(10, Direction::kServerToClient, "220 mx ESMTP\r\n");
  t.AddDataAt(20, Direction::kClientToServer, "STARTTLS\r\n");
  t.AddDataAt(30, Direction::kServerToClient, "220 go\r\n");
  t.AddEventAt(40, EntryKind::kTlsOpaque, "not intercepted");
  return t;
}

TEST(Iso8601Micros, FormatsUtcWithMicroseconds) {
  EXPECT_EQ(Iso8601Micros(1'796'342'400'123'456), "2026-12-04T00:00:00.123456Z");
  EXPECT_EQ(Iso8601Micros(5), "1970-01-01T00:00:00.000005Z");
}

TEST_F(SessionFileTest, RoundTripKeepsMetaAndTheOpaqueTlsMark) {
  const Transcript t = Sample();
  ASSERT_TRUE(WriteSessionFile(t, Path("s.json")).ok());
  EXPECT_FALSE(fs::exists(Path("s.json.tmp")));
  auto back = ReadSessionFile(Path("s.json"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(back->meta(), t.meta());
  EXPECT_EQ(back->entries().back().kind, EntryKind::kTlsOpaque);
  EXPECT_EQ(back->entries().back().text, "not intercepted");
}

TEST_F(SessionFileTest, MetaIsOptionalAndCheckedWhenPresent) {
  WriteText("plain.json",
            R"({"version": 1, "entries": [{"t_us": 0, "kind": "s2c", "data": "220 x\r\n"}]})");
  auto plain = ReadSessionFile(Path("plain.json"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->meta().empty());
  WriteText("badmeta.json", R"({"version": 1, "meta": {"source": 7}, "entries": []})");
  auto bad = ReadSessionFile(Path("badmeta.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("badmeta.json: transcript: bad \"meta\".\"source\""),
            std::string::npos)
      << bad.status();
}

TEST_F(SessionFileTest, SyntaxErrorsNameFileLineAndColumn) {
  WriteText("broken.json", "{\"version\": 1,\n  \"entries\": [,]}");
  auto r = ReadSessionFile(Path("broken.json"));
  ASSERT_FALSE(r.ok());
  const std::string m(r.status().message());
  EXPECT_NE(m.find("broken.json: not valid JSON: parse error at line 2, column 15"),
            std::string::npos)
      << m;
}

TEST_F(SessionFileTest, BadEntriesAreNamed) {
  WriteText(
      "e.json",
      R"({"version": 1, "entries": [{"t_us": 0, "kind": "c2s", "data": "x"}, {"t_us": 1, "kind": "bogus"}]})");
  auto r = ReadSessionFile(Path("e.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("e.json: transcript entry 1: unknown \"kind\""),
            std::string::npos)
      << r.status();
}

TEST_F(SessionFileTest, OversizedFilesAreRefusedBeforeReading) {
  WriteText("big.json", std::string(1000, ' ') + "{}");
  auto r = ReadSessionFile(Path("big.json"), {.max_file_bytes = 100});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("over the limit of 100"), std::string::npos) << r.status();
  EXPECT_FALSE(ReadSessionFile(Path("missing.json")).ok());
}

TEST_F(SessionFileTest, DirectoriesAndRunResultsExpandToTheirSessions) {
  ASSERT_TRUE(fs::create_directory(Path("rec")));
  ASSERT_TRUE(WriteSessionFile(Sample(), Path("rec/b.json")).ok());
  ASSERT_TRUE(WriteSessionFile(Sample(), Path("rec/a.json")).ok());
  WriteText("rec/notes.txt", "not a session");
  RunResult run;
  ScenarioResult with;
  with.id = "S-1";
  with.transcript.AddData(Direction::kServerToClient, "220 x\r\n");
  ScenarioResult without;
  without.id = "S-2";
  run.scenarios = {with, without};
  ASSERT_TRUE(WriteRunResult(run, Path("results.json")).ok());

  auto all = ReadSessions({Path("rec"), Path("results.json")});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, Path("rec/a.json"));
  EXPECT_EQ((*all)[1].name, Path("rec/b.json"));
  EXPECT_EQ((*all)[2].name, Path("results.json") + "#S-1");
  EXPECT_EQ((*all)[2].transcript.meta().source, "run");

  ASSERT_TRUE(fs::create_directory(Path("empty")));
  auto none = ReadSessions({Path("empty")});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no session files"), std::string::npos);
}

}  // namespace
}  // namespace smtp::harness
