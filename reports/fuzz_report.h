// The fuzz report: OUT/index.html of `smtp-harness fuzz --out OUT`, from
// OUT/fuzz.json (stats, timeline, one object per finding bucket) and each
// finding's OUT/<dir>/session.json. Self-contained like the run report
// (reports/html_report.h): inline CSS and JS, no requests, the data embedded
// as JSON (JsonForScript) and drawn with textContent only, so nothing from
// the server or fuzz.json can become markup or script. The plots are inline
// SVG drawn by the embedded script (assets/fuzz.js).
#ifndef SMTP_REPORTS_FUZZ_REPORT_H_
#define SMTP_REPORTS_FUZZ_REPORT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smtp::reports {

inline constexpr std::string_view kFuzzFile = "fuzz.json";
inline constexpr std::string_view kSessionFile = "session.json";

struct FuzzReportOptions {
  std::string title;  // <title>; empty: "smtp-harness fuzz: <target>"
  // Live page: when non-empty and fuzz.json says complete = false, the page
  // fetches this URL (ReadFuzzReportData's JSON) every poll_interval_ms.
  std::string poll_url;
  int poll_interval_ms = 2000;
  std::string nonce;                                   // CSP nonce; empty: a fresh one
  std::size_t max_fuzz_json_bytes = 64u << 20;         // fuzz.json read limit
  std::size_t max_session_bytes = 8u << 20;            // per session.json
  std::size_t max_transcript_bytes_total = 64u << 20;  // session.json bytes embedded, in all
};

// fuzz.json of `out_dir` with each finding's transcript added: "transcript"
// (the session file's Transcript JSON) or, when it cannot be read, is
// unsafe to open or over a limit, "transcript_error" saying why; the row is
// shown either way. Errors (naming the file): fuzz.json missing or
// unreadable, larger than the limit, not JSON, not an object, or
// "findings"/"timeline" present but not arrays of objects.
absl::StatusOr<nlohmann::json> ReadFuzzReportData(const std::string& out_dir,
                                                  const FuzzReportOptions& options = {});

// The page for ReadFuzzReportData's result.
std::string RenderFuzzReport(const nlohmann::json& data, const FuzzReportOptions& options = {});

// Reads `out_dir`/fuzz.json and the findings' session files and writes
// `out_dir`/index.html atomically (index.html.tmp + rename). Call it as the
// run progresses (fuzz.json "complete": false shows "in progress") and once
// at the end.
absl::Status WriteFuzzReport(const std::string& out_dir);

// The script of the fuzz page, with the shared helpers prepended.
std::string FuzzScript();

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_FUZZ_REPORT_H_
