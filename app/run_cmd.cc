// smtp-harness run: the conformance runner on the command line.
//
//   run [--target HOST:PORT|tls:HOST:PORT|exec:CMD] [--tls implicit|starttls|none]
//       [--profile FILE] [--suite PATH,...] [--filter GLOB,...] [--tag TAG,...]
//       [--level LEVEL,...] [--fail_on LEVELS] [--jobs N] [--rate N] [--timeout_ms N]
//       [--scenario_timeout_ms N] [--repeat N] [--out DIR] [--target_name NAME]
//       [SUITE_PATH...]
//
// Writes DIR/results.json, junit.xml and index.html (docs/results.md) and
// prints the paths of index.html and results.json, a summary and why the
// exit status is what it is. Exit status: RunResult::ExitStatus() (0 no
// failure at a --fail_on level, 1 one failed, 2 a harness error), or 2 on a
// usage error.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "app/default_suite.h"
#include "app/live_run.h"
#include "app/run_client.h"
#include "app/subcommand.h"
#include "harness/run/embedded_target.h"
#include "harness/run/run_setup.h"
#include "harness/runner/progress.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/suite.h"
#include "harness/wall_clock.h"
#include "results/absl_compat.h"
#include "results/results.h"

ABSL_FLAG(
    std::string, target, "",
    "run, replay, fuzz: server under test: HOST:PORT, tls:HOST:PORT (implicit TLS), lmtp:HOST:PORT "
    "(an LMTP server) or exec:COMMAND; default: (run) the profile's host and port, else the "
    "embedded server; (fuzz) embedded[:PROFILE], the embedded server in process");
ABSL_FLAG(
    std::string, tls, "",
    "run: none, implicit (TLS from the first byte), or starttls (the probe upgrades and records "
    "TLS details); default: from the target and the profile");
ABSL_FLAG(std::string, profile, "", "run: target profile JSON (variables, credentials)");
ABSL_FLAG(std::vector<std::string>, suite, {},
          "run: scenario files or directories, comma-separated (default: the shipped suite, "
          "found from the binary)");
ABSL_FLAG(std::vector<std::string>, fragments, {},
          "run: directories of fragments that scenarios include, searched before the suite's "
          "own fragments/ (e.g. the shipped scenarios/fragments for a suite kept elsewhere)");
ABSL_FLAG(std::vector<std::string>, filter, {}, "run: scenario id globs; '!GLOB' excludes");
ABSL_FLAG(std::vector<std::string>, tag, {}, "run: scenario tags; '!TAG' excludes");
ABSL_FLAG(std::vector<std::string>, level, {},
          "run: levels to run: MUST, SHOULD, MAY, policy, security");
ABSL_FLAG(int, jobs, 0,
          "run, replay: scenarios run in parallel, each on its own connection; 0: automatic, "
          "4, or 32 for run against the embedded server");
// --jobs 0 (the default): kEmbeddedJobs against the embedded target (see
// RunRun), else kDefaultJobs.
constexpr int kEmbeddedJobs = 32;
constexpr int kDefaultJobs = 4;

ABSL_FLAG(double, rate, 0, "run: at most this many new connections per second (0: no limit)");
ABSL_FLAG(int, timeout_ms, 10000, "run, replay: deadline of each step that sets none");
ABSL_FLAG(int, scenario_timeout_ms, 120000, "run: time budget of each scenario that sets none");
ABSL_FLAG(absl::Duration, run_timeout, absl::ZeroDuration(),
          "run: time budget of the whole run, e.g. 90s or 10m (0: none); when it passes, "
          "running scenarios end as errors, no new one starts, and the reports say so (exit 2)");
ABSL_FLAG(int, repeat, 1, "run: run every scenario this many times (ids get #1, #2, ...)");
ABSL_FLAG(std::string, out, "",
          "run, replay, convert, import-pcap, record: output directory (run's default: "
          "out/run-<UTC timestamp>, replay's out/replay-<...>, with out/latest pointing to it; "
          "convert, import-pcap and record need one: where the files go)");
ABSL_FLAG(std::string, target_name, "",
          "run, replay: label of the target in reports, e.g. postfix");
ABSL_FLAG(std::string, from, "", "run: envelope sender (the profile's \"sender\")");
ABSL_FLAG(
    std::string, to, "",
    "run, convert: for run, a deliverable recipient (the profile's \"rcpt\"); for convert, what "
    "to write, scenario or corpus");
ABSL_FLAG(std::string, rcpt, "", "run: the same as --to");
ABSL_FLAG(std::string, helo, "",
          "run, replay: the EHLO/HELO domain (the profile's \"client_domain\")");
