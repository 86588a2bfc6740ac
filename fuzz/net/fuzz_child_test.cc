#include "fuzz/net/fuzz_child.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "fuzz/net/fuzz_workers.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

ChildSpec SampleSpec() {
  ChildSpec s;
  s.target = "exec:python3 server.py --flag \"quoted\"";
  s.net.reply_timeout = std::chrono::milliseconds(1234);
  s.net.unjudged_reply_timeout = std::chrono::milliseconds(7);
  s.net.greeting_timeout = std::chrono::milliseconds(4321);
  s.net.session_timeout = std::chrono::milliseconds(9876);
  s.net.max_connections_per_s = 2500.5;
  s.out_dir = "/tmp/out dir";
  s.dictionary_path = "/src/fuzz/smtp.dict";
  s.seed_dirs = {"/src/corpus/fuzz_server_session", "seeds2"};
  s.minimize_runs = 1500;
  s.minimize_time = std::chrono::milliseconds(4000);
  s.reruns = 5;
  s.recover_wait = std::chrono::milliseconds(61000);
  s.report_every = std::chrono::milliseconds(2500);
  s.replay_target_hint = "127.0.0.1:PORT";
  s.command_line = "smtp-harness fuzz --target embedded -fork=2";
  s.run_id = "20261204T100000Z-42";
  s.run_started_unix_s = 1796378400.25;
  return s;
}

TEST(ChildSpec, RoundTripsEveryField) {
  const ChildSpec spec = SampleSpec();
  absl::StatusOr<std::string> text = SerializeChildSpec(spec);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<ChildSpec> back = ParseChildSpec(*text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->target, spec.target);
  EXPECT_EQ(back->net.reply_timeout, spec.net.reply_timeout);
  EXPECT_EQ(back->net.unjudged_reply_timeout, spec.net.unjudged_reply_timeout);
  EXPECT_EQ(back->net.greeting_timeout, spec.net.greeting_timeout);
  EXPECT_EQ(back->net.session_timeout, spec.net.session_timeout);
  EXPECT_EQ(back->net.max_connections_per_s, spec.net.max_connections_per_s);
  EXPECT_EQ(back->out_dir, spec.out_dir);
  EXPECT_EQ(back->dictionary_path, spec.dictionary_path);
  EXPECT_EQ(back->seed_dirs, spec.seed_dirs);
  EXPECT_EQ(back->minimize_runs, spec.minimize_runs);
  EXPECT_EQ(back->minimize_time, spec.minimize_time);
  EXPECT_EQ(back->reruns, spec.reruns);
  EXPECT_EQ(back->recover_wait, spec.recover_wait);
  EXPECT_EQ(back->report_every, spec.report_every);
  EXPECT_EQ(back->replay_target_hint, spec.replay_target_hint);
  EXPECT_EQ(back->command_line, spec.command_line);
  EXPECT_EQ(back->run_id, spec.run_id);
  EXPECT_EQ(back->run_started_unix_s, spec.run_started_unix_s);
  // And serializing the result gives the same text (parse is the inverse).
  EXPECT_EQ(*SerializeChildSpec(*back), *text);
}

