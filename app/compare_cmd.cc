// smtp-harness compare: one suite's results from several servers, side by
// side.
//
//   compare A.json B.json ... [--html FILE] [--max_results_mb N]
//
// Prints a text summary (totals per target, then every scenario on which
// the targets disagree or that some target lacks) and, with --html, writes
// the self-contained matrix page. Columns are named by TargetInfo.name or
// else the file (…/NAME/results.json gives NAME).
// Exit status: 0 when every target has the same verdict on every scenario,
// 1 when they differ — a verdict disagrees or a scenario is missing from
// some target — and 2 on a usage error or an unreadable file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "app/results_input.h"
#include "app/subcommand.h"
#include "reports/compare.h"
#include "reports/reports.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"

ABSL_DECLARE_FLAG(std::string, html);  // app/report_cmd.cc

namespace smtp::app {

int RunCompare(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    std::fprintf(stderr, "smtp-harness compare: usage: compare A.json B.json ... [--html FILE]\n");
    return 2;
  }
  const auto max_bytes = MaxResultsBytes();
  if (!max_bytes.ok()) {
    std::fprintf(stderr, "smtp-harness compare: %s\n", Message(max_bytes.status()).c_str());
    return 2;
  }
  std::vector<reports::NamedRun> runs;
  for (const std::string& path : args) {
    auto run = ReadResults(path, *max_bytes);
    if (!run.ok()) {
      std::fprintf(stderr, "smtp-harness compare: %s\n", Message(run.status()).c_str());
      return 2;
    }
    // Transcripts are not compared; drop them as soon as possible.
    for (auto& s : run->scenarios) s.transcript = harness::Transcript();
    runs.push_back({reports::ColumnName(*run, path), path, *std::move(run)});
  }
  const reports::Comparison c = reports::Compare(std::move(runs));
  std::fputs(reports::RenderCompareText(c).c_str(), stdout);
  const std::string html = absl::GetFlag(FLAGS_html);
  if (!html.empty()) {
    if (auto st = smtp::WriteFileAtomic(html, reports::RenderCompareHtml(c, html)); !st.ok()) {
      std::fprintf(stderr, "smtp-harness compare: %s\n", Message(st).c_str());
      return 2;
    }
    std::printf("wrote %s\n", html.c_str());
  }
  return c.differs() ? 1 : 0;
}

}  // namespace smtp::app
