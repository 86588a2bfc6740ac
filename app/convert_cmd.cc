// smtp-harness convert: recorded sessions into scenarios or fuzz seeds.
//
//   convert SESSION... --to scenario|corpus --out DIR
//
// SESSION: session files, directories of them, or a run's results.json
// (results/session_file.h). Exit status: 0 when every input was read (a
// session with nothing to convert is skipped with a note), 2 on a usage
// error, an unreadable or malformed input, or an output that cannot be
// written.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "app/subcommand.h"
#include "harness/replay/convert.h"
#include "results/absl_compat.h"
#include "results/session_file.h"

ABSL_DECLARE_FLAG(std::string, to);   // app/run_cmd.cc
ABSL_DECLARE_FLAG(std::string, out);  // app/run_cmd.cc

namespace smtp::app {

int RunConvert(const std::vector<std::string>& args) {
  constexpr const char* kUsage =
      "smtp-harness convert: usage: convert SESSION... --to scenario|corpus --out DIR\n";
  const std::string to = absl::GetFlag(FLAGS_to);
  const std::string out = absl::GetFlag(FLAGS_out);
  const std::optional<replay::ConvertTo> kind = replay::ParseConvertTo(to);
  if (args.empty() || out.empty() || !kind) {
    if (!to.empty() && !kind) {
      std::fprintf(stderr, "smtp-harness convert: --to must be scenario or corpus, not '%s'\n",
                   to.c_str());
    }
    std::fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<std::vector<harness::NamedTranscript>> sessions = harness::ReadSessions(args);
  if (!sessions.ok()) {
    std::fprintf(stderr, "smtp-harness convert: %s\n", Message(sessions.status()).c_str());
    return 2;
  }
  absl::StatusOr<replay::ConvertSummary> sum =
      replay::Convert(*sessions, *kind, out, [](const std::string& line) {
        std::printf("%s\n", line.c_str());
        std::fflush(stdout);
      });
  if (!sum.ok()) {
    std::fprintf(stderr, "smtp-harness convert: %s\n", Message(sum.status()).c_str());
    return 2;
  }
  std::printf("%zu session(s) converted, %zu skipped, %zu file(s) written to %s\n", sum->converted,
              sum->skipped, sum->files, out.c_str());
  return 0;
}

}  // namespace smtp::app
