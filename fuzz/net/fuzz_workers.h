// A multi-process `smtp-harness fuzz` run (-fork / -jobs, fuzz_child.h):
// how the processes share one --out directory, and how the parent turns
// what they did into the run's fuzz.json and index.html.
//
// OUT/workers/ is the run's scratch, emptied when the parent starts:
//   <pid>-<t>.json    each process's stats (WorkerStats), rewritten
//                     atomically every few seconds and at each finding;
//   claims/<bucket>/  created (atomically: it fails when it exists) by the
//                     one process that then writes OUT/findings/<bucket>/;
//                     the others only count the bucket;
//   raw/<raw bucket>  the bucket a raw bucket (as found) minimized to, so
//                     that later processes (fork mode starts many short
//                     ones) count it instead of minimizing it again.
// The parent runs no sessions. Every few seconds and at exit it reads the
// stats files and writes fuzz.json, of the same shape as a single process's
// with "processes" added: sessions and the reached counts are sums over the
// processes; coverage and response states are the union of what each
// process saw (counter indices are the same in every process of one
// binary, pc_counters.h); a finding's count is the sum, its first_at_s the
// earliest, and the rest comes from the process that saved it.
#ifndef SMTP_FUZZ_NET_FUZZ_WORKERS_H_
#define SMTP_FUZZ_NET_FUZZ_WORKERS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smtp::fuzz {

// One process's share of the run.
struct WorkerStats {
  long pid = 0;
  // When the process started (µs since the epoch): with the pid, the name
  // of its file, unique even when a long fork run reuses pids.
  std::int64_t started_us = 0;
  std::string run_id;
  bool complete = false;  // written at exit
  double elapsed_s = 0;
  std::uint64_t sessions = 0;
  std::uint64_t reached_mail = 0, reached_rcpt = 0, reached_data = 0;
  std::uint64_t finding_sessions = 0;
  std::uint64_t slow_sessions = 0;  // hangs that a patient re-run answered
  // Counters seen non-zero in any session of this process (state_feedback.h,
  // pc_counters.h): nonzero bytes mean seen.
  std::vector<std::uint8_t> pc_seen, states_seen;
  std::string coverage_source = "none";  // what pc_seen counts: trace-pc, afl
  // One fuzz.json finding object per bucket this process counted, with
  // "shared": true when another process saved it.
  std::vector<nlohmann::json> findings;
  // Announced closes and hits no re-run reproduced, as fuzz.json has them
  // ("defences", "unconfirmed"), with the sessions of each.
  std::uint64_t defence_sessions = 0, unconfirmed_sessions = 0;
  std::vector<nlohmann::json> defences, unconfirmed;
  bool defences_are_findings = false;
};

// fuzz.json's "conformance_notes" from its "defences": one note for all
// closes after a 5xx where RFC 5321 §3.8 wants a 421.
nlohmann::json ConformanceNotes(const nlohmann::json& defences);

// The stats as JSON (the seen counters as hex bitmaps), and back; errors
// say which field is missing or wrong.
nlohmann::json WorkerStatsJson(const WorkerStats& stats);
absl::StatusOr<WorkerStats> ParseWorkerStats(const nlohmann::json& j);

// OUT/fuzz.json (atomically) and the HTML report beside it, for a single
// process and for a multi-process run's parent alike. A file that cannot be
// written (a full disk, a vanished directory) is named on stderr once per
// file; the findings are printed there whatever happens. Returns the first
// failure of this write, or OK.
class FuzzJsonWriter {
 public:
  absl::Status Write(const std::string& out_dir, const nlohmann::json& fuzz_json);

 private:
  bool json_reported_ = false;
  bool html_reported_ = false;
};

// OUT/workers/<pid>-<started_us>.json, atomically.
absl::Status WriteWorkerStats(const std::string& out_dir, const WorkerStats& stats);

// ", N slow session(s)" for a progress line when hangs turned out slow
// (answered under the patient deadline), else "".
std::string SlowSessionsNote(std::uint64_t slow_sessions);

