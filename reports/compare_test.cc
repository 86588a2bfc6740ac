#include "reports/compare.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

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

TEST(RfcSectionGroup, Table) {
  struct Case {
    std::string document, section, want;
  } cases[] = {
      {"RFC 5321", "4.1.1.4", "RFC 5321 \u00a74.1"},
      {"RFC 5321", "4.5.3.1.8", "RFC 5321 \u00a74.5"},
      {"RFC 5321", "3.3", "RFC 5321 \u00a73.3"},
      {"RFC 3030", "2", "RFC 3030 \u00a72"},
      {"RFC 5321", "F.2", "RFC 5321 Appendix F"},
      {"RFC 1870", "", "RFC 1870"},
      {"", "4.1", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RfcSectionGroup(c.document, c.section), c.want) << c.document << " " << c.section;
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
      "compare: 4 scenarios x 3 targets; 1 disagree (pass vs fail), 2 missing from some target, "
      "0 coverage differences (skip or error on some target; not a disagreement)\n"
      "\n"
      "target   pass   fail   skip  error  file\n"
      "A           3      0      0      0  a.json\n"
      "B           2      1      0      0  b.json\n"
      "A #2        2      0      0      1  c.json\n"
      "\n"
      "disagree (some target passes, another fails):\n"
      "id  A        B        A #2     rfc\n"
      "b   pass     fail     pass     RFC 5321 \u00a74.1.1.1\n"
      "\n"
      "missing from some target:\n"
      "id  A        B        A #2     rfc\n"
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
  EXPECT_NE(text.find("0 disagree (pass vs fail), 1 missing from some target"), std::string::npos)
      << text;
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

// A real disagreement is a pass against a fail; a skip or an error on one
// side is a coverage difference, counted and listed apart, and alone it
// does not make compare exit 1 (issue 14: 59 of 82 "disagreements" were
// skips).
TEST(Compare, CoverageDifferencesAreNotDisagreements) {
  using V = Verdict;
  struct Case {
    std::vector<V> verdicts;
    bool disagree, coverage;
  } cases[] = {
      {{V::kPass, V::kPass}, false, false},          {{V::kPass, V::kFail}, true, false},
      {{V::kFail, V::kPass}, true, false},           {{V::kPass, V::kSkip}, false, true},
      {{V::kFail, V::kSkip}, false, true},           {{V::kPass, V::kError}, false, true},
      {{V::kSkip, V::kError}, false, true},          {{V::kSkip, V::kSkip}, false, false},
      {{V::kPass, V::kFail, V::kSkip}, true, false},
  };
  for (const Case& k : cases) {
    std::vector<NamedRun> runs;
    for (std::size_t i = 0; i < k.verdicts.size(); ++i) {
      runs.push_back({"t" + std::to_string(i), "", MakeRun({MakeScenario("x", k.verdicts[i])})});
    }
    const Comparison c = Compare(std::move(runs));
    const std::string trace = c.rows[0].cells[0] ? RenderCompareText(c) : "";
    EXPECT_EQ(c.rows[0].disagree, k.disagree) << trace;
    EXPECT_EQ(c.rows[0].coverage, k.coverage) << trace;
    EXPECT_EQ(c.disagree, k.disagree ? 1 : 0);
    EXPECT_EQ(c.coverage, k.coverage ? 1 : 0);
    EXPECT_EQ(c.differs(), k.disagree) << trace;
  }
}

TEST(Compare, CoverageRowsListedApart) {
  const RunResult a =
      MakeRun({MakeScenario("tls", Verdict::kSkip), MakeScenario("x", Verdict::kPass),
               MakeScenario("y", Verdict::kPass)});
  const RunResult b =
      MakeRun({MakeScenario("tls", Verdict::kPass), MakeScenario("x", Verdict::kFail),
               MakeScenario("y", Verdict::kPass)});
  const Comparison c = Compare({{"a", "", a}, {"b", "", b}});
  const std::string text = RenderCompareText(c);
  EXPECT_NE(text.find("1 disagree (pass vs fail), 0 missing from some target, 1 coverage "
                      "differences"),
            std::string::npos)
      << text;
  const auto dis = text.find("\ndisagree (some target passes, another fails):\n");
  const auto cov =
      text.find("\ncoverage only (skip or error on some target; not a disagreement):\n");
  ASSERT_NE(dis, std::string::npos) << text;
  ASSERT_NE(cov, std::string::npos) << text;
  EXPECT_LT(dis, text.find("\nx   "));
  EXPECT_LT(text.find("\nx   "), cov);
  EXPECT_GT(text.find("\ntls  skip     pass"), cov) << text;
  EXPECT_EQ(text.find("\ny  "), std::string::npos);
  const nlohmann::json j = ComparisonJson(c);
  EXPECT_EQ(j["summary"]["coverage"], 1);
  EXPECT_EQ(j["rows"][0]["coverage"], true);
  EXPECT_EQ(j["rows"][0]["disagree"], false);
  EXPECT_EQ(j["rows"][1]["disagree"], true);

  const Comparison only_coverage = Compare({{"a", "", a}, {"b", "", a}, {"c", "", b}});
  EXPECT_TRUE(only_coverage.differs());  // x still disagrees
  RunResult b2 = b;
  b2.scenarios[1].verdict = Verdict::kPass;
  const Comparison cov_only = Compare({{"a", "", a}, {"b", "", b2}});
  EXPECT_FALSE(cov_only.differs());
  EXPECT_NE(
      RenderCompareText(cov_only).find("no disagreements: the targets differ in coverage only"),
      std::string::npos);
}

// Each column links to the index.html beside its results.json, relative to
// the page, percent-encoded; no link when there is no such report.
TEST(Compare, ReportHref) {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("smtp_compare_href_" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* d : {"out/postfix", "out/a #b?c:d%", "elsewhere/exim", "noreport"}) {
    fs::create_directories(root / d);
    if (std::string(d) != "noreport") std::ofstream(root / d / "index.html") << "x";
  }
  const std::string page = (root / "out" / "cmp.html").string();
  EXPECT_EQ(ReportHref((root / "out/postfix/results.json").string(), page), "postfix/index.html");
  EXPECT_EQ(ReportHref((root / "out/a #b?c:d%/results.json").string(), page),
            "a%20%23b%3Fc%3Ad%25/index.html");
  EXPECT_EQ(ReportHref((root / "elsewhere/exim/results.json").string(), page),
            "../elsewhere/exim/index.html");
  EXPECT_EQ(ReportHref((root / "noreport/results.json").string(), page), "");
  EXPECT_EQ(ReportHref((root / "out/postfix/results.json").string(), ""), "");
  const RunResult r = MakeRun({MakeScenario("x", Verdict::kPass)});
  const Comparison c = Compare({{"p", (root / "out/postfix/results.json").string(), r},
                                {"n", (root / "noreport/results.json").string(), r}});
  const nlohmann::json j = ComparisonJson(c, page);
  EXPECT_EQ(j["targets"][0]["report"], "postfix/index.html");
  EXPECT_EQ(j["targets"][1]["report"], "");
  fs::remove_all(root);
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
  EXPECT_EQ(j["summary"],
            (nlohmann::json{{"rows", 4}, {"disagree", 1}, {"coverage", 0}, {"missing", 2}}));
  EXPECT_EQ(j["targets"][1]["name"], "B");
  EXPECT_EQ(j["targets"][1]["totals"]["fail"], 1);
  EXPECT_EQ(j["rows"][1]["cells"][1]["verdict"], "fail");
  EXPECT_TRUE(j["rows"][3]["cells"][0].is_null());
  EXPECT_EQ(j["rows"][1]["rfc"]["group"], "RFC 5321 \u00a74.1");  // from section 4.1.1.1
  const std::string html = RenderCompareHtml(c);
  EXPECT_NE(html.find("id=\"report-data\""), std::string::npos);
  EXPECT_NE(html.find("'disagree or missing'"), std::string::npos);
  EXPECT_NE(html.find("'coverage (skip/error)'"), std::string::npos);
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
