#include "app/results_input.h"

#include "absl/flags/flag.h"
#include "reports/reports.h"
#include "results/absl_compat.h"

// The file is parsed as it is read, but the RunResult built takes about
// three times its size (transcripts); the limit keeps a stray
// multi-gigabyte file from taking the machine down (docs/reports.md).
ABSL_FLAG(int, max_results_mb, static_cast<int>(smtp::reports::kMaxResultsFileBytes >> 20),
          "report, compare: refuse a results.json larger than this many MiB");

namespace smtp::app {

absl::StatusOr<std::size_t> MaxResultsBytes() {
  const int mb = absl::GetFlag(FLAGS_max_results_mb);
  if (mb < 1) return absl::InvalidArgumentError("--max_results_mb must be at least 1");
  return static_cast<std::size_t>(mb) << 20;
}

absl::StatusOr<harness::RunResult> ReadResults(const std::string& path, std::size_t max_bytes) {
  auto run = reports::ReadRunResultBounded(path, max_bytes);
  if (run.status().code() == absl::StatusCode::kResourceExhausted) {
    return absl::ResourceExhaustedError(Message(run.status()) +
                                        "; --max_results_mb=N raises the limit");
  }
  return run;
}

}  // namespace smtp::app
