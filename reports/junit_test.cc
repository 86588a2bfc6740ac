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
  fail.transcript.AddDataAt(12, Direction::kServerToClient, "550 <no>\r\n");
  ScenarioResult finding = Bare("e", Verdict::kFail, "RFC 5321 §4.1");
  finding.level = "SHOULD";
  finding.failure = harness::Failure();
  finding.failure->expected = "code 250";
  finding.failure->actual = "451";
  finding.failure->message = "got 451";
  ScenarioResult skip = Bare("c", Verdict::kSkip, "");
  skip.reason = "no STARTTLS";
  ScenarioResult error = Bare("d", Verdict::kError, "");
  error.reason = "connection refused";
  RunResult run;
  run.started_at = "2024-05-01T12:00:00Z";
  run.duration_us = 1'000'000;
  run.target.target = "127.0.0.1:25";
  run.scenarios = {pass, fail, finding, skip, error};

  const std::string props =
      "    <properties>\n"
      "      <property name=\"target\" value=\"127.0.0.1:25\"/>\n"
      "      <property name=\"started_at\" value=\"2024-05-01T12:00:00Z\"/>\n"
      "      <property name=\"fail_on\" value=\"MUST,security\"/>\n"
      "    </properties>\n";
  const std::string want =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"smtp-harness\" tests=\"5\" failures=\"1\" errors=\"1\" skipped=\"2\" "
      "time=\"1.000\">\n"
      "  <testsuite name=\"RFC 5321 §4.1\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" "
      "time=\"0.008\" timestamp=\"2024-05-01T12:00:00Z\">\n" +
      props +
      "    <testcase classname=\"smtp-harness.RFC 5321 §4_1\" name=\"a — T a\" time=\"0.003\" "
      "file=\"rfc5321/a.json\">\n"
      "    </testcase>\n"
      "    <testcase classname=\"smtp-harness.RFC 5321 §4_1\" name=\"b — T b\" time=\"0.003\">\n"
      "      <failure message=\"expected 250, got 550\" type=\"MUST\">expected 250, got 550\n"
      "step:     step 2 (expect)\n"
      "expected: code 250\n"
      "actual:   550 &lt;no&gt;\n"
      "rfc:      RFC 5321 section 4.1.1.1\n"
      "</failure>\n"
      "      <system-out>+0.000012 S: 550 &lt;no&gt;\\r\\n\n</system-out>\n"
      "    </testcase>\n"
      "    <testcase classname=\"smtp-harness.RFC 5321 §4_1\" name=\"e — T e\" time=\"0.003\">\n"
      "      <skipped message=\"SHOULD finding (not in fail-on MUST,security; the run does not "
      "fail on it): got 451\">got 451\n"
      "expected: code 250\n"
      "actual:   451\n"
      "</skipped>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "  <testsuite name=\"(ungrouped)\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"1\" "
      "time=\"0.005\" timestamp=\"2024-05-01T12:00:00Z\">\n" +
      props +
      "    <testcase classname=\"smtp-harness.(ungrouped)\" name=\"c — T c\" time=\"0.003\">\n"
      "      <skipped message=\"no STARTTLS\"/>\n"
      "    </testcase>\n"
      "    <testcase classname=\"smtp-harness.(ungrouped)\" name=\"d — T d\" time=\"0.003\">\n"
      "      <error message=\"connection refused\" type=\"error\">connection refused\n"
      "</error>\n"
      "    </testcase>\n"
      "  </testsuite>\n"
      "</testsuites>\n";
  EXPECT_EQ(RenderJunit(run), want);
}

JunitOptions Options(bool passing_transcripts, std::size_t max_transcript_bytes) {
  JunitOptions o;
  o.passing_transcripts = passing_transcripts;
  o.max_transcript_bytes = max_transcript_bytes;
  return o;
}

int Count(std::string_view out, std::string_view s) {
  int n = 0;
  for (auto p = out.find(s); p != std::string::npos; p = out.find(s, p + 1)) ++n;
  return n;
}

// Transcripts of passing and skipped scenarios only when asked: one passing
// test's transcript was 4.3 MB of a 5 MB file.
TEST(RenderJunit, PassingTranscriptsOnlyWhenAsked) {
  const RunResult run =
      MakeRun({MakeScenario("p", Verdict::kPass), MakeScenario("s", Verdict::kSkip),
               MakeScenario("f", Verdict::kFail), MakeScenario("e", Verdict::kError)});
  const std::string lean = RenderJunit(run);
  EXPECT_EQ(Count(lean, "<system-out>"), 2);
  const auto p = lean.find("name=\"p — ");
  ASSERT_NE(p, std::string::npos);
  EXPECT_EQ(lean.substr(p, lean.find("</testcase>", p) - p).find("<system-out>"),
            std::string::npos);
  const std::string full = RenderJunit(run, Options(true, 64 * 1024));
  EXPECT_EQ(Count(full, "<system-out>"), 4);
}

