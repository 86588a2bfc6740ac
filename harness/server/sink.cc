#include "harness/server/sink.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"

namespace smtp::server {
namespace {

absl::Status ErrnoStatus(std::string_view what, const std::string& path) {
  return absl::InternalError(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// A process-wide sequence number keeps ids unique across sinks and servers.
std::uint64_t NextSequence() {
  static std::atomic<std::uint64_t> seq{0};
  return ++seq;
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  // Maildir: "/" and ":" must not occur in the host part of a name.
  std::string h(buf);
  for (char& c : h) {
    if (c == '/' || c == ':') c = '_';
  }
  return h;
}

// This process's id, asked of the kernel once (a system call per message
// was 40,000 of them per 100,000 fuzzing sessions); a fork()ed child asks
// again (pthread_atfork), so its ids carry its own pid.
std::atomic<long> g_pid{0};

long ProcessId() {
  long pid = g_pid.load(std::memory_order_relaxed);
  if (pid != 0) return pid;
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] { g_pid.store(0, std::memory_order_relaxed); }) == 0;
  }();
  pid = static_cast<long>(getpid());
  if (registered) g_pid.store(pid, std::memory_order_relaxed);
  return pid;
}

// A unique id: "<unix seconds>.M<micros>P<pid>Q<seq>", the maildir
// convention (cr.yp.to/proto/maildir.html) without the host.
std::string UniqueId() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld.M%06lldP%ldQ%llu", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000), ProcessId(),
                static_cast<unsigned long long>(NextSequence()));
  return buf;
}

// A body kept up to `limit` octets; `truncated` once anything was cut.
struct CappedBody {
  explicit CappedBody(std::size_t l) : limit(l) {}
  void Append(std::string_view piece) {
    const std::size_t room = limit - text.size();
    if (piece.size() > room) truncated = true;
    text.append(piece.substr(0, room));
  }
  std::size_t limit;
  std::string text;
  bool truncated = false;
};

// --- discard -------------------------------------------------------------

class DiscardWriter : public BodyWriter {
 public:
  explicit DiscardWriter(std::atomic<std::uint64_t>* committed) : committed_(committed) {}
  absl::Status Append(std::string_view) override { return absl::OkStatus(); }
  absl::StatusOr<std::string> Commit(const MessageInfo&) override {
    ++*committed_;
    return UniqueId();
  }

 private:
  std::atomic<std::uint64_t>* committed_;
};

class DiscardSink : public MessageSink {
 public:
  absl::StatusOr<std::unique_ptr<BodyWriter>> Open() override {
    return std::make_unique<DiscardWriter>(&committed_);
  }
  std::uint64_t committed() const override { return committed_; }
  bool wants_sha256() const override { return false; }

 private:
  std::atomic<std::uint64_t> committed_{0};
};

// --- maildir -------------------------------------------------------------

// The body goes to tmp/<name> as it arrives; Commit fsyncs it and renames it
// into new/<name>, so readers of new/ only ever see whole messages.
class MaildirWriter : public BodyWriter {
 public:
  MaildirWriter(std::string dir, std::string name, int fd, std::atomic<std::uint64_t>* committed)
      : dir_(std::move(dir)), name_(std::move(name)), fd_(fd), committed_(committed) {}
  ~MaildirWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!done_) unlink(TmpPath().c_str());
  }

  absl::Status Append(std::string_view piece) override {
    while (!piece.empty()) {
      const ssize_t n = write(fd_, piece.data(), piece.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", TmpPath());
      }
      piece.remove_prefix(static_cast<std::size_t>(n));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Commit(const MessageInfo&) override {
    if (fsync(fd_) != 0) return ErrnoStatus("fsync", TmpPath());
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) return ErrnoStatus("close", TmpPath());
    const std::string dest = dir_ + "/new/" + name_;
    if (rename(TmpPath().c_str(), dest.c_str()) != 0) return ErrnoStatus("rename", dest);
    done_ = true;
    ++*committed_;
    return name_;
  }

 private:
  std::string TmpPath() const { return dir_ + "/tmp/" + name_; }

  std::string dir_;
  std::string name_;
  int fd_;
  bool done_ = false;
  std::atomic<std::uint64_t>* committed_;
};

class MaildirSink : public MessageSink {
 public:
  explicit MaildirSink(std::string dir) : dir_(std::move(dir)), host_(HostName()) {}

  absl::StatusOr<std::unique_ptr<BodyWriter>> Open() override {
    std::string name = UniqueId() + "." + host_;
    const std::string tmp = dir_ + "/tmp/" + name;
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("open", tmp);
    return std::make_unique<MaildirWriter>(dir_, std::move(name), fd, &committed_);
  }
  std::uint64_t committed() const override { return committed_; }
  bool wants_sha256() const override { return false; }

 private:
  std::string dir_;
  std::string host_;
  std::atomic<std::uint64_t> committed_{0};
};

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoStatus("mkdir", path);
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError("not a directory: " + path);
  }
  return absl::OkStatus();
}

// --- JSONL ---------------------------------------------------------------

nlohmann::json EnvelopeJson(const Envelope& e) {
  return nlohmann::json{
      {"session", e.session_id},
      {"client", e.client},
      {"helo", e.helo},
      {"protocol", e.protocol},
      {"tls", e.tls},
      {"auth_user", e.auth_user},
      {"mail_from", e.mail_from},
      {"mail_params", e.mail_params},
      {"rcpt_to", e.rcpt_to},
      {"rcpt_params", e.rcpt_params},
      {"body_type", e.body_type},
      {"smtputf8", e.smtputf8},
      {"transfer", e.transfer},
  };
}