ABSL_FLAG(std::string, auth_user, "", "run, replay: AUTH user name (the profile's \"user\")");
ABSL_FLAG(std::string, auth_password, "",
          "run, replay: AUTH password (secret: redacted everywhere); prefer --auth_file");
ABSL_FLAG(std::string, auth_file, "", "run, replay: a file whose first line is USER:PASSWORD");
ABSL_FLAG(std::vector<std::string>, var, {},
          "run: NAME=VALUE, an extra scenario variable ${NAME}; repeat or comma-separate");
ABSL_FLAG(bool, no_preflight, false,
          "run: skip the preflight (the profile's sender and recipient accepted, the transport "
          "matching) and test whatever answers");
ABSL_FLAG(std::string, deliveries, "",
          "run: where the target's accepted messages can be read, for expect_delivery "
          "scenarios: jsonl:PATH (serve --sink jsonl:PATH --sink_body_limit N); without "
          "--target the embedded server's are used");
ABSL_FLAG(std::vector<std::string>, fail_on, smtp::harness::RunResult::DefaultFailOn(),
          "run: levels whose failures make the exit status 1 (MUST, SHOULD, MAY, policy, "
          "security), or none; failures of other levels are findings only");
ABSL_FLAG(absl::Duration, progress_every, absl::Seconds(5),
          "run, replay: when stderr is not a terminal (a CI log), print a progress line this often "
          "(0: never)");

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

// Failing scenarios listed on stdout after the summary; results.json has all.
constexpr int kMaxListed = 50;

// The message on stderr; exit status 2.
int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness run: %s\n", message.c_str());
  return 2;
}
int Fail(const absl::Status& status) { return Fail(Message(status)); }

// --fail_on as canonical level names; "none" alone is the empty list.
absl::StatusOr<std::vector<std::string>> FailOnFromFlag() {
  const std::vector<std::string> names = absl::GetFlag(FLAGS_fail_on);
  if (names.size() == 1 && absl::AsciiStrToLower(names[0]) == "none") {
    return std::vector<std::string>{};
  }
  std::vector<std::string> levels;
  for (const std::string& n : names) {
    const std::optional<scenario::Level> level = scenario::ParseLevelIgnoringCase(n);
    if (!level) {
      return absl::InvalidArgumentError("--fail_on: unknown level '" + n +
                                        "' (MUST, SHOULD, MAY, policy, security, or none)");
    }
    levels.emplace_back(scenario::LevelName(*level));
  }
  if (levels.empty()) return absl::InvalidArgumentError("--fail_on: give levels or none");
  return levels;
}

std::string CommandLine(const std::vector<std::string>& suites) {
  std::string s = "smtp-harness run";
  auto add = [&](const char* flag, const std::string& value) {
    if (!value.empty()) s += std::string(" --") + flag + " " + value;
  };
  add("target", absl::GetFlag(FLAGS_target));  // none: the embedded server
  add("tls", absl::GetFlag(FLAGS_tls));
  add("deliveries", absl::GetFlag(FLAGS_deliveries));
  add("profile", absl::GetFlag(FLAGS_profile));
  add("from", absl::GetFlag(FLAGS_from));
  add("to", absl::GetFlag(FLAGS_to) + absl::GetFlag(FLAGS_rcpt));
  add("helo", absl::GetFlag(FLAGS_helo));
  add("auth_user", absl::GetFlag(FLAGS_auth_user));
  add("auth_password", absl::GetFlag(FLAGS_auth_password).empty() ? "" : "***");
  add("auth_file", absl::GetFlag(FLAGS_auth_file));
  add("var", absl::StrJoin(absl::GetFlag(FLAGS_var), ","));
  if (absl::GetFlag(FLAGS_no_preflight)) s += " --no_preflight";
  add("suite", absl::StrJoin(suites, ","));
  add("fragments", absl::StrJoin(absl::GetFlag(FLAGS_fragments), ","));
  add("filter", absl::StrJoin(absl::GetFlag(FLAGS_filter), ","));
  add("tag", absl::StrJoin(absl::GetFlag(FLAGS_tag), ","));
  add("level", absl::StrJoin(absl::GetFlag(FLAGS_level), ","));
  if (absl::GetFlag(FLAGS_fail_on) != harness::RunResult::DefaultFailOn()) {
    add("fail_on", absl::StrJoin(absl::GetFlag(FLAGS_fail_on), ","));
  }
  s += " --jobs " + std::to_string(absl::GetFlag(FLAGS_jobs));
  if (absl::GetFlag(FLAGS_rate) > 0) s += " --rate " + std::to_string(absl::GetFlag(FLAGS_rate));
  s += " --timeout_ms " + std::to_string(absl::GetFlag(FLAGS_timeout_ms));
  if (absl::GetFlag(FLAGS_repeat) > 1)
    s += " --repeat " + std::to_string(absl::GetFlag(FLAGS_repeat));
  if (absl::GetFlag(FLAGS_run_timeout) > absl::ZeroDuration())
    s += " --run_timeout " + absl::FormatDuration(absl::GetFlag(FLAGS_run_timeout));
  add("out", absl::GetFlag(FLAGS_out));
  return s;
}

