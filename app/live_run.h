// LiveRun: the process-level side of a long job that produces a RunResult
// (`run` today; `fuzz` and `replay` later), so that nothing is lost when it
// is interrupted:
//   - SIGINT and SIGTERM are blocked in every thread and taken by a watcher
//     thread (construct LiveRun before starting any other thread);
//   - every `snapshot_interval` the watcher writes results.json from the
//     job's snapshot (complete = false), atomically replaced, so a live
//     reader (report --serve, a CI upload after a kill -9) sees the run so
//     far;
//   - on the first signal it asks the job to stop and gives it `grace` to
//     finish; if it has not, the watcher writes all three reports from the
//     snapshot (marked incomplete) and ends the process with 128 + signal.
//     A second signal skips the rest of the grace period.
// The job's thread calls Finish() with the final result; it writes the three
// reports (unless the watcher already did) and returns the exit status:
// 130 after SIGINT, 143 after SIGTERM, else the result's own.
#ifndef SMTP_APP_LIVE_RUN_H_
#define SMTP_APP_LIVE_RUN_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "results/results.h"

namespace smtp::app {

struct LiveRunOptions {
  std::string out_dir;  // where results.json, junit.xml, index.html go
  std::chrono::milliseconds snapshot_interval{2'000};
  std::chrono::milliseconds grace{1'500};
  // The run so far (thread-safe; called on the watcher thread).
  std::function<harness::RunResult()> snapshot;
  // Asks the job to stop with this reason (thread-safe).
  std::function<void(std::string reason)> stop;
  // Called on the watcher thread every `snapshot_interval` (may be empty):
  // a clock for progress lines that must appear while no scenario ends.
  std::function<void()> tick;
  // Fills what the job does not know (tool version, command line, target
  // labels); applied to snapshots and to the final result.
  std::function<void(harness::RunResult&)> finalize;
};

class LiveRun {
 public:
  explicit LiveRun(LiveRunOptions options);
  ~LiveRun();  // stops the watcher; the signal mask stays (the process ends)
  LiveRun(const LiveRun&) = delete;
  LiveRun& operator=(const LiveRun&) = delete;

  // Writes the final reports and returns the exit status (see above). On a
  // write error: prints it and returns 2.
  // `result` is finalized in place (LiveRunOptions::finalize).
  int Finish(harness::RunResult& result);

  // The first signal received (SIGINT, SIGTERM), or 0.
  int signal() const { return signal_.load(); }

 private:
  void Watch();
  void WriteSnapshot(bool all_reports);

  LiveRunOptions options_;
  std::atomic<int> signal_{0};
  std::atomic<bool> done_{false};
  std::mutex write_mu_;    // one writer of the out dir at a time
  bool finished_ = false;  // guarded by write_mu_: Finish has written
  std::thread watcher_;
};

// Blocks SIGINT and SIGTERM in the calling thread (idempotent; LiveRun
// does it too). Call it first thing when threads start before LiveRun: a
// signal that arrives in between stays pending for the watcher.
void BlockStopSignals();

// The output directory of a job: `given` (created with its parents) when
// not empty, else out/<prefix>-YYYYmmdd-HHMMSS (-2, -3, ... if taken) with
// the symlink out/latest pointing at it. "" and `*error` on failure.
std::string MakeOutDir(const std::string& given, std::string_view prefix, std::string* error);

// The name of a stop signal: "SIGINT", "SIGTERM".
std::string SignalName(int sig);

}  // namespace smtp::app

#endif  // SMTP_APP_LIVE_RUN_H_
