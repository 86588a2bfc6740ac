#include "harness/runner/progress.h"

#include <cstdio>
#include <string>

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
    ProgressPrinter quiet(f, /*enabled=*/false);
    quiet.Update(C(1, 0, 0, 0), 2);
    quiet.Finish();
  }
  std::fflush(f);
  EXPECT_EQ(std::string(buf), "");
  ProgressPrinter p(f, /*enabled=*/true, /*min_interval_ms=*/1'000'000);
  p.Update(C(1, 0, 0, 0), 3);
  p.Update(C(1, 1, 0, 0), 3);  // throttled
  p.Update(C(1, 1, 1, 0), 3);  // the last one is always drawn
  p.Finish();
  std::fclose(f);
  EXPECT_EQ(std::string(buf),
            "\r[1/3] pass 1 fail 0 skip 0 error 0\x1b[K"
            "\r[3/3] pass 1 fail 1 skip 1 error 0\x1b[K\n");
}

}  // namespace
}  // namespace smtp::runner
