// What the report server serves, without the network: a directory of runs
// mapped to pages and JSON. A run is DIR/NAME holding a results.json (a
// conformance run) or, failing that, a fuzz.json (`smtp-harness fuzz --out`).
// Routes:
//   GET /                          the list of runs (HTML), both kinds
//   GET /runs.json                 the same as JSON
//   GET /run/NAME                  redirect to /run/NAME/
//   GET /run/NAME/                 index.html rendered on the fly; live
//                                  (polls results.json / fuzz-data.json)
//                                  while incomplete
//   GET /run/NAME/results.json     the run, re-serialised through the model
//   GET /run/NAME/junit.xml        JUnit XML rendered on the fly
//   GET /run/NAME/fuzz.json        a fuzz run's fuzz.json, re-serialised
//   GET /run/NAME/fuzz-data.json   the fuzz page's data: fuzz.json with the
//                                  findings' transcripts (reports/fuzz_report.h)
// HEAD is answered like GET without the body; other methods get 405.
//
// Path traversal is impossible by construction: a request names a run, and
// only names present in a fresh directory listing are opened; the listing
// holds only names made of [A-Za-z0-9._-] that do not start with '.'.
#ifndef SMTP_REPORTS_REPORT_SITE_H_
#define SMTP_REPORTS_REPORT_SITE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "reports/reports.h"
#include "results/results.h"

namespace smtp::reports {

struct SiteLimits {
  std::size_t max_results_bytes = kMaxResultsFileBytes;  // per results.json read
  std::size_t max_fuzz_bytes = 64u << 20;                // per fuzz.json read
  std::size_t max_dir_entries = 10000;                   // directory entries looked at per listing
  std::size_t max_runs = 1000;                           // runs listed (newest first)
  int poll_interval_ms = 2000;                           // live pages poll this often
};

enum class RunKind { kConformance, kFuzz };

// "conformance" / "fuzz", as the listing shows it.
std::string_view RunKindName(RunKind kind);

struct RunListing {
  std::string name;  // directory name under the served DIR
  RunKind kind = RunKind::kConformance;
  bool ok = false;    // results.json (fuzz.json) parsed
  std::string error;  // why not
  std::string target, target_name, started_at;
  bool complete = true;
  std::string stopped;  // RunResult::stopped
  int exit_status = 0;  // RunResult::ExitStatus()
  harness::Counts totals;
  int findings = 0;           // failures at levels not in fail_on (they leave exit_status 0)
                              // fuzz runs: finding buckets
  std::int64_t sessions = 0;  // fuzz runs: sessions run
  std::int64_t mtime_ns = 0;  // of results.json (fuzz.json)
  std::uintmax_t size = 0;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string location;  // for redirects
  std::string csp;       // Content-Security-Policy header value
};

// Accepts a directory name for listing; see the file comment.
bool IsSafeRunName(std::string_view name);

class ReportSite {
 public:
  explicit ReportSite(std::string dir, SiteLimits limits = {});

  // Runs in the directory, both kinds, newest results.json / fuzz.json first. Parsed summaries are
  // cached by (mtime, size). Thread-safe.
  std::vector<RunListing> ListRuns();

  // Answers one request. `target` is the request-target (path and optional
  // query; the query is ignored).
  HttpReply Handle(std::string_view method, std::string_view target);

  const std::string& dir() const { return dir_; }

 private:
  HttpReply Listing(bool json);
  HttpReply Run(const RunListing& listing, std::string_view file);
  HttpReply FuzzRun(const RunListing& listing, std::string_view file);

  std::string dir_;
  SiteLimits limits_;
  std::mutex mu_;
  std::map<std::string, RunListing> cache_;  // by name
};

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_REPORT_SITE_H_
