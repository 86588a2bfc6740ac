// smtp-harness import-pcap: the SMTP connections of a packet capture as
// session files.
//
//   import-pcap FILE --out DIR [--port 25,465,587,2525]
//
// Reads FILE (pcap or pcapng; harness/record/pcap_import.h) and writes one
// session file per TCP connection to an SMTP port, DIR/NNNNNN-CLIENT-SERVER.json,
// numbered from 000001 in the order the connections started. Prints one
// summary line.
// Exit status: 0 when the capture was read to its end and held at least one
// SMTP connection; 2 on a usage error, an unreadable, malformed or truncated
// capture (the sessions recovered before the bad packet are still written),
// a capture without SMTP, or a file that cannot be written.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "app/subcommand.h"
#include "harness/record/pcap_import.h"
#include "results/absl_compat.h"
#include "results/session_file.h"

ABSL_DECLARE_FLAG(std::string, out);   // app/run_cmd.cc
ABSL_DECLARE_FLAG(std::string, port);  // app/report_cmd.cc

namespace smtp::app {
namespace {

namespace fs = std::filesystem;
namespace pcap = harness::pcap;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness import-pcap: %s\n", message.c_str());
  return 2;
}

// "25,587" -> {25, 587}; false on anything else.
bool ParsePorts(const std::string& text, std::vector<std::uint16_t>* ports) {
  ports->clear();
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int port = 0;
    if (!absl::SimpleAtoi(part, &port) || port < 1 || port > 65535) return false;
    ports->push_back(static_cast<std::uint16_t>(port));
  }
  return !ports->empty();
}

// "127.0.0.1:40000" -> "127.0.0.1_40000", "[::1]:25" -> "__1_25": letters,
// digits and dots kept, everything else '_'.
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

// Writes session files on worker threads while the capture is read: turning
// a transcript into JSON costs more than reassembling it. At most
// kMaxQueued transcripts wait (memory stays bounded); the first write error
// is kept and stops the import at the next session.
class SessionWriter {
 public:
  static constexpr std::size_t kMaxQueued = 32;

  explicit SessionWriter(std::string dir) : dir_(std::move(dir)) {
    const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    for (unsigned i = 0; i < n; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~SessionWriter() { Finish().IgnoreError(); }

  absl::Status Add(std::size_t index, harness::Transcript t) {
    std::unique_lock lock(mu_);
    space_.wait(lock, [this] { return queue_.size() < kMaxQueued || !error_.ok(); });
    if (!error_.ok()) return error_;
    queue_.emplace_back(index, std::move(t));
    ready_.notify_one();
    return absl::OkStatus();
  }

  // Waits for every queued file; returns the first write error.
  absl::Status Finish() {
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

  std::uint64_t written() const {
    std::lock_guard lock(mu_);
    return written_;
  }

 private:
  void Work() {
    for (;;) {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [this] { return !queue_.empty() || done_; });
      if (queue_.empty()) return;
      auto [index, t] = std::move(queue_.front());
      queue_.pop_front();
      space_.notify_one();
      lock.unlock();
      const std::string name = absl::StrFormat(
          "%06d-%s-%s.json", index + 1, FilePart(t.meta().client), FilePart(t.meta().server));
      const absl::Status st = harness::WriteSessionFile(t, (fs::path(dir_) / name).string());
      lock.lock();
      if (st.ok()) {
        ++written_;
      } else if (error_.ok()) {
        error_ = st;
        space_.notify_all();
      }
    }
  }

  const std::string dir_;
  mutable std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<std::pair<std::size_t, harness::Transcript>> queue_;
  std::vector<std::thread> workers_;
  absl::Status error_;
  std::uint64_t written_ = 0;
  bool done_ = false;
};

}  // namespace

int RunImportPcap(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return Fail("usage: import-pcap FILE --out DIR [--port 25,465,587,2525]");
  }
  const std::string& file = args[0];
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) return Fail("--out DIR is required (where the session files go)");
  pcap::PcapImportOptions options;
  if (const std::string ports = absl::GetFlag(FLAGS_port); !ports.empty()) {
    if (!ParsePorts(ports, &options.ports)) {
      return Fail("--port: '" + ports + "' is not a comma-separated list of ports 1..65535");
    }
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Fail("cannot create " + out + ": " + ec.message());

  SessionWriter writer(out);
  const auto sink = [&writer](std::size_t index, harness::Transcript t) {
    return writer.Add(index, std::move(t));
  };
  pcap::PcapImportStats stats;
  absl::Status st = pcap::ImportPcapFile(file, options, sink, &stats);
  if (absl::Status w = writer.Finish(); !w.ok() && st.ok()) st = w;
  const std::uint64_t written = writer.written();
  std::string summary = absl::StrFormat("import-pcap: %d packets, %d SMTP session%s written to %s",
                                        stats.packets, written, written == 1 ? "" : "s", out);
  if (stats.midstream > 0) {
    absl::StrAppendFormat(&summary, "; %d started before the capture", stats.midstream);
  }
  if (stats.lost_bytes > 0) {
    absl::StrAppendFormat(&summary, "; %d bytes never captured (see the \"error\" entries)",
                          stats.lost_bytes);
  }
  if (!st.ok()) {
    if (written > 0) std::printf("%s (recovered before the error)\n", summary.c_str());
    return Fail(Message(st));
  }
  std::printf("%s\n", summary.c_str());
  return 0;
}

}  // namespace smtp::app
