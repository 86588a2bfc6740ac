#include "harness/runner/runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/runner/fake_server_test_util.h"
#include "harness/runner/progress.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/suite.h"
#include "harness/test_util.h"
#include "results/absl_compat.h"

namespace smtp::runner {
namespace {

using namespace std::chrono_literals;
using harness::RunResult;
using harness::Verdict;
using testing::FakeConnector;
using testing::FakeLog;
using testing::FakeOptions;
using testing::PlainBlob;

scenario::Variables Vars() {
  scenario::TargetProfile p;
  p.user = "alice";
  p.password = "s3cret-pw";
  return p.ToVariables();
}

// The shipped starter suite.
std::vector<scenario::Scenario> CoreSuite(const scenario::SuiteFilter& filter = {}) {
  auto suite = scenario::LoadSuite({SMTP_SOURCE_DIR "/scenarios/core"}, filter);
  if (!suite.ok()) throw std::runtime_error(Message(suite.status()));
  return suite->scenarios;
}

scenario::Scenario Inline(const std::string& id, const std::string& body) {
  auto s = scenario::LoadScenarioText(SMTP_SOURCE_DIR "/scenarios/test/" + id + ".json",
                                      R"({"id": ")" + id + R"(", "title": "t", "rfc": {"document":
      "RFC 4954", "section": "4"}, "level": "SHOULD", )" +
                                          body + "}");
  if (!s.ok()) throw std::runtime_error(Message(s.status()));
  return *std::move(s);
}

RunResult RunOn(const std::vector<scenario::Scenario>& scenarios, RunnerOptions options,
                FakeOptions server = {}, FakeLog* log = nullptr, const ProgressFn& progress = {},
                const scenario::Variables& vars = Vars()) {
  asio::io_context io;
  Runner runner(FakeConnector(io.get_executor(), server, log), options);
  return harness::testing::RunSync(io, [&]() -> asio::awaitable<RunResult> {
    RunResult r = co_await runner.RunAsync(scenarios, vars, progress);
    co_return r;
  });
}

// What must not depend on scheduling: id, verdict, reason, failure.
std::vector<std::string> Digest(const RunResult& r) {
  std::vector<std::string> out;
  for (const auto& s : r.scenarios) {
    std::string d = s.id + " " + std::string(VerdictName(s.verdict)) + " " + s.reason;
    if (s.failure) d += " @" + s.failure->step_label + " " + s.failure->actual;
    out.push_back(d);
  }
  return out;
}

TEST(Runner, CoreSuitePassesAgainstTheFakeServer) {
  const auto scenarios = CoreSuite();
  ASSERT_GE(scenarios.size(), 10u);
  RunnerOptions o;
  RunResult r = RunOn(scenarios, o);
  for (const auto& s : r.scenarios) {
    EXPECT_EQ(s.verdict, Verdict::kPass) << s.id << ": " << s.reason << "\n"
                                         << s.transcript.DebugString();
    EXPECT_FALSE(s.transcript.empty()) << s.id;
    EXPECT_FALSE(s.level.empty());
    EXPECT_FALSE(s.rfc_section.empty());
  }
  EXPECT_EQ(r.target.banner, "fake.test ESMTP ready");
  EXPECT_EQ(r.target.ehlo_lines.front(), "PIPELINING");
  EXPECT_EQ(r.ExitStatus(), 0);
}

TEST(Runner, ParallelJobsGiveTheSameResultsAsOne) {
  const auto scenarios = CoreSuite();
  RunnerOptions one;
  RunnerOptions many;
  many.jobs = 8;
  FakeOptions picky;  // a server that fails some scenarios, so verdicts vary
  picky.greeting = "220-fake.test\r\n220 second line\r\n";
  picky.extensions = {};
  const RunResult a = RunOn(scenarios, one, picky);
  const RunResult b = RunOn(scenarios, many, picky);
  EXPECT_EQ(Digest(a), Digest(b));
  EXPECT_EQ(a.scenarios.size(), scenarios.size());
}

TEST(Runner, ParallelJobsOverlap) {
  // 8 scenarios sleeping 200 ms each: 8 jobs take far less than 8 × 200 ms.
  std::vector<scenario::Scenario> scenarios;
  for (int i = 0; i < 8; ++i) {
    scenarios.push_back(Inline("sleep-" + std::to_string(i),
                               R"("steps": [{"include": "greeting"}, {"sleep": {"ms": 200}}])"));
  }
  RunnerOptions o;
  o.jobs = 8;
  const auto start = harness::Clock::now();
  RunResult r = RunOn(scenarios, o);
  EXPECT_LT(harness::Clock::now() - start, 1200ms);
  EXPECT_EQ(r.Totals().pass, 8);
}

