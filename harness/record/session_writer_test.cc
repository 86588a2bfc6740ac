#include "harness/record/session_writer.h"

#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "results/session_file.h"

namespace smtp::harness {
namespace {

namespace fs = std::filesystem;

Transcript Session(std::string client, std::string bytes) {
  Transcript t;
  t.meta().source = "pcap";
  t.meta().client = std::move(client);
  t.meta().server = "127.0.0.1:25";
  t.AddDataAt(5, Direction::kClientToServer, bytes);
  return t;
}

TEST(SessionWriter, FileNames) {
  TranscriptMeta m;
  m.client = "127.0.0.1:40000";
  m.server = "[2001:db8::25]:25";
  EXPECT_EQ(SessionFileName(0, m), "000001-127.0.0.1_40000-2001_db8__25_25.json");
  EXPECT_EQ(SessionFileName(1234566, m).substr(0, 8), "1234567-");
}

TEST(SessionWriter, WritesEveryQueuedSession) {
  const fs::path dir = fs::path(::testing::TempDir()) / "session_writer_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  SessionWriter w(dir.string(), 3, 2);
  for (std::size_t i = 0; i < 50; ++i) {
    ASSERT_TRUE(w.Add(i, Session("10.0.0.1:" + std::to_string(1000 + i), "QUIT\r\n")).ok());
  }
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.written(), 50u);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  EXPECT_EQ(names.size(), 50u);
  EXPECT_EQ(*names.begin(), "000001-10.0.0.1_1000-127.0.0.1_25.json");
  auto t = ReadSessionFile((dir / "000050-10.0.0.1_1049-127.0.0.1_25.json").string());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SideBytes(Direction::kClientToServer), "QUIT\r\n");
  EXPECT_EQ(t->meta().client, "10.0.0.1:1049");
  fs::remove_all(dir);
}

TEST(SessionWriter, AWriteErrorStopsTheProducer) {
  SessionWriter w((fs::path(::testing::TempDir()) / "no" / "such" / "dir").string(), 1, 1);
  absl::Status st;
  for (std::size_t i = 0; i < 100 && st.ok(); ++i) st = w.Add(i, Session("10.0.0.1:1", "x"));
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("cannot write"), std::string::npos) << st;
  EXPECT_FALSE(w.Finish().ok());
  EXPECT_EQ(w.written(), 0u);
}

}  // namespace
}  // namespace smtp::harness
