#include "app/run_client.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "app/default_suite.h"
#include "app/live_run.h"
#include "harness/client/client_profile.h"
#include "harness/client/client_run.h"
#include "harness/client/client_scenario.h"
#include "harness/client/client_select.h"
#include "harness/runner/progress.h"
#include "harness/runner/runner.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/suite.h"
#include "harness/wall_clock.h"
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
ABSL_DECLARE_FLAG(bool, markdown);
ABSL_DECLARE_FLAG(std::vector<std::string>, fragments);

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

constexpr int kDefaultClientJobs = 4;
constexpr int kMaxListed = 50;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness run --client: %s\n", message.c_str());
  return 2;
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

// The client suite to run or list: --suite and the arguments, else the
// shipped scenarios/client. `given` gets the paths the user named.
absl::StatusOr<std::vector<client::ClientScenario>> LoadSuite(const std::vector<std::string>& args,
                                                              std::vector<std::string>* given) {
  std::vector<std::string> suites = absl::GetFlag(FLAGS_suite);
  suites.insert(suites.end(), args.begin(), args.end());
  *given = suites;
  if (suites.empty()) {
    absl::StatusOr<std::string> shipped = DefaultSuite();
    if (!shipped.ok()) return shipped.status();
    suites.push_back((fs::path(*shipped) / "client").string());
  }
  return client::LoadClientSuite(suites);
}

std::string Padded(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// A profile whose client never reached the harness in any scenario that
// ran (a program not found, a command that exits at once, a wrong
// address) is a setup error, not dozens of client findings: one line that
// says so, with the first scenario's reason (the client's exit and
// output). "" when some scenario saw a connection or none ran.
std::string NeverConnected(const harness::RunResult& r) {
  const harness::ScenarioResult* first = nullptr;
  int ran = 0;
  for (const harness::ScenarioResult& s : r.scenarios) {
    if (s.verdict == harness::Verdict::kSkip) continue;
    ++ran;
    for (const harness::Entry& e : s.transcript.entries()) {
      if (e.kind == harness::EntryKind::kConnect) return "";
    }
    if (first == nullptr) first = &s;
  }
  if (first == nullptr) return "";
  return absl::StrCat("the client never connected to the harness in any of the ", ran,
                      ran == 1 ? " scenario" : " scenarios",
                      " that ran: check the profile's commands (", first->id, ": ", first->reason,
                      ")");
}

}  // namespace

