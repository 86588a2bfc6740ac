// libFuzzer's working corpus on tmpfs, mirrored into OUT/corpus.
//
// libFuzzer writes every input that adds a feature to its first corpus
// directory and deletes the ones a smaller input replaces (-reduce_inputs):
// about one file created or removed per 10-30 sessions early in a run. On a
// disk file system that is a quarter of the run's CPU (docs/PERFORMANCE.md,
// "Fuzz defaults"); on tmpfs a few percent. So by default libFuzzer's first
// directory is a fresh one under /dev/shm (or, when /dev/shm is missing or
// has less than kMinFreeBytes free, under $TMPDIR or /tmp), and OUT/corpus
// follows it:
//   - Sync() copies the files new since the last call into OUT/corpus
//     (each written as OUT/.corpus-copy.part and renamed, so a kill leaves
//     no half file in the corpus) and removes from OUT/corpus those this
//     run copied that libFuzzer has since deleted. A single process calls
//     it from a thread of its own every 5 s (StartSyncing), a multi-process
//     run's parent with each of its reports: a kill -9 loses at most that
//     much of the corpus. Files that live less than that (inputs libFuzzer
//     soon replaces by smaller ones) never reach the disk.
//   - Close() syncs a last time and removes the directory; when that sync
//     fails (a full disk), the directory stays and the error names it, so
//     nothing is lost.
//   - OUT/corpus is passed to libFuzzer as an input directory right after
//     the working one: a run with an --out that already has a corpus
//     resumes from it.
// libFuzzer names corpus files by the SHA-1 of their content, so a name
// that exists in OUT/corpus already holds the same bytes.
//
// A directory left by a process that died without Close() (kill -9, a
// crash) is removed by the next run that picks the same base: each
// directory holds a lock file its owner keeps locked (flock) while alive.
#ifndef SMTP_FUZZ_NET_WORK_CORPUS_H_
#define SMTP_FUZZ_NET_WORK_CORPUS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smtp::fuzz {

class WorkCorpus {
 public:
  // Below this much free space a base is not used.
  static constexpr std::uint64_t kMinFreeBytes = 256ull << 20;
  // The name of the directories under a base: kDirPrefix + a unique part.
  static constexpr std::string_view kDirPrefix = "smtp-harness-fuzz-";

  // The first of `candidates` that is a writable directory with at least
  // `min_free` bytes free (`free_bytes` says how many; nullopt: cannot
  // tell), else nullopt.
  static std::optional<std::string> ChooseBase(
      const std::vector<std::string>& candidates, std::uint64_t min_free,
      const std::function<std::optional<std::uint64_t>(const std::string&)>& free_bytes);
  // /dev/shm, then $TMPDIR, then /tmp.
  static std::vector<std::string> DefaultBases();
  // Free bytes of the file system holding `dir` (statvfs), nullopt on error.
  static std::optional<std::uint64_t> FreeBytes(const std::string& dir);

  // Removes the kDirPrefix directories under `base` whose owner is gone
  // (their lock file is not locked). Returns how many.
  static int RemoveStale(const std::string& base);

  // A fresh working directory under `base` (RemoveStale first), mirrored
  // into `out_corpus` (created if missing).
  static absl::StatusOr<std::unique_ptr<WorkCorpus>> Create(const std::string& base,
                                                            const std::string& out_corpus);

  ~WorkCorpus();  // removes the directory (no sync) unless Close() kept it
  WorkCorpus(const WorkCorpus&) = delete;
  WorkCorpus& operator=(const WorkCorpus&) = delete;

  // libFuzzer's first corpus directory.
  const std::string& dir() const { return corpus_; }
  const std::string& out_corpus() const { return out_corpus_; }

  // Mirrors dir() into OUT/corpus (above). Thread-safe; another thread's
  // sync in progress makes it wait. The first error, if any (the rest of
  // the files are still tried).
  absl::Status Sync();
  // The last sync and the directory's removal; once (later calls return
  // the first one's status). `wait`: how long to wait for a sync in
  // progress on another thread (a stuck main thread: the watchdog's call).
  absl::Status Close(std::chrono::milliseconds wait = std::chrono::seconds(30));
  // Sync() every `every` on a thread of its own until Close(), so that the
  // session loop never waits for a copy; a failure is said on `console`
  // once.
  void StartSyncing(std::chrono::milliseconds every, std::FILE* console);
  // Sync() (none when StartSyncing() runs), or Close() when `final`, for
  // the run's progress report: a failure is said on `console` (a failed
  // sync once, the last one always).
  void SyncOrClose(bool final, std::FILE* console,
                   std::chrono::milliseconds wait = std::chrono::seconds(30));

  // Files copied to / removed from OUT/corpus so far.
  std::uint64_t copied() const { return copied_; }
  std::uint64_t removed() const { return removed_; }

 private:
  WorkCorpus(std::string root, std::string out_corpus, int lock_fd);
  // `last`: Close()'s; the others stop early once Close() waits.
  absl::Status SyncLocked(bool last);
  void SyncAndSay(std::FILE* console);

  std::string root_;    // base/smtp-harness-fuzz-XXXXXX: the lock file and corpus/
  std::string corpus_;  // root_/corpus
  std::string out_corpus_;
  int lock_fd_ = -1;
  std::timed_mutex mu_;
  // Names this run copied into OUT/corpus that were not there before: the
  // ones a deletion in dir() removes there too.
  std::set<std::string> ours_;
  // Names in dir() at the last sync that need nothing more.
  std::set<std::string> handled_;
  std::atomic<bool> sync_error_reported_{false};
  // StartSyncing's thread and how Close() stops it.
  bool syncing_ = false;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::atomic<bool> closing_{false};
  std::uint64_t copied_ = 0, removed_ = 0;
  bool closed_ = false;
  bool keep_ = false;  // the last sync failed: the directory stays
  absl::Status close_status_;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_WORK_CORPUS_H_