TEST(Runner, FiltersSelectScenarios) {
  const auto all = CoreSuite();
  scenario::SuiteFilter by_tag;
  by_tag.tags = {"sequence"};
  const auto seq = CoreSuite(by_tag);
  EXPECT_GE(seq.size(), 2u);
  EXPECT_LT(seq.size(), all.size());
  for (const auto& s : seq) {
    EXPECT_NE(std::find(s.tags.begin(), s.tags.end(), "sequence"), s.tags.end()) << s.id;
  }
  scenario::SuiteFilter by_level;
  by_level.levels = {scenario::Level::kShould};
  for (const auto& s : CoreSuite(by_level)) EXPECT_EQ(s.level, scenario::Level::kShould) << s.id;
  scenario::SuiteFilter by_id;
  by_id.ids = {"R5321-4.1.1.10-*"};
  const auto quit = CoreSuite(by_id);
  ASSERT_EQ(quit.size(), 1u);
  RunResult r = RunOn(quit, {});
  ASSERT_EQ(r.scenarios.size(), 1u);
  EXPECT_EQ(r.scenarios[0].id, quit[0].id);
}

TEST(Runner, SkipsWhenARequiredExtensionIsMissing) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("needs-auth", R"("requires": ["AUTH"], "steps": [{"include": "greeting"}])"),
      Inline("needs-starttls",
             R"("requires": ["STARTTLS", "SIZE"], "steps": [{"include": "greeting"}])")};
  FakeLog log;
  RunResult r = RunOn(scenarios, {}, {}, &log);
  ASSERT_EQ(r.scenarios.size(), 2u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kPass);
  EXPECT_EQ(r.scenarios[1].verdict, Verdict::kSkip);
  EXPECT_NE(r.scenarios[1].reason.find("STARTTLS"), std::string::npos) << r.scenarios[1].reason;
  EXPECT_TRUE(r.scenarios[1].transcript.empty());
  EXPECT_EQ(log.connections, 2);  // the probe and the one scenario that ran
}

// With an early-talker connector (the embedded target's second listener),
// the scenarios tagged early-talker connect there and every other one, and
// the probe, to the main connector.
TEST(Runner, EarlyTalkerScenariosUseTheirOwnConnector) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("early", R"("tags": ["early-talker"], "steps": [{"include": "greeting"}])"),
      Inline("plain", R"("steps": [{"include": "greeting"}])")};
  FakeLog main_log;
  FakeLog early_log;
  asio::io_context io;
  RunnerOptions options;
  options.early_talker_connector = FakeConnector(io.get_executor(), {}, &early_log);
  Runner runner(FakeConnector(io.get_executor(), {}, &main_log), options);
  RunResult r = harness::testing::RunSync(io, [&]() -> asio::awaitable<RunResult> {
    co_return co_await runner.RunAsync(scenarios, Vars());
  });
  ASSERT_EQ(r.scenarios.size(), 2u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kPass) << r.scenarios[0].reason;
  EXPECT_EQ(r.scenarios[1].verdict, Verdict::kPass) << r.scenarios[1].reason;
  EXPECT_EQ(early_log.connections, 1);
  EXPECT_EQ(main_log.connections, 2);  // the probe and the untagged scenario
}

TEST(Runner, UnreachableTargetStopsTheRunBeforeAnyScenario) {
  const auto scenarios = CoreSuite();
  asio::io_context io;
  Runner runner(testing::RefusingConnector(), {});
  RunResult r = harness::testing::RunSync(io, [&]() -> asio::awaitable<RunResult> {
    RunResult res = co_await runner.RunAsync(scenarios, Vars());
    co_return res;
  });
  EXPECT_TRUE(r.scenarios.empty());
  EXPECT_EQ(r.planned, static_cast<int>(scenarios.size()));
  EXPECT_NE(r.stopped.find("target unreachable: connection refused"), std::string::npos)
      << r.stopped;
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.ExitStatus(), 2);
}

