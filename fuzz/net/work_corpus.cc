#include "fuzz/net/work_corpus.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "results/corpus_name.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;

// A directory younger than this is never taken for stale: its owner may be
// between creating its lock file and locking it.
constexpr auto kStaleAfter = std::chrono::seconds(60);

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return bytes;
}

bool IsSha1Name(std::string_view name) {
  if (name.size() != 40) return false;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Writes `bytes` to `to` through a temporary name in the directory above
// it (same file system; a kill leaves it outside the corpus, where no run
// reads it as an input).
absl::Status WriteAtomically(const fs::path& to, std::string_view bytes) {
  const fs::path tmp = to.parent_path().parent_path() / ".corpus-copy.part";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return absl::InternalError("cannot write " + tmp.string());
    }
  }
  std::error_code ec;
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::InternalError("cannot rename into " + to.string() + ": " + ec.message());
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<std::string> WorkCorpus::ChooseBase(
    const std::vector<std::string>& candidates, std::uint64_t min_free,
    const std::function<std::optional<std::uint64_t>(const std::string&)>& free_bytes) {
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (c.empty() || !fs::is_directory(c, ec) || access(c.c_str(), W_OK | X_OK) != 0) continue;
    const std::optional<std::uint64_t> free = free_bytes(c);
    if (free && *free >= min_free) return c;
  }
  return std::nullopt;
}

std::vector<std::string> WorkCorpus::DefaultBases() {
  std::vector<std::string> out{"/dev/shm"};
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') out.emplace_back(t);
  out.emplace_back("/tmp");
  return out;
}

std::optional<std::uint64_t> WorkCorpus::FreeBytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

int WorkCorpus::RemoveStale(const std::string& base) {
  int removed = 0;
  std::error_code ec;
  fs::directory_iterator it(base, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(kDirPrefix, 0) != 0 || !it->is_directory(ec)) continue;
    std::error_code tec;
    const auto mtime = fs::last_write_time(it->path(), tec);
    if (tec || fs::file_time_type::clock::now() - mtime < kStaleAfter) continue;
    const std::string lock = (it->path() / "lock").string();
    const int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;  // not ours, or half made: left alone
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      std::error_code rec;
      fs::remove_all(it->path(), rec);
      if (!rec) ++removed;
    }
    close(fd);
  }
  return removed;
}

absl::StatusOr<std::unique_ptr<WorkCorpus>> WorkCorpus::Create(const std::string& base,
                                                               const std::string& out_corpus) {
  // OpenSSL cleans up in an exit handler it registers when first used: use
  // it now, before the run registers the exit handler that syncs for the
  // last time, so that OpenSSL's runs after ours.
  (void)Sha1Hex("");
  RemoveStale(base);
  std::error_code ec;
  fs::create_directories(out_corpus, ec);
  if (ec) return absl::InternalError("cannot create " + out_corpus + ": " + ec.message());
  std::string tmpl = (fs::path(base) / (std::string(kDirPrefix) + "XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::InternalError("cannot create a directory in " + base);
  }
  const std::string lock = (fs::path(tmpl) / "lock").string();
  const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (fd >= 0) close(fd);
    fs::remove_all(tmpl, ec);
    return absl::InternalError("cannot lock " + lock);
  }
  fs::create_directory(fs::path(tmpl) / "corpus", ec);
  if (ec) {
    close(fd);
    fs::remove_all(tmpl, ec);
    return absl::InternalError("cannot create " + tmpl + "/corpus");
  }
  return std::unique_ptr<WorkCorpus>(new WorkCorpus(tmpl, out_corpus, fd));
}

WorkCorpus::WorkCorpus(std::string root, std::string out_corpus, int lock_fd)
    : root_(std::move(root)),
      corpus_((fs::path(root_) / "corpus").string()),
      out_corpus_(std::move(out_corpus)),
      lock_fd_(lock_fd) {}

