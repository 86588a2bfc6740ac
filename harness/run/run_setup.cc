#include "harness/run/run_setup.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "harness/runner/tls_decision.h"
#include "harness/scenario/profile.h"
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
  run.options.probe_starttls = tls->probe_starttls;

  if (embedded != nullptr && request.filter.tags.empty()) request.filter.tags.push_back("!lmtp");
  scenario::LoadOptions load;
  load.extra_variables = profile->ExtraNames();
  absl::StatusOr<scenario::Suite> suite = scenario::LoadSuite(request.suites, request.filter, load);
  if (!suite.ok()) return suite.status();
  if (suite->scenarios.empty()) return Invalid("no scenario matches the filters");
  run.suite = *std::move(suite);
  run.vars = profile->ToVariables();
  return run;
}

}  // namespace smtp::run
