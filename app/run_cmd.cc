// smtp-harness run: the conformance runner on the command line.
//
//   run --target HOST:PORT|tls:HOST:PORT|exec:CMD [--tls implicit|starttls|none]
//       [--profile FILE] [--suite PATH,...] [--filter GLOB,...] [--tag TAG,...]
//       [--level LEVEL,...] [--jobs N] [--rate N] [--timeout_ms N]
//       [--scenario_timeout_ms N] [--repeat N] [--out DIR] [--target_name NAME]
//       [SUITE_PATH...]
//
// Writes DIR/results.json (docs/results.md) and prints its path and a
// summary. Exit status: RunResult::ExitStatus() (0 every MUST and security
// scenario passed, 1 one failed, 2 a harness error), or 2 on a usage error.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "app/live_run.h"
#include "app/subcommand.h"
#include "harness/results.h"
#include "harness/runner/deliveries.h"
#include "harness/runner/progress.h"
#include "harness/runner/runner.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/suite.h"
#include "harness/server/server.h"
#include "harness/wall_clock.h"
#include "reports/reports.h"

ABSL_FLAG(std::string, target, "",
          "run: server under test: HOST:PORT, tls:HOST:PORT (implicit TLS) or exec:COMMAND");
ABSL_FLAG(
    std::string, tls, "",
    "run: none, implicit (TLS from the first byte), or starttls (the probe upgrades and records "
    "TLS details); default: from the target and the profile");
ABSL_FLAG(std::string, profile, "", "run: target profile JSON (variables, credentials)");
ABSL_FLAG(std::vector<std::string>, suite, {},
          "run: scenario files or directories, comma-separated (default: scenarios)");
ABSL_FLAG(std::vector<std::string>, filter, {}, "run: scenario id globs; '!GLOB' excludes");
ABSL_FLAG(std::vector<std::string>, tag, {}, "run: scenario tags; '!TAG' excludes");
ABSL_FLAG(std::vector<std::string>, level, {},
          "run: levels to run: MUST, SHOULD, MAY, policy, security");
ABSL_FLAG(int, jobs, 4, "run: scenarios run in parallel, each on its own connection");
ABSL_FLAG(double, rate, 0, "run: at most this many new connections per second (0: no limit)");
ABSL_FLAG(int, timeout_ms, 10000, "run: deadline of each step that sets none");
ABSL_FLAG(int, scenario_timeout_ms, 120000, "run: time budget of each scenario that sets none");
ABSL_FLAG(absl::Duration, run_timeout, absl::ZeroDuration(),
          "run: time budget of the whole run, e.g. 90s or 10m (0: none); when it passes, "
          "running scenarios end as errors, no new one starts, and the reports say so (exit 2)");
ABSL_FLAG(int, repeat, 1, "run: run every scenario this many times (ids get #1, #2, ...)");
ABSL_FLAG(
    std::string, out, "",
    "run: output directory (default: out/run-<UTC timestamp>, with out/latest pointing to it)");
ABSL_FLAG(std::string, target_name, "", "run: label of the target in reports, e.g. postfix");
ABSL_FLAG(std::string, deliveries, "",
          "run: where the target's accepted messages can be read, for expect_delivery "
          "scenarios: jsonl:PATH (serve --sink jsonl:PATH --sink_body_limit N); without "
          "--target the embedded server's are used");

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

// Failing scenarios listed on stdout after the summary; results.json has all.
constexpr int kMaxListed = 50;
// AUTH test credentials of the embedded default target (not secrets: the
// server exists only for the run, on loopback).
constexpr char kEmbeddedUser[] = "test";
constexpr char kEmbeddedPassword[] = "secret";

// The embedded server's in-memory sink as the runner's DeliveryLog.
class EmbeddedDeliveries : public runner::DeliveryLog {
 public:
  explicit EmbeddedDeliveries(std::shared_ptr<server::MemorySink> sink) : sink_(std::move(sink)) {}
  std::vector<runner::Delivery> From(const std::vector<std::string>& clients) const override {
    std::vector<runner::Delivery> out;
    for (server::StoredMessage& m : sink_->MessagesFrom(clients)) {
      const server::Envelope& e = m.info.envelope;
      out.push_back({e.client, e.mail_from, e.rcpt_to, std::move(m.body), m.truncated});
    }
    return out;
  }

 private:
  std::shared_ptr<server::MemorySink> sink_;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "smtp-harness run: %s\n", message.c_str());
  return 2;
}

