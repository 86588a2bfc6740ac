#include "reports/compare.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/test_util.h"

namespace smtp::reports {
namespace {

using namespace smtp::reports::testing;

TEST(ColumnName, Table) {
  struct Case {
    std::string name, target, path, want;
  } cases[] = {
      {"postfix", "127.0.0.1:25", "x/results.json", "postfix"},
      {"", "127.0.0.1:25", "x/results.json", "x"},
      {"", "", "runs/exim/results.json", "exim"},
      {"", "", "results.json", "results"},
      {"", "", "/tmp/aiosmtpd.json", "aiosmtpd"},
  };
  for (const auto& c : cases) {
    RunResult r;
    r.target.name = c.name;
    r.target.target = c.target;
    EXPECT_EQ(ColumnName(r, c.path), c.want) << c.path;
  }
}

Comparison ThreeWay() {
  // a: all pass.  b: B fails.  c: C lacks it.  d: only in C, errors.
  RunResult a = MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kPass),
                         MakeScenario("c", Verdict::kPass)});
  RunResult b = MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kFail),
                         MakeScenario("c", Verdict::kPass)});
  RunResult c = MakeRun({MakeScenario("d", Verdict::kError, "Other"),
                         MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kPass)});
  return Compare({{"A", "a.json", a}, {"B", "b.json", b}, {"A", "c.json", c}});
}

TEST(Compare, MatrixFlagsDisagreementAndMissing) {
  const Comparison c = ThreeWay();
  ASSERT_EQ(c.runs.size(), 3u);
  EXPECT_EQ(c.runs[2].name, "A #2");  // duplicate label made unique
  ASSERT_EQ(c.rows.size(), 4u);
  struct Want {
    std::string id;
    bool disagree, missing;
  } want[] = {{"a", false, false}, {"b", true, false}, {"c", false, true}, {"d", false, true}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(c.rows[i].id, want[i].id);
    EXPECT_EQ(c.rows[i].disagree, want[i].disagree) << want[i].id;
    EXPECT_EQ(c.rows[i].missing, want[i].missing) << want[i].id;
  }
  EXPECT_EQ(c.disagree, 1);
  EXPECT_EQ(c.missing, 2);
  ASSERT_TRUE(c.rows[1].cells[1].has_value());
  EXPECT_EQ(c.rows[1].cells[1]->verdict, Verdict::kFail);
  EXPECT_EQ(c.rows[1].cells[1]->actual, "550 5.1.1 no such user");
  EXPECT_FALSE(c.rows[3].cells[0].has_value());
  for (const auto& r : c.runs) {
    for (const auto& s : r.run.scenarios) EXPECT_TRUE(s.transcript.empty());
  }
}

TEST(Compare, TextSummary) {
  const std::string want =
      "compare: 4 scenarios x 3 targets; 1 disagree, 2 missing from some target\n"
      "\n"
      "target   pass   fail   skip  error  file\n"
      "A           3      0      0      0  a.json\n"
      "B           2      1      0      0  b.json\n"
      "A #2        2      0      0      1  c.json\n"
      "\n"
      "id  A        B        A #2     rfc\n"
      "b   pass     fail     pass     RFC 5321 \u00a74.1.1.1\n"
      "c   pass     pass     missing  RFC 5321 \u00a74.1.1.1\n"
      "d   missing  missing  error    RFC 5321 \u00a74.1.1.1\n";
  EXPECT_EQ(RenderCompareText(ThreeWay()), want);
}

// A scenario that one results.json has and another lacks is a difference,
// like a disagreeing verdict: compare exits 1 for it (issue 13: it exited 0
// with 253 scenarios missing from one target).
TEST(Compare, MissingScenarioIsADifference) {
  const RunResult full =
      MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kPass)});
  const RunResult partial = MakeRun({MakeScenario("a", Verdict::kPass)});
  const Comparison c = Compare({{"full", "full.json", full}, {"partial", "partial.json", partial}});
  EXPECT_EQ(c.disagree, 0);
  EXPECT_EQ(c.missing, 1);
  EXPECT_TRUE(c.differs());
  const std::string text = RenderCompareText(c);
  EXPECT_NE(text.find("0 disagree, 1 missing from some target"), std::string::npos) << text;
  EXPECT_NE(text.find("\nb   pass     missing  RFC"), std::string::npos) << text;
  EXPECT_EQ(text.find("all targets agree"), std::string::npos) << text;
  const nlohmann::json j = ComparisonJson(c);
  EXPECT_EQ(j["rows"][1]["missing"], true);
  EXPECT_TRUE(j["rows"][1]["cells"][1].is_null());

  EXPECT_FALSE(Compare({{"x", "", full}, {"y", "", full}}).differs());
  RunResult failing = full;
  failing.scenarios[1].verdict = Verdict::kFail;
  EXPECT_TRUE(Compare({{"x", "", full}, {"y", "", failing}}).differs());
}

TEST(Compare, AgreementSaysSo) {
  const RunResult a = MakeRun({MakeScenario("a", Verdict::kPass)});
  const std::string text = RenderCompareText(Compare({{"x", "", a}, {"y", "", a}}));
  EXPECT_NE(text.find("all targets agree on every scenario"), std::string::npos);
}

TEST(Compare, TerminalEscapesAreNeutralised) {
  RunResult a = MakeRun({MakeScenario("\x1b]0;pwned\x07", Verdict::kPass)});
  RunResult b = MakeRun({MakeScenario("\x1b]0;pwned\x07", Verdict::kFail)});
  const std::string text = RenderCompareText(Compare({{"\x1b[2J", "", a}, {"b", "", b}}));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_NE(text.find("\\x1b]0;pwned\\x07"), std::string::npos);
}

TEST(Compare, JsonAndHtml) {
  const Comparison c = ThreeWay();
  const nlohmann::json j = ComparisonJson(c);
  EXPECT_EQ(j["summary"], (nlohmann::json{{"rows", 4}, {"disagree", 1}, {"missing", 2}}));
  EXPECT_EQ(j["targets"][1]["name"], "B");
  EXPECT_EQ(j["targets"][1]["totals"]["fail"], 1);
  EXPECT_EQ(j["rows"][1]["cells"][1]["verdict"], "fail");
  EXPECT_TRUE(j["rows"][3]["cells"][0].is_null());
  const std::string html = RenderCompareHtml(c);
  EXPECT_NE(html.find("id=\"report-data\""), std::string::npos);
  EXPECT_NE(html.find("only rows where targets differ (disagree or missing)"), std::string::npos);
}

TEST(Compare, HostileNamesStayInData) {
  RunResult h = HostileRun();
  const std::string html = RenderCompareHtml(Compare({{h.target.name, "", h}, {"x", "", h}}));
  int scripts = 0;
  for (auto p = html.find("<script"); p != std::string::npos; p = html.find("<script", p + 1)) {
    ++scripts;
  }
  EXPECT_EQ(scripts, 3);
  EXPECT_EQ(html.find("<img"), std::string::npos);
}

}  // namespace
}  // namespace smtp::reports
