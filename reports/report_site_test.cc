#include "reports/report_site.h"

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
using namespace std::string_literals;

// DIR with runs: "ok" (complete), "live" (in progress), "broken" (not
// JSON), plus entries that must never be listed or served.
class ReportSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("smtp_report_site_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("ok", MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kFail)}));
    RunResult live = MakeRun({MakeScenario("a", Verdict::kPass)}, "<b>live</b>");
    live.complete = false;
    Write("live", live);
    fs::create_directories(dir_ / "broken");
    std::ofstream(dir_ / "broken" / "results.json") << "{nope";
    Write(".hidden", MakeRun({}));
    Write("bad name", MakeRun({}));
    Write("x%2f..", MakeRun({}));
    fs::create_directories(dir_ / "empty");          // no results.json
    std::ofstream(dir_ / "results.json") << "{}";    // a file, not a run
    std::ofstream(dir_ / "secret.txt") << "secret";  // never reachable
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const RunResult& run) {
    fs::create_directories(dir_ / name);
    ASSERT_TRUE(harness::WriteRunResult(run, (dir_ / name / "results.json").string()).ok());
  }

  fs::path dir_;
};

TEST_F(ReportSiteTest, ListsOnlySafeRunDirectories) {
  ReportSite site(dir_.string());
  std::vector<std::string> names;
  for (const auto& r : site.ListRuns()) names.push_back(r.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"broken", "live", "ok"}));
  for (const auto& r : site.ListRuns()) {
    if (r.name == "ok") {
      EXPECT_TRUE(r.ok);
      EXPECT_TRUE(r.complete);
      EXPECT_EQ(r.totals.fail, 1);
    } else if (r.name == "live") {
      EXPECT_FALSE(r.complete);
    } else {
      EXPECT_FALSE(r.ok);
      EXPECT_NE(r.error.find("not valid JSON"), std::string::npos);
    }
  }
}

TEST_F(ReportSiteTest, Routes) {
  ReportSite site(dir_.string());
  struct Case {
    std::string method, target;
    int status;
    std::string content_type_prefix;
  } cases[] = {
      {"GET", "/", 200, "text/html"},
      {"HEAD", "/", 200, "text/html"},
      {"GET", "/runs.json", 200, "application/json"},
      {"GET", "/run/ok", 301, "text/plain"},
      {"GET", "/run/ok/", 200, "text/html"},
      {"GET", "/run/ok/?cache=1", 200, "text/html"},
      {"GET", "/run/ok/index.html", 200, "text/html"},
      {"GET", "/run/ok/results.json", 200, "application/json"},
      {"GET", "/run/ok/junit.xml", 200, "application/xml"},
      {"GET", "/run/live/", 200, "text/html"},
      {"GET", "/run/broken/", 500, "text/plain"},
      {"POST", "/", 405, "text/plain"},
      {"DELETE", "/run/ok/", 405, "text/plain"},
      // Nothing outside the listing, however spelt.
      {"GET", "/run/nope/", 404, "text/plain"},
      {"GET", "/run/empty/", 404, "text/plain"},
      {"GET", "/run/.hidden/", 404, "text/plain"},
      {"GET", "/run/bad name/", 404, "text/plain"},
      {"GET", "/run/bad%20name/", 404, "text/plain"},
      {"GET", "/run/x%2f../", 404, "text/plain"},
      {"GET", "/run/../secret.txt", 404, "text/plain"},
      {"GET", "/run/..%2fsecret.txt", 404, "text/plain"},
      {"GET", "/run/ok/../../secret.txt", 404, "text/plain"},
      {"GET", "/run/ok/../results.json", 404, "text/plain"},
      {"GET", "/run/ok/results.json/..", 404, "text/plain"},
      {"GET", "/run/ok/secret.txt", 404, "text/plain"},
      {"GET", "/run/ok//results.json", 404, "text/plain"},
      {"GET", "/run//", 404, "text/plain"},
      {"GET", "/run/", 404, "text/plain"},
      {"GET", "/results.json", 404, "text/plain"},
      {"GET", "/secret.txt", 404, "text/plain"},
      {"GET", "/../secret.txt", 404, "text/plain"},
      {"GET", "//etc/passwd", 404, "text/plain"},
      {"GET", "/run/ok/index.html\0"s, 404, "text/plain"},
      {"GET", "", 404, "text/plain"},
  };
  for (const auto& c : cases) {
    const HttpReply r = site.Handle(c.method, c.target);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target;
    EXPECT_TRUE(r.content_type.starts_with(c.content_type_prefix))
        << c.target << ": " << r.content_type;
    EXPECT_FALSE(r.csp.empty()) << c.target;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << c.target;
  }
  EXPECT_EQ(site.Handle("GET", "/run/ok").location, "/run/ok/");
}

