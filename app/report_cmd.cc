// smtp-harness report: re-render a run's reports, or serve a directory of
// runs over HTTP.
//
//   report RESULTS.json [--html FILE] [--junit FILE] [--max_results_mb N]
//   report --serve DIR [--port N] [--max_results_mb N]
//
// Without --html/--junit, index.html and junit.xml are written next to
// RESULTS.json. --serve lists DIR's subdirectories holding results.json on
// http://127.0.0.1:PORT/ (docs/reports.md) until SIGINT/SIGTERM.
// A results.json above --max_results_mb MiB is refused (report, compare,
// --serve; app/results_input.h).
// Exit status: 0 on success, 2 on a usage error or an unreadable file.
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "app/results_input.h"
#include "app/subcommand.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "reports/report_server.h"
#include "reports/reports.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"

ABSL_FLAG(std::string, html, "", "report, compare: write the HTML page to FILE");
ABSL_FLAG(std::string, junit, "", "report: write JUnit XML to FILE");
ABSL_FLAG(bool, junit_passing_transcripts, false,
          "report: also write passing and skipped scenarios' transcripts into JUnit XML");
ABSL_FLAG(std::string, serve, "",
          "report: serve the runs under DIR (DIR/NAME/results.json) on 127.0.0.1");
// Shared with import-pcap, which takes a list (app/import_pcap_cmd.cc).
ABSL_FLAG(std::string, port, "",
          "report --serve: TCP port on 127.0.0.1, 0 for any free port (default 8080); "
          "import-pcap: the SMTP server ports, comma-separated (default 25,465,587,2525)");

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness report: %s\n", message.c_str());
  return 2;
}

int Serve(const std::string& dir, std::size_t max_results_bytes) {
  const std::string port_text = absl::GetFlag(FLAGS_port);
  int port = 8080;
  if (!port_text.empty() && (!absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535)) {
    return Fail("--port must be 0..65535");
  }
  reports::ReportServerOptions opts;
  opts.dir = dir;
  opts.port = static_cast<std::uint16_t>(port);
  opts.site.max_results_bytes = max_results_bytes;
  const absl::Status st = reports::ServeReports(opts, [&](std::uint16_t bound) {
    std::printf("report: serving %s at http://127.0.0.1:%u/\n", dir.c_str(), bound);
    std::fflush(stdout);
  });
  if (!st.ok()) return Fail(Message(st));
  return 0;
}

}  // namespace

int RunReport(const std::vector<std::string>& args) {
  const auto max_bytes = MaxResultsBytes();
  if (!max_bytes.ok()) return Fail(Message(max_bytes.status()));
  const std::string serve = absl::GetFlag(FLAGS_serve);
  if (!serve.empty()) {
    if (!args.empty()) return Fail("--serve DIR takes no RESULTS.json argument");
    return Serve(serve, *max_bytes);
  }
  if (args.size() != 1) return Fail("usage: report RESULTS.json [--html FILE] [--junit FILE]");
  auto run = ReadResults(args[0], *max_bytes);
  if (!run.ok()) return Fail(Message(run.status()));

  std::string html = absl::GetFlag(FLAGS_html);
  std::string junit = absl::GetFlag(FLAGS_junit);
  if (html.empty() && junit.empty()) {
    const fs::path dir = fs::path(args[0]).parent_path();
    html = (dir / reports::kHtmlFile).string();
    junit = (dir / reports::kJunitFile).string();
  }
  if (!html.empty()) {
    // Streamed to the file: the page of a large run is never held whole.
    if (auto st = smtp::WriteFileAtomicWith(
            html, [&](std::ostream& out) { reports::WriteHtmlReport(*run, out); });
        !st.ok()) {
      return Fail(Message(st));
    }
    std::printf("wrote %s\n", html.c_str());
  }
  if (!junit.empty()) {
    reports::JunitOptions opts;
    opts.passing_transcripts = absl::GetFlag(FLAGS_junit_passing_transcripts);
    if (auto st = smtp::WriteFileAtomic(junit, reports::RenderJunit(*run, opts)); !st.ok()) {
      return Fail(Message(st));
    }
    std::printf("wrote %s\n", junit.c_str());
  }
  const harness::Counts c = run->Totals();
  std::printf("%d scenarios: %d pass, %d fail, %d skip, %d error%s\n", c.total(), c.pass, c.fail,
              c.skip, c.error, run->complete ? "" : " (run incomplete)");
  return 0;
}

}  // namespace smtp::app
