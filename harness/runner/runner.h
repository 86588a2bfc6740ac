// The runner: runs a suite of scenarios against one target, N at a time,
// each on its own connection, and collects a RunResult (harness/results.h).
//
//   Runner runner(TargetConnector(target), options);
//   harness::RunResult run = runner.Run(suite.scenarios, profile.ToVariables(), on_progress);
//
// Before the scenarios it probes the target once (connect, greeting, EHLO,
// and, when STARTTLS is offered and `probe_starttls` is set or a scenario
// encrypts with STARTTLS, STARTTLS plus a second EHLO) to fill TargetInfo and
// learn the advertised extensions of both phases; a scenario that does not
// apply (scenario::SkipReason: a required extension not advertised in the
// phases it reaches, ...) is skipped with the reason. When the
// probe cannot even connect, every scenario is an error ("target
// unreachable") and none is run.
//
// Concurrency: one io_context on the calling thread; `jobs` worker
// coroutines take scenarios in order, so results do not depend on `jobs`
// (except through the server's own behaviour). Results are returned in
// scenario order (× repeat).
#ifndef SMTP_HARNESS_RUNNER_RUNNER_H_
#define SMTP_HARNESS_RUNNER_RUNNER_H_

#include <functional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "harness/results.h"
#include "harness/runner/executor.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/variables.h"

namespace smtp::runner {

// Named bounds of the runner's knobs.
inline constexpr int kMaxJobs = 1024;
inline constexpr int kMaxRepeat = 1'000'000;

struct RunnerOptions {
  int jobs = 1;                 // scenarios in flight at once, 1..kMaxJobs
  double rate = 0;              // new connections per second over the run; 0 = unlimited
  int repeat = 1;               // each scenario runs this many times (benchmarks, flakiness)
  bool probe = true;            // probe the target first (else no `requires` skips)
  bool probe_starttls = false;  // the probe upgrades with STARTTLS if offered
  ExecutorOptions executor;     // its `limiter` is set by the runner
};

// Called on the runner's thread after each scenario finishes: the result,
// the counts so far, and the number of scenarios in the run.
using ProgressFn = std::function<void(const harness::ScenarioResult& done,
                                      const harness::Counts& so_far, int total)>;

// What the probe learnt.
struct ProbeResult {
  absl::Status status;                      // not OK: could not connect
  harness::TargetInfo info;                 // banner, ehlo_lines, tls
  std::vector<std::string> extensions;      // upper-case EHLO keywords of the first phase
  std::vector<std::string> tls_extensions;  // after STARTTLS; empty when not tried/failed
  harness::Transcript transcript;           // redacted
};

// Probes once: connect, greeting, EHLO (HELO is not tried), STARTTLS + EHLO
// when `starttls` and offered, QUIT. TargetInfo::tls records the STARTTLS
// session only when `record_tls`. Never fails for server behaviour.
asio::awaitable<ProbeResult> ProbeTarget(const Connector& connector,
                                         const scenario::Variables& vars,
                                         const ExecutorOptions& options, bool starttls,
                                         bool record_tls);

class Runner {
 public:
  Runner(Connector connector, RunnerOptions options);

  // Runs every scenario on a private io_context and returns the results
  // (scenarios, target info without the `target`/`name` labels, duration,
  // started_at). The caller fills tool_version, command_line and labels.
  harness::RunResult Run(const std::vector<scenario::Scenario>& scenarios,
                         const scenario::Variables& vars, const ProgressFn& progress = {});

  // The same on the caller's io_context (which must be run by the caller,
  // single-threaded) — for tests whose fake servers share it.
  asio::awaitable<harness::RunResult> RunAsync(const std::vector<scenario::Scenario>& scenarios,
                                               const scenario::Variables& vars,
                                               const ProgressFn& progress = {});

 private:
  Connector connector_;
  RunnerOptions options_;
};

// The result id of run `index` (0-based) of a scenario repeated `repeat`
// times: the id itself when repeat == 1, else "id#1", "id#2", ...
std::string RepeatedId(const std::string& id, int index, int repeat);

// The tool version for results.json ("0.1.0": the CMake project version).
const char* ToolVersion();

// Now as ISO 8601 UTC with seconds: "2024-01-31T12:00:00Z".
std::string NowIso8601();

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_RUNNER_H_