// The preflight: a setup mistake is one clear stop (exit 2) saying what to
// change, not a failure per scenario (regression: a refused recipient made
// 105 MUST failures).
TEST(Runner, PreflightStopsOnARefusedRecipientAndNamesTheFlag) {
  const auto scenarios = CoreSuite();
  scenario::TargetProfile p;
  p.rcpt = "nouser@fake.test";  // the fake server answers 550 5.1.1
  FakeLog log;
  RunResult r = RunOn(scenarios, {}, {}, &log, {}, p.ToVariables());
  EXPECT_TRUE(r.scenarios.empty());
  EXPECT_NE(r.stopped.find("refuses the recipient <nouser@fake.test>: 550 5.1.1 no such user"),
            std::string::npos)
      << r.stopped;
  EXPECT_NE(r.stopped.find("--to"), std::string::npos) << r.stopped;
  EXPECT_EQ(r.ExitStatus(), 2);
  EXPECT_EQ(log.connections, 1);
  EXPECT_NE(
      r.probe.SideBytes(harness::Direction::kClientToServer).find("RCPT TO:<nouser@fake.test>\r\n"),
      std::string::npos);

  // --no_preflight: the scenarios run (and meet the refusal themselves).
  RunnerOptions off;
  off.preflight = false;
  FakeLog log2;
  RunResult all = RunOn(scenarios, off, {}, &log2, {}, p.ToVariables());
  EXPECT_TRUE(all.stopped.empty()) << all.stopped;
  EXPECT_EQ(all.scenarios.size(), scenarios.size());
  EXPECT_EQ(all.probe.SideBytes(harness::Direction::kClientToServer).find("MAIL FROM"),
            std::string::npos);
}

TEST(Runner, PreflightPassesWithAnAcceptedEnvelopeAndLeavesNoTransaction) {
  FakeLog log;
  RunResult r = RunOn(CoreSuite(), {}, {}, &log);
  EXPECT_TRUE(r.stopped.empty()) << r.stopped;
  const std::string sent = r.probe.SideBytes(harness::Direction::kClientToServer);
  EXPECT_NE(sent.find("MAIL FROM:<probe@client.example>\r\nRCPT TO:<postmaster@localhost>\r\n"
                      "RSET\r\nQUIT\r\n"),
            std::string::npos)
      << sent;
}

// Without relay checks in the run, relay trust is not asked (nothing to say).
TEST(Runner, RelayTrustIsAskedOnlyWhenTheRunHasRelayChecks) {
  FakeOptions trusting;
  trusting.relay_for_client = true;
  RunResult r = RunOn(CoreSuite(), {}, trusting);
  EXPECT_EQ(r.probe.SideBytes(harness::Direction::kClientToServer).find("relay-check"),
            std::string::npos);
  ASSERT_FALSE(r.scenarios.empty());
  EXPECT_NE(r.scenarios[0].id, "preflight.relay-trusted");
}

// A server that accepts a recipient at a domain that cannot exist relays for
// this client (or accepts everything): the relay checks cannot judge. Said
// once (preflight.relay-trusted, skip), and each relay scenario is skipped as
// inconclusive with the reason, not failed; the others run as before.
TEST(Runner, ATrustedClientMakesTheRelayChecksInconclusive) {
  std::vector<scenario::Scenario> scenarios = CoreSuite();
  scenario::SuiteFilter relay_only;
  relay_only.tags = {"relay"};
  auto relay = scenario::LoadSuite({SMTP_SOURCE_DIR "/scenarios/security"}, relay_only);
  ASSERT_TRUE(relay.ok()) << relay.status();
  ASSERT_GE(relay->scenarios.size(), 8u);
  scenarios.insert(scenarios.end(), relay->scenarios.begin(), relay->scenarios.end());
  FakeOptions trusting;
  trusting.relay_for_client = true;
  RunResult r = RunOn(scenarios, {}, trusting);
  EXPECT_NE(r.probe.SideBytes(harness::Direction::kClientToServer)
                .find("RCPT TO:<postmaster@localhost>\r\nRCPT TO:<relay-check@relay-check.invalid>"
                      "\r\nRSET\r\n"),
            std::string::npos);
  ASSERT_EQ(r.scenarios.size(), scenarios.size() + 1);
  const harness::ScenarioResult& said = r.scenarios[0];
  EXPECT_EQ(said.id, "preflight.relay-trusted");
  EXPECT_EQ(said.verdict, Verdict::kSkip);
  EXPECT_NE(said.reason.find("inconclusive: the server accepts "
                             "RCPT TO:<relay-check@relay-check.invalid> (250 2.1.5 ok)"),
            std::string::npos)
      << said.reason;
  int relay_skipped = 0;
  for (std::size_t i = 1; i < r.scenarios.size(); ++i) {
    const harness::ScenarioResult& s = r.scenarios[i];
    if (s.id.rfind("security.relay.", 0) == 0) {
      EXPECT_EQ(s.verdict, Verdict::kSkip) << s.id;
      EXPECT_EQ(s.reason, said.reason) << s.id;
      ++relay_skipped;
    } else {
      EXPECT_EQ(s.verdict, Verdict::kPass) << s.id << ": " << s.reason;
    }
  }
  EXPECT_EQ(relay_skipped, static_cast<int>(relay->scenarios.size()));
  EXPECT_EQ(r.ExitStatus(), 0);
  // The console's exit summary says it once.
  const std::vector<std::string> lines = ExitSummaryLines(r, 0);
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.rfind("relay: ", 0) == 0; }),
            1);
  EXPECT_NE(
      std::find(lines.begin(), lines.end(),
                "relay: " + std::to_string(relay_skipped) + " checks skipped as " + said.reason),
      lines.end());

  // The same server refusing strangers: the relay checks are judged (and
  // fail here, since the fake server accepts every other recipient).
  RunResult judged = RunOn(scenarios, {});
  ASSERT_EQ(judged.scenarios.size(), scenarios.size());
  int relay_failed = 0;
  for (const harness::ScenarioResult& s : judged.scenarios) {
    if (s.id.rfind("security.relay.", 0) == 0 && s.verdict == Verdict::kFail) ++relay_failed;
  }
  EXPECT_GT(relay_failed, 0);
}

