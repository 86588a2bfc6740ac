#include "results/session_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "results/absl_compat.h"
#include "results/atomic_file.h"
#include "results/json_error.h"
#include "results/results.h"

namespace smtp::harness {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Reads and parses `path` as one JSON document, within the size cap.
absl::StatusOr<json> ReadJsonFile(const std::string& path, const ReadSessionOptions& options) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return absl::NotFoundError("cannot open " + path + ": " + ec.message());
  if (size > options.max_file_bytes) {
    return absl::InvalidArgumentError(
        path + ": " + std::to_string(size) + " bytes, over the limit of " +
        std::to_string(options.max_file_bytes) + " for a session file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  json j;
  try {
    j = json::parse(in, nullptr, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    if (in.bad())
      return absl::UnavailableError("cannot read " + path + ": " + std::strerror(errno));
    return absl::InvalidArgumentError(path + ": not valid JSON: " + DescribeParseError(e));
  }
  return j;
}

bool IsRunResult(const json& j) {
  return j.is_object() && j.contains("scenarios") && !j.contains("entries");
}

absl::Status AddFile(const std::string& path, const ReadSessionOptions& options,
                     std::vector<NamedTranscript>* out) {
  auto j = ReadJsonFile(path, options);
  if (!j.ok()) return j.status();
  if (IsRunResult(*j)) {
    auto run = RunResultFromJson(*j);
    if (!run.ok()) return absl::InvalidArgumentError(path + ": " + Message(run.status()));
    for (ScenarioResult& s : run->scenarios) {
      if (s.transcript.empty()) continue;
      if (s.transcript.meta().source.empty()) s.transcript.meta().source = "run";
      out->push_back({path + "#" + s.id, std::move(s.transcript)});
    }
    return absl::OkStatus();
  }
  auto t = Transcript::FromJson(*j);
  if (!t.ok()) return absl::InvalidArgumentError(path + ": " + Message(t.status()));
  out->push_back({path, *std::move(t)});
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteSessionFile(const Transcript& t, const std::string& path) {
  return WriteFileAtomicWith(path, [&t](std::ostream& out) { t.WriteJson(out); });
}

absl::StatusOr<Transcript> ReadSessionFile(const std::string& path,
                                           const ReadSessionOptions& options) {
  auto j = ReadJsonFile(path, options);
  if (!j.ok()) return j.status();
  auto t = Transcript::FromJson(*j);
  if (!t.ok()) return absl::InvalidArgumentError(path + ": " + Message(t.status()));
  return t;
}

absl::StatusOr<std::vector<NamedTranscript>> ReadSessions(const std::vector<std::string>& paths,
                                                          const ReadSessionOptions& options) {
  std::vector<NamedTranscript> out;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> files;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.path().extension() == ".json" && entry.is_regular_file(ec)) {
          files.push_back(entry.path().string());
        }
      }
      if (ec) return absl::UnavailableError("cannot list " + path + ": " + ec.message());
      std::sort(files.begin(), files.end());
      if (files.empty()) return absl::NotFoundError(path + ": no session files (*.json)");
      for (const std::string& file : files) {
        if (absl::Status s = AddFile(file, options, &out); !s.ok()) return s;
      }
    } else if (absl::Status s = AddFile(path, options, &out); !s.ok()) {
      return s;
    }
    if (out.size() > options.max_sessions) {
      return absl::ResourceExhaustedError("more than " + std::to_string(options.max_sessions) +
                                          " sessions");
    }
  }
  if (out.empty()) return absl::NotFoundError("no sessions in the files given");
  return out;
}

std::string Iso8601Micros(std::int64_t unix_us) {
  const std::time_t secs = static_cast<std::time_t>(unix_us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(unix_us % 1'000'000));
  return buf;
}

}  // namespace smtp::harness
