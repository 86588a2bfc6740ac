// SessionWriter: writes session files (results/session_file.h) on worker
// threads, for importers that produce transcripts faster than one thread
// can turn them into JSON. At most `max_queued` transcripts wait (memory
// stays bounded; Add blocks beyond); the first write error is kept, and Add
// returns it from then on so the producer stops.
//
// File names: DIR/NNNNNN-CLIENT-SERVER.json, NNNNNN the 1-based index given
// to Add (six digits at least), CLIENT and SERVER the transcript's meta
// endpoints with every character other than a letter, digit or '.' as '_'
// ("127.0.0.1:40000" -> "127.0.0.1_40000", "[::1]:25" -> "__1_25").
#ifndef SMTP_HARNESS_RECORD_SESSION_WRITER_H_
#define SMTP_HARNESS_RECORD_SESSION_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "results/transcript.h"

namespace smtp::harness {

// The file name (no directory) of session `index` (0-based) of a capture.
std::string SessionFileName(std::size_t index, const TranscriptMeta& meta);

class SessionWriter {
 public:
  // `threads` 0: one per core, at most 4.
  explicit SessionWriter(std::string dir, unsigned threads = 0, std::size_t max_queued = 32);
  ~SessionWriter();  // waits for the queued files
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  // Queues session `index` (0-based) for writing.
  absl::Status Add(std::size_t index, Transcript t);
  // Waits for every queued file; returns the first write error.
  absl::Status Finish();
  // Files written so far.
  std::uint64_t written() const;

 private:
  void Work();

  const std::string dir_;
  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::pair<std::size_t, Transcript>> queue_;
  std::vector<std::thread> workers_;
  absl::Status error_;
  std::uint64_t written_ = 0;
  bool done_ = false;
};

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_RECORD_SESSION_WRITER_H_
