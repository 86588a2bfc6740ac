// index.html: one self-contained file (inline CSS and JS, no external
// requests, enforced by a Content-Security-Policy meta tag). The run is
// embedded as JSON in <script type="application/json"> (escaped by
// JsonForScript) and drawn by the inline script with textContent only, so
// server-controlled text cannot become markup or script.
#ifndef SMTP_REPORTS_HTML_REPORT_H_
#define SMTP_REPORTS_HTML_REPORT_H_

#include <iosfwd>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "results/results.h"

namespace smtp::reports {

struct HtmlReportOptions {
  std::string title;  // <title>; empty: "smtp-harness: <target name>"
  // Live report: when non-empty and the run is incomplete, the page fetches
  // this URL (results.json form) every poll_interval_ms and redraws.
  std::string poll_url;
  int poll_interval_ms = 2000;
  std::string nonce;  // CSP script/style nonce; empty: a fresh one
};

// The run report page.
std::string RenderHtmlReport(const harness::RunResult& run, const HtmlReportOptions& options = {});

// The same page written to `out` as it is produced, the run's data one
// scenario at a time: neither the page nor the DOM of the run is held (for a
// run of N MB the page is about N MB, the DOM several times that).
void WriteHtmlReport(const harness::RunResult& run, std::ostream& out,
                     const HtmlReportOptions& options = {});

// The page shell shared by every HTML page of reports/: `data` and `config`
// become the #report-data / #report-config JSON blocks, `script` (one of
// the assets) draws them. The CSP allows only this page's own inline script
// and style (by nonce), fetches to its own origin, and nothing else.
std::string RenderPage(std::string_view title, std::string_view script, const nlohmann::json& data,
                       const nlohmann::json& config, std::string_view nonce);

// JsonForScript(harness::ToJson(run)), byte for byte, built one scenario at
// a time: the DOM of the whole run (several times its JSON size) is never
// held, only one scenario's.
std::string RunJsonForScript(const harness::RunResult& run);

// The Content-Security-Policy value used by RenderPage (the report server
// also sends it as a header).
std::string ContentSecurityPolicy(std::string_view nonce);

// The scripts RenderPage accepts, with the shared helpers prepended.
std::string ReportScript();
std::string CompareScript();
// The stylesheet every page embeds.
std::string_view ReportCss();

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_HTML_REPORT_H_