// One quirk is one finding: smtp-sink ends its EHLO reply with "250 " (SP,
// no text). Without the leniency every scenario failed on it.
TEST(Runner, AReplyQuirkIsOneFindingAndTheRunReadsPastIt) {
  const auto scenarios = CoreSuite();
  FakeOptions quirky;
  quirky.extensions = {"PIPELINING", "8BITMIME", "CHUNKING", "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2",
                       ""};
  RunResult r = RunOn(scenarios, {}, quirky);
  ASSERT_EQ(r.scenarios.size(), scenarios.size() + 1);
  const harness::ScenarioResult& finding = r.scenarios[0];
  EXPECT_EQ(finding.id, "preflight.reply-syntax");
  EXPECT_EQ(finding.level, "SHOULD");
  EXPECT_EQ(finding.verdict, Verdict::kFail);
  EXPECT_NE(finding.reason.find("EHLO reply"), std::string::npos) << finding.reason;
  EXPECT_NE(finding.reason.find("trailing_whitespace"), std::string::npos) << finding.reason;
  // The offset of the "250 " line's end in the server's byte stream.
  EXPECT_NE(finding.reason.find("byte "), std::string::npos) << finding.reason;
  EXPECT_FALSE(finding.transcript.empty());
  for (std::size_t i = 1; i < r.scenarios.size(); ++i) {
    EXPECT_EQ(r.scenarios[i].verdict, Verdict::kPass)
        << r.scenarios[i].id << ": " << r.scenarios[i].reason;
  }
  EXPECT_EQ(r.ExitStatus(), 0);  // a SHOULD finding

  // Without the quirk there is no finding.
  RunResult clean = RunOn(scenarios, {});
  ASSERT_EQ(clean.scenarios.size(), scenarios.size());
  EXPECT_NE(clean.scenarios[0].id, "preflight.reply-syntax");
}

TEST(Runner, AnLmtpTargetIsProbedWithLhloAndRunsOnlyLmtpScenarios) {
  RunnerOptions o;
  o.lmtp = true;
  o.preflight = false;  // the fake server speaks SMTP: it refuses LHLO
  FakeLog log;
  const auto scenarios = CoreSuite();
  RunResult r = RunOn(scenarios, o, {}, &log);
  ASSERT_FALSE(log.lines.empty());
  EXPECT_TRUE(log.lines[0].starts_with("LHLO ")) << log.lines[0];
  for (const auto& s : r.scenarios) {
    EXPECT_EQ(s.verdict, Verdict::kSkip) << s.id;
    EXPECT_EQ(s.reason, "SMTP scenario; the target speaks LMTP") << s.id;
  }
}

// A target that cannot be tested stops the run after the probe, in about
// one step timeout, instead of timing out every scenario (regression: a
// silent server made the suite take minutes of identical timeouts).
struct DeadTargetCase {
  const char* name;
  testing::Hostile hostile;
  const char* stopped;  // substring of RunResult::stopped
};