TEST(ChildSpec, ParseErrorsNameTheProblem) {
  json good = json::parse(*SerializeChildSpec(SampleSpec()));
  struct Case {
    const char* what;
    std::string text;
    std::string want;
  };
  json no_target = good;
  no_target.erase("target");
  json bad_type = good;
  bad_type["minimize_time_ms"] = "soon";
  json bad_net = good;
  bad_net["net"].erase("session_timeout_ms");
  json v2 = good;
  v2["version"] = 2;
  json no_run = good;
  no_run["run_id"] = "";
  const Case cases[] = {
      {"not JSON", "{", "not a JSON object"},
      {"an array", "[1]", "not a JSON object"},
      {"no target", no_target.dump(), "field target"},
      {"a mistyped field", bad_type.dump(), "field minimize_time_ms"},
      {"a net option missing", bad_net.dump(), "field session_timeout_ms"},
      {"another version", v2.dump(), "version is not 1"},
      {"no run id", no_run.dump(), "no target, out_dir or run_id"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ChildSpec> r = ParseChildSpec(c.text);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_NE(std::string(r.status().message()).find(c.want), std::string::npos)
        << c.what << ": " << r.status();
  }
}

TEST(ChildSpec, NonUtf8IsAnErrorNotACorruptSpec) {
  ChildSpec spec = SampleSpec();
  spec.out_dir = "/tmp/\xff\xfe";
  EXPECT_FALSE(SerializeChildSpec(spec).ok());
}

TEST(ChildSpec, ExportMarksTheParentAndChildrenSeeIt) {
  FuzzConfig config;
  config.out_dir = "/tmp/x";
  config.libfuzzer_args = {"-fork=2", "-dict=/d/smtp.dict", "corpus"};
  config.minimize_runs = 77;
  NetTargetOptions net;
  net.reply_timeout = std::chrono::milliseconds(300);
  ASSERT_TRUE(ExportChildSpec(config, "127.0.0.1:2525", net).ok());
  EXPECT_EQ(config.role, FuzzConfig::Role::kParent);
  EXPECT_FALSE(config.run_id.empty());
  const char* env = std::getenv(kFuzzChildEnv);
  ASSERT_NE(env, nullptr);
  absl::StatusOr<ChildSpec> spec = ParseChildSpec(env);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->target, "127.0.0.1:2525");
  EXPECT_EQ(spec->net.reply_timeout.count(), 300);
  EXPECT_EQ(spec->dictionary_path, "/d/smtp.dict");
  EXPECT_EQ(spec->minimize_runs, 77u);
  EXPECT_EQ(spec->run_id, config.run_id);
  char arg0[] = "smtp-harness", flag[] = "-runs=1", sub[] = "fuzz";
  char* child[] = {arg0, flag, nullptr};
  char* not_child[] = {arg0, sub, nullptr};
  EXPECT_TRUE(IsFuzzChild(2, child));
  EXPECT_FALSE(IsFuzzChild(2, not_child));  // a subcommand: the user's own command
  unsetenv(kFuzzChildEnv);
  EXPECT_FALSE(IsFuzzChild(2, child));
}

TEST(ChildSpec, ProcessFlags) {
  EXPECT_TRUE(WantsProcesses({"-fork=2"}));
  EXPECT_TRUE(WantsProcesses({"-jobs=4", "-workers=2"}));
  EXPECT_FALSE(WantsProcesses({"-fork=0", "-runs=10", "dir"}));
  EXPECT_FALSE(WantsProcesses({"-forked=2"}));
  EXPECT_FALSE(WantsProcesses({"-workers=2"}));               // libFuzzer ignores it without -jobs
  EXPECT_EQ(ProcessFlag({"-jobs=3", "-jobs=5"}, "jobs"), 5);  // the last, as libFuzzer
}

TEST(ChildSpec, MakesTheTargetItNames) {
  ChildSpec spec = SampleSpec();
  spec.target = "embedded:planted";
  absl::StatusOr<std::unique_ptr<SessionTarget>> t = MakeChildTarget(spec);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->Label(), "embedded:planted");
  spec.target = "embedded:nope";
  EXPECT_FALSE(MakeChildTarget(spec).ok());
  spec.target = "127.0.0.1:2525";
  t = MakeChildTarget(spec);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_FALSE((*t)->in_process());
}

class WorkersDir : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = (fs::temp_directory_path() / ("fuzz-workers-test-" + std::to_string(getpid()))).string();
    fs::remove_all(out_);
    ASSERT_TRUE(ResetWorkers(out_).ok());
  }
  void TearDown() override { fs::remove_all(out_); }
  std::string out_;
};

WorkerStats Stats(long pid, std::uint64_t sessions, std::vector<std::size_t> pcs) {
  WorkerStats s;
  s.pid = pid;
  s.started_us = 1000 + pid;
  s.run_id = "run-1";
  s.complete = pid % 2 == 0;
  s.elapsed_s = 1.5;
  s.sessions = sessions;
  s.reached_mail = sessions / 2;
  s.reached_rcpt = sessions / 4;
  s.reached_data = sessions / 8;
  s.finding_sessions = 1;
  s.pc_seen.assign(64, 0);
  for (std::size_t i : pcs) s.pc_seen[i] = 3;
  s.states_seen.assign(64, 0);
  s.states_seen[static_cast<std::size_t>(pid % 64)] = 1;
  return s;
}

