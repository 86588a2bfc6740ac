#include "harness/record/proxy_writer.h"

#include <filesystem>
#include <utility>

#include "results/absl_compat.h"
#include "results/session_file.h"

namespace smtp::record {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kOutFull = "--max_out_bytes reached";
}  // namespace

SessionWriter::SessionWriter(std::uint64_t max_out_bytes,
                             std::function<void(const SessionSummary&)> on_session)
    : max_out_bytes_(max_out_bytes), on_session_(std::move(on_session)) {
  thread_ = std::thread([this] { Loop(); });
}

SessionWriter::~SessionWriter() { Close(); }

void SessionWriter::Submit(FinishedSession s) {
  {
    std::lock_guard lock(mu_);
    if (!closing_ && queued_bytes_ < kMaxQueuedBytes) {
      queued_bytes_ += s.transcript.stored_bytes();
      queue_.push_back(std::move(s));
      cv_.notify_one();
      return;
    }
  }
  std::lock_guard lock(write_mu_);
  Write(s);
}

void SessionWriter::Close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void SessionWriter::Loop() {
  for (;;) {
    FinishedSession s;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and everything written
      s = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= s.transcript.stored_bytes();
    }
    std::lock_guard lock(write_mu_);
    Write(s);
  }
}

void SessionWriter::Write(FinishedSession& s) {
  SessionSummary& sum = s.summary;
  std::uint64_t size = 0;
  if (!s.path.empty() && out_full_) {
    sum.not_saved_reason = kOutFull;
  } else if (!s.path.empty()) {
    const absl::Status w = harness::WriteSessionFile(s.transcript, s.path);
    std::error_code ec;
    if (w.ok()) size = fs::file_size(s.path, ec);
    std::lock_guard lock(mu_);
    if (!w.ok()) {
      sum.not_saved_reason = Message(w);
    } else if (ec) {
      sum.not_saved_reason = "cannot read the size of " + s.path + ": " + ec.message();
    } else if (out_bytes_ + size > max_out_bytes_) {
      // Over the cap: taken back, and no more files from now on.
      fs::remove(s.path, ec);
      out_full_ = true;
      sum.not_saved_reason = kOutFull;
    } else {
      out_bytes_ += size;
      ++saved_;
      sum.file = s.path;
    }
  }
  {
    std::lock_guard lock(mu_);
    ++ended_;
  }
  if (on_session_) on_session_(sum);
}

std::uint64_t SessionWriter::ended() const {
  std::lock_guard lock(mu_);
  return ended_;
}
std::uint64_t SessionWriter::saved() const {
  std::lock_guard lock(mu_);
  return saved_;
}
std::uint64_t SessionWriter::out_bytes() const {
  std::lock_guard lock(mu_);
  return out_bytes_;
}

}  // namespace smtp::record
