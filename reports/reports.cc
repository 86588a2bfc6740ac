#include "reports/reports.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <istream>
#include <optional>
#include <streambuf>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/html_report.h"
#include "reports/junit.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"

namespace smtp::reports {
namespace {

std::string Errno() { return std::strerror(errno); }

// A read-only streambuf over a file descriptor that yields at most `limit`
// octets; more marks it over() instead. Read errors keep their errno.
class CappedFdBuf final : public std::streambuf {
 public:
  CappedFdBuf(int fd, std::size_t limit) : fd_(fd), limit_(limit) {}

  bool over() const { return over_; }
  int error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (over_ || error_ != 0) return traits_type::eof();
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      error_ = errno;
      return traits_type::eof();
    }
    if (n == 0) return traits_type::eof();
    total_ += static_cast<std::size_t>(n);
    if (total_ > limit_) {
      over_ = true;
      return traits_type::eof();
    }
    setg(buf_.data(), buf_.data(), buf_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  int fd_;
  std::size_t limit_;
  std::size_t total_ = 0;
  bool over_ = false;
  int error_ = 0;
  std::vector<char> buf_ = std::vector<char>(64 * 1024);
};

absl::Status TooLarge(const std::string& path, std::optional<std::uint64_t> size,
                      std::size_t max_bytes) {
  const std::string what = size ? " is " + std::to_string(*size) + " bytes," : " is";
  const std::string mib =
      max_bytes % (1u << 20) == 0 ? " (" + std::to_string(max_bytes >> 20) + " MiB)" : "";
  return absl::ResourceExhaustedError(path + what + " more than the limit of " +
                                      std::to_string(max_bytes) + " bytes" + mib);
}

}  // namespace

absl::Status WriteAllReports(const harness::RunResult& run, const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::UnavailableError("cannot create " + out_dir + ": " + ec.message());
  const std::filesystem::path dir(out_dir);
  // results.json last: a watcher that sees it new finds the others already
  // matching (the report server renders from results.json alone anyway).
  if (auto st = WriteFileAtomic((dir / kJunitFile).string(), RenderJunit(run)); !st.ok()) return st;
  if (auto st = WriteFileAtomicWith((dir / kHtmlFile).string(),
                                    [&run](std::ostream& out) { WriteHtmlReport(run, out); });
      !st.ok()) {
    return st;
  }
  return harness::WriteRunResult(run, (dir / kResultsFile).string());
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path + ": " + Errno());
  std::string data;
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (data.size() + n > max_bytes) return TooLarge(path, std::nullopt, max_bytes);
    data.append(buf, n);
  }
  if (in.bad()) return absl::UnavailableError("cannot read " + path + ": " + Errno());
  return data;
}

absl::StatusOr<harness::RunResult> ReadRunResultBounded(const std::string& path,
                                                        std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("cannot open " + path + ": " + Errno());
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    return TooLarge(path, static_cast<std::uint64_t>(st.st_size), max_bytes);
  }
  // The file is parsed as it is read: neither its text nor its whole DOM is
  // held, only the RunResult being built (harness::ParseRunResult).
  CappedFdBuf buf(fd, max_bytes);
  std::istream in(&buf);
  auto run = harness::ParseRunResult(in);
  if (buf.error() != 0) {
    return absl::UnavailableError("cannot read " + path + ": " + std::strerror(buf.error()));
  }
  if (buf.over()) return TooLarge(path, std::nullopt, max_bytes);  // grew while read
  if (!run.ok()) {
    return absl::InvalidArgumentError(path + ": " + Message(run.status()));
  }
  return run;
}

}  // namespace smtp::reports