class RunnerDeadTarget : public ::testing::TestWithParam<DeadTargetCase> {};

TEST_P(RunnerDeadTarget, StopsAfterTheProbe) {
  const auto scenarios = CoreSuite();
  FakeOptions server;
  server.hostile = GetParam().hostile;
  RunnerOptions o;
  o.jobs = 2;
  o.executor.step_timeout = 300ms;
  FakeLog log;
  const auto start = harness::Clock::now();
  RunResult r = RunOn(scenarios, o, server, &log);
  EXPECT_LT(harness::Clock::now() - start, 3s);
  EXPECT_TRUE(r.scenarios.empty());
  EXPECT_NE(r.stopped.find(GetParam().stopped), std::string::npos) << r.stopped;
  EXPECT_EQ(r.ExitStatus(), 2);
  EXPECT_EQ(log.connections, 1);  // the probe only
  EXPECT_FALSE(r.probe.entries().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Modes, RunnerDeadTarget,
    ::testing::Values(DeadTargetCase{"silent", testing::Hostile::kSilent,
                                     "no greeting within 300 ms"},
                      DeadTargetCase{"garbage", testing::Hostile::kGarbage,
                                     "the greeting is not a valid SMTP reply"},
                      DeadTargetCase{"endless", testing::Hostile::kEndlessLine,
                                     "the greeting is not a valid SMTP reply"},
                      DeadTargetCase{"early_close", testing::Hostile::kEarlyClose, "EHLO"}),
    [](const ::testing::TestParamInfo<DeadTargetCase>& info) { return info.param.name; });

// The probe reads an EHLO reply it cannot parse: the run stops, and no
// scenario is skipped for "not advertising" what could not be read.
TEST(Runner, UnreadableEhloStopsTheRun) {
  FakeOptions server;
  server.extensions = {"SIZE 100\r\n25O broken",
                       "8BITMIME"};  // a continuation line that is not a reply
  RunnerOptions o;
  o.executor.step_timeout = 300ms;
  RunResult r = RunOn(CoreSuite(), o, server);
  EXPECT_TRUE(r.scenarios.empty());
  EXPECT_NE(r.stopped.find("the EHLO reply is not a valid SMTP reply"), std::string::npos)
      << r.stopped;
}

// A scenario that waits for a reply the server never sends, and one that
// sleeps: Stop() from another thread ends both at once, records them as
// errors, and starts nothing else.
TEST(Runner, StopFromAnotherThreadEndsTheRunPromptly) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("waits", R"("steps": [{"include": "greeting"},
          {"expect": 250, "timeout_ms": 60000}], "timeout_ms": 120000)"),
      Inline("sleeps", R"("steps": [{"include": "greeting"}, {"sleep": {"ms": 60000}}],
          "timeout_ms": 120000)"),
      Inline("later", R"("steps": [{"include": "greeting"}])")};
  FakeOptions server;
  server.hostile = testing::Hostile::kNone;
  RunnerOptions o;
  o.jobs = 2;
  asio::io_context io;
  FakeLog log;
  Runner runner(FakeConnector(io.get_executor(), server, &log), o);
  std::thread stopper([&] {
    std::this_thread::sleep_for(500ms);
    runner.Stop("interrupted by SIGINT");
  });
  const auto start = harness::Clock::now();
  RunResult r;
  try {
    r = harness::testing::RunSync(io, [&]() -> asio::awaitable<RunResult> {
      RunResult res = co_await runner.RunAsync(scenarios, Vars());
      co_return res;
    });
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the run threw: " << e.what();
  }
  stopper.join();
  EXPECT_LT(harness::Clock::now() - start, 3s) << "Stop must not wait for the step deadlines";
  EXPECT_EQ(r.stopped, "interrupted by SIGINT");
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.planned, 3);
  ASSERT_EQ(r.scenarios.size(), 2u);  // "later" never started
  for (const auto& s : r.scenarios) {
    EXPECT_EQ(s.verdict, Verdict::kError) << s.id;
    EXPECT_NE(s.reason.find("interrupted (interrupted by SIGINT)"), std::string::npos) << s.reason;
    EXPECT_FALSE(s.transcript.empty()) << s.id;
  }
  EXPECT_EQ(r.ExitStatus(), 2);
}