// out/run-20240131-120000 (-2, -3, ... if taken); out/latest -> it.
std::string MakeOutDir(std::string* error) {
  std::string dir = absl::GetFlag(FLAGS_out);
  std::error_code ec;
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) *error = "cannot create " + dir + ": " + ec.message();
    return dir;
  }
  const std::string stamp = harness::UtcNow("run-%Y%m%d-%H%M%S");
  std::string name = stamp;
  for (int i = 2; fs::exists(fs::path("out") / name); ++i) name = stamp + "-" + std::to_string(i);
  fs::create_directories(fs::path("out") / name, ec);
  if (ec) {
    *error = "cannot create out/" + name + ": " + ec.message();
    return "";
  }
  const fs::path latest = fs::path("out") / "latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(name, latest, ec);  // best effort
  return (fs::path("out") / name).string();
}

std::string CommandLine(const std::vector<std::string>& suites) {
  std::string s = "smtp-harness run --target " + absl::GetFlag(FLAGS_target);
  auto add = [&](const char* flag, const std::string& value) {
    if (!value.empty()) s += std::string(" --") + flag + " " + value;
  };
  add("tls", absl::GetFlag(FLAGS_tls));
  add("deliveries", absl::GetFlag(FLAGS_deliveries));
  add("profile", absl::GetFlag(FLAGS_profile));
  add("suite", absl::StrJoin(suites, ","));
  add("filter", absl::StrJoin(absl::GetFlag(FLAGS_filter), ","));
  add("tag", absl::StrJoin(absl::GetFlag(FLAGS_tag), ","));
  add("level", absl::StrJoin(absl::GetFlag(FLAGS_level), ","));
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

}  // namespace

