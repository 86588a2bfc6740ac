// The setup of a conformance run (`smtp-harness run`): from what the command
// line asked to everything a runner::Runner needs, checked, with the suite
// loaded. The command itself only reads its flags into a RunRequest, starts
// the embedded target when there is no --target, and reports.
#ifndef SMTP_HARNESS_RUN_RUN_SETUP_H_
#define SMTP_HARNESS_RUN_RUN_SETUP_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/run/embedded_target.h"
#include "harness/runner/deliveries.h"
#include "harness/runner/runner.h"
#include "harness/scenario/suite.h"
#include "harness/scenario/variables.h"
#include "harness/transport.h"

namespace smtp::run {

// Values given on the command line (swaks-style quick flags) that override
// the profile's: --from, --to, --helo, --auth_user, --auth_password (or
// --auth_file), --var NAME=VALUE.
struct ProfileOverrides {
  std::optional<std::string> sender, rcpt, client_domain, user, password;
  std::vector<std::string> vars;  // "NAME=VALUE", each a new extra variable or an override
};

// What a run was asked: the flags, in the library types where they have one
// and as written where they still need parsing.
struct RunRequest {
  std::string target;  // --target: HOST:PORT, tls:HOST:PORT, exec:CMD
  // The run's own server, tested instead of `target` (which must then be
  // empty): its address, credentials and deliveries are used, and the LMTP
  // scenarios are left out unless tags were chosen (it speaks SMTP).
  const EmbeddedTarget* embedded = nullptr;
  std::string tls;                  // --tls: "", "none", "implicit", "starttls"
  std::string profile_file;         // --profile; "": a profile for the target's host and port
  ProfileOverrides overrides;       // applied over the profile
  std::string deliveries;           // --deliveries: "" or "jsonl:PATH"
  std::vector<std::string> suites;  // scenario files and directories
  std::vector<std::string> fragment_dirs;  // --fragments: searched before the suite's own
  // Searched after the suite's own: the shipped suite's fragments/.
  std::vector<std::string> fallback_fragment_dirs;
  scenario::SuiteFilter filter;
  // jobs, rate, repeat, run_timeout, executor.step_timeout and
  // executor.scenario_timeout; the rest is decided by PrepareRun.
  runner::RunnerOptions options;
};

// A run ready to start: runner::Runner(TargetConnector(target), options)
// .Run(suite.scenarios, vars).
struct PreparedRun {
  harness::Target target;
  std::string target_label;  // RunResult's target.target: --target as given, or Label()
  std::string target_name;   // the default name of the target in reports ("embedded" or "")
  scenario::Variables vars;  // the profile's, credentials marked secret
  // With default_tls, probe_starttls (runner::DecideTls) and
  // executor.deliveries (the embedded target's or `deliveries`) set.
  runner::RunnerOptions options;
  scenario::Suite suite;                            // at least one scenario
  std::unique_ptr<runner::DeliveryLog> deliveries;  // --deliveries' log, if given
  // What the user should hear about the filters (scenario::FilterNotes):
  // entries that match nothing, scenarios --level left out; and --var
  // names no scenario uses ("--var 'x' is used by no scenario of this run
  // (did you mean 'y'?)").
  std::vector<std::string> filter_notes;
};

// Checks the request, in this order, and prepares the run. InvalidArgument
// (or LoadProfile's and LoadSuite's own errors) with the message to show:
//   "--target: ..."                       unparsable target
//   the profile's load error
//   "--deliveries needs --target (the embedded server's are used)"
//   "--deliveries: PATH is not a readable file (start serve --sink jsonl:PATH first)"
//   "--jobs out of range", "--repeat out of range", "--rate must be >= 0",
//   "timeouts must be positive", "--run_timeout must not be negative"
//   runner::DecideTls's errors
//   the suite's load errors
//   "no scenario matches the filters", followed by the filter notes
//   ("no scenario matches the filters: --tag 'smugling' matches no
//   scenario (did you mean 'smuggling'?)")
absl::StatusOr<PreparedRun> PrepareRun(RunRequest request);

// What the console says about deliveries before a run (empty for the
// embedded target, which is ours), derived from the loaded scenarios
// (scenario::EstimateDeliveries, over those that apply before the probe
// knows more, times --repeat):
//   without --no_deliver: "warning: this run may deliver up to 96 messages
//   (from 70 scenarios) to user@example.test, ...: point it at a test
//   server, not production; --no_deliver delivers none (...)";
//   with it: "--no_deliver: no transaction reaches an end of data: N
//   scenarios end their transactions with RSET instead, M that need a
//   delivery are skipped (K smuggling probes among them)".
std::string DeliveryNotice(const PreparedRun& run, bool embedded);

// The target a profile file names with "host"/"port" ("HOST:PORT", or
// "tls:HOST:PORT" with "tls": "implicit"), for a run without --target; ""
// when it names none. The profile's load errors.
absl::StatusOr<std::string> TargetFromProfile(const std::string& profile_file);

// "USER:PASSWORD" on the first line of a credentials file (--auth_file):
// sets overrides->user and ->password. Errors name the file.
absl::Status ReadCredentialsFile(const std::string& path, ProfileOverrides* overrides);

}  // namespace smtp::run

#endif  // SMTP_HARNESS_RUN_RUN_SETUP_H_