TEST_F(WorkersDir, StatsRoundTrip) {
  WorkerStats s = Stats(12, 1000, {0, 7, 8, 63});
  s.findings.push_back({{"bucket", "dropped-HELP-220"}, {"count", 2}, {"shared", false}});
  s.coverage_source = "afl";
  absl::StatusOr<WorkerStats> back = ParseWorkerStats(WorkerStatsJson(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->sessions, 1000u);
  EXPECT_EQ(back->coverage_source, "afl");
  EXPECT_EQ(back->reached_rcpt, 250u);
  // Bitmaps keep which counters were seen (as 0/1).
  ASSERT_EQ(back->pc_seen.size(), 64u);
  for (std::size_t i = 0; i < 64; ++i) {
    EXPECT_EQ(back->pc_seen[i] != 0, s.pc_seen[i] != 0) << i;
  }
  ASSERT_EQ(back->findings.size(), 1u);
  json broken = WorkerStatsJson(s);
  broken["pc_seen"] = "zz";
  EXPECT_FALSE(ParseWorkerStats(broken).ok());
  broken = WorkerStatsJson(s);
  broken.erase("sessions");
  EXPECT_FALSE(ParseWorkerStats(broken).ok());
}

TEST_F(WorkersDir, TotalsSumSessionsUniteCoverageAndMergeFindings) {
  WorkerStats a = Stats(10, 1000, {1, 2, 3});
  a.findings.push_back({{"bucket", "dropped-HELP-220"},
                        {"count", 3},
                        {"first_at_s", 4.0},
                        {"dir", "findings/dropped-HELP-220"},
                        {"shared", false}});
  WorkerStats b = Stats(11, 500, {3, 4});
  b.findings.push_back(
      {{"bucket", "dropped-HELP-220"}, {"count", 2}, {"first_at_s", 1.0}, {"shared", true}});
  b.findings.push_back({{"bucket", "hang-DATA-354"}, {"count", 1}, {"shared", false}});
  WorkerStats other_run = Stats(12, 99999, {50});
  other_run.run_id = "run-0";
  ASSERT_TRUE(WriteWorkerStats(out_, a).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, b).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, other_run).ok());
  std::ofstream(fs::path(out_) / "workers" / "13-1.json") << "{not json";

  const WorkerTotals t = ReadWorkerTotals(out_, "run-1");
  EXPECT_EQ(t.processes, 2u);
  EXPECT_EQ(t.complete, 1u);  // pid 10
  EXPECT_EQ(t.skipped, 2u);   // the other run's, the broken one
  EXPECT_EQ(t.sessions, 1500u);
  EXPECT_EQ(t.reached_mail, 750u);
  EXPECT_EQ(t.server_coverage, 4u);  // {1,2,3} u {3,4}
  EXPECT_EQ(t.response_states, 2u);
  ASSERT_EQ(t.findings.size(), 2u);
  const json& help = t.findings[0];
  EXPECT_EQ(help["bucket"], "dropped-HELP-220");
  EXPECT_EQ(help["count"], 5);
  EXPECT_EQ(help["first_at_s"], 1.0);                   // the earliest
  EXPECT_EQ(help["dir"], "findings/dropped-HELP-220");  // the saver's details
  EXPECT_FALSE(help.contains("shared"));
  EXPECT_EQ(t.findings[1]["bucket"], "hang-DATA-354");
  ASSERT_EQ(t.per_process.size(), 2u);
  EXPECT_EQ(t.per_process[0]["pid"], 10);
}