TEST(RenderJunit, TranscriptsAreCutAtTheLimit) {
  ScenarioResult s = MakeScenario("f", Verdict::kFail);
  for (int i = 0; i < 1000; ++i)
    s.transcript.AddDataAt(1000 + i, Direction::kServerToClient,
                           "250-" + std::string(60, 'x') + "\r\n");
  const std::size_t whole = s.transcript.DebugString().size();
  const RunResult run = MakeRun({s});
  const std::string out = RenderJunit(run, Options(false, 4096));
  const auto from = out.find("<system-out>") + 12;
  const std::string text = out.substr(from, out.find("</system-out>") - from);
  EXPECT_LT(text.size(), 4096u + 200);
  EXPECT_NE(text.find("[transcript cut: "), std::string::npos);
  EXPECT_NE(text.find(" of " + std::to_string(whole) + " bytes shown"), std::string::npos);
  // Cut at a line end: the line before the note is a whole transcript line.
  const auto note = text.find("[transcript cut");
  EXPECT_EQ(text.substr(note - 5, 5), "\\r\\n\n");
  EXPECT_EQ(Count(RenderJunit(run, Options(false, 0)), "[transcript cut"), 0);
}

// Only levels that decide the exit status are <failure>; a run that exits 0
// has no <failure> and no <error>, whatever failed at other levels.
TEST(RenderJunit, FailuresAreExactlyTheLevelsThatDecideTheExitStatus) {
  const char* kLevels[] = {"MUST", "SHOULD", "MAY", "policy", "security", ""};
  for (const std::vector<std::string>& fail_on :
       {RunResult::DefaultFailOn(), std::vector<std::string>{"MUST", "SHOULD", "security"},
        std::vector<std::string>{}}) {
    for (const char* level : kLevels) {
      for (Verdict v : {Verdict::kPass, Verdict::kFail, Verdict::kSkip}) {
        RunResult run = MakeRun(
            {MakeScenario("ok", Verdict::kPass), MakeScenario("x", v, "RFC 5321 §4.1.1", level)});
        run.fail_on = fail_on;
        const std::string out = RenderJunit(run);
        const bool decides = v == Verdict::kFail && run.Decides(level);
        SCOPED_TRACE(std::string(level) + " " + std::string(harness::VerdictName(v)));
        EXPECT_EQ(Count(out, "<failure "), decides ? 1 : 0);
        EXPECT_EQ(Count(out, "<error "), 0);
        EXPECT_EQ(run.ExitStatus(), decides ? 1 : 0);
        EXPECT_NE(out.find(decides ? "failures=\"1\"" : "failures=\"0\""), std::string::npos);
        if (v == Verdict::kFail && !decides) {
          EXPECT_NE(out.find(" finding (not in fail-on "), std::string::npos);
          if (fail_on.empty()) {
            EXPECT_NE(out.find("<property name=\"fail_on\" value=\"(none)\"/>"), std::string::npos);
          }
          EXPECT_NE(out.find("<system-out>"), std::string::npos);  // the transcript of a finding
        }
      }
    }
  }
}

// Jenkins reads the text after a classname's last dot as the class and the
// rest as the package: the package is always "smtp-harness", the class the
// whole group.
TEST(RenderJunit, ClassNamesSplitOnlyAfterThePackage) {
  EXPECT_EQ(JunitClassName("RFC 5321 §4.1.1.4"), "smtp-harness.RFC 5321 §4_1_1_4");
  EXPECT_EQ(JunitClassName("smuggling"), "smtp-harness.smuggling");
  EXPECT_EQ(JunitClassName(""), "smtp-harness.(ungrouped)");
  RunResult run = MakeRun({MakeScenario("rfc5321.a.b", Verdict::kFail, "RFC 5321 §4.1.1.4")});
  run.stopped = "interrupted by SIGINT";
  const std::string out = RenderJunit(run);
  for (auto p = out.find("classname=\""); p != std::string::npos;
       p = out.find("classname=\"", p + 1)) {
    const auto from = p + 11;
    const std::string cls = out.substr(from, out.find('"', from) - from);
    EXPECT_EQ(cls.rfind('.'), std::string("smtp-harness").size()) << cls;
  }
  EXPECT_NE(out.find("name=\"rfc5321.a.b — title of rfc5321.a.b\""), std::string::npos);
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
  EXPECT_LT(out.find("name=\"x2 — "), a);
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
  EXPECT_EQ(count("<skipped "), 1);  // its level is not in fail-on: a finding
  EXPECT_EQ(count("<system-out>"), 1);
  EXPECT_EQ(count("<property "), 7);
}

}  // namespace
}  // namespace smtp::reports
