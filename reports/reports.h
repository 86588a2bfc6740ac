// The report files of a run, written together into one directory:
//   results.json  the results model (results/results.h), the source of truth
//   junit.xml     for CI test viewers (reports/junit.h)
//   index.html    self-contained, for people (reports/html_report.h)
// Each file is written to "NAME.tmp" and renamed, so a reader (the report
// server, a CI upload) never sees half a file.
#ifndef SMTP_REPORTS_REPORTS_H_
#define SMTP_REPORTS_REPORTS_H_

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "results/results.h"

namespace smtp::reports {

// The largest results.json we read by default (report, compare and the
// report server; `--max_results_mb` changes it). A run of 10,000 scenarios
// with full transcripts is far below; beyond this something is wrong.
// Reading streams the file (no copy of its text, no DOM of the whole run),
// but the RunResult built takes about three times the file's size.
inline constexpr std::size_t kMaxResultsFileBytes = 256u << 20;

inline constexpr std::string_view kResultsFile = "results.json";
inline constexpr std::string_view kJunitFile = "junit.xml";
inline constexpr std::string_view kHtmlFile = "index.html";

// Writes results.json, junit.xml and index.html into `out_dir` (created with
// its parents when missing). The run is written as it is: call it again as
// the run progresses (complete = false) and once at the end.
absl::Status WriteAllReports(const harness::RunResult& run, const std::string& out_dir);

// Reads a file of at most `max_bytes` (larger: ResourceExhausted).
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes);

// Reads and validates a results.json of at most `max_bytes`, parsing it as
// it is read (harness::ParseRunResult). Errors name the file: NotFound
// "cannot open F: <strerror>", Unavailable "cannot read F: <strerror>",
// ResourceExhausted "F is N bytes, more than the limit of M bytes (K MiB)",
// InvalidArgument "F: not valid JSON: parse error at line L, column C: ...
// (byte B)" or the model's field error.
absl::StatusOr<harness::RunResult> ReadRunResultBounded(
    const std::string& path, std::size_t max_bytes = kMaxResultsFileBytes);

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_REPORTS_H_