// Defences and unconfirmed hits are summed over the processes, by
// signature and bucket, routes joined; an unconfirmed bucket that another
// process confirmed is a finding only; one conformance note for the 5xx
// closes.
TEST_F(WorkersDir, TotalsSumDefencesAndUnconfirmedHits) {
  const auto defence = [](std::string sig, std::uint64_t n, double first, std::string verb) {
    return json{{"signature", std::move(sig)},
                {"code", 502},
                {"text", "5.5.1 Too many unrecognized commands, goodbye."},
                {"count", n},
                {"first_at_s", first},
                {"routes", json::array({{{"verb", std::move(verb)}, {"count", n}}})},
                {"not_421", true}};
  };
  const auto unconfirmed = [](std::string bucket, std::uint64_t n, std::string dir) {
    return json{{"bucket", std::move(bucket)},
                {"count", n},
                {"first_at_s", 2.0},
                {"routes", json::array({{{"route", "NOOP 250"}, {"count", n}}})},
                {"dir", std::move(dir)}};
  };
  WorkerStats a = Stats(10, 100, {1});
  a.defences = {defence("502-goodbye", 7, 3.0, "NOOP")};
  a.defence_sessions = 7;
  a.unconfirmed = {unconfirmed("dropped-250-ok", 2, "unconfirmed/dropped-250-ok"),
                   unconfirmed("hang-220", 1, "")};
  a.unconfirmed_sessions = 3;
  WorkerStats b = Stats(11, 100, {2});
  b.defences = {defence("502-goodbye", 5, 1.5, "XA"), defence("421-bye", 1, 9.0, "RCPT")};
  b.defence_sessions = 6;
  b.unconfirmed = {unconfirmed("dropped-250-ok", 4, "")};
  b.unconfirmed_sessions = 4;
  b.findings.push_back({{"bucket", "hang-220"}, {"count", 1}, {"shared", false}});
  ASSERT_TRUE(WriteWorkerStats(out_, a).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, b).ok());

  const WorkerTotals t = ReadWorkerTotals(out_, "run-1");
  ASSERT_EQ(t.defences.size(), 2u);
  EXPECT_EQ(t.defences[0]["signature"], "421-bye");
  const json& goodbye = t.defences[1];
  EXPECT_EQ(goodbye["count"], 12);
  EXPECT_EQ(goodbye["first_at_s"], 1.5);
  EXPECT_EQ(goodbye["routes"],
            json::parse(R"([{"verb":"NOOP","count":7},{"verb":"XA","count":5}])"));
  EXPECT_EQ(t.defence_sessions, 13u);
  // hang-220 was confirmed by b: a finding, not listed as unconfirmed.
  ASSERT_EQ(t.unconfirmed.size(), 1u);
  EXPECT_EQ(t.unconfirmed[0]["bucket"], "dropped-250-ok");
  EXPECT_EQ(t.unconfirmed[0]["count"], 6);
  EXPECT_EQ(t.unconfirmed[0]["dir"], "unconfirmed/dropped-250-ok");
  EXPECT_EQ(t.unconfirmed_sessions, 6u);
  const json notes = ConformanceNotes(json(t.defences));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0]["sessions"], 13);

  // The new fields round-trip, and a stats file without them (an older
  // binary's) still reads.
  absl::StatusOr<WorkerStats> back = ParseWorkerStats(WorkerStatsJson(b));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->defences.size(), 2u);
  EXPECT_EQ(back->unconfirmed_sessions, 4u);
  json old = WorkerStatsJson(b);
  old.erase("defences");
  old.erase("unconfirmed");
  EXPECT_TRUE(ParseWorkerStats(old).ok());
  json bad = WorkerStatsJson(b);
  bad["defences"][0].erase("signature");
  EXPECT_FALSE(ParseWorkerStats(bad).ok());
}

// One bug that two processes minimized into different buckets (each found
// its own route first) is one finding, under the plainer route; findings
// with no cause, or another, stay apart.
TEST_F(WorkersDir, OneCauseIsOneBucketAcrossProcesses) {
  const auto finding = [](std::string bucket, std::string cause, int count, double first,
                          std::size_t steps, std::size_t raw) {
    return json{{"bucket", bucket},
                {"cause", std::move(cause)},
                {"count", count},
                {"first_at_s", first},
                {"dir", "findings/" + bucket},
                {"raw_steps", raw},
                {"minimize", {{"steps_after", steps}, {"bytes_after", 20}}},
                {"shared", false}};
  };
  WorkerStats a = Stats(10, 100, {1});
  a.findings.push_back(finding("dropped-STARTTLS-220", "planted bug 1: HELP %x", 4, 2.0, 3, 1));
  a.findings.push_back(finding("hang-DATA-354", "", 1, 1.0, 2, 0));
  WorkerStats b = Stats(11, 100, {2});
  b.findings.push_back(finding("dropped-HELP-220", "planted bug 1: HELP %x", 2, 5.0, 1, 0));
  b.findings.push_back(finding("dropped-BDAT-250", "planted bug 2", 1, 9.0, 5, 0));
  b.findings.push_back(finding("hang-NOOP-250", "", 1, 1.0, 1, 0));
  ASSERT_TRUE(WriteWorkerStats(out_, a).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, b).ok());
  const WorkerTotals t = ReadWorkerTotals(out_, "run-1");
  std::map<std::string, json> by;
  for (const json& f : t.findings) by[f["bucket"]] = f;
  ASSERT_EQ(by.size(), 4u) << json(t.findings).dump();
  ASSERT_TRUE(by.contains("dropped-HELP-220"));  // one step, no raw: plainer
  EXPECT_FALSE(by.contains("dropped-STARTTLS-220"));
  const json& help = by["dropped-HELP-220"];
  EXPECT_EQ(help["count"], 6);
  EXPECT_EQ(help["first_at_s"], 2.0);
  EXPECT_EQ(help["merged_buckets"], json::array({"dropped-STARTTLS-220"}));
  EXPECT_FALSE(by["dropped-BDAT-250"].contains("merged_buckets"));
  EXPECT_TRUE(by.contains("hang-DATA-354") && by.contains("hang-NOOP-250"));
  EXPECT_EQ(t.superseded_dirs, std::vector<std::string>{"findings/dropped-STARTTLS-220"});

  // The parent removes the merged-away directory, and nothing outside
  // findings/.
  for (const char* d : {"findings/dropped-STARTTLS-220", "findings/dropped-HELP-220", "keep"}) {
    fs::create_directories(fs::path(out_) / d);
  }
  WorkerTotals hostile = t;
  hostile.superseded_dirs.insert(hostile.superseded_dirs.end(),
                                 {"keep", "findings/..", "findings/../keep", "findings/"});
  RemoveSupersededFindings(out_, hostile);
  EXPECT_FALSE(fs::exists(fs::path(out_) / "findings/dropped-STARTTLS-220"));
  EXPECT_TRUE(fs::exists(fs::path(out_) / "findings/dropped-HELP-220"));
  EXPECT_TRUE(fs::exists(fs::path(out_) / "keep"));

  // A stats file whose finding fields have the wrong types is refused, not
  // read (the parent would throw on them).
  json bad = WorkerStatsJson(b);
  bad["findings"][0]["cause"] = 7;
  EXPECT_FALSE(ParseWorkerStats(bad).ok());
  bad = WorkerStatsJson(b);
  bad["findings"][0]["minimize"]["steps_after"] = "one";
  EXPECT_FALSE(ParseWorkerStats(bad).ok());
  bad = WorkerStatsJson(b);
  bad["findings"][0]["raw_steps"] = -1;
  EXPECT_FALSE(ParseWorkerStats(bad).ok());
}

