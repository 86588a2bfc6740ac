#include "harness/record/session_writer.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_format.h"
#include "results/session_file.h"

namespace smtp::harness {
namespace {

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

SessionWriter::SessionWriter(std::string dir, unsigned threads, std::size_t max_queued)
    : dir_(std::move(dir)), max_queued_(std::max<std::size_t>(max_queued, 1)) {
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

SessionWriter::~SessionWriter() { Finish().IgnoreError(); }

absl::Status SessionWriter::Add(std::size_t index, Transcript t) {
  std::unique_lock lock(mu_);
  space_.wait(lock, [this] { return queue_.size() < max_queued_ || !error_.ok(); });
  if (!error_.ok()) return error_;
  queue_.emplace_back(index, std::move(t));
  ready_.notify_one();
  return absl::OkStatus();
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

std::uint64_t SessionWriter::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

void SessionWriter::Work() {
  for (;;) {
    std::unique_lock lock(mu_);
    ready_.wait(lock, [this] { return !queue_.empty() || done_; });
    if (queue_.empty()) return;
    auto [index, t] = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    lock.unlock();
    const std::string path =
        (std::filesystem::path(dir_) / SessionFileName(index, t.meta())).string();
    const absl::Status st = WriteSessionFile(t, path);
    lock.lock();
    if (st.ok()) {
      ++written_;
    } else if (error_.ok()) {
      error_ = st;
      space_.notify_all();
    }
  }
}

}  // namespace smtp::harness
