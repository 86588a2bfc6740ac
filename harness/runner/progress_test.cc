#include "harness/runner/progress.h"

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::runner {
namespace {

harness::Counts C(int pass, int fail, int skip, int error) {
  harness::Counts c;
  c.pass = pass;
  c.fail = fail;
  c.skip = skip;
  c.error = error;
  return c;
}

TEST(Progress, LineIsAlignedToTheTotal) {
  const struct {
    harness::Counts counts;
    int total;
    std::string want;
  } kCases[] = {
      {C(30, 5, 2, 0), 120, "[ 37/120] pass 30 fail 5 skip 2 error 0"},
      {C(0, 0, 0, 0), 7, "[0/7] pass 0 fail 0 skip 0 error 0"},
      {C(1, 0, 0, 0), 1000, "[   1/1000] pass 1 fail 0 skip 0 error 0"},
      {C(60, 20, 10, 10), 100, "[100/100] pass 60 fail 20 skip 10 error 10"},
  };
  for (const auto& c : kCases) EXPECT_EQ(ProgressLine(c.counts, c.total), c.want);
}

TEST(Progress, SummaryNamesMustFailures) {
  harness::RunResult run;
  harness::ScenarioResult a, b, c;
  a.level = "MUST";
  a.verdict = harness::Verdict::kFail;
  b.level = "SHOULD";
  b.verdict = harness::Verdict::kFail;
  c.level = "MUST";
  c.verdict = harness::Verdict::kPass;
  run.scenarios = {a, b, c};
  EXPECT_EQ(SummaryLine(run), "3 scenarios: 1 pass, 2 fail, 0 skip, 0 error; MUST: 1 fail");
  run.scenarios = {c};
  EXPECT_EQ(SummaryLine(run), "1 scenario: 1 pass, 0 fail, 0 skip, 0 error");
}

TEST(Progress, PrinterIsQuietWhenDisabledAndEndsTheLine) {
  char buf[512] = {};
  std::FILE* f = fmemopen(buf, sizeof buf, "w");
  ASSERT_NE(f, nullptr);
  {
    ProgressPrinter quiet(f, ProgressStyle::kNone, std::chrono::milliseconds(0));
    quiet.Update(C(1, 0, 0, 0), 2);
    quiet.Tick();
    quiet.Finish();
  }
  std::fflush(f);
  EXPECT_EQ(std::string(buf), "");
  ProgressPrinter p(f, ProgressStyle::kTerminal, std::chrono::hours(1));
  p.Update(C(1, 0, 0, 0), 3);  // the first one is drawn at once
  p.Update(C(1, 1, 0, 0), 3);  // throttled
  p.Tick();                    // a terminal is redrawn by Update only
  p.Update(C(1, 1, 1, 0), 3);  // the last one is always drawn
  p.Finish();
  std::fclose(f);
  EXPECT_EQ(std::string(buf),
            "\r[1/3] pass 1 fail 0 skip 0 error 0\x1b[K"
            "\r[3/3] pass 1 fail 1 skip 1 error 0\x1b[K\n");
}

// Off a terminal: plain lines (no \r, no escape), throttled, and Tick
// repeats the latest counts once the interval has passed.
TEST(Progress, LogStylePrintsPlainLinesPerInterval) {
  char buf[512] = {};
  std::FILE* f = fmemopen(buf, sizeof buf, "w");
  ASSERT_NE(f, nullptr);
  {
    ProgressPrinter slow(f, ProgressStyle::kLog, std::chrono::hours(1));
    slow.Update(C(1, 0, 0, 0), 2);  // within the interval: nothing,
    slow.Update(C(2, 0, 0, 0), 2);  // not even for the last scenario
    slow.Tick();
    slow.Finish();
  }
  std::fflush(f);
  EXPECT_EQ(std::string(buf), "");
  ProgressPrinter p(f, ProgressStyle::kLog, std::chrono::milliseconds(0));
  p.Tick();  // no counts yet: nothing
  p.Update(C(1, 0, 0, 0), 3);
  p.Update(C(1, 1, 0, 0), 3);
  p.Tick();
  p.Finish();  // no dangling line to end
  std::fclose(f);
  EXPECT_EQ(std::string(buf),
            "progress: [1/3] pass 1 fail 0 skip 0 error 0 (0s)\n"
            "progress: [2/3] pass 1 fail 1 skip 0 error 0 (0s)\n"
            "progress: [2/3] pass 1 fail 1 skip 0 error 0 (0s)\n");
}

harness::ScenarioResult Scenario(std::string level, harness::Verdict v) {
  harness::ScenarioResult s;
  s.level = std::move(level);
  s.verdict = v;
  return s;
}

// One line per level with scenarios, saying whether its failures decide
// the exit status; then errors, a stop, and the status.
TEST(Progress, ExitSummarySaysWhyPerLevel) {
  using harness::Verdict;
  harness::RunResult run;
  run.scenarios = {Scenario("security", Verdict::kFail), Scenario("security", Verdict::kFail),
                   Scenario("security", Verdict::kPass), Scenario("SHOULD", Verdict::kFail),
                   Scenario("MUST", Verdict::kPass),     Scenario("MAY", Verdict::kSkip)};
  EXPECT_EQ(ExitSummaryLines(run, run.ExitStatus()),
            (std::vector<std::string>{
                "MUST: 0 fail of 1",
                "SHOULD: 1 fail of 1 (finding only, not in --fail_on)",
                "MAY: 0 fail of 1",
                "security: 2 fail of 3 -> exit 1",
                "exit status 1",
            }));
  run.fail_on = {"MUST", "SHOULD"};
  EXPECT_EQ(ExitSummaryLines(run, run.ExitStatus()),
            (std::vector<std::string>{
                "MUST: 0 fail of 1",
                "SHOULD: 1 fail of 1 -> exit 1",
                "MAY: 0 fail of 1",
                "security: 2 fail of 3 (finding only, not in --fail_on)",
                "exit status 1",
            }));
  run.fail_on = {};  // --fail_on none
  run.scenarios.push_back(Scenario("MUST", Verdict::kError));
  run.stopped = "run timeout (1s) reached";
  EXPECT_EQ(ExitSummaryLines(run, run.ExitStatus()),
            (std::vector<std::string>{
                "MUST: 0 fail of 2",
                "SHOULD: 1 fail of 1 (finding only, not in --fail_on)",
                "MAY: 0 fail of 1",
                "security: 2 fail of 3 (finding only, not in --fail_on)",
                "error: 1 scenario -> exit 2 (the harness could not judge them; see their reasons)",
                "stopped: run timeout (1s) reached -> exit 2",
                "exit status 2",
            }));
  // After SIGINT the process's status is 130, and the lines say so.
  run.stopped = "interrupted by SIGINT";
  const std::vector<std::string> lines = ExitSummaryLines(run, 130);
  EXPECT_EQ(lines[lines.size() - 2], "stopped: interrupted by SIGINT -> exit 130");
  EXPECT_EQ(lines.back(), "exit status 130");
}

}  // namespace
}  // namespace smtp::runner
