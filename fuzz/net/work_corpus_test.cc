#include "fuzz/net/work_corpus.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;

class WorkCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "work-corpus-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    base_ = root_ / "base";
    out_ = root_ / "out" / "corpus";
    fs::create_directories(base_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Put(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary) << bytes;
  }
  static std::string Get(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  static std::set<std::string> Names(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
  }

  fs::path root_, base_, out_;
};

// SHA-1 names, as libFuzzer gives them.
constexpr char kAbc[] = "a9993e364706816aba3e25717850c26c9cd0d89d";  // "abc"
constexpr char kXyz[] = "66b27417d37e024c46526c2f6d358a754fc552f3";  // "xyz"

TEST_F(WorkCorpusTest, MirrorsNewAndDeletedFilesAndRemovesItsDirectory) {
  auto wc = WorkCorpus::Create(base_.string(), out_.string());
  ASSERT_TRUE(wc.ok()) << wc.status();
  const fs::path dir = (*wc)->dir();
  EXPECT_EQ(dir.parent_path().parent_path(), base_);
  EXPECT_TRUE(fs::is_directory(out_));  // created

  Put(dir / kAbc, "abc");
  Put(dir / kXyz, "xyz");
  ASSERT_TRUE((*wc)->Sync().ok());
  EXPECT_EQ(Names(out_), (std::set<std::string>{kAbc, kXyz}));
  EXPECT_EQ(Get(out_ / kAbc), "abc");
  EXPECT_EQ((*wc)->copied(), 2u);

  // libFuzzer replaced one by a smaller input: gone from OUT/corpus too.
  fs::remove(dir / kXyz);
  Put(dir / "plain-name", "not a libFuzzer name");
  ASSERT_TRUE((*wc)->Sync().ok());
  EXPECT_EQ(Names(out_), (std::set<std::string>{kAbc, "plain-name"}));
  EXPECT_EQ((*wc)->removed(), 1u);

  ASSERT_TRUE((*wc)->Close().ok());
  EXPECT_FALSE(fs::exists(dir.parent_path()));
  EXPECT_EQ(Names(out_), (std::set<std::string>{kAbc, "plain-name"}));
  EXPECT_TRUE((*wc)->Close().ok());  // once
}

TEST_F(WorkCorpusTest, LeavesAnEarlierRunsFilesAlone) {
  fs::create_directories(out_);
  Put(out_ / kAbc, "abc");  // an earlier run's
  auto wc = WorkCorpus::Create(base_.string(), out_.string());
  ASSERT_TRUE(wc.ok()) << wc.status();
  Put(fs::path((*wc)->dir()) / kAbc, "abc");
  ASSERT_TRUE((*wc)->Sync().ok());
  EXPECT_EQ((*wc)->copied(), 0u);
  fs::remove(fs::path((*wc)->dir()) / kAbc);
  ASSERT_TRUE((*wc)->Close().ok());
  EXPECT_EQ(Names(out_), (std::set<std::string>{kAbc}));  // not this run's to delete
}

TEST_F(WorkCorpusTest, AFileStillBeingWrittenWaitsForTheNextSync) {
  auto wc = WorkCorpus::Create(base_.string(), out_.string());
  ASSERT_TRUE(wc.ok()) << wc.status();
  Put(fs::path((*wc)->dir()) / kAbc, "ab");  // half of "abc"
  ASSERT_TRUE((*wc)->Sync().ok());
  EXPECT_TRUE(Names(out_).empty());
  Put(fs::path((*wc)->dir()) / kAbc, "abc");
  ASSERT_TRUE((*wc)->Sync().ok());
  EXPECT_EQ(Get(out_ / kAbc), "abc");
  ASSERT_TRUE((*wc)->Close().ok());
}

TEST_F(WorkCorpusTest, AFailedLastCopyKeepsTheDirectory) {
  auto wc = WorkCorpus::Create(base_.string(), out_.string());
  ASSERT_TRUE(wc.ok()) << wc.status();
  Put(fs::path((*wc)->dir()) / kAbc, "abc");
  fs::remove_all(out_);
  Put(out_, "a file where the directory was");  // writes under it fail
  const absl::Status st = (*wc)->Close();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find((*wc)->dir()), std::string_view::npos) << st;
  EXPECT_EQ(Get(fs::path((*wc)->dir()) / kAbc), "abc");
}

TEST_F(WorkCorpusTest, RemovesOnlyStaleDirectories) {
  // A live one (its owner holds the lock) and a dead one (lock free), both
  // old enough; a young unlocked one (its owner may be about to lock it).
  auto live = WorkCorpus::Create(base_.string(), out_.string());
  ASSERT_TRUE(live.ok()) << live.status();
  const fs::path live_root = fs::path((*live)->dir()).parent_path();
  const fs::path dead = base_ / (std::string(WorkCorpus::kDirPrefix) + "dead00");
  const fs::path young = base_ / (std::string(WorkCorpus::kDirPrefix) + "young0");
  const fs::path other = base_ / "something-else";
  for (const fs::path& d : {dead, young, other}) {
    fs::create_directories(d / "corpus");
    Put(d / "lock", "");
  }
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(1);
  for (const fs::path& d : {dead, live_root, other}) fs::last_write_time(d, old);

  EXPECT_EQ(WorkCorpus::RemoveStale(base_.string()), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live_root));
  EXPECT_TRUE(fs::exists(young));
  EXPECT_TRUE(fs::exists(other));
  ASSERT_TRUE((*live)->Close().ok());
}

TEST_F(WorkCorpusTest, ChoosesTheFirstBaseWithRoomElseNone) {
  const std::string small = (root_ / "small").string(), big = (root_ / "big").string();
  fs::create_directories(small);
  fs::create_directories(big);
  auto free = [&](const std::string& d) -> std::optional<std::uint64_t> {
    return d == small ? 1000 : 1'000'000;
  };
  EXPECT_EQ(WorkCorpus::ChooseBase({"/no/such/dir", small, big}, 5000, free), big);
  EXPECT_EQ(WorkCorpus::ChooseBase({small}, 5000, free), std::nullopt);
  EXPECT_EQ(WorkCorpus::ChooseBase({small}, 500, free), small);
  auto unknown = [](const std::string&) -> std::optional<std::uint64_t> { return std::nullopt; };
  EXPECT_EQ(WorkCorpus::ChooseBase({big}, 1, unknown), std::nullopt);
  EXPECT_TRUE(WorkCorpus::FreeBytes(big).has_value());
  EXPECT_EQ(WorkCorpus::DefaultBases().front(), "/dev/shm");
}

}  // namespace
}  // namespace smtp::fuzz
