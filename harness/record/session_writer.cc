#include "harness/record/session_writer.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_format.h"
#include "results/session_file.h"

namespace smtp::harness {
namespace {

namespace fs = std::filesystem;

std::string FilePart(const std::string& endpoint) {
  std::string s;
  for (char ch : endpoint) {
    if (ch == '[' || ch == ']') continue;
    const bool keep = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
                      (ch >= 'A' && ch <= 'Z') || ch == '.';
    s += keep ? ch : '_';
  }
  return s;
}

}  // namespace

std::string SessionFileName(std::size_t index, const TranscriptMeta& meta) {
  return absl::StrFormat("%06d-%s-%s.json", index + 1, FilePart(meta.client),
                         FilePart(meta.server));
}

SessionWriter::SessionWriter(Options options) : options_(options) {
  unsigned threads = options_.threads;
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

SessionWriter::~SessionWriter() { Finish().IgnoreError(); }

absl::Status SessionWriter::Submit(std::string path, Transcript t, Done done) {
  const std::size_t cost = std::max(t.stored_bytes(), kMinQueuedBytes);
  std::unique_lock lock(mu_);
  if (done_) return absl::FailedPreconditionError("session writer already finished");
  // One session always fits, however large.
  space_.wait(lock,
              [&] { return queue_.empty() || queued_bytes_ + cost <= options_.max_queued_bytes; });
  queued_bytes_ += cost;
  queue_.push_back(Item{std::move(path), std::move(t), std::move(done), cost});
  ready_.notify_one();
  return error_;
}

absl::Status SessionWriter::Finish() {
  {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  ready_.notify_all();
  for (std::thread& w : workers_) w.join();
  workers_.clear();
  std::lock_guard lock(mu_);
  return error_;
}

std::uint64_t SessionWriter::completed() const {
  std::lock_guard lock(mu_);
  return completed_;
}
std::uint64_t SessionWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}
std::uint64_t SessionWriter::out_bytes() const {
  std::lock_guard lock(mu_);
  return out_bytes_;
}

void SessionWriter::Work() {
  for (;;) {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [this] { return !queue_.empty() || done_; });
    if (queue_.empty()) return;  // finishing, and everything written
    Item item = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= item.cost;
    space_.notify_all();
    lock.unlock();
    const WriteOutcome outcome = Write(item);
    lock.lock();
    ++completed_;
    lock.unlock();
    if (item.done) item.done(outcome);
  }
}

WriteOutcome SessionWriter::Write(Item& item) {
  WriteOutcome o;
  o.path = item.path;
  if (item.path.empty()) return o;  // kNoPath
  {
    std::lock_guard lock(mu_);
    if (out_full_) {
      o.result = WriteOutcome::Result::kOutFull;
      return o;
    }
  }
  absl::Status st = WriteSessionFile(item.t, item.path);
  std::error_code ec;
  std::uint64_t size = 0;
  if (st.ok()) {
    size = fs::file_size(item.path, ec);
    if (ec) st = absl::InternalError("cannot read the size of " + item.path + ": " + ec.message());
  }
  std::lock_guard lock(mu_);
  if (!st.ok()) {
    o.result = WriteOutcome::Result::kFailed;
    o.status = st;
    if (error_.ok()) error_ = st;
  } else if (out_full_ || out_bytes_ + size > options_.max_out_bytes) {
    // Over the cap: taken back, and no more files from now on.
    fs::remove(item.path, ec);
    out_full_ = true;
    o.result = WriteOutcome::Result::kOutFull;
  } else {
    out_bytes_ += size;
    ++written_;
    o.result = WriteOutcome::Result::kWritten;
    o.size = size;
  }
  return o;
}

}  // namespace smtp::harness
