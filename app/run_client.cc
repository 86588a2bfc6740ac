#include "app/run_client.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "app/default_suite.h"
#include "app/live_run.h"
#include "harness/client/client_profile.h"
#include "harness/client/client_run.h"
#include "harness/client/client_scenario.h"
#include "harness/runner/progress.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/suite.h"
#include "results/absl_compat.h"
#include "results/results.h"

ABSL_FLAG(std::string, client, "",
          "run: test an SMTP client instead of a server: a client profile JSON (docs/clients.md); "
          "the harness is the server and runs the client suite (default: the shipped "
          "scenarios/client); fuzz: fuzz that client, the fuzzer being the server "
          "(docs/clientfuzz.md)");

// run's own flags, shared.
ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, tls);
ABSL_DECLARE_FLAG(std::string, profile);
ABSL_DECLARE_FLAG(std::string, deliveries);
ABSL_DECLARE_FLAG(std::vector<std::string>, suite);
ABSL_DECLARE_FLAG(std::vector<std::string>, filter);
ABSL_DECLARE_FLAG(std::vector<std::string>, tag);
ABSL_DECLARE_FLAG(std::vector<std::string>, level);
ABSL_DECLARE_FLAG(int, jobs);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, target_name);
ABSL_DECLARE_FLAG(std::string, from);
ABSL_DECLARE_FLAG(std::string, to);
ABSL_DECLARE_FLAG(std::string, rcpt);
ABSL_DECLARE_FLAG(std::string, auth_user);
ABSL_DECLARE_FLAG(std::string, auth_password);
ABSL_DECLARE_FLAG(std::vector<std::string>, fail_on);
ABSL_DECLARE_FLAG(absl::Duration, progress_every);

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

constexpr int kDefaultClientJobs = 4;
constexpr int kMaxListed = 50;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness run --client: %s\n", message.c_str());
  return 2;
}

// --filter, --tag and --level as for server scenarios: each list "any of",
// '!' excludes, the three ANDed.
bool Keep(const client::ClientScenario& s) {
  auto matches = [](const std::vector<std::string>& list, auto&& hit) {
    bool any_positive = false, positive_hit = false;
    for (const std::string& entry : list) {
      if (!entry.empty() && entry[0] == '!') {
        if (hit(entry.substr(1))) return false;
      } else {
        any_positive = true;
        positive_hit = positive_hit || hit(entry);
      }
    }
    return !any_positive || positive_hit;
  };
  return matches(absl::GetFlag(FLAGS_filter),
                 [&](const std::string& g) { return scenario::GlobMatch(g, s.id); }) &&
         matches(absl::GetFlag(FLAGS_tag),
                 [&](const std::string& t) {
                   return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end();
                 }) &&
         matches(absl::GetFlag(FLAGS_level), [&](const std::string& l) {
           return absl::AsciiStrToLower(l) == absl::AsciiStrToLower(s.level);
         });
}

absl::StatusOr<std::vector<std::string>> FailOn() {
  const std::vector<std::string> names = absl::GetFlag(FLAGS_fail_on);
  if (names.size() == 1 && absl::AsciiStrToLower(names[0]) == "none")
    return std::vector<std::string>{};
  std::vector<std::string> levels;
  for (const std::string& n : names) {
    const std::optional<scenario::Level> level = scenario::ParseLevelIgnoringCase(n);
    if (!level) return absl::InvalidArgumentError("--fail_on: unknown level '" + n + "'");
    levels.emplace_back(scenario::LevelName(*level));
  }
  return levels;
}

}  // namespace

bool ClientRunRequested() { return !absl::GetFlag(FLAGS_client).empty(); }

