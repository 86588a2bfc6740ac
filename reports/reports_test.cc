#include "reports/reports.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/test_util.h"

namespace smtp::reports {
namespace {

namespace fs = std::filesystem;
using namespace smtp::reports::testing;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("smtp_reports_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(WriteAllReports, WritesThreeFilesThatReadBack) {
  TempDir tmp;
  const fs::path out = tmp.path() / "nested" / "run1";
  const RunResult run =
      MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kFail)});
  ASSERT_TRUE(WriteAllReports(run, out.string()).ok());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"index.html", "junit.xml", "results.json"}));

  auto back = ReadRunResultBounded((out / "results.json").string());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(harness::ToJson(*back), harness::ToJson(run));
  auto html = ReadFileBounded((out / "index.html").string(), 1 << 24);
  ASSERT_TRUE(html.ok());
  EXPECT_NE(html->find("id=\"report-data\""), std::string::npos);
  auto xml = ReadFileBounded((out / "junit.xml").string(), 1 << 24);
  ASSERT_TRUE(xml.ok());
  EXPECT_NE(xml->find("<testcase classname=\"RFC 5321 §4.1.1\" name=\"b: title of b\""),
            std::string::npos);

  // Writing again (a live run progressing) replaces the files.
  RunResult more = run;
  more.scenarios.push_back(MakeScenario("c", Verdict::kSkip));
  ASSERT_TRUE(WriteAllReports(more, out.string()).ok());
  back = ReadRunResultBounded((out / "results.json").string());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->scenarios.size(), 3u);
}

TEST(WriteAllReports, FailsWhenTheDirectoryCannotBeMade) {
  TempDir tmp;
  std::ofstream(tmp.path() / "file") << "x";
  const absl::Status st = WriteAllReports(MakeRun({}), (tmp.path() / "file" / "sub").string());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("file"), std::string::npos);
}

TEST(ReadFileBounded, Limits) {
  TempDir tmp;
  const std::string path = (tmp.path() / "f").string();
  std::ofstream(path) << std::string(100'000, 'x');
  EXPECT_EQ(ReadFileBounded(path, 100'000).value().size(), 100'000u);
  EXPECT_EQ(ReadFileBounded(path, 99'999).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReadFileBounded(path + "missing", 10).status().code(), absl::StatusCode::kNotFound);
}

TEST(ReadRunResultBounded, RejectsGarbageNamingTheFile) {
  TempDir tmp;
  const std::string path = (tmp.path() / "results.json").string();
  struct Case {
    std::string text, error;
  } cases[] = {
      {"not json", "not valid JSON"},
      {"{\"schema_version\": 99, \"scenarios\": []}", "schema_version 99"},
      {"{\"schema_version\": 1}", "missing 'scenarios'"},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "not valid JSON"},
  };
  for (const auto& c : cases) {
    std::ofstream(path, std::ios::trunc) << c.text;
    auto r = ReadRunResultBounded(path);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
  }
}

// The hand-written fixtures (also used by the CLI and browser tests) load.
TEST(Fixtures, Load) {
  for (const char* name : {"small_results.json", "hostile_results.json", "live_results.json"}) {
    auto r = ReadRunResultBounded(std::string(SMTP_REPORTS_TESTDATA) + "/" + name);
    EXPECT_TRUE(r.ok()) << name << ": " << r.status();
  }
}

}  // namespace
}  // namespace smtp::reports
