#include "harness/run/run_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "results/absl_compat.h"

namespace smtp::run {
namespace {

const std::string kSuite = SMTP_SOURCE_DIR "/scenarios";

RunRequest Request(std::string target = "127.0.0.1:2525") {
  RunRequest r;
  r.target = std::move(target);
  r.suites = {kSuite};
  r.filter.ids = {"ext.auth.valid-credentials-235"};
  return r;
}

std::vector<std::string> Ids(const scenario::Suite& suite) {
  std::vector<std::string> ids;
  for (const scenario::Scenario& s : suite.scenarios) ids.push_back(s.id);
  return ids;
}

TEST(PrepareRun, ExplicitTarget) {
  RunRequest request = Request("127.0.0.1:2526");
  request.options.jobs = 3;
  request.options.repeat = 2;
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->target.ToString(), "127.0.0.1:2526");
  EXPECT_EQ(run->target_label, "127.0.0.1:2526");
  EXPECT_EQ(run->target_name, "");
  // A profile for the target's host and port, without credentials.
  EXPECT_EQ(*run->vars.Find("host"), "127.0.0.1");
  EXPECT_EQ(*run->vars.Find("port"), "2526");
  EXPECT_EQ(*run->vars.Find("user"), "");
  EXPECT_EQ(run->options.jobs, 3);
  EXPECT_EQ(run->options.repeat, 2);
  EXPECT_EQ(run->options.executor.deliveries, nullptr);
  EXPECT_EQ(run->options.executor.default_tls, scenario::TlsMode::kNone);
  EXPECT_FALSE(run->options.probe_starttls);
  EXPECT_EQ(Ids(run->suite), (std::vector<std::string>{"ext.auth.valid-credentials-235"}));
  EXPECT_EQ(run->suite.scenarios[0].suite_file,
            "extensions/auth/ext.auth.valid-credentials-235.json");
}

TEST(PrepareRun, TlsIsDecidedFromTargetAndFlag) {
  RunRequest request = Request("tls:127.0.0.1:465");
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->options.executor.default_tls, scenario::TlsMode::kImplicit);
  request.tls = "starttls";
  run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->options.executor.default_tls, scenario::TlsMode::kNone);
  EXPECT_TRUE(run->options.probe_starttls);
}

TEST(PrepareRun, DeliveriesFile) {
  const std::string path = ::testing::TempDir() + "run_setup_deliveries.jsonl";
  std::ofstream(path) << "";
  RunRequest request = Request();
  request.deliveries = "jsonl:" + path;
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_NE(run->deliveries, nullptr);
  EXPECT_EQ(run->options.executor.deliveries, run->deliveries.get());
  std::remove(path.c_str());
}

TEST(PrepareRun, RefusesBadRequestsWithTheirMessage) {
  const struct {
    std::function<void(RunRequest&)> change;
    std::string message;
  } kCases[] = {
      {[](RunRequest& r) { r.target = "127.0.0.1:99999"; }, "--target: "},
      {[](RunRequest& r) { r.profile_file = "/nonexistent/profile.json"; }, "/nonexistent"},
      {[](RunRequest& r) { r.deliveries = "mbox:/x"; },
       "--deliveries must be jsonl:PATH (the --sink of serve)"},
      {[](RunRequest& r) { r.deliveries = "jsonl:/nonexistent/d.jsonl"; },
       "--deliveries: /nonexistent/d.jsonl is not a readable file (start serve --sink "
       "jsonl:/nonexistent/d.jsonl first)"},
      {[](RunRequest& r) { r.options.jobs = 0; }, "--jobs out of range"},
      {[](RunRequest& r) { r.options.jobs = runner::kMaxJobs + 1; }, "--jobs out of range"},
      {[](RunRequest& r) { r.options.repeat = 0; }, "--repeat out of range"},
      {[](RunRequest& r) { r.options.rate = -1; }, "--rate must be >= 0"},
      {[](RunRequest& r) { r.options.executor.step_timeout = std::chrono::milliseconds(0); },
       "timeouts must be positive"},
      {[](RunRequest& r) { r.options.executor.scenario_timeout = std::chrono::milliseconds(-1); },
       "timeouts must be positive"},
      {[](RunRequest& r) { r.options.run_timeout = std::chrono::milliseconds(-1); },
       "--run_timeout must not be negative"},
      {[](RunRequest& r) { r.tls = "sometimes"; }, "--tls must be none, implicit or starttls"},
      {[](RunRequest& r) { r.target = "exec:cat", r.tls = "implicit"; },
       "implicit TLS is not available for exec: targets"},
      {[](RunRequest& r) { r.suites = {"/nonexistent/suite"}; },
       "/nonexistent/suite: no such file or directory"},
      {[](RunRequest& r) { r.filter.ids = {"no.such.scenario"}; },
       "no scenario matches the filters"},
  };
  for (const auto& c : kCases) {
    RunRequest request = Request();
    c.change(request);
    absl::StatusOr<PreparedRun> run = PrepareRun(request);
    ASSERT_FALSE(run.ok()) << c.message;
    EXPECT_EQ(Message(run.status()).substr(0, c.message.size()), c.message) << run.status();
  }
}

