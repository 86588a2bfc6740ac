// The live progress line of `smtp-harness run` on a terminal:
//   "[ 37/120] pass 30 fail 5 skip 2 error 0"
// redrawn in place ("\r" + line + erase-to-end) after each scenario, and the
// run summary printed at the end.
#ifndef SMTP_HARNESS_RUNNER_PROGRESS_H_
#define SMTP_HARNESS_RUNNER_PROGRESS_H_

#include <cstdio>
#include <string>

#include "results/results.h"

namespace smtp::runner {

// "[ 37/120] pass 30 fail 5 skip 2 error 0": `done` right-aligned to the
// width of `total`.
std::string ProgressLine(const harness::Counts& so_far, int total);

// "120 scenarios: 110 pass, 5 fail, 3 skip, 2 error; MUST: 2 fail" — the
// MUST part only when a MUST scenario failed.
std::string SummaryLine(const harness::RunResult& run);

// Writes progress lines to `out` when `enabled` (the CLI passes
// isatty(stderr)); silent otherwise. Throttled to one redraw per
// `min_interval_ms`, except that the last scenario is always drawn.
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool enabled, int min_interval_ms = 100);
  void Update(const harness::Counts& so_far, int total);
  // Ends the line (newline) if anything was drawn.
  void Finish();

 private:
  std::FILE* out_;
  bool enabled_;
  int min_interval_ms_;
  long long last_ms_ = -1;
  bool drawn_ = false;
};

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_PROGRESS_H_