TEST_F(ReportSiteTest, LivePagesPollAndCompletePagesDoNot) {
  ReportSite site(dir_.string());
  EXPECT_NE(site.Handle("GET", "/run/live/").body.find("\"poll_url\":\"results.json\""),
            std::string::npos);
  EXPECT_EQ(site.Handle("GET", "/run/ok/").body.find("\"poll_url\":"), std::string::npos);
  // The page's CSP header matches its nonce.
  const HttpReply page = site.Handle("GET", "/run/ok/");
  const auto at = page.csp.find("'nonce-");
  ASSERT_NE(at, std::string::npos);
  const std::string nonce = page.csp.substr(at + 7, page.csp.find('\'', at + 7) - at - 7);
  EXPECT_NE(page.body.find("<script nonce=\"" + nonce + "\">"), std::string::npos);
}

TEST_F(ReportSiteTest, ResultsJsonIsTheModelSafelyEscaped) {
  ReportSite site(dir_.string());
  const HttpReply r = site.Handle("GET", "/run/live/results.json");
  EXPECT_EQ(r.body.find('<'), std::string::npos);
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["target"]["name"], "<b>live</b>");
  EXPECT_FALSE(j["complete"].get<bool>());
}

TEST_F(ReportSiteTest, ListingEscapesAndFollowsChanges) {
  ReportSite site(dir_.string());
  std::string page = site.Handle("GET", "/").body;
  EXPECT_EQ(page.find("<b>live</b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;live&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(page.find("in progress"), std::string::npos);
  // The run completes: the (cached) listing notices the new file.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  RunResult done =
      MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("z", Verdict::kSkip)}, "done");
  Write("live", done);
  const auto runs = site.ListRuns();
  const auto it = std::find_if(runs.begin(), runs.end(), [](auto& r) { return r.name == "live"; });
  ASSERT_NE(it, runs.end());
  EXPECT_TRUE(it->complete);
  EXPECT_EQ(it->totals.skip, 1);
  EXPECT_EQ(it->target_name, "done");
}

// The run list says what `run` exited with: only a clean run is a green
// "complete"; a run with findings that fail it (exit 1) and one with errors
// (exit 2) are not, and findings below fail-on are shown too (issue 14:
// runs with findings were listed as a green "complete").
TEST(ReportSiteListing, StatusFollowsTheExitStatus) {
  const fs::path dir =
      fs::temp_directory_path() / ("smtp_site_status_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  struct Case {
    std::string name;
    RunResult run;
    int exit_status;
    std::string cell;
  } cases[] = {
      {"clean", MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("s", Verdict::kSkip)}), 0,
       "<span class=\"status done\">complete</span>"},
      {"must", MakeRun({MakeScenario("a", Verdict::kFail, "G", "MUST")}), 1,
       "<span class=\"status bad\">complete — findings</span>"},
      {"security", MakeRun({MakeScenario("a", Verdict::kFail, "G", "security")}), 1,
       "<span class=\"status bad\">complete — findings</span>"},
      {"errors", MakeRun({MakeScenario("a", Verdict::kError), MakeScenario("b", Verdict::kFail)}),
       2, "<span class=\"status error\">complete — errors</span>"},
      {"should",
       MakeRun({MakeScenario("a", Verdict::kFail, "G", "SHOULD"),
                MakeScenario("b", Verdict::kFail, "G", "policy")}),
       0, "<span class=\"status note\">complete — 2 findings not in fail-on</span>"},
      {"stopped", MakeRun({}), 2, "<span class=\"status bad\">stopped: interrupted</span>"},
  };
  cases[5].run.stopped = "interrupted";
  for (const Case& c : cases) {
    fs::create_directories(dir / c.name);
    ASSERT_TRUE(harness::WriteRunResult(c.run, (dir / c.name / "results.json").string()).ok());
  }
  ReportSite site(dir.string());
  const std::string page = site.Handle("GET", "/").body;
  const nlohmann::json runs = nlohmann::json::parse(site.Handle("GET", "/runs.json").body)["runs"];
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.run.ExitStatus(), c.exit_status);
    const auto row = page.find(">" + c.name + "</a>");
    ASSERT_NE(row, std::string::npos);
    const std::string tr = page.substr(row, page.find("</tr>", row) - row);
    EXPECT_NE(tr.find(c.cell), std::string::npos) << tr;
    if (c.exit_status != 0) {
      EXPECT_EQ(tr.find("status done"), std::string::npos) << tr;
    }
    bool listed = false;
    for (const auto& r : runs) {
      if (r["name"] != c.name) continue;
      listed = true;
      EXPECT_EQ(r["exit_status"], c.exit_status);
      EXPECT_EQ(r["findings"], c.name == "should" ? 2 : 0);
    }
    EXPECT_TRUE(listed);
  }
  fs::remove_all(dir);
}