// True when this process is the one to write OUT/findings/<bucket>/.
bool ClaimBucket(const std::string& out_dir, const std::string& bucket);
// The bucket another process minimized `raw_bucket` to, if any; and
// recording it (best effort: at worst another process minimizes again).
std::optional<std::string> SharedRawBucket(const std::string& out_dir,
                                           const std::string& raw_bucket);
void ShareRawBucket(const std::string& out_dir, const std::string& raw_bucket,
                    const std::string& bucket);

// The sum and union of the stats files in OUT/workers/ of run `run_id`
// (files of other runs, and unreadable ones, are skipped and counted).
struct WorkerTotals {
  std::size_t processes = 0, complete = 0, skipped = 0;
  std::uint64_t sessions = 0;
  std::uint64_t reached_mail = 0, reached_rcpt = 0, reached_data = 0;
  std::uint64_t finding_sessions = 0;
  std::uint64_t slow_sessions = 0;  // hangs that a patient re-run answered
  // Summed by signature (defences) and bucket (unconfirmed): counts and
  // routes added, first_at_s the earliest, the rest from the first process
  // that reported it. An unconfirmed bucket that another process confirmed
  // is a finding and not listed. The sessions are those of the listed ones.
  std::vector<nlohmann::json> defences, unconfirmed;
  std::uint64_t defence_sessions = 0, unconfirmed_sessions = 0;
  bool defences_are_findings = false;
  std::size_t server_coverage = 0, response_states = 0;  // union
  std::string coverage_source = "none";                  // the processes'
  // By bucket; findings that several processes minimized into different
  // buckets but that have one server abort reason (`cause`) are one, under
  // the plainest route (fewest steps, then raw steps, then bytes), with
  // "merged_buckets" naming the others.
  std::vector<nlohmann::json> findings;
  // OUT-relative directories ("findings/<bucket>") of those merged away: the
  // parent removes them once every process has ended
  // (RemoveSupersededFindings).
  std::vector<std::string> superseded_dirs;
  // pid, started_us, sessions, elapsed_s, complete; the latest 500 by start.
  std::vector<nlohmann::json> per_process;
  std::size_t per_process_omitted = 0;  // the earlier ones
};
WorkerTotals ReadWorkerTotals(const std::string& out_dir, const std::string& run_id);

// Removes `totals.superseded_dirs` under OUT (only "findings/<name>" paths;
// anything else is left alone). Errors are ignored: a directory left over
// is not listed in fuzz.json.
void RemoveSupersededFindings(const std::string& out_dir, const WorkerTotals& totals);

// ReadWorkerTotals again and again over one run, reading each finished
// process's file once: a long fork run leaves thousands. Folded files are
// known by name; a file that changes after it said complete is not re-read.
class WorkerAggregator {
 public:
  WorkerAggregator(std::string out_dir, std::string run_id);
  ~WorkerAggregator();
  WorkerTotals Refresh();

 private:
  struct Sums;
  std::string out_dir_, run_id_;
  std::unique_ptr<Sums> folded_;  // the finished processes
};

// The parent of a multi-process run.
struct ParentRun {
  std::string out_dir;
  std::string target;  // label
  std::string command_line;
  std::vector<std::string> libfuzzer_args;
  std::string run_id;
  std::string mode;  // "fork" or "jobs"
  int parallel = 1;  // processes at a time
  std::chrono::milliseconds report_every{5000};
  // Called after each report and, with true, after the last (the working
  // corpus's copy into OUT/corpus, work_corpus.h); may be empty.
  std::function<void(bool final)> on_report;
};

// Empties OUT/workers/ (the previous run's scratch) and creates it.
absl::Status ResetWorkers(const std::string& out_dir);

// Starts the parent's reporting: a progress line and fuzz.json/index.html
// every report_every, from a thread, and once more at exit (std::atexit),
// marked complete.
void StartParentReport(ParentRun parent);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_FUZZ_WORKERS_H_
