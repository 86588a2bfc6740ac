// SessionWriter (record::): writes the recording proxy's session files on a thread of
// its own, so that the file system does not stall the relay (creating and
// renaming a file costs about 1 ms of system time on the ext4 disk
// docs/PERFORMANCE.md measured on, 50 µs on tmpfs). Also keeps the total of
// bytes written under a cap and reports each session once it is written.
#ifndef SMTP_HARNESS_RECORD_PROXY_WRITER_H_
#define SMTP_HARNESS_RECORD_PROXY_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "harness/record/proxy.h"
#include "results/transcript.h"

namespace smtp::record {

// A session to write: its transcript (already redacted), its summary (file
// and not_saved_reason are filled in by the writer) and where it goes.
struct FinishedSession {
  harness::Transcript transcript;
  SessionSummary summary;
  std::string path;  // "": not to be saved (summary.not_saved_reason says why)
};

class SessionWriter {
 public:
  // At most `max_out_bytes` written in total: the session whose file would
  // pass it is removed again, and no file is written after it. `on_session`
  // is called for every session, in the order they are written, on the
  // writer's thread (or on Submit's caller, see Submit).
  SessionWriter(std::uint64_t max_out_bytes, std::function<void(const SessionSummary&)> on_session);
  ~SessionWriter();  // Close()
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  // Queues `s`. When the queue already holds kMaxQueuedBytes of transcripts,
  // writes `s` on the calling thread instead (memory stays bounded; the
  // relay slows down to the file system's pace).
  static constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;
  void Submit(FinishedSession s);

  // Writes what is queued, then stops the thread. Idempotent.
  void Close();

  std::uint64_t ended() const;
  std::uint64_t saved() const;
  std::uint64_t out_bytes() const;

 private:
  void Loop();
  void Write(FinishedSession& s);  // with write_mu_ held

  const std::uint64_t max_out_bytes_;
  const std::function<void(const SessionSummary&)> on_session_;

  mutable std::mutex mu_;  // the queue and the counters
  std::condition_variable cv_;
  std::deque<FinishedSession> queue_;
  std::size_t queued_bytes_ = 0;
  bool closing_ = false;
  std::uint64_t ended_ = 0, saved_ = 0, out_bytes_ = 0;

  std::mutex write_mu_;  // one session written at a time, in order
  bool out_full_ = false;
  std::thread thread_;
};

}  // namespace smtp::record

#endif  // SMTP_HARNESS_RECORD_PROXY_WRITER_H_
