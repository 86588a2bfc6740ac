// SessionWriter: writes session files (results/session_file.h) on threads
// of its own, for the producers of sessions that must not wait on the file
// system: the recording proxy (one thread, so that the relay does not stall
// on a file's create and rename: about 1 ms of system time on the ext4 disk
// docs/PERFORMANCE.md measured on, 50 µs on tmpfs) and pcap import (a few
// threads, as it produces transcripts faster than one thread turns them
// into JSON).
//
// Bounded: at most Options::max_queued_bytes of transcripts wait (each
// counts at least kMinQueuedBytes), Submit blocks beyond; at most
// Options::max_out_bytes are written in total (the file that would pass it
// is removed again, and no file is written after it). Each submitted
// session is reported once through its callback, written or not; with one
// thread, in the order submitted. The first write error is kept and
// returned by Submit from then on, for a producer that stops on one.
#ifndef SMTP_HARNESS_RECORD_SESSION_WRITER_H_
#define SMTP_HARNESS_RECORD_SESSION_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "results/transcript.h"

namespace smtp::harness {

// The file name (no directory) of session `index` (0-based) of a capture:
// NNNNNN-CLIENT-SERVER.json, NNNNNN the 1-based index (six digits at
// least), CLIENT and SERVER the meta endpoints with every character other
// than a letter, digit or '.' as '_' ("127.0.0.1:40000" -> "127.0.0.1_40000",
// "[::1]:25" -> "__1_25").
std::string SessionFileName(std::size_t index, const TranscriptMeta& meta);

struct SessionWriterOptions {
  unsigned threads = 0;  // 0: one per core, at most 4; 1: in order
  std::size_t max_queued_bytes = 64 * 1024 * 1024;
  std::uint64_t max_out_bytes = std::numeric_limits<std::uint64_t>::max();
};

// What became of one submitted session.
struct WriteOutcome {
  enum class Result { kWritten, kNoPath, kOutFull, kFailed };
  Result result = Result::kNoPath;
  std::string path;
  std::uint64_t size = 0;  // kWritten: the file's size
  absl::Status status;     // kFailed: why
};

class SessionWriter {
 public:
  using Options = SessionWriterOptions;
  using Done = std::function<void(const WriteOutcome&)>;
  static constexpr std::size_t kMinQueuedBytes = 1024;

  explicit SessionWriter(Options options = {});
  ~SessionWriter();  // Finish()
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  // Queues `t` to be written to `path` ("": not to be written, only
  // reported in its turn). `done`, if set, is called on a writer thread once
  // the session is dealt with. Blocks while the queue is full. Returns the
  // first write error so far (the session is queued all the same).
  absl::Status Submit(std::string path, Transcript t, Done done = {});
  // Waits for every queued session, stops the threads; returns the first
  // write error. Idempotent; Submit after it is FailedPrecondition.
  absl::Status Finish();

  std::uint64_t completed() const;  // sessions dealt with (reported)
  std::uint64_t written() const;    // files written
  std::uint64_t out_bytes() const;  // their bytes

 private:
  struct Item {
    std::string path;
    Transcript t;
    Done done;
    std::size_t cost = 0;  // counted against max_queued_bytes
  };
  void Work();
  WriteOutcome Write(Item& item);

  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  std::vector<std::thread> workers_;
  absl::Status error_;
  std::uint64_t completed_ = 0, written_ = 0, out_bytes_ = 0;
  bool out_full_ = false;
  bool done_ = false;
};

}  // namespace smtp::harness

#endif  // SMTP_HARNESS_RECORD_SESSION_WRITER_H_
