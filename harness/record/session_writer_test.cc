#include "harness/record/session_writer.h"

#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

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

class SessionWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("session_writer_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(std::size_t index, const Transcript& t) const {
    return (dir_ / SessionFileName(index, t.meta())).string();
  }
  std::set<std::string> Names() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
    return names;
  }
  fs::path dir_;
};

TEST_F(SessionWriterTest, WritesEveryQueuedSession) {
  SessionWriter::Options o;
  o.threads = 3;
  o.max_queued_bytes = 2 * SessionWriter::kMinQueuedBytes;  // two wait at most
  SessionWriter w(o);
  for (std::size_t i = 0; i < 50; ++i) {
    Transcript t = Session("10.0.0.1:" + std::to_string(1000 + i), "QUIT\r\n");
    std::string path = Path(i, t);
    ASSERT_TRUE(w.Submit(std::move(path), std::move(t)).ok());
  }
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.written(), 50u);
  EXPECT_EQ(w.completed(), 50u);
  const std::set<std::string> names = Names();
  EXPECT_EQ(names.size(), 50u);
  EXPECT_EQ(*names.begin(), "000001-10.0.0.1_1000-127.0.0.1_25.json");
  auto t = ReadSessionFile((dir_ / "000050-10.0.0.1_1049-127.0.0.1_25.json").string());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->SideBytes(Direction::kClientToServer), "QUIT\r\n");
  EXPECT_EQ(t->meta().client, "10.0.0.1:1049");
  EXPECT_FALSE(w.Submit("x", Session("10.0.0.1:1", "x")).ok());  // after Finish
}

TEST(SessionWriter, AWriteErrorIsKeptForTheProducer) {
  SessionWriter::Options o;
  o.threads = 1;
  o.max_queued_bytes = SessionWriter::kMinQueuedBytes;  // one waits at most
  SessionWriter w(o);
  const std::string path =
      (fs::path(::testing::TempDir()) / "no" / "such" / "dir" / "s.json").string();
  absl::Status st;
  WriteOutcome first;
  for (std::size_t i = 0; i < 100 && st.ok(); ++i) {
    st = w.Submit(path, Session("10.0.0.1:1", "x"), [&first, i](const WriteOutcome& out) {
      if (i == 0) first = out;
    });
  }
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("cannot write"), std::string::npos) << st;
  EXPECT_FALSE(w.Finish().ok());
  EXPECT_EQ(w.written(), 0u);
  EXPECT_EQ(first.result, WriteOutcome::Result::kFailed);
  EXPECT_EQ(first.status, st);
}

// One thread: every session reported once, in the order submitted, those
// without a path too; past max_out_bytes the file that would cross it is
// taken back and nothing more is written.
TEST_F(SessionWriterTest, InOrderWithAnOutputCap) {
  SessionWriter::Options o;
  o.threads = 1;
  std::vector<std::pair<std::size_t, WriteOutcome>> seen;
  std::uint64_t one_file = 0;
  {
    SessionWriter probe(o);
    Transcript t = Session("10.0.0.1:1", "QUIT\r\n");
    ASSERT_TRUE(probe.Submit(Path(99, t), std::move(t)).ok());
    ASSERT_TRUE(probe.Finish().ok());
    one_file = probe.out_bytes();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ASSERT_GT(one_file, 0u);
  o.max_out_bytes = 2 * one_file + one_file / 2;  // two files fit, not three
  SessionWriter w(o);
  for (std::size_t i = 0; i < 6; ++i) {
    Transcript t = Session("10.0.0.1:1", "QUIT\r\n");
    std::string path = i == 1 ? std::string() : Path(i, t);
    ASSERT_TRUE(w.Submit(std::move(path), std::move(t), [&seen, i](const WriteOutcome& out) {
                   seen.emplace_back(i, out);
                 }).ok());
  }
  ASSERT_TRUE(w.Finish().ok());
  ASSERT_EQ(seen.size(), 6u);
  using R = WriteOutcome::Result;
  const std::vector<R> want = {R::kWritten, R::kNoPath,  R::kWritten,
                               R::kOutFull, R::kOutFull, R::kOutFull};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(seen[i].first, i);
    EXPECT_EQ(seen[i].second.result, want[i]) << i;
  }
  EXPECT_EQ(w.written(), 2u);
  EXPECT_EQ(w.completed(), 6u);
  EXPECT_EQ(w.out_bytes(), 2 * one_file);
  EXPECT_EQ(Names().size(), 2u);  // the third was taken back
}

}  // namespace
}  // namespace smtp::harness
