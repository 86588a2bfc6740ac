// Session files: one Transcript (results/transcript.h) in its JSON form per
// file, as `record` and `import-pcap` write them and `replay` and `convert`
// read them. docs/transcripts.md documents the format.
//
// Reading accepts, for each path given:
//   - a session file (a JSON object with "version" and "entries");
//   - a directory: its *.json files (not recursive), in name order;
//   - a run's results.json: the transcript of each scenario that has one,
//     named "PATH#SCENARIO_ID" (source "run" unless the transcript says).
// Errors name the file; JSON syntax errors give the line and column, a bad
// transcript the entry. A file over ReadSessionOptions::max_file_bytes is
// refused before it is read.
#ifndef SMTP_RESULTS_SESSION_FILE_H_
#define SMTP_RESULTS_SESSION_FILE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "results/transcript.h"

namespace smtp::harness {

struct NamedTranscript {
  std::string name;  // the file's path, or "PATH#SCENARIO_ID" for a results.json
  Transcript transcript;
};

struct ReadSessionOptions {
  std::size_t max_file_bytes = std::size_t{512} << 20;  // per file
  std::size_t max_sessions = 1'000'000;                 // over all paths
};

// Writes `t` as pretty JSON with a trailing newline, atomically (a temporary
// file renamed over `path`), so a reader never sees half a session.
absl::Status WriteSessionFile(const Transcript& t, const std::string& path);

// Reads one session file (not a directory or results.json).
absl::StatusOr<Transcript> ReadSessionFile(const std::string& path,
                                           const ReadSessionOptions& options = {});

// Reads every session named by `paths` (see the file comment), in order.
// An empty result (a directory without session files) is an error too.
absl::StatusOr<std::vector<NamedTranscript>> ReadSessions(const std::vector<std::string>& paths,
                                                          const ReadSessionOptions& options = {});

// "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" for a time since the Unix epoch in
// microseconds (TranscriptMeta's started_at and ended_at).
std::string Iso8601Micros(std::int64_t unix_us);

}  // namespace smtp::harness

#endif  // SMTP_RESULTS_SESSION_FILE_H_
