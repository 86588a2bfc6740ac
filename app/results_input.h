// Reading results.json on the command line (report, compare, report
// --serve): the size limit of --max_results_mb and its error message.
#ifndef SMTP_APP_RESULTS_INPUT_H_
#define SMTP_APP_RESULTS_INPUT_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "results/results.h"

namespace smtp::app {

// --max_results_mb in bytes; InvalidArgument when the flag is below 1.
absl::StatusOr<std::size_t> MaxResultsBytes();

// reports::ReadRunResultBounded, whose "too large" error (naming the file,
// its size and the limit) also names the flag that raises the limit.
absl::StatusOr<harness::RunResult> ReadResults(const std::string& path, std::size_t max_bytes);

}  // namespace smtp::app

#endif  // SMTP_APP_RESULTS_INPUT_H_
