// What `smtp-harness run` tells the person or the CI log watching it:
//   - progress while it runs: on a terminal the line
//     "[ 37/120] pass 30 fail 5 skip 2 error 0" redrawn in place ("\r" +
//     line + erase-to-end); off a terminal (a CI log) the same as a plain
//     line "progress: [ 37/120] ... (12s)" every few seconds;
//   - at the end, the summary line and one line per level saying whether
//     its failures decide the exit status (RunResult::fail_on) and why the
//     status is what it is.
#ifndef SMTP_HARNESS_RUNNER_PROGRESS_H_
#define SMTP_HARNESS_RUNNER_PROGRESS_H_

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "results/results.h"

namespace smtp::runner {

// "[ 37/120] pass 30 fail 5 skip 2 error 0": `done` right-aligned to the
// width of `total`.
std::string ProgressLine(const harness::Counts& so_far, int total);

// "120 scenarios: 110 pass, 5 fail, 3 skip, 2 error; MUST: 2 fail" — the
// MUST part only when a MUST scenario failed.
std::string SummaryLine(const harness::RunResult& run);

// Why run.ExitStatus() is what it is, one line per level that has
// scenarios (MUST, SHOULD, MAY, policy, security, then any other), e.g.
//   "security: 14 fail of 30 -> exit 1"
//   "SHOULD: 3 fail of 40 (finding only, not in --fail_on)"
//   "MUST: 0 fail of 120"
// then "error: 2 scenarios -> exit 2 (...)", "relay: 8 checks skipped as
// inconclusive: ..." (the preflight found this client trusted for relay,
// runner/probe.h), "no delivery: N scenarios that need one skipped
// (--no_deliver), M of them smuggling probes: ..." (scenario/delivery.h)
// and "stopped: REASON -> exit N" when they apply, and last
// "exit status N". `exit_status` is the process's
// (run.ExitStatus(), or 130/143 after a signal).
std::vector<std::string> ExitSummaryLines(const harness::RunResult& run, int exit_status);

enum class ProgressStyle {
  kNone,      // silent
  kTerminal,  // one line redrawn in place
  kLog,       // "progress: ..." lines, at most one per interval
};

// Writes progress to `out` in `style`, throttled to one line per
// `min_interval` (a terminal also draws the last scenario at once). Update
// and Tick may be called from different threads.
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, ProgressStyle style, std::chrono::milliseconds min_interval);
  // Default intervals: 100 ms on a terminal, 5 s in a log.
  ProgressPrinter(std::FILE* out, ProgressStyle style);
  // The style for `out`: one redrawn line on a terminal; on anything else (a
  // CI log) a line every `log_every`, or none when it is zero.
  static ProgressPrinter For(std::FILE* out, std::chrono::milliseconds log_every);
  // After each scenario.
  void Update(const harness::Counts& so_far, int total);
  // From a timer: in a log, repeats the last counts once the interval has
  // passed without a line, so that a slow stretch still shows the run alive.
  void Tick();
  // Ends the terminal line (newline) if anything was drawn.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  void PrintLocked(Clock::time_point now);

  std::FILE* out_;
  ProgressStyle style_;
  Clock::duration min_interval_;
  Clock::time_point start_ = Clock::now();
  std::mutex mu_;
  Clock::time_point last_;  // guarded by mu_: when the last line was printed
  bool drawn_ = false;      // guarded by mu_
  bool have_counts_ = false;
  harness::Counts counts_;  // guarded by mu_: the latest Update
  int total_ = 0;
};

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_PROGRESS_H_
