#include "reports/junit.h"

#include <string>

#include <gtest/gtest.h>

#include "reports/test_util.h"

namespace smtp::reports {
namespace {

using namespace smtp::reports::testing;

ScenarioResult Bare(std::string id, Verdict v, std::string group) {
  ScenarioResult s;
  s.id = std::move(id);
  s.title = "T " + s.id;
  s.group = std::move(group);
  s.level = "MUST";
  s.verdict = v;
  s.duration_us = 2600;
  return s;
}

TEST(RenderJunit, Golden) {
  ScenarioResult pass = Bare("a", Verdict::kPass, "RFC 5321 §4.1");
  pass.file = "rfc5321/a.json";
  pass.transcript.AddDataAt(12, Direction::kServerToClient, "220 mx\r\n");
  ScenarioResult fail = Bare("b", Verdict::kFail, "RFC 5321 §4.1");
  fail.rfc_document = "RFC 5321";
  fail.rfc_section = "4.1.1.1";
  fail.failure = harness::Failure{.step = 1,
                                  .step_label = "step 2 (expect)",
                                  .expected = "code 250",
                                  .actual = "550 <no>",
                                  .message = "expected 250, got 550"};
  ScenarioResult skip = Bare("c", Verdict::kSkip, "");
  skip.reason = "no STARTTLS";
  ScenarioResult error = Bare("d", Verdict::kError, "");
  error.reason = "connection refused";
  RunResult run;
  run.started_at = "2024-05-01T12:00:00Z";
  run.duration_us = 1'000'000;
  run.target.target = "127.0.0.1:25";
  run.scenarios = {pass, fail, skip, error};

  const std::string props =
      "    <properties>\n"
      "      <property name=\"target\" value=\"127.0.0.1:25\"/>\n"
      "      <property name=\"started_at\" value=\"2024-05-01T12:00:00Z\"/>\n"
      "    </properties>\n";
  const std::string want =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"smtp-harness\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\" "
      "time=\"1.000\">\n"
      "  <testsuite name=\"RFC 5321 §4.1\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" "
      "time=\"0.005\" timestamp=\"2024-05-01T12:00:00Z\">\n" +
      props +
      "    <testcase classname=\"RFC 5321 §4.1\" name=\"a: T a\" time=\"0.003\" "
      "file=\"rfc5321/a.json\">\n"
      "      <system-out>+0.000012 S: 220 mx\\r\\n\n</system-out>\n"
      "    </testcase>\n"
      "    <testcase classname=\"RFC 5321 §4.1\" name=\"b: T b\" time=\"0.003\">\n"
      "      <failure message=\"expected 250, got 550\" type=\"MUST\">expected 250, got 550\n"
      "step:     step 2 (expect)\n"
      "expected: code 250\n"
      "actual:   550 &lt;no&gt;\n"
      "rfc:      RFC 5321 section 4.1.1.1\n"
      "</failure>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "  <testsuite name=\"(ungrouped)\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"1\" "
      "time=\"0.005\" timestamp=\"2024-05-01T12:00:00Z\">\n" +
      props +
      "    <testcase classname=\"(ungrouped)\" name=\"c: T c\" time=\"0.003\">\n"
      "      <skipped message=\"no STARTTLS\"/>\n"
      "    </testcase>\n"
      "    <testcase classname=\"(ungrouped)\" name=\"d: T d\" time=\"0.003\">\n"
      "      <error message=\"connection refused\" type=\"error\">connection refused\n"
      "</error>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "</testsuites>\n";
  EXPECT_EQ(RenderJunit(run), want);
}

TEST(RenderJunit, EmptyRunIsAnEmptySuiteList) {
  RunResult run;
  EXPECT_EQ(RenderJunit(run),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<testsuites name=\"smtp-harness\" tests=\"0\" failures=\"0\" errors=\"0\" "
            "skipped=\"0\" time=\"0.000\">\n</testsuites>\n");
}

// Groups keep the order of their first scenario; a group's scenarios stay
// together even when interleaved in the run.
TEST(RenderJunit, GroupsInFirstAppearanceOrder) {
  RunResult run =
      MakeRun({MakeScenario("x1", Verdict::kPass, "Z"), MakeScenario("y1", Verdict::kPass, "A"),
               MakeScenario("x2", Verdict::kPass, "Z")});
  const std::string out = RenderJunit(run);
  const auto z = out.find("<testsuite name=\"Z\" tests=\"2\"");
  const auto a = out.find("<testsuite name=\"A\" tests=\"1\"");
  ASSERT_NE(z, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  EXPECT_LT(z, a);
  EXPECT_LT(out.find("name=\"x2: "), a);
}

// Whatever a server sends, the document has no illegal characters and no
// markup of the payloads' making.
TEST(RenderJunit, HostileStringsAreInert) {
  const std::string out = RenderJunit(HostileRun());
  for (unsigned char c : out) ASSERT_TRUE(c >= 0x20 || c == '\n' || c == '\t') << int(c);
  EXPECT_EQ(out.find("<script"), std::string::npos);
  EXPECT_EQ(out.find("<img"), std::string::npos);
  EXPECT_EQ(out.find("<!--"), std::string::npos);
  EXPECT_EQ(out.find("]]>"), std::string::npos);
  EXPECT_NE(out.find("&lt;script&gt;window.__pwned=1"), std::string::npos);
  EXPECT_NE(out.find("NUL\\x00ESC\\x1b[31m\\xff\\xfe"), std::string::npos);
  // Exactly the elements we wrote: one suite, one case, one failure.
  auto count = [&](std::string_view s) {
    int n = 0;
    for (auto p = out.find(s); p != std::string::npos; p = out.find(s, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<testsuite "), 1);
  EXPECT_EQ(count("<testcase "), 1);
  EXPECT_EQ(count("<failure "), 1);
  EXPECT_EQ(count("<system-out>"), 1);
  EXPECT_EQ(count("<property "), 6);
}

}  // namespace
}  // namespace smtp::reports
