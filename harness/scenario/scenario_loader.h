// Loading scenario files: JSON text -> Scenario (scenario.h), with every
// check done up front so that a loaded scenario can run without format
// errors: unknown keys, wrong types, bad regexes, bad byte escapes, bad code
// patterns, unknown variables, missing or cyclic fragments are load errors.
//
// Every error is an InvalidArgument status (NotFound for a missing file)
// whose message names the place as "file:line:col: <context>: <what>", e.g.
//   scenarios/foo.json:12:7: step 3 (expect): unknown key 'cod' (did you mean
//   'code'?)
// where the position is the offending key (unknown key) or value (anything
// else); errors inside a fragment point into the fragment file and end with
// "; included from scenarios/foo.json:4:16". The first error found wins.
#ifndef SMTP_HARNESS_SCENARIO_SCENARIO_LOADER_H_
#define SMTP_HARNESS_SCENARIO_SCENARIO_LOADER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario/scenario.h"

namespace smtp::scenario {

// Named bounds of the format.
inline constexpr int kMaxTimeoutMs = 3'600'000;  // timeout_ms, within_ms, for_ms, sleep
inline constexpr int kMaxRepeatTimes = 10'000;   // repeat.times, expect_delivery.rcpt_count
inline constexpr int kMaxDeliveryCount = 1'000;  // expect_delivery.count
inline constexpr int kMaxPadExtra = 1 << 20;     // data.pad_extra
inline constexpr std::int64_t kMaxExpandedSteps = 1'000'000;  // after repeats multiply out
inline constexpr int kMaxIncludeDepth = 8;                    // nested fragment includes
inline constexpr std::size_t kMaxPipelineCommands = 1'000;
inline constexpr std::size_t kMaxIdLength = 128;

struct LoadOptions {
  // Where fragment NAME is looked for, as NAME.json: these directories in
  // order (`run --fragments`: a suite kept elsewhere can include the
  // shipped fragments), then the nearest directory called "fragments" in or
  // above the scenario file's directory (so scenarios/x/y.json finds
  // scenarios/fragments/).
  std::vector<std::string> fragment_dirs;
  // Searched last, after the nearest "fragments" directory: the shipped
  // suite's fragments (`run` and `list` set it), so that a user's own suite
  // with "include": "greeting" and no fragments/ of its own finds them.
  std::vector<std::string> fallback_fragment_dirs;
  // Variable names a scenario may use besides the profile's standard ones
  // (ProfileVariableNames()) and its own captures — e.g. a profile's "vars".
  std::vector<std::string> extra_variables;
  // When true, `${name}` with an unknown name is not a load error (it still
  // fails when the step runs). For listing suites without a profile.
  bool allow_unknown_variables = false;
};

// Loads one scenario file.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path, const LoadOptions& options = {});

// Loads a scenario from `text`; `path` names it in messages and locates the
// fragments directory (as for LoadScenarioFile).
absl::StatusOr<Scenario> LoadScenarioText(const std::string& path, std::string text,
                                          const LoadOptions& options = {});

// The variables a target profile always provides: host, port, tls,
// client_domain, rcpt, sender, user, password.
const std::vector<std::string>& ProfileVariableNames();

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_SCENARIO_LOADER_H_
