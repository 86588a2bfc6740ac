#include "results/atomic_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace smtp {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/atomic-file-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
};

TEST_F(AtomicFile, WritesAndReplacesWholeAndLeavesNoTemporary) {
  const std::string path = (dir_ / "f.json").string();
  ASSERT_TRUE(WriteFileAtomic(path, std::string("a\0b", 3)).ok());
  EXPECT_EQ(Read(path), std::string("a\0b", 3));
  ASSERT_TRUE(WriteFileAtomicWith(path, [](std::ostream& out) { out << "second"; }).ok());
  EXPECT_EQ(Read(path), "second");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST_F(AtomicFile, AMissingDirectoryIsAnErrorNamingTheFile) {
  const std::string path = (dir_ / "no" / "f.json").string();
  const absl::Status st = WriteFileAtomic(path, "x");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(st.message()).find(path + ".tmp"), std::string::npos) << st;
}

TEST_F(AtomicFile, AFailedRenameKeepsTheOldFileAndRemovesTheTemporary) {
  // A directory where the file should go: the rename fails.
  const fs::path path = dir_ / "d";
  fs::create_directories(path / "inside");
  const absl::Status st = WriteFileAtomic(path.string(), "x");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(std::string(st.message()).find("cannot rename"), std::string::npos) << st;
  EXPECT_TRUE(fs::is_directory(path / "inside"));
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));
}

}  // namespace
}  // namespace smtp