int RunClientRun(const std::vector<std::string>& args) {
  BlockStopSignals();
  for (const auto& [flag, value] :
       {std::pair<const char*, std::string>{"target", absl::GetFlag(FLAGS_target)},
        {"tls", absl::GetFlag(FLAGS_tls)},
        {"profile", absl::GetFlag(FLAGS_profile)},
        {"deliveries", absl::GetFlag(FLAGS_deliveries)}}) {
    if (!value.empty()) {
      return Fail(std::string("--") + flag +
                  " is for testing servers; with --client the harness is the server");
    }
  }
  absl::StatusOr<std::vector<std::string>> fail_on = FailOn();
  if (!fail_on.ok()) return Fail(Message(fail_on.status()));
  absl::StatusOr<client::ClientProfile> profile =
      client::LoadClientProfile(absl::GetFlag(FLAGS_client));
  if (!profile.ok()) return Fail(Message(profile.status()));

  std::vector<std::string> suites = absl::GetFlag(FLAGS_suite);
  suites.insert(suites.end(), args.begin(), args.end());
  const std::vector<std::string> given = suites;
  if (suites.empty()) {
    absl::StatusOr<std::string> shipped = DefaultSuite();
    if (!shipped.ok()) return Fail(Message(shipped.status()));
    suites.push_back((fs::path(*shipped) / "client").string());
  }
  absl::StatusOr<std::vector<client::ClientScenario>> loaded = client::LoadClientSuite(suites);
  if (!loaded.ok()) return Fail(Message(loaded.status()));
  std::vector<client::ClientScenario> scenarios;
  for (client::ClientScenario& s : *loaded) {
    if (Keep(s)) scenarios.push_back(std::move(s));
  }
  if (scenarios.empty()) return Fail("no client scenario left after --filter/--tag/--level");

  std::string error;
  const std::string out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "run", &error);
  if (!error.empty()) return Fail(error);

  client::ClientRunOptions options;
  options.jobs = absl::GetFlag(FLAGS_jobs) > 0 ? absl::GetFlag(FLAGS_jobs) : kDefaultClientJobs;
  options.work_dir = (fs::path(out_dir) / "client-files").string();
  if (!absl::GetFlag(FLAGS_from).empty()) options.values.from = absl::GetFlag(FLAGS_from);
  if (!absl::GetFlag(FLAGS_to).empty()) options.values.to = absl::GetFlag(FLAGS_to);
  if (!absl::GetFlag(FLAGS_rcpt).empty()) options.values.to = absl::GetFlag(FLAGS_rcpt);
  if (!absl::GetFlag(FLAGS_auth_user).empty()) options.values.user = absl::GetFlag(FLAGS_auth_user);
  if (!absl::GetFlag(FLAGS_auth_password).empty()) {
    options.values.password = absl::GetFlag(FLAGS_auth_password);
  }
  std::atomic<bool> stop{false};
  std::mutex reason_mu;
  std::string reason;
  options.stop = &stop;
  options.stop_reason = [&] {
    std::lock_guard<std::mutex> lock(reason_mu);
    return reason;
  };
  runner::ProgressPrinter printer = runner::ProgressPrinter::For(
      stderr,
      std::chrono::milliseconds(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_progress_every))));
  options.progress = [&](const harness::ScenarioResult&, const harness::Counts& c, int total) {
    printer.Update(c, total);
  };
  std::string command_line = "smtp-harness run --client " + absl::GetFlag(FLAGS_client);
  if (!given.empty()) command_line += " --suite " + absl::StrJoin(given, ",");
  for (const auto& [flag, list] :
       {std::pair<const char*, std::vector<std::string>>{"filter", absl::GetFlag(FLAGS_filter)},
        {"tag", absl::GetFlag(FLAGS_tag)},
        {"level", absl::GetFlag(FLAGS_level)}}) {
    if (!list.empty()) command_line += std::string(" --") + flag + " " + absl::StrJoin(list, ",");
  }
  command_line += " --jobs " + std::to_string(options.jobs);
  const int planned = static_cast<int>(scenarios.size());

  LiveRunOptions live;
  live.out_dir = out_dir;
  live.snapshot = [&] {
    harness::RunResult r;
    r.complete = false;
    r.planned = planned;
    return r;
  };
  live.stop = [&](std::string why) {
    {
      std::lock_guard<std::mutex> lock(reason_mu);
      reason = std::move(why);
    }
    stop.store(true);
  };
  live.tick = [&printer] { printer.Tick(); };
  live.finalize = [&](harness::RunResult& r) {
    r.tool_version = runner::ToolVersion();
    r.fail_on = *fail_on;
    r.command_line = command_line;
    r.target.target = "client:" + profile->name;
    r.target.name =
        absl::GetFlag(FLAGS_target_name).empty() ? profile->name : absl::GetFlag(FLAGS_target_name);
  };
  LiveRun live_run(std::move(live));
  std::fprintf(stderr, "smtp-harness run --client: %s, %d scenario(s), %d at a time\n",
               profile->name.c_str(), planned, options.jobs);
  absl::StatusOr<harness::RunResult> result = client::RunClientSuite(*profile, scenarios, options);
  printer.Finish();
  if (!result.ok()) return Fail(Message(result.status()));
  const int status = live_run.Finish(*result);
  const std::string html = (fs::path(out_dir) / "index.html").string();
  const std::string json = (fs::path(out_dir) / "results.json").string();
  std::printf("%s\n%s\n%s\n", html.c_str(), json.c_str(), runner::SummaryLine(*result).c_str());
  int listed = 0;
  for (const harness::ScenarioResult& s : result->scenarios) {
    if (s.verdict != harness::Verdict::kFail && s.verdict != harness::Verdict::kError) continue;
    if (listed++ == kMaxListed) {
      std::printf("  ... and more (see results.json)\n");
      break;
    }
    std::printf("  %s %s [%s]: %s\n", std::string(VerdictName(s.verdict)).c_str(), s.id.c_str(),
                s.level.c_str(), s.reason.c_str());
  }
  for (const std::string& line : runner::ExitSummaryLines(*result, status)) {
    std::printf("%s\n", line.c_str());
  }
  return status;
}

}  // namespace smtp::app