WorkCorpus::~WorkCorpus() {
  if (!keep_) {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::Status WorkCorpus::Sync() {
  std::lock_guard<std::timed_mutex> lock(mu_);
  if (closed_) return close_status_;
  return SyncLocked(/*last=*/false);
}

absl::Status WorkCorpus::SyncLocked(bool last) {
  absl::Status first;
  std::set<std::string> now;
  std::error_code ec;
  fs::directory_iterator it(corpus_, ec), end;
  if (ec) return absl::InternalError("cannot list " + corpus_ + ": " + ec.message());
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) now.insert(it->path().filename().string());
  }
  if (ec) first = absl::InternalError("cannot list " + corpus_ + ": " + ec.message());
  // Gone from the working corpus (replaced by a smaller input): gone from
  // OUT/corpus too, if this run put it there.
  for (auto i = ours_.begin(); i != ours_.end();) {
    if (now.count(*i) != 0) {
      ++i;
      continue;
    }
    std::error_code rec;
    if (fs::remove(fs::path(out_corpus_) / *i, rec)) ++removed_;
    i = ours_.erase(i);
  }
  for (auto i = handled_.begin(); i != handled_.end();) {
    i = now.count(*i) != 0 ? std::next(i) : handled_.erase(i);
  }
  for (const std::string& name : now) {
    // Close() is waiting: it copies what is left itself, at once.
    if (!last && closing_.load()) break;
    if (handled_.count(name) != 0) continue;
    const fs::path to = fs::path(out_corpus_) / name;
    std::error_code xec;
    if (fs::exists(to, xec)) {  // same name, same content: from an earlier run
      handled_.insert(name);
      continue;
    }
    const std::optional<std::string> bytes = ReadFile(fs::path(corpus_) / name);
    if (!bytes) continue;  // deleted meanwhile
    // Another process (-jobs) may be writing it still: a libFuzzer name is
    // the SHA-1 of the whole content, so a short read is seen and taken at
    // the next sync.
    if (IsSha1Name(name) && Sha1Hex(*bytes) != name) continue;
    if (absl::Status st = WriteAtomically(to, *bytes); !st.ok()) {
      if (first.ok()) first = st;
      continue;
    }
    handled_.insert(name);
    ours_.insert(name);
    ++copied_;
  }
  return first;
}

void WorkCorpus::StartSyncing(std::chrono::milliseconds every, std::FILE* console) {
  syncing_ = true;
  std::thread([this, every, console] {
    // Until Close(): the object lives until the process ends (the run's).
    while (true) {
      {
        std::unique_lock<std::mutex> lock(stop_mu_);
        if (stop_cv_.wait_for(lock, every, [&] { return stop_; })) return;
      }
      SyncAndSay(console);
    }
  }).detach();
}

void WorkCorpus::SyncAndSay(std::FILE* console) {
  if (absl::Status st = Sync(); !st.ok() && !sync_error_reported_.exchange(true)) {
    std::fprintf(console,
                 "smtp-harness fuzz: cannot copy the corpus to %s (tried again later): %s\n",
                 out_corpus_.c_str(), std::string(st.message()).c_str());
  }
}

absl::Status WorkCorpus::Close(std::chrono::milliseconds wait) {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  closing_ = true;
  std::unique_lock<std::timed_mutex> lock(mu_, std::defer_lock);
  if (!lock.try_lock_for(wait)) {
    keep_ = true;
    return absl::UnavailableError("a copy of the corpus was still in progress; it stays in " +
                                  corpus_);
  }
  if (closed_) return close_status_;
  closed_ = true;
  close_status_ = SyncLocked(/*last=*/true);
  if (!close_status_.ok()) {
    keep_ = true;
    close_status_ = absl::InternalError(std::string(close_status_.message()) +
                                        "; the whole corpus stays in " + corpus_);
    return close_status_;
  }
  std::error_code ec;
  fs::remove_all(root_, ec);
  if (ec) {
    close_status_ = absl::InternalError("cannot remove " + root_ + ": " + ec.message());
  }
  return close_status_;
}

void WorkCorpus::SyncOrClose(bool final, std::FILE* console, std::chrono::milliseconds wait) {
  if (final) {
    if (absl::Status st = Close(wait); !st.ok()) {
      std::fprintf(console, "smtp-harness fuzz: ERROR: the corpus was not all copied to %s: %s\n",
                   out_corpus_.c_str(), std::string(st.message()).c_str());
    }
    return;
  }
  if (!syncing_) SyncAndSay(console);
}

}  // namespace smtp::fuzz
