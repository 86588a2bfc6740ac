// `smtp-harness convert`: recorded sessions (results/session_file.h) into
// scenarios (to_scenario.h) or fuzz seeds (to_corpus.h), written to a
// directory. A session with nothing to convert is skipped with a note; only
// an output that cannot be written is an error.
#ifndef SMTP_HARNESS_REPLAY_CONVERT_H_
#define SMTP_HARNESS_REPLAY_CONVERT_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "results/session_file.h"

namespace smtp::replay {

enum class ConvertTo : std::uint8_t { kScenario, kCorpus };
// "scenario" / "corpus"; nullopt for anything else.
std::optional<ConvertTo> ParseConvertTo(std::string_view name);

struct ConvertSummary {
  std::size_t converted = 0;  // sessions that gave a scenario or seeds
  std::size_t skipped = 0;    // sessions with nothing to convert
  std::size_t files = 0;      // files written (corpus: new files only)
};

// Converts every session into `out_dir` (created if missing): one
// ID.json scenario per session, or seeds under out_dir/fuzz_command,
// fuzz_reply, fuzz_data and session. `log` gets one line per session, e.g.
//   "d/s1.json: wrote out/recorded.s1.0a1b2c3d.json (9 steps)"
//   "d/s2.json: skipped: nothing to convert: the record has no greeting".
absl::StatusOr<ConvertSummary> Convert(const std::vector<harness::NamedTranscript>& sessions,
                                       ConvertTo to, const std::string& out_dir,
                                       const std::function<void(const std::string&)>& log);

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_CONVERT_H_