int RunRun(const std::vector<std::string>& args) {
  // Before any thread starts (the embedded server's): SIGINT and SIGTERM go
  // to LiveRun's watcher, which keeps the reports of an interrupted run.
  BlockStopSignals();
  std::string target_text = absl::GetFlag(FLAGS_target);
  // No --target: the embedded reference server (strict profile) on an
  // ephemeral loopback port, with test credentials for the AUTH scenarios.
  std::unique_ptr<server::Server> embedded;
  std::unique_ptr<runner::DeliveryLog> deliveries;
  if (target_text.empty()) {
    server::ServerConfig config;
    config.credentials = {{kEmbeddedUser, kEmbeddedPassword}};
    // Every connection comes from us on 127.0.0.1: no per-address limit, and
    // room for the most --jobs allows.
    config.max_connections_per_ip = 0;
    config.max_connections = std::max<std::size_t>(config.max_connections, runner::kMaxJobs + 16);
    auto sink = std::make_shared<server::MemorySink>();
    deliveries = std::make_unique<EmbeddedDeliveries>(sink);
    embedded = std::make_unique<server::Server>(config, sink);
    absl::StatusOr<server::Endpoint> ep = embedded->Start();
    if (!ep.ok()) {
      std::fprintf(stderr, "smtp-harness run: embedded server: %s\n",
                   std::string(ep.status().message()).c_str());
      return 2;
    }
    target_text = ep->ToString();
    std::fprintf(stderr, "smtp-harness run: no --target: embedded server (strict) on %s\n",
                 target_text.c_str());
  }
  absl::StatusOr<harness::Target> target = harness::ParseTarget(target_text);
  if (!target.ok()) return Usage("--target: " + std::string(target.status().message()));

  scenario::TargetProfile profile;
  if (const std::string path = absl::GetFlag(FLAGS_profile); !path.empty()) {
    auto loaded = scenario::LoadProfile(path);
    if (!loaded.ok()) return Usage(std::string(loaded.status().message()));
    profile = *std::move(loaded);
  } else if (target->kind != harness::Target::Kind::kExec) {
    profile.host = target->host;
    profile.port = target->port;
  }
  if (embedded) {
    profile.user = kEmbeddedUser;
    profile.password = kEmbeddedPassword;
  }

  if (const std::string spec = absl::GetFlag(FLAGS_deliveries); !spec.empty()) {
    if (embedded) return Usage("--deliveries needs --target (the embedded server's are used)");
    absl::StatusOr<std::string> path = runner::ParseDeliveriesSpec(spec);
    if (!path.ok()) return Usage(std::string(path.status().message()));
    std::error_code ec;
    if (!fs::is_regular_file(*path, ec)) {
      return Usage("--deliveries: " + *path +
                   " is not a readable file (start serve --sink jsonl:" + *path + " first)");
    }
    deliveries = std::make_unique<runner::JsonlDeliveries>(*path);
  }

  runner::RunnerOptions options;
  options.executor.deliveries = deliveries.get();
  options.jobs = absl::GetFlag(FLAGS_jobs);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.repeat = absl::GetFlag(FLAGS_repeat);
  if (options.jobs < 1 || options.jobs > runner::kMaxJobs) return Usage("--jobs out of range");
  if (options.repeat < 1 || options.repeat > runner::kMaxRepeat)
    return Usage("--repeat out of range");
  if (options.rate < 0) return Usage("--rate must be >= 0");
  const int step_ms = absl::GetFlag(FLAGS_timeout_ms);
  const int scenario_ms = absl::GetFlag(FLAGS_scenario_timeout_ms);
  if (step_ms <= 0 || scenario_ms <= 0) return Usage("timeouts must be positive");
  const absl::Duration run_timeout = absl::GetFlag(FLAGS_run_timeout);
  if (run_timeout < absl::ZeroDuration()) return Usage("--run_timeout must not be negative");
  options.run_timeout = std::chrono::milliseconds(absl::ToInt64Milliseconds(run_timeout));
  options.executor.step_timeout = std::chrono::milliseconds(step_ms);
  options.executor.scenario_timeout = std::chrono::milliseconds(scenario_ms);
  options.executor.default_tls = profile.tls;
  if (target->kind == harness::Target::Kind::kTls)
    options.executor.default_tls = scenario::TlsMode::kImplicit;
  const std::string tls = absl::GetFlag(FLAGS_tls);
  if (tls == "implicit") {
    options.executor.default_tls = scenario::TlsMode::kImplicit;
  } else if (tls == "starttls") {
    options.executor.default_tls = scenario::TlsMode::kNone;
    options.probe_starttls = true;
  } else if (tls == "none") {
    options.executor.default_tls = scenario::TlsMode::kNone;
  } else if (!tls.empty()) {
    return Usage("--tls must be none, implicit or starttls");
  }
  if (options.executor.default_tls == scenario::TlsMode::kImplicit &&
      target->kind == harness::Target::Kind::kExec) {
    return Usage("implicit TLS is not available for exec: targets");
  }

  scenario::SuiteFilter filter;
  filter.ids = absl::GetFlag(FLAGS_filter);
  filter.tags = absl::GetFlag(FLAGS_tag);
  // LMTP scenarios need an LMTP listener; the embedded default target speaks
  // SMTP, so they are left out unless tags were chosen explicitly.
  if (embedded && filter.tags.empty()) filter.tags.push_back("!lmtp");
  for (const std::string& name : absl::GetFlag(FLAGS_level)) {
    auto level = scenario::ParseLevel(name);
    if (!level) level = scenario::ParseLevel(absl::AsciiStrToUpper(name));
    if (!level) level = scenario::ParseLevel(absl::AsciiStrToLower(name));
    if (!level) return Usage("--level: unknown level '" + name + "'");
    filter.levels.push_back(*level);
  }
  std::vector<std::string> suites = absl::GetFlag(FLAGS_suite);
  suites.insert(suites.end(), args.begin(), args.end());
  if (suites.empty()) suites.push_back("scenarios");
  scenario::LoadOptions load;
  load.extra_variables = profile.ExtraNames();
  absl::StatusOr<scenario::Suite> suite = scenario::LoadSuite(suites, filter, load);
  if (!suite.ok()) {
    std::fprintf(stderr, "smtp-harness run: %s\n", std::string(suite.status().message()).c_str());
    return 2;
  }
  if (suite->scenarios.empty()) return Usage("no scenario matches the filters");

  std::string error;
  const std::string out_dir = MakeOutDir(&error);
  if (!error.empty()) return Usage(error);

  const scenario::Variables vars = profile.ToVariables();
  runner::ProgressPrinter printer(stderr, isatty(STDERR_FILENO) != 0);
  runner::Runner run(runner::TargetConnector(*target), options);
  LiveRunOptions live;
  live.out_dir = out_dir;
  live.snapshot = [&run] { return run.Snapshot(); };
  live.stop = [&run](std::string reason) { run.Stop(std::move(reason)); };
  live.finalize = [&](harness::RunResult& r) {
    r.tool_version = runner::ToolVersion();
    r.command_line = vars.Redact(CommandLine(suites));
    r.target.target = embedded ? "embedded:strict@" + target_text : target_text;
    r.target.name = absl::GetFlag(FLAGS_target_name);
    if (embedded && r.target.name.empty()) r.target.name = "embedded";
    // Scenario files relative to the suite root they were found under.
    for (harness::ScenarioResult& s : r.scenarios) {
      for (const std::string& root : suites) {
        const fs::path rel = fs::path(s.file).lexically_relative(root);
        if (fs::is_directory(root) && !rel.empty() && *rel.begin() != "..") {
          s.file = rel.string();
          break;
        }
      }
    }
  };
  LiveRun live_run(std::move(live));
  harness::RunResult result;
  try {
    result = run.Run(suite->scenarios, vars,
                     [&](const harness::ScenarioResult&, const harness::Counts& c, int total) {
                       printer.Update(c, total);
                     });
  } catch (const std::exception& e) {  // a bug of ours, not a server finding
    printer.Finish();
    std::fprintf(stderr, "smtp-harness run: internal error: %s\n", e.what());
    return 2;
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
  std::printf("%s\n%s\n", html.c_str(), runner::SummaryLine(result).c_str());
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
  return status;
}

}  // namespace smtp::app