// A fuzz run (DIR/NAME/fuzz.json, `smtp-harness fuzz --out`) is listed beside
// the conformance runs, marked as such, and its page is rendered on the fly.
TEST_F(ReportSiteTest, FuzzRunsAreListedAndServed) {
  fs::copy(fs::path(SMTP_REPORTS_TESTDATA) / "fuzz", dir_ / "fuzz1", fs::copy_options::recursive);
  fs::create_directories(dir_ / "fuzzbroken");
  std::ofstream(dir_ / "fuzzbroken" / "fuzz.json") << "{nope";
  ReportSite site(dir_.string());
  const auto runs = site.ListRuns();
  const auto find = [&runs](const std::string& name) {
    return std::find_if(runs.begin(), runs.end(), [&](auto& r) { return r.name == name; });
  };
  ASSERT_NE(find("fuzz1"), runs.end());
  EXPECT_EQ(find("fuzz1")->kind, RunKind::kFuzz);
  EXPECT_TRUE(find("fuzz1")->ok) << find("fuzz1")->error;
  EXPECT_TRUE(find("fuzz1")->complete);
  EXPECT_EQ(find("fuzz1")->findings, 2);
  EXPECT_EQ(find("fuzz1")->sessions, 188615);
  EXPECT_EQ(find("fuzz1")->target, "embedded:planted");
  EXPECT_EQ(find("ok")->kind, RunKind::kConformance);
  ASSERT_NE(find("fuzzbroken"), runs.end());
  EXPECT_FALSE(find("fuzzbroken")->ok);
  EXPECT_NE(find("fuzzbroken")->error.find("not valid JSON"), std::string::npos);

  const std::string page = site.Handle("GET", "/").body;
  const auto row = page.find(">fuzz1</a>");
  ASSERT_NE(row, std::string::npos);
  const std::string tr = page.substr(row, page.find("</tr>", row) - row);
  EXPECT_NE(tr.find("<td class=\"kind\">fuzz</td>"), std::string::npos) << tr;
  EXPECT_NE(tr.find("188615 sessions, 2 finding buckets"), std::string::npos) << tr;
  EXPECT_NE(tr.find("<span class=\"status bad\">complete — 2 findings</span>"), std::string::npos);
  EXPECT_NE(page.find("<td class=\"kind\">conformance</td>"), std::string::npos);
  const nlohmann::json listed = nlohmann::json::parse(site.Handle("GET", "/runs.json").body);
  int fuzz_runs = 0;
  for (const auto& r : listed["runs"]) fuzz_runs += r["kind"] == "fuzz";
  EXPECT_EQ(fuzz_runs, 2);

  const HttpReply html = site.Handle("GET", "/run/fuzz1/");
  EXPECT_EQ(html.status, 200);
  EXPECT_TRUE(html.content_type.starts_with("text/html"));
  EXPECT_NE(html.body.find("dropped-BDAT-250"), std::string::npos);
  EXPECT_EQ(html.body.find("\"poll_url\""), std::string::npos);  // complete: no polling
  EXPECT_NE(html.csp.find("'nonce-"), std::string::npos);
  const auto data = nlohmann::json::parse(site.Handle("GET", "/run/fuzz1/fuzz-data.json").body);
  EXPECT_TRUE(data["findings"][0].contains("transcript"));
  EXPECT_EQ(nlohmann::json::parse(site.Handle("GET", "/run/fuzz1/fuzz.json").body)["target"],
            "embedded:planted");
  EXPECT_EQ(site.Handle("GET", "/run/fuzz1/results.json").status, 404);
  EXPECT_EQ(site.Handle("GET", "/run/fuzz1/findings/dropped-BDAT-250/session.json").status, 404);
  EXPECT_EQ(site.Handle("GET", "/run/fuzzbroken/").status, 500);

  // In progress: the page polls its data.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto fuzz = nlohmann::json::parse(std::ifstream(dir_ / "fuzz1" / "fuzz.json"));
  fuzz["complete"] = false;
  std::ofstream(dir_ / "fuzz1" / "fuzz.json", std::ios::trunc) << fuzz.dump();
  EXPECT_NE(site.Handle("GET", "/run/fuzz1/").body.find("\"poll_url\":\"fuzz-data.json\""),
            std::string::npos);
  EXPECT_NE(site.Handle("GET", "/").body.find("<span class=\"status live\">in progress</span>"),
            std::string::npos);

  // Stopped by SIGINT (fuzz.json complete, with the reason): listed as stopped.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fuzz["complete"] = true;
  fuzz["stop_reason"] = "interrupted by SIGINT <b>";
  std::ofstream(dir_ / "fuzz1" / "fuzz.json", std::ios::trunc) << fuzz.dump();
  EXPECT_NE(
      site.Handle("GET", "/")
          .body.find("<span class=\"status bad\">stopped: interrupted by SIGINT &lt;b&gt;</span>"),
      std::string::npos);
}

TEST_F(ReportSiteTest, SizeBoundOnReads) {
  SiteLimits limits;
  limits.max_results_bytes = 64;
  ReportSite site(dir_.string(), limits);
  const HttpReply r = site.Handle("GET", "/run/ok/");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("more than the limit of 64 bytes"), std::string::npos) << r.body;
}

TEST_F(ReportSiteTest, RunCapKeepsNewest) {
  SiteLimits limits;
  limits.max_runs = 1;
  ReportSite site(dir_.string(), limits);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Write("ok", MakeRun({}));
  const auto runs = site.ListRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].name, "ok");
}

}  // namespace
}  // namespace smtp::reports
