// The runner: runs a suite of scenarios against one target, N at a time,
// each on its own connection, and collects a RunResult (results/results.h).
//
//   Runner runner(TargetConnector(target), options);
//   harness::RunResult run = runner.Run(suite.scenarios, profile.ToVariables(), on_progress);
//
// Before the scenarios it probes the target once (harness/runner/probe.h:
// connect, greeting, EHLO, and, when STARTTLS is offered and `probe_starttls`
// is set or a scenario encrypts with STARTTLS, STARTTLS plus a second EHLO;
// then the preflight's MAIL/RCPT) to fill TargetInfo and learn the advertised
// extensions of both phases; a scenario that does not apply
// (scenario::SkipReason: a required extension not advertised in the phases
// it reaches, an LMTP scenario against an SMTP target, ...) is skipped with
// the reason. When the probe shows that the target cannot be tested as set
// up (no connection, no greeting, an unreadable EHLO reply, the wrong
// transport, the profile's sender or recipient refused) no scenario runs:
// the run stops at once with RunResult::stopped saying why and what to
// change (exit status 2), instead of failing scenario after scenario. Reply
// quirks of the greeting or EHLO reply are reported once (QuirkFinding, the
// first result) and the scenarios read replies with those leniencies on.
// When the preflight finds this client trusted for relay (probe.h), that is
// said once (RelayTrustResult, after any quirk finding) and the scenarios
// tagged "relay" are skipped as inconclusive with the same reason.
//
// Stopping: every deadline is absolute. `run_timeout` bounds the whole run
// (scenario budgets end at it, no scenario starts after it). Stop(), from
// any thread (a signal handler's thread), ends the run early: no further
// scenario starts, the operations in flight are cancelled, and the
// scenarios they belonged to are recorded as errors. Either way Run returns
// the scenarios that ran, with `stopped` set and `complete` false.
//
// Concurrency: one io_context on the calling thread; `jobs` worker
// coroutines take scenarios in order, so results do not depend on `jobs`
// (except through the server's own behaviour). Results are returned in
// scenario order (× repeat).
#ifndef SMTP_HARNESS_RUNNER_RUNNER_H_
#define SMTP_HARNESS_RUNNER_RUNNER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include "absl/status/status.h"
#include "harness/runner/executor.h"
#include "harness/runner/probe.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/variables.h"
#include "results/results.h"

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
  // The probe's preflight (harness/runner/probe.h): the profile's sender and
  // recipient accepted, the transport matching; a failure stops the run.
  bool preflight = true;
  bool lmtp = false;  // the target speaks LMTP: LHLO, and only LMTP scenarios run
  // The whole run's time budget, from the start of Run; 0: none.
  std::chrono::milliseconds run_timeout{0};
  ExecutorOptions executor;  // its `limiter`, `run_deadline`, `stop` are set by the runner
  // The connections of scenarios tagged kEarlyTalkerTag, when the target has
  // a listener of its own for them (the embedded server's, which pauses
  // before its greeting as postscreen does, while its main listener greets at
  // once). Empty: the main connector, as for every other scenario.
  Connector early_talker_connector;
};

// The tag of the scenarios that talk before the greeting (RFC 5321 §4.3.1).
inline constexpr std::string_view kEarlyTalkerTag = "early-talker";

// Called on the runner's thread after each scenario finishes: the result,
// the counts so far, and the number of scenarios in the run.
using ProgressFn = std::function<void(const harness::ScenarioResult& done,
                                      const harness::Counts& so_far, int total)>;

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

  // Thread-safe; the first reason wins. Ends the run early (see above); a
  // Stop before Run starts makes Run run nothing.
  void Stop(std::string reason);

  // Thread-safe: the run so far, for snapshots while Run is in progress:
  // the finished scenarios in order, target info, `complete` false.
  harness::RunResult Snapshot() const;

 private:
  void CancelInFlight();  // on the run's executor
  asio::awaitable<void> RunAll(std::vector<std::function<asio::awaitable<void>()>> tasks);

  Connector connector_;
  RunnerOptions options_;

  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;  // guards what follows
  std::string stop_reason_;
  std::optional<asio::any_io_executor> executor_;                    // while RunAsync runs
  std::vector<std::shared_ptr<asio::cancellation_signal>> signals_;  // one per task in flight
  harness::RunResult live_;     // header fields of the run in progress
  std::vector<char> finished_;  // per index of live_.scenarios
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