// The flags as a request (the embedded target aside).
absl::StatusOr<run::RunRequest> RequestFromFlags(const std::vector<std::string>& suites) {
  absl::StatusOr<scenario::SuiteFilter> filter = scenario::MakeSuiteFilter(
      absl::GetFlag(FLAGS_filter), absl::GetFlag(FLAGS_tag), absl::GetFlag(FLAGS_level));
  if (!filter.ok()) return filter.status();
  run::RunRequest r;
  r.target = absl::GetFlag(FLAGS_target);
  r.tls = absl::GetFlag(FLAGS_tls);
  r.profile_file = absl::GetFlag(FLAGS_profile);
  r.options.preflight = !absl::GetFlag(FLAGS_no_preflight);
  run::ProfileOverrides& o = r.overrides;
  auto set = [](std::optional<std::string>* out, const std::string& value) {
    if (!value.empty()) *out = value;
  };
  if (!absl::GetFlag(FLAGS_to).empty() && !absl::GetFlag(FLAGS_rcpt).empty()) {
    return absl::InvalidArgumentError("give --to or --rcpt, not both");
  }
  set(&o.sender, absl::GetFlag(FLAGS_from));
  set(&o.rcpt, absl::GetFlag(FLAGS_to));
  set(&o.rcpt, absl::GetFlag(FLAGS_rcpt));
  set(&o.client_domain, absl::GetFlag(FLAGS_helo));
  if (!absl::GetFlag(FLAGS_auth_file).empty()) {
    if (absl::Status s = run::ReadCredentialsFile(absl::GetFlag(FLAGS_auth_file), &o); !s.ok()) {
      return s;
    }
  }
  set(&o.user, absl::GetFlag(FLAGS_auth_user));
  set(&o.password, absl::GetFlag(FLAGS_auth_password));
  o.vars = absl::GetFlag(FLAGS_var);
  r.deliveries = absl::GetFlag(FLAGS_deliveries);
  r.suites = suites;
  r.fragment_dirs = absl::GetFlag(FLAGS_fragments);
  r.filter = *std::move(filter);
  if (absl::GetFlag(FLAGS_jobs) == 0) absl::SetFlag(&FLAGS_jobs, kDefaultJobs);
  r.options.jobs = absl::GetFlag(FLAGS_jobs);
  r.options.rate = absl::GetFlag(FLAGS_rate);
  r.options.repeat = absl::GetFlag(FLAGS_repeat);
  // Floored, so that a negative duration under a millisecond stays negative.
  r.options.run_timeout = std::chrono::milliseconds(absl::ToInt64Milliseconds(
      absl::Floor(absl::GetFlag(FLAGS_run_timeout), absl::Milliseconds(1))));
  r.options.executor.step_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  r.options.executor.scenario_timeout =
      std::chrono::milliseconds(absl::GetFlag(FLAGS_scenario_timeout_ms));
  return r;
}

}  // namespace

