#include "harness/run/run_setup.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/runner/tls_decision.h"
#include "harness/scenario/delivery.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/scenario_loader.h"
#include "harness/scenario/suggest.h"
#include "results/absl_compat.h"

namespace smtp::run {
namespace {

absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

// --profile, or a profile for the target's host and port; the embedded
// target's credentials either way.
absl::StatusOr<scenario::TargetProfile> MakeProfile(const RunRequest& request,
                                                    const harness::Target& target) {
  scenario::TargetProfile profile;
  if (!request.profile_file.empty()) {
    absl::StatusOr<scenario::TargetProfile> loaded = scenario::LoadProfile(request.profile_file);
    if (!loaded.ok()) return loaded.status();
    profile = *std::move(loaded);
  } else if (target.kind != harness::Target::Kind::kExec) {
    profile.host = target.host;
    profile.port = target.port;
  }
  if (request.embedded != nullptr) {
    profile.user = request.embedded->user;
    profile.password = request.embedded->password;
  }
  const ProfileOverrides& o = request.overrides;
  if (o.sender) profile.sender = *o.sender;
  if (o.rcpt) profile.rcpt = *o.rcpt;
  if (o.client_domain) profile.client_domain = *o.client_domain;
  if (o.user) profile.user = *o.user;
  if (o.password) profile.password = *o.password;
  for (const std::string& assignment : o.vars) {
    const std::size_t eq = assignment.find('=');
    const std::string name = assignment.substr(0, eq);
    if (eq == std::string::npos || !scenario::IsValidVariableName(name)) {
      return Invalid("--var: expected NAME=VALUE with NAME of letters, digits and '_', got '" +
                     assignment + "'");
    }
    const auto& standard = scenario::ProfileVariableNames();
    if (std::find(standard.begin(), standard.end(), name) != standard.end()) {
      return Invalid("--var: '" + name +
                     "' is a profile key: use its own flag (--from, --to, --helo, --auth_user, "
                     "--auth_password) or the profile");
    }
    profile.vars[name] = assignment.substr(eq + 1);
  }
  return profile;
}

// The JSONL deliveries file of --deliveries; nullptr when not given.
absl::StatusOr<std::unique_ptr<runner::DeliveryLog>> OpenDeliveries(const RunRequest& request) {
  if (request.deliveries.empty()) return nullptr;
  if (request.embedded != nullptr) {
    return Invalid("--deliveries needs --target (the embedded server's are used)");
  }
  absl::StatusOr<std::string> path = runner::ParseDeliveriesSpec(request.deliveries);
  if (!path.ok()) return path.status();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(*path, ec)) {
    return Invalid("--deliveries: " + *path +
                   " is not a readable file (start serve --sink jsonl:" + *path + " first)");
  }
  return std::make_unique<runner::JsonlDeliveries>(*path);
}

// --var names that no scenario of the run references, with the nearest
// variable they may have meant (a misspelt name is otherwise silently unused):
//   "--var 'clinet_dom' is used by no scenario of this run (did you mean
//   'client_dom'?)"
std::vector<std::string> UnusedVars(const std::vector<std::string>& assignments,
                                    const std::vector<scenario::Scenario>& scenarios) {
  std::vector<std::string> used;
  for (const scenario::Scenario& s : scenarios) {
    for (std::string& v : scenario::ReferencedVariables(s)) used.push_back(std::move(v));
  }
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  std::vector<std::string> notes;
  for (const std::string& a : assignments) {
    const std::string name = a.substr(0, a.find('='));
    if (std::binary_search(used.begin(), used.end(), name)) continue;
    std::vector<std::string_view> names(used.begin(), used.end());
    for (const std::string& p : scenario::ProfileVariableNames()) names.push_back(p);
    std::string note = "--var '" + name + "' is used by no scenario of this run";
    if (const std::string_view s = scenario::Suggest(name, names); !s.empty()) {
      note += " (did you mean '" + std::string(s) + "'?)";
    }
    notes.push_back(std::move(note));
  }
  return notes;
}

absl::Status CheckOptions(const runner::RunnerOptions& o) {
  if (o.jobs < 1 || o.jobs > runner::kMaxJobs) return Invalid("--jobs out of range");
  if (o.repeat < 1 || o.repeat > runner::kMaxRepeat) return Invalid("--repeat out of range");
  if (o.rate < 0) return Invalid("--rate must be >= 0");
  if (o.executor.step_timeout.count() <= 0 || o.executor.scenario_timeout.count() <= 0) {
    return Invalid("timeouts must be positive");
  }
  if (o.run_timeout.count() < 0) return Invalid("--run_timeout must not be negative");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PreparedRun> PrepareRun(RunRequest request) {
  const EmbeddedTarget* embedded = request.embedded;
  PreparedRun run;
  run.target_label = embedded != nullptr ? embedded->endpoint.ToString() : request.target;
  absl::StatusOr<harness::Target> target = harness::ParseTarget(run.target_label);
  if (!target.ok()) return Invalid("--target: " + Message(target.status()));
  run.target = *std::move(target);
  if (embedded != nullptr) {
    run.target_label = embedded->Label();
    run.target_name = "embedded";
  }

  absl::StatusOr<scenario::TargetProfile> profile = MakeProfile(request, run.target);
  if (!profile.ok()) return profile.status();

  absl::StatusOr<std::unique_ptr<runner::DeliveryLog>> deliveries = OpenDeliveries(request);
  if (!deliveries.ok()) return deliveries.status();
  run.deliveries = *std::move(deliveries);

  run.options = std::move(request.options);
  if (absl::Status s = CheckOptions(run.options); !s.ok()) return s;
  run.options.executor.deliveries = run.deliveries ? run.deliveries.get()
                                    : embedded     ? embedded->deliveries.get()
                                                   : nullptr;
  absl::StatusOr<runner::TlsDecision> tls =
      runner::DecideTls(run.target, profile->tls, request.tls);
  if (!tls.ok()) return tls.status();
  run.options.executor.default_tls = tls->default_tls;
  if (embedded != nullptr && embedded->early_talker_server) {
    absl::StatusOr<harness::Target> early =
        harness::ParseTarget(embedded->early_talker_endpoint.ToString());
    if (!early.ok()) return early.status();
    run.options.early_talker_connector = runner::TargetConnector(*std::move(early));
  }
  run.options.probe_starttls = tls->probe_starttls;

  run.options.lmtp = run.target.lmtp;
  scenario::LoadOptions load;
  load.extra_variables = profile->ExtraNames();
  load.fragment_dirs = request.fragment_dirs;
  load.fallback_fragment_dirs = request.fallback_fragment_dirs;
  absl::StatusOr<scenario::Suite> suite = scenario::LoadSuite(request.suites, request.filter, load);
  if (!suite.ok()) return suite.status();
  run.filter_notes = scenario::FilterNotes(*suite, request.filter);
  if (suite->scenarios.empty()) {
    return Invalid(run.filter_notes.empty() ? "no scenario matches the filters"
                                            : "no scenario matches the filters: " +
                                                  absl::StrJoin(run.filter_notes, "; "));
  }
  run.suite = *std::move(suite);
  for (std::string& note : UnusedVars(request.overrides.vars, run.suite.scenarios)) {
    run.filter_notes.push_back(std::move(note));
  }
  run.vars = profile->ToVariables();
  return run;
}

std::string DeliveryNotice(const PreparedRun& run, bool embedded) {
  if (embedded) return "";
  scenario::TargetFacts before_probe;
  before_probe.keywords_known = false;
  before_probe.deliveries = run.options.executor.deliveries != nullptr;
  before_probe.lmtp = run.options.lmtp;
  before_probe.implicit_tls = run.options.executor.default_tls == scenario::TlsMode::kImplicit;
  const std::int64_t repeat = std::max(1, run.options.repeat);
  std::int64_t messages = 0, delivering = 0, rset = 0, skipped = 0, smuggling = 0;
  std::vector<std::string> to;
  for (const scenario::Scenario& s : run.suite.scenarios) {
    if (scenario::SkipReason(s, before_probe) || scenario::EmptyVariable(s, run.vars)) continue;
    const scenario::DeliveryEstimate e = scenario::EstimateDeliveries(s, run.vars);
    if (e.messages == 0) continue;
    messages += e.messages * repeat;
    ++delivering;
    for (const std::string& r : e.recipients) {
      if (std::find(to.begin(), to.end(), r) == to.end()) to.push_back(r);
    }
    switch (scenario::PlanWithoutDelivery(s, e)) {
      case scenario::NoDeliveryPlan::kRset:
        ++rset;
        break;
      case scenario::NoDeliveryPlan::kSkip:
        ++skipped;
        if (std::find(s.tags.begin(), s.tags.end(), "smuggling") != s.tags.end()) ++smuggling;
        break;
      case scenario::NoDeliveryPlan::kUnchanged:
        break;
    }
  }
  if (run.options.executor.no_deliver) {
    return absl::StrCat(
        "--no_deliver: no transaction reaches an end of data: ", rset,
        rset == 1 ? " scenario ends its transactions" : " scenarios end their transactions",
        " with RSET instead, ", skipped, " that need a delivery ", skipped == 1 ? "is" : "are",
        " skipped",
        smuggling > 0 ? absl::StrCat(" (", smuggling, " smuggling probes among them)") : "");
  }
  if (messages == 0) return "";
  constexpr std::size_t kListed = 5;
  std::vector<std::string> listed(to.begin(), to.begin() + std::min(to.size(), kListed));
  for (std::string& r : listed) r = run.vars.Redact(r);
  std::string whom = absl::StrJoin(listed, ", ");
  if (to.size() > kListed) absl::StrAppend(&whom, " and ", to.size() - kListed, " more");
  return absl::StrCat("warning: this run may deliver up to ", messages,
                      messages == 1 ? " message" : " messages", " (from ", delivering,
                      delivering == 1 ? " scenario" : " scenarios", ")",
                      whom.empty() ? "" : " to " + whom,
                      ": point it at a test server, not production; --no_deliver delivers none "
                      "(it ends transactions with RSET where a scenario allows, and skips the ",
                      skipped, " that need a delivery)");
}

absl::StatusOr<std::string> TargetFromProfile(const std::string& profile_file) {
  if (profile_file.empty()) return std::string();
  absl::StatusOr<scenario::TargetProfile> profile = scenario::LoadProfile(profile_file);
  if (!profile.ok()) return profile.status();
  if (!profile->names_target) return std::string();
  harness::Target t;
  t.kind = profile->tls == scenario::TlsMode::kImplicit ? harness::Target::Kind::kTls
                                                        : harness::Target::Kind::kTcp;
  t.host = profile->host;
  t.port = static_cast<std::uint16_t>(profile->port);
  return t.ToString();
}

absl::Status ReadCredentialsFile(const std::string& path, ProfileOverrides* overrides) {
  std::ifstream in(path);
  if (!in) return Invalid("--auth_file: cannot read " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Invalid("--auth_file: " + path + ": the first line must be USER:PASSWORD");
  }
  overrides->user = line.substr(0, colon);
  overrides->password = line.substr(colon + 1);
  return absl::OkStatus();
}

}  // namespace smtp::run