int ListClientScenarios(const std::vector<std::string>& args) {
  auto fail = [](std::string_view message) {
    std::fprintf(stderr, "smtp-harness list --client: %.*s\n", static_cast<int>(message.size()),
                 message.data());
    return 2;
  };
  if (absl::GetFlag(FLAGS_markdown) || !absl::GetFlag(FLAGS_fragments).empty() ||
      !absl::GetFlag(FLAGS_profile).empty()) {
    return fail("--markdown, --fragments and --profile are for the server suite");
  }
  absl::StatusOr<scenario::SuiteFilter> filter = scenario::MakeSuiteFilter(
      absl::GetFlag(FLAGS_filter), absl::GetFlag(FLAGS_tag), absl::GetFlag(FLAGS_level));
  if (!filter.ok()) return fail(Message(filter.status()));
  std::optional<client::ClientProfile> profile;
  const std::string profile_path = absl::GetFlag(FLAGS_client);
  std::error_code ec;
  if (profile_path != "all" || fs::exists(profile_path, ec)) {
    absl::StatusOr<client::ClientProfile> loaded = client::LoadClientProfile(profile_path);
    if (!loaded.ok()) return fail(Message(loaded.status()));
    profile = *std::move(loaded);
  }
  std::vector<std::string> given;
  absl::StatusOr<std::vector<client::ClientScenario>> loaded = LoadSuite(args, &given);
  if (!loaded.ok()) return fail(Message(loaded.status()));
  const std::size_t total = loaded->size();
  client::ClientSelection selected = client::SelectClientScenarios(*std::move(loaded), *filter);
  for (const std::string& note : selected.notes) fail(note);
  std::size_t id_w = 0, level_w = 0, rfc_w = 0, mode_w = 0, tags_w = 0;
  auto rfc = [](const client::ClientScenario& s) { return s.rfc_document + " §" + s.rfc_section; };
  for (const client::ClientScenario& s : selected.scenarios) {
    id_w = std::max(id_w, s.id.size());
    level_w = std::max(level_w, s.level.size());
    rfc_w = std::max(rfc_w, rfc(s).size());
    mode_w = std::max(mode_w, client::ClientModeName(s.mode).size());
    tags_w = std::max(tags_w, absl::StrJoin(s.tags, ",").size());
  }
  std::size_t skipped = 0;
  for (const client::ClientScenario& s : selected.scenarios) {
    std::string line = Padded(s.id, id_w) + "  " + Padded(s.level, level_w) + "  " +
                       Padded(rfc(s), rfc_w) + "  " +
                       Padded(client::ClientModeName(s.mode), mode_w) + "  " +
                       Padded(absl::StrJoin(s.tags, ","), tags_w) + "  " + s.title;
    if (profile) {
      if (const std::string why = client::SkipReason(*profile, s); !why.empty()) {
        line += "  [skipped: " + why + "]";
        ++skipped;
      }
    }
    std::printf("%s\n", line.c_str());
  }
  std::fprintf(stderr, "%zu client scenarios (%zu filtered out)", selected.scenarios.size(),
               total - selected.scenarios.size());
  if (profile) std::fprintf(stderr, "; %zu skipped with %s", skipped, profile->name.c_str());
  std::fprintf(stderr, "\n");
  return 0;
}

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
  absl::StatusOr<scenario::SuiteFilter> filter = scenario::MakeSuiteFilter(
      absl::GetFlag(FLAGS_filter), absl::GetFlag(FLAGS_tag), absl::GetFlag(FLAGS_level));
  if (!filter.ok()) return Fail(Message(filter.status()));
  absl::StatusOr<client::ClientProfile> profile =
      client::LoadClientProfile(absl::GetFlag(FLAGS_client));
  if (!profile.ok()) return Fail(Message(profile.status()));

  std::vector<std::string> given;
  absl::StatusOr<std::vector<client::ClientScenario>> loaded = LoadSuite(args, &given);
  if (!loaded.ok()) return Fail(Message(loaded.status()));
  client::ClientSelection selected = client::SelectClientScenarios(*std::move(loaded), *filter);
  for (const std::string& note : selected.notes) {
    std::fprintf(stderr, "smtp-harness run --client: %s\n", note.c_str());
  }
  std::vector<client::ClientScenario> scenarios = std::move(selected.scenarios);
  if (scenarios.empty()) return Fail("no client scenario left after --filter/--tag/--level");

  std::string error;
  const std::string out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "run", &error);
  if (!error.empty()) return Fail(error);

  client::ClientRunOptions options;
  options.jobs = absl::GetFlag(FLAGS_jobs) > 0 ? absl::GetFlag(FLAGS_jobs) : kDefaultClientJobs;
  // Absolute: the client runs in its profile's directory, not ours.
  std::error_code abs_ec;
  const fs::path out_abs = fs::absolute(out_dir, abs_ec);
  options.work_dir = ((abs_ec ? fs::path(out_dir) : out_abs) / "client-files").string();
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
  // The results so far, for the live results.json (report --serve): each
  // scenario as it ends, shown in the suite's order as run shows them.
  std::mutex done_mu;
  std::vector<std::optional<harness::ScenarioResult>> done(scenarios.size());
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < scenarios.size(); ++i) index.emplace(scenarios[i].id, i);
  const std::string started_at = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  const auto started = std::chrono::steady_clock::now();
  options.progress = [&](const harness::ScenarioResult& r, const harness::Counts& c, int total) {
    {
      std::lock_guard<std::mutex> lock(done_mu);
      if (auto it = index.find(r.id); it != index.end()) done[it->second] = r;
    }
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
    r.started_at = started_at;
    r.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    std::lock_guard<std::mutex> lock(done_mu);
    for (const std::optional<harness::ScenarioResult>& d : done) {
      if (d) r.scenarios.push_back(*d);
    }
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
  if (const std::string why = NeverConnected(*result); !why.empty() && status < 128) {
    return Fail(why);
  }
  for (const std::string& line : runner::ExitSummaryLines(*result, status)) {
    std::printf("%s\n", line.c_str());
  }
  return status;
}

}  // namespace smtp::app