// Snapshot() while the run is in progress sees the finished scenarios only.
TEST(Runner, SnapshotShowsTheRunSoFar) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("quick", R"("steps": [{"include": "greeting"}])"),
      Inline("slow", R"("steps": [{"include": "greeting"}, {"sleep": {"ms": 800}}])")};
  RunnerOptions o;
  o.jobs = 2;
  asio::io_context io;
  Runner runner(FakeConnector(io.get_executor(), {}, nullptr), o);
  RunResult mid;
  std::thread watcher([&] {
    std::this_thread::sleep_for(400ms);
    mid = runner.Snapshot();
  });
  RunResult r = harness::testing::RunSync(io, [&]() -> asio::awaitable<RunResult> {
    RunResult res = co_await runner.RunAsync(scenarios, Vars());
    co_return res;
  });
  watcher.join();
  EXPECT_FALSE(mid.complete);
  ASSERT_EQ(mid.scenarios.size(), 1u);
  EXPECT_EQ(mid.scenarios[0].id, "quick");
  EXPECT_EQ(mid.planned, 2);
  EXPECT_EQ(mid.target.banner, "fake.test ESMTP ready");
  EXPECT_FALSE(mid.probe.entries().empty());  // a snapshot keeps what the final result keeps
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.scenarios.size(), 2u);
}

// --run_timeout: scenario budgets end at the run's deadline and no scenario
// starts after it.
TEST(Runner, RunTimeoutIsAbsolute) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("waits", R"("steps": [{"include": "greeting"},
          {"expect": 250, "timeout_ms": 60000}], "timeout_ms": 120000)"),
      Inline("later", R"("steps": [{"include": "greeting"}])")};
  RunnerOptions o;
  o.jobs = 1;
  o.run_timeout = 600ms;
  const auto start = harness::Clock::now();
  RunResult r = RunOn(scenarios, o);
  EXPECT_LT(harness::Clock::now() - start, 4s);
  EXPECT_NE(r.stopped.find("run timeout"), std::string::npos) << r.stopped;
  ASSERT_EQ(r.scenarios.size(), 1u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kError);
  EXPECT_EQ(r.ExitStatus(), 2);
}

TEST(Runner, RepeatRunsEachScenarioNTimesWithDistinctIds) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("once", R"("steps": [{"include": "greeting"}])")};
  RunnerOptions o;
  o.repeat = 5;
  o.jobs = 3;
  FakeLog log;
  int calls = 0;
  RunResult r = RunOn(scenarios, o, {}, &log,
                      [&](const harness::ScenarioResult&, const harness::Counts& c, int total) {
                        ++calls;
                        EXPECT_EQ(total, 5);
                        EXPECT_EQ(c.total(), calls);
                      });
  ASSERT_EQ(r.scenarios.size(), 5u);
  EXPECT_EQ(r.scenarios[0].id, "once#1");
  EXPECT_EQ(r.scenarios[4].id, "once#5");
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(log.connections, 6);
}

TEST(Runner, RateLimitSpacesConnections) {
  std::vector<scenario::Scenario> scenarios = {
      Inline("r", R"("steps": [{"include": "greeting"}])")};
  RunnerOptions o;
  o.repeat = 4;
  o.jobs = 4;
  o.rate = 20;  // 50 ms apart: probe + 4 connections take >= 200 ms
  const auto start = harness::Clock::now();
  RunResult r = RunOn(scenarios, o);
  EXPECT_GE(harness::Clock::now() - start, 190ms);
  EXPECT_EQ(r.Totals().pass, 4);
}

TEST(Runner, ResultsJsonHasNoSecrets) {
  std::vector<scenario::Scenario> scenarios = {Inline("auth", R"("steps": [
      {"include": "greeting"}, {"include": "ehlo"},
      {"auth": {"mechanism": "PLAIN", "username": "${user}", "password": "${password}"}},
      {"send": "NOOP ${password}"}, {"expect": 550}])")};
  RunResult r = RunOn(scenarios, {});
  ASSERT_EQ(r.scenarios.size(), 1u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kFail);
  const std::string path = ::testing::TempDir() + "/runner_test_results.json";
  ASSERT_TRUE(harness::WriteRunResult(r, path).ok());
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("s3cret-pw"), std::string::npos);
  EXPECT_EQ(text.find(PlainBlob("alice", "s3cret-pw")), std::string::npos);
  EXPECT_NE(text.find("AUTH PLAIN ***"), std::string::npos);
  auto back = harness::ReadRunResult(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(Digest(*back), Digest(r));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace smtp::runner
