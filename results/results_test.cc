#include "results/results.h"

#include <sstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace smtp::harness {
namespace {

ScenarioResult Make(std::string id, std::string level, Verdict v) {
  ScenarioResult r;
  r.id = std::move(id);
  r.level = std::move(level);
  r.verdict = v;
  return r;
}

TEST(Results, FailOnMovesTheLineAndRoundTrips) {
  RunResult run;
  run.scenarios = {Make("a", "MUST", Verdict::kPass), Make("b", "SHOULD", Verdict::kFail)};
  EXPECT_EQ(run.ExitStatus(), 0);
  EXPECT_FALSE(run.Decides("SHOULD"));
  run.fail_on = {"MUST", "SHOULD"};
  EXPECT_TRUE(run.Decides("SHOULD"));
  EXPECT_EQ(run.ExitStatus(), 1);
  auto back = RunResultFromJson(ToJson(run));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->fail_on, run.fail_on);
  EXPECT_EQ(back->ExitStatus(), 1);
  // results.json written before fail_on existed reads as the default.
  nlohmann::json old = ToJson(run);
  old.erase("fail_on");
  auto legacy = RunResultFromJson(old);
  ASSERT_TRUE(legacy.ok()) << legacy.status();
  EXPECT_EQ(legacy->fail_on, RunResult::DefaultFailOn());
  EXPECT_EQ(legacy->ExitStatus(), 0);
  run.fail_on.clear();  // --fail-on none: only harness errors fail
  run.scenarios.push_back(Make("c", "MUST", Verdict::kFail));
  EXPECT_EQ(run.ExitStatus(), 0);
}

TEST(Results, ExitStatusFollowsMustFailuresAndErrors) {
  RunResult run;
  run.scenarios = {Make("a", "MUST", Verdict::kPass), Make("b", "SHOULD", Verdict::kFail)};
  run.scenarios.push_back(Make("p", "policy", Verdict::kFail));
  EXPECT_EQ(run.ExitStatus(), 0);  // only MUST and security failures fail the run
  RunResult security = run;
  security.scenarios.push_back(Make("s", "security", Verdict::kFail));
  EXPECT_EQ(security.ExitStatus(), 1);
  run.scenarios.push_back(Make("c", "MUST", Verdict::kFail));
  EXPECT_EQ(run.ExitStatus(), 1);
  run.scenarios.push_back(Make("d", "MAY", Verdict::kError));
  EXPECT_EQ(run.ExitStatus(), 2);  // harness errors win
  Counts c = run.Totals();
  EXPECT_EQ(c.pass, 1);
  EXPECT_EQ(c.fail, 3);
  EXPECT_EQ(c.error, 1);
  EXPECT_EQ(run.TotalsForLevel("MUST").fail, 1);
}

TEST(Results, JsonRoundTripKeepsEverything) {
  RunResult run;
  run.tool_version = "0.1.0";
  run.started_at = "2026-11-29T12:00:00Z";
  run.target.target = "127.0.0.1:2525";
  run.target.banner = "mx <script>alert(1)</script>";
  run.target.ehlo_lines = {"PIPELINING", "SIZE 1000"};
  run.target.tls = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=mx"};
  ScenarioResult s = Make("rfc5321.ehlo.basic", "MUST", Verdict::kFail);
  s.rfc_document = "RFC 5321";
  s.rfc_section = "4.1.1.1";
  s.tags = {"ehlo", "core"};
  s.failure = Failure{3, "step 3 (expect)", "code 250", "500 5.5.2 what?", "EHLO rejected"};
  s.transcript.AddData(Direction::kServerToClient, std::string("220 x\r\n\x00\xff", 9));
  run.scenarios.push_back(s);

  auto back = RunResultFromJson(ToJson(run));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ToJson(*back), ToJson(run));
  ASSERT_TRUE(back->scenarios[0].failure.has_value());
  EXPECT_EQ(back->scenarios[0].failure->actual, "500 5.5.2 what?");
  EXPECT_EQ(back->target.tls->cipher, "TLS_AES_128_GCM_SHA256");
}

TEST(Results, ReplayComparisonRoundTripsBinarySafe) {
  RunResult run;
  ScenarioResult s = Make("session-000001", "replay", Verdict::kFail);
  s.replay = ReplayComparison{
      "rec/session-000001.json",
      "enhanced",
      1,
      {{"", "220 mx\r\n", "220 other\r\n", "text"},
       {std::string("RCPT TO:<a@b>\r\n\xff", 16), "250 ok\r\n", "550 5.1.1 no\r\n", "code"}}};
  run.scenarios.push_back(s);
  auto back = RunResultFromJson(ToJson(run));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->scenarios[0].replay.has_value());
  EXPECT_EQ(*back->scenarios[0].replay, *s.replay);
  nlohmann::json j = ToJson(run);
  j["scenarios"][0]["replay"]["rows"][0]["sent"] = "\\q";
  auto bad = RunResultFromJson(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("replay: a row has a bad byte escape"), std::string::npos)
      << bad.status();
}

TEST(Results, RejectsUnknownVerdictAndVersion) {
  nlohmann::json j = ToJson(RunResult{});
  j["schema_version"] = 99;
  EXPECT_FALSE(RunResultFromJson(j).ok());
  RunResult run;
  run.scenarios.push_back(Make("x", "MUST", Verdict::kPass));
  j = ToJson(run);
  j["scenarios"][0]["verdict"] = "maybe";
  auto r = RunResultFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("scenarios[0]"), std::string::npos);
}

// ParseRunResult converts each scenario while parsing (no DOM of the whole
// run) and gives what RunResultFromJson gives on the whole DOM; invalid JSON
// is reported with its line, column and byte.
TEST(ParseRunResult, EqualsTheDomAndSaysWhereJsonBreaks) {
  RunResult run;
  run.target.tls = TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=mx"};
  for (const char* id : {"a", "b", "c"}) run.scenarios.push_back(Make(id, "MUST", Verdict::kPass));
  run.scenarios[1].transcript.AddData(Direction::kClientToServer, "EHLO x\r\n");
  std::istringstream in(ToJson(run).dump(1));
  auto back = ParseRunResult(in);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(ToJson(*back), ToJson(run));

  nlohmann::json j = ToJson(run);
  j["scenarios"][2]["verdict"] = "maybe";
  std::istringstream bad_scenario(j.dump());
  EXPECT_EQ(ParseRunResult(bad_scenario).status(), RunResultFromJson(j).status());

  std::istringstream broken("{\"schema_version\": 1,\n \"scenarios\": [1,]}");
  const auto r = ParseRunResult(broken);
  ASSERT_FALSE(r.ok());
  const std::string message(r.status().message());
  EXPECT_TRUE(message.starts_with("not valid JSON: parse error at line 2, column 18: syntax error"))
      << r.status();
  EXPECT_TRUE(message.ends_with("(byte 40)")) << r.status();
}

TEST(ReadRunResult, FileErrorsSayWhy) {
  const auto r = ReadRunResult("/nonexistent/results.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot open /nonexistent/results.json: No such file or directory");
}

}  // namespace
}  // namespace smtp::harness