class JsonlSink;

class JsonlWriter : public BodyWriter {
 public:
  JsonlWriter(JsonlSink* sink, std::size_t body_limit) : sink_(sink), body_(body_limit) {}
  absl::Status Append(std::string_view piece) override {
    body_.Append(piece);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Commit(const MessageInfo& info) override;

 private:
  JsonlSink* sink_;
  CappedBody body_;
};

class JsonlSink : public MessageSink {
 public:
  JsonlSink(std::FILE* f, std::string path, std::size_t body_limit)
      : f_(f), path_(std::move(path)), body_limit_(body_limit) {}
  ~JsonlSink() override { std::fclose(f_); }

  absl::StatusOr<std::unique_ptr<BodyWriter>> Open() override {
    return std::make_unique<JsonlWriter>(this, body_limit_);
  }
  absl::Status Flush() override {
    std::lock_guard lock(mu_);
    if (std::fflush(f_) != 0) return ErrnoStatus("fflush", path_);
    return absl::OkStatus();
  }
  std::uint64_t committed() const override {
    std::lock_guard lock(mu_);
    return committed_;
  }

  // Writes one line and flushes it, so a reader (or a crash) sees whole
  // records only.
  absl::Status WriteLine(const std::string& line) {
    std::lock_guard lock(mu_);
    if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0) {
      return ErrnoStatus("write", path_);
    }
    ++committed_;
    return absl::OkStatus();
  }

 private:
  std::FILE* f_;
  std::string path_;
  std::size_t body_limit_;
  mutable std::mutex mu_;
  std::uint64_t committed_ = 0;
};

absl::StatusOr<std::string> JsonlWriter::Commit(const MessageInfo& info) {
  std::string id = UniqueId();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::json j = {
      {"id", id},
      {"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
      {"envelope", EnvelopeJson(info.envelope)},
      {"size", info.size},
      {"sha256", info.sha256},
      {"data_end", info.data_end},
      {"bare_lf", info.bare_lf},
      {"bare_cr", info.bare_cr},
      {"long_lines", info.long_lines},
  };
  if (body_.limit > 0) {
    j["body_b64"] = absl::Base64Escape(body_.text);
    j["body_truncated"] = body_.truncated;
  }
  // Replace invalid UTF-8 (envelope text is checked by the parser, but
  // be safe: a JSONL sink must never throw).
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line.push_back('\n');
  if (absl::Status s = sink_->WriteLine(line); !s.ok()) return s;
  return id;
}

}  // namespace

// --- memory --------------------------------------------------------------

class MemoryWriter : public BodyWriter {
 public:
  MemoryWriter(MemorySink* sink, std::size_t body_limit) : sink_(sink), body_(body_limit) {}
  absl::Status Append(std::string_view piece) override {
    body_.Append(piece);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> Commit(const MessageInfo& info) override {
    StoredMessage m{UniqueId(), info, std::move(body_.text), body_.truncated};
    std::string id = m.id;
    sink_->Add(std::move(m));
    return id;
  }

 private:
  MemorySink* sink_;
  CappedBody body_;
};

MemorySink::MemorySink(std::size_t max_messages, std::size_t body_limit)
    : max_messages_(max_messages), body_limit_(body_limit) {}

absl::StatusOr<std::unique_ptr<BodyWriter>> MemorySink::Open() {
  return std::make_unique<MemoryWriter>(this, body_limit_);
}

std::uint64_t MemorySink::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::vector<StoredMessage> MemorySink::Messages() const {
  std::lock_guard lock(mu_);
  return {messages_.begin(), messages_.end()};
}

std::vector<StoredMessage> MemorySink::MessagesFrom(const std::vector<std::string>& clients) const {
  std::lock_guard lock(mu_);
  std::vector<StoredMessage> out;
  for (const StoredMessage& m : messages_) {
    if (std::find(clients.begin(), clients.end(), m.info.envelope.client) != clients.end())
      out.push_back(m);
  }
  return out;
}

void MemorySink::Add(StoredMessage m) {
  std::lock_guard lock(mu_);
  ++committed_;
  if (max_messages_ == 0) return;
  if (messages_.size() == max_messages_) messages_.pop_front();
  messages_.push_back(std::move(m));
}

absl::StatusOr<std::unique_ptr<MessageSink>> MakeSink(const SinkConfig& config) {
  switch (config.kind) {
    case SinkConfig::Kind::kDiscard:
      return std::make_unique<DiscardSink>();
    case SinkConfig::Kind::kMemory:
      return std::make_unique<MemorySink>(config.max_messages,
                                          config.body_limit ? config.body_limit : 16 << 20);
    case SinkConfig::Kind::kMaildir: {
      if (config.path.empty()) return absl::InvalidArgumentError("maildir sink needs a directory");
      for (const char* sub : {"", "/tmp", "/new", "/cur"}) {
        if (absl::Status s = MakeDir(config.path + sub); !s.ok()) return s;
      }
      return std::make_unique<MaildirSink>(config.path);
    }
    case SinkConfig::Kind::kJsonl: {
      if (config.path.empty()) return absl::InvalidArgumentError("jsonl sink needs a file");
      std::FILE* f = std::fopen(config.path.c_str(), "ae");
      if (f == nullptr) return ErrnoStatus("open", config.path);
      return std::make_unique<JsonlSink>(f, config.path, config.body_limit);
    }
  }
  return absl::InvalidArgumentError("unknown sink kind");
}

// --- SHA-256 -------------------------------------------------------------

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256::FinalHex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, md, &len);
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.FinalHex();
}

}  // namespace smtp::server