TEST_F(WorkersDir, AggregatorFoldsFinishedProcessesOnce) {
  WorkerAggregator agg(out_, "run-1");
  WorkerStats done = Stats(10, 100, {1});  // even pid: complete
  WorkerStats running = Stats(11, 50, {2});
  ASSERT_TRUE(WriteWorkerStats(out_, done).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, running).ok());
  WorkerTotals t = agg.Refresh();
  EXPECT_EQ(t.sessions, 150u);
  EXPECT_EQ(t.complete, 1u);
  // The running one is re-read; the finished one is not (even if its file
  // changed); a process with a reused pid has a file of its own.
  running.sessions = 80;
  done.sessions = 999999;
  ASSERT_TRUE(WriteWorkerStats(out_, running).ok());
  ASSERT_TRUE(WriteWorkerStats(out_, done).ok());
  WorkerStats reused = Stats(10, 7, {3});
  reused.started_us += 5;
  ASSERT_TRUE(WriteWorkerStats(out_, reused).ok());
  t = agg.Refresh();
  EXPECT_EQ(t.processes, 3u);
  EXPECT_EQ(t.sessions, 100u + 80u + 7u);
  EXPECT_EQ(t.server_coverage, 3u);
  EXPECT_EQ(agg.Refresh().sessions, t.sessions);  // stable
}

TEST_F(WorkersDir, KeepsTheLatestProcessRows) {
  for (long pid = 100; pid < 602; ++pid) {
    ASSERT_TRUE(WriteWorkerStats(out_, Stats(pid, 1, {})).ok());
  }
  const WorkerTotals t = ReadWorkerTotals(out_, "run-1");
  EXPECT_EQ(t.processes, 502u);
  EXPECT_EQ(t.sessions, 502u);  // all counted
  ASSERT_EQ(t.per_process.size(), 500u);
  EXPECT_EQ(t.per_process_omitted, 2u);
  EXPECT_EQ(t.per_process.front()["pid"], 102);  // the two oldest left out
  EXPECT_EQ(t.per_process.back()["pid"], 601);
}

TEST_F(WorkersDir, OneClaimPerBucketAndSharedRawBuckets) {
  EXPECT_TRUE(ClaimBucket(out_, "dropped-HELP-220"));
  EXPECT_FALSE(ClaimBucket(out_, "dropped-HELP-220"));
  EXPECT_TRUE(ClaimBucket(out_, "hang-DATA-354"));
  EXPECT_FALSE(SharedRawBucket(out_, "dropped-NOOP-250").has_value());
  ShareRawBucket(out_, "dropped-NOOP-250", "dropped-HELP-220");
  EXPECT_EQ(SharedRawBucket(out_, "dropped-NOOP-250").value_or(""), "dropped-HELP-220");
  // A bucket name with a path in it stays inside workers/.
  EXPECT_TRUE(ClaimBucket(out_, "../../escape"));
  EXPECT_FALSE(fs::exists(fs::path(out_).parent_path() / "escape"));
  // A new run starts with no claims.
  ASSERT_TRUE(ResetWorkers(out_).ok());
  EXPECT_TRUE(ClaimBucket(out_, "dropped-HELP-220"));
  EXPECT_FALSE(SharedRawBucket(out_, "dropped-NOOP-250").has_value());
}

}  // namespace
}  // namespace smtp::fuzz
