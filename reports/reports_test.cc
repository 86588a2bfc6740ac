#include "reports/reports.h"

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

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
  EXPECT_NE(
      xml->find("<testcase classname=\"smtp-harness.RFC 5321 §4_1_1\" name=\"b — title of b\""),
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

// Errors say where: the JSON position, the system's reason, the size and
// the limit.
TEST(ReadRunResultBounded, ErrorsSayWhereAndWhy) {
  TempDir tmp;
  const std::string path = (tmp.path() / "results.json").string();
  std::ofstream(path) << "{\n  \"schema_version\": 1,\n  \"scenarios\": [}\n";
  auto r = ReadRunResultBounded(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(path + ": not valid JSON: parse error at line 3, column 17"),
            std::string::npos)
      << r.status();
  EXPECT_NE(r.status().message().find("(byte 42)"), std::string::npos) << r.status();

  r = ReadRunResultBounded(path + ".missing");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "cannot open " + path + ".missing: No such file or directory");

  r = ReadRunResultBounded(tmp.path().string());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "cannot read " + tmp.path().string() + ": Is a directory");

  std::ofstream(path, std::ios::trunc) << std::string(3u << 20, ' ') << "{}";
  r = ReadRunResultBounded(path, 1u << 20);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), path + " is " + std::to_string((3u << 20) + 2) +
                                      " bytes, more than the limit of 1048576 bytes (1 MiB)");
}

// A non-regular file (no size up front) is cut off at the limit while read.
TEST(ReadRunResultBounded, LimitHoldsWithoutAKnownSize) {
  TempDir tmp;
  const std::string fifo = (tmp.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The reader stops at the limit and closes: the writer's rest gets EPIPE.
  const auto old_handler = std::signal(SIGPIPE, SIG_IGN);
  std::thread writer([&] {
    std::ofstream out(fifo);
    out << std::string(2u << 20, ' ');
  });
  auto r = ReadRunResultBounded(fifo, 1u << 20);
  writer.join();
  std::signal(SIGPIPE, old_handler);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_EQ(r.status().message(), fifo + " is more than the limit of 1048576 bytes (1 MiB)");
}

// Scenarios are converted while parsing; the result and the errors are those
// of converting the whole DOM, the header's errors first.
TEST(ReadRunResultBounded, StreamedReadEqualsTheDom) {
  TempDir tmp;
  const std::string path = (tmp.path() / "results.json").string();
  RunResult run = HostileRun();
  run.scenarios.push_back(MakeScenario("b", Verdict::kFail));
  ASSERT_TRUE(harness::WriteRunResult(run, path).ok());
  auto back = ReadRunResultBounded(path);
  ASSERT_TRUE(back.ok()) << back.status();
  std::ifstream in(path);
  const auto dom = harness::RunResultFromJson(nlohmann::json::parse(in));
  ASSERT_TRUE(dom.ok()) << dom.status();
  EXPECT_EQ(harness::ToJson(*back), harness::ToJson(*dom));
  EXPECT_EQ(back->scenarios.size(), 2u);

  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  nlohmann::json j = harness::ToJson(run);
  j["scenarios"][1].erase("verdict");
  std::ofstream(path, std::ios::trunc) << dump(j);
  auto bad = ReadRunResultBounded(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            path + ": " + std::string(harness::RunResultFromJson(j).status().message()));
  EXPECT_NE(bad.status().message().find("scenarios[1]"), std::string::npos) << bad.status();

  j["schema_version"] = 99;  // the header's error wins, as in RunResultFromJson
  std::ofstream(path, std::ios::trunc) << dump(j);
  bad = ReadRunResultBounded(path);
  EXPECT_NE(bad.status().message().find("schema_version 99"), std::string::npos) << bad.status();

  j = harness::ToJson(run);
  j["scenarios"] = nlohmann::json::object({{"x", harness::ToJson(run.scenarios[0])}});
  std::ofstream(path, std::ios::trunc) << dump(j);
  bad = ReadRunResultBounded(path);
  EXPECT_NE(bad.status().message().find("missing 'scenarios' array"), std::string::npos)
      << bad.status();
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