TEST(PrepareRun, EmbeddedTarget) {
  absl::StatusOr<EmbeddedTarget> embedded = StartEmbeddedTarget();
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  RunRequest request = Request("");
  request.embedded = &*embedded;
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->target.ToString(), embedded->endpoint.ToString());
  EXPECT_EQ(run->target_label, embedded->Label());
  EXPECT_EQ(run->target_name, "embedded");
  EXPECT_EQ(*run->vars.Find("user"), "test");
  EXPECT_EQ(*run->vars.Find("password"), "secret");
  EXPECT_TRUE(run->vars.IsSecret("password"));
  EXPECT_EQ(run->options.executor.deliveries, embedded->deliveries.get());

  // It speaks SMTP: the LMTP scenarios stay in the suite (the runner skips
  // them, saying why); an lmtp: target is run as LMTP.
  EXPECT_FALSE(run->options.lmtp);
  request.filter = {};
  request.filter.tags = {"lmtp"};
  run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(run->suite.scenarios.empty());
  run = PrepareRun(Request("lmtp:127.0.0.1:2424"));
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_TRUE(run->options.lmtp);

  // Its deliveries are the ones used; a deliveries file cannot replace them.
  request.deliveries = "jsonl:/tmp/x.jsonl";
  EXPECT_EQ(PrepareRun(request).status().message(),
            "--deliveries needs --target (the embedded server's are used)");
}

// The whole setup against the embedded target: AUTH with its credentials
// over STARTTLS, and a delivery read back from its memory sink.
TEST(PrepareRun, EmbeddedTargetPassesAuthAndDeliveryScenarios) {
  absl::StatusOr<EmbeddedTarget> embedded = StartEmbeddedTarget();
  ASSERT_TRUE(embedded.ok()) << embedded.status();
  RunRequest request = Request("");
  request.embedded = &*embedded;
  request.filter.ids = {"ext.auth.valid-credentials-235", "rfc5321.delivery.received-prepended"};
  request.options.jobs = 2;
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->suite.scenarios.size(), 2u);
  runner::Runner runner(runner::TargetConnector(run->target), run->options);
  const harness::RunResult result = runner.Run(run->suite.scenarios, run->vars);
  ASSERT_EQ(result.scenarios.size(), 2u);
  for (const harness::ScenarioResult& s : result.scenarios) {
    EXPECT_EQ(s.verdict, harness::Verdict::kPass) << s.id << ": " << s.reason;
    EXPECT_EQ(s.file.rfind("/", 0), std::string::npos) << s.file;  // relative to the suite
  }
  embedded->Stop();
}

TEST(PrepareRun, QuickFlagsOverrideTheProfile) {
  RunRequest request = Request();
  request.overrides.sender = "a@client.test";
  request.overrides.rcpt = "b@mx.test";
  request.overrides.client_domain = "helo.test";
  request.overrides.user = "carol";
  request.overrides.password = "pw";
  request.overrides.vars = {"extra=1", "empty="};
  absl::StatusOr<PreparedRun> run = PrepareRun(request);
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(*run->vars.Find("sender"), "a@client.test");
  EXPECT_EQ(*run->vars.Find("rcpt"), "b@mx.test");
  EXPECT_EQ(*run->vars.Find("rcpt_domain"), "mx.test");
  EXPECT_EQ(*run->vars.Find("client_domain"), "helo.test");
  EXPECT_EQ(*run->vars.Find("user"), "carol");
  EXPECT_TRUE(run->vars.IsSecret("password"));
  EXPECT_EQ(*run->vars.Find("extra"), "1");
  EXPECT_EQ(*run->vars.Find("empty"), "");

  request.overrides.vars = {"rcpt=x@y"};
  EXPECT_NE(PrepareRun(request).status().message().find("'rcpt' is a profile key"),
            absl::string_view::npos);
  request.overrides.vars = {"no-equals"};
  EXPECT_NE(PrepareRun(request).status().message().find("--var: expected NAME=VALUE"),
            absl::string_view::npos);
}

TEST(ReadCredentialsFile, UserColonPasswordOnTheFirstLine) {
  const std::string path = ::testing::TempDir() + "/creds";
  {
    std::ofstream f(path);
    f << "dave:p:w\r\nignored\n";
  }
  ProfileOverrides o;
  ASSERT_TRUE(ReadCredentialsFile(path, &o).ok());
  EXPECT_EQ(o.user, "dave");
  EXPECT_EQ(o.password, "p:w");
  {
    std::ofstream f(path);
    f << "no colon\n";
  }
  EXPECT_NE(ReadCredentialsFile(path, &o).message().find("USER:PASSWORD"), absl::string_view::npos);
  EXPECT_NE(ReadCredentialsFile(path + ".missing", &o).message().find("No such file"),
            absl::string_view::npos);
}

TEST(TargetFromProfile, HostAndPortNameTheTarget) {
  const std::string path = ::testing::TempDir() + "/profile.json";
  {
    std::ofstream f(path);
    f << R"({"host": "127.0.0.1", "port": 2626, "tls": "implicit"})";
  }
  EXPECT_EQ(TargetFromProfile(path).value_or("?"), "tls:127.0.0.1:2626");
  {
    std::ofstream f(path);
    f << R"({"rcpt": "x@y.test"})";
  }
  EXPECT_EQ(TargetFromProfile(path).value_or("?"), "");
  EXPECT_EQ(TargetFromProfile("").value_or("?"), "");
  EXPECT_FALSE(TargetFromProfile(path + ".missing").ok());
}

}  // namespace
}  // namespace smtp::run