int RunRun(const std::vector<std::string>& args) {
  if (ClientRunRequested()) return RunClientRun(args);  // the harness as the server
  // Before any thread starts (the embedded server's): SIGINT and SIGTERM go
  // to LiveRun's watcher, which keeps the reports of an interrupted run.
  BlockStopSignals();
  absl::StatusOr<std::vector<std::string>> fail_on = FailOnFromFlag();
  if (!fail_on.ok()) return Fail(fail_on.status());
  std::vector<std::string> suites = absl::GetFlag(FLAGS_suite);
  suites.insert(suites.end(), args.begin(), args.end());
  const std::vector<std::string> given_suites = suites;  // for the command line
  if (suites.empty()) {
    absl::StatusOr<std::string> shipped = DefaultSuite();
    if (!shipped.ok()) return Fail(shipped.status());
    suites.push_back(*shipped);
  }

  // No --target: the profile's host and port if it names them, else the
  // embedded reference server.
  if (absl::GetFlag(FLAGS_target).empty()) {
    absl::StatusOr<std::string> named = run::TargetFromProfile(absl::GetFlag(FLAGS_profile));
    if (!named.ok()) return Fail(named.status());
    if (!named->empty()) {
      absl::SetFlag(&FLAGS_target, *named);
      std::fprintf(stderr, "smtp-harness run: no --target: the profile's %s\n", named->c_str());
    }
  }
  std::optional<run::EmbeddedTarget> embedded;
  if (absl::GetFlag(FLAGS_target).empty()) {
    absl::StatusOr<run::EmbeddedTarget> started = run::StartEmbeddedTarget();
    if (!started.ok()) return Fail("embedded server: " + Message(started.status()));
    embedded = *std::move(started);
    std::fprintf(stderr, "smtp-harness run: no --target: embedded server (strict) on %s\n",
                 embedded->endpoint.ToString().c_str());
    // The server is ours and in process: most of a scenario's time is a
    // wait (expect_silence, sleep), which overlaps with the others'. Four at
    // a time is a courtesy to other people's servers.
    if (absl::GetFlag(FLAGS_jobs) == 0) absl::SetFlag(&FLAGS_jobs, kEmbeddedJobs);
  }
  absl::StatusOr<run::RunRequest> request = RequestFromFlags(suites);
  if (!request.ok()) return Fail(request.status());
  request->embedded = embedded ? &*embedded : nullptr;
  absl::StatusOr<run::PreparedRun> prepared = run::PrepareRun(*std::move(request));
  if (!prepared.ok()) return Fail(prepared.status());

  std::string error;
  const std::string out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "run", &error);
  if (!error.empty()) return Fail(error);

  // A terminal gets one line redrawn; a log (CI) a line every --progress_every.
  runner::ProgressPrinter printer = runner::ProgressPrinter::For(
      stderr,
      std::chrono::milliseconds(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_progress_every))));
  runner::Runner run(runner::TargetConnector(prepared->target), prepared->options);
  LiveRunOptions live;
  live.out_dir = out_dir;
  live.snapshot = [&run] { return run.Snapshot(); };
  live.stop = [&run](std::string reason) { run.Stop(std::move(reason)); };
  live.tick = [&printer] { printer.Tick(); };
  live.finalize = [&](harness::RunResult& r) {
    r.tool_version = runner::ToolVersion();
    r.fail_on = *fail_on;
    r.command_line = prepared->vars.Redact(CommandLine(given_suites));
    r.target.target = prepared->target_label;
    r.target.name = absl::GetFlag(FLAGS_target_name);
    if (r.target.name.empty()) r.target.name = prepared->target_name;
  };
  LiveRun live_run(std::move(live));
  harness::RunResult result;
  try {
    result = run.Run(prepared->suite.scenarios, prepared->vars,
                     [&](const harness::ScenarioResult&, const harness::Counts& c, int total) {
                       printer.Update(c, total);
                     });
  } catch (const std::exception& e) {  // a bug of ours, not a server finding
    printer.Finish();
    return Fail(std::string("internal error: ") + e.what());
  }
  printer.Finish();
  if (embedded) embedded->Stop();
  const int status = live_run.Finish(result);
  if (!result.stopped.empty() && result.scenarios.empty()) {
    // Nothing ran (a target that cannot be tested): one line says why.
    std::fprintf(stderr, "smtp-harness run: stopped before the scenarios: %s (report: %s)\n",
                 result.stopped.c_str(), (fs::path(out_dir) / "index.html").c_str());
    return status;
  }
  const std::string html = (fs::path(out_dir) / "index.html").string();
  const std::string json = (fs::path(out_dir) / "results.json").string();
  std::printf("%s\n%s\n%s\n", html.c_str(), json.c_str(), runner::SummaryLine(result).c_str());
  if (!result.stopped.empty()) {
    std::printf("stopped after %zu of %d scenarios: %s\n", result.scenarios.size(), result.planned,
                result.stopped.c_str());
  }
  int listed = 0, unlisted = 0;
  for (const harness::ScenarioResult& s : result.scenarios) {
    if (s.verdict != harness::Verdict::kFail && s.verdict != harness::Verdict::kError) continue;
    if (listed == kMaxListed) {
      ++unlisted;
    } else {
      ++listed;
      std::printf("  %s %s [%s]: %s\n", std::string(VerdictName(s.verdict)).c_str(), s.id.c_str(),
                  s.level.c_str(), s.reason.c_str());
    }
  }
  if (unlisted > 0) std::printf("  ... and %d more (see results.json)\n", unlisted);
  // Last, where a CI log's tail shows it: why the exit status is what it is.
  for (const std::string& line : runner::ExitSummaryLines(result, status)) {
    std::printf("%s\n", line.c_str());
  }
  return status;
}

}  // namespace smtp::app
