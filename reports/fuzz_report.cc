#include "reports/fuzz_report.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "reports/assets.h"
#include "reports/escape.h"
#include "reports/html_report.h"
#include "reports/reports.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"
#include "results/json_error.h"
#include "results/session_file.h"

namespace smtp::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A finding's "dir" as fuzz.json writes it ("findings/dropped-BDAT-250"):
// relative, components of [A-Za-z0-9._-] only, none "." or "..". Anything
// else is not opened, whatever fuzz.json says.
bool IsSafeRelativeDir(std::string_view dir) {
  if (dir.empty() || dir.size() > 512 || dir.front() == '/') return false;
  std::size_t start = 0;
  while (start <= dir.size()) {
    const std::size_t end = std::min(dir.find('/', start), dir.size());
    const std::string_view part = dir.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (const char c : part) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    start = end + 1;
  }
  return true;
}

std::string StringMember(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Adds "transcript" or "transcript_error" to `finding`; `budget` is what is
// left of the options' total.
void AttachTranscript(const fs::path& out_dir, json& finding, const FuzzReportOptions& options,
                      std::size_t& budget) {
  const std::string dir = StringMember(finding, "dir");
  if (!IsSafeRelativeDir(dir)) {
    finding["transcript_error"] = dir.empty() ? "no finding directory given"
                                              : "finding directory not opened: not a plain "
                                                "relative path";
    return;
  }
  const fs::path path = out_dir / dir / kSessionFile;
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) {
    finding["transcript_error"] =
        "no " + (fs::path(dir) / kSessionFile).string() + ": " + ec.message();
    return;
  }
  if (size > budget) {
    finding["transcript_error"] = "transcript not embedded: the report's limit of " +
                                  std::to_string(options.max_transcript_bytes_total >> 20) +
                                  " MiB of transcripts is reached";
    return;
  }
  harness::ReadSessionOptions read;
  read.max_file_bytes = options.max_session_bytes;
  auto t = harness::ReadSessionFile(path.string(), read);
  if (!t.ok()) {
    finding["transcript_error"] = Message(t.status());
    return;
  }
  budget -= static_cast<std::size_t>(size);
  finding["transcript"] = t->ToJson();
}

absl::Status ArrayOfObjects(const json& doc, const char* key, const std::string& path) {
  const auto it = doc.find(key);
  if (it == doc.end()) return absl::OkStatus();
  if (!it->is_array()) {
    return absl::InvalidArgumentError(path + ": \"" + key + "\" is not an array");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_object()) {
      return absl::InvalidArgumentError(path + ": \"" + key + "\"[" + std::to_string(i) +
                                        "] is not an object");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FuzzScript() {
  return std::string(assets::kCommonJs) + "\n" + std::string(assets::kFuzzJs);
}

absl::StatusOr<json> ReadFuzzReportData(const std::string& out_dir,
                                        const FuzzReportOptions& options) {
  const fs::path dir(out_dir);
  const std::string path = (dir / kFuzzFile).string();
  auto text = ReadFileBounded(path, options.max_fuzz_json_bytes);
  if (!text.ok()) return text.status();
  json doc;
  try {
    doc = json::parse(*text);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(path + ": not valid JSON: " + harness::DescribeParseError(e));
  }
  if (!doc.is_object()) return absl::InvalidArgumentError(path + ": not a JSON object");
  for (const char* key : {"findings", "timeline"}) {
    if (auto st = ArrayOfObjects(doc, key, path); !st.ok()) return st;
  }
  if (auto it = doc.find("stats"); it != doc.end() && !it->is_object()) {
    return absl::InvalidArgumentError(path + ": \"stats\" is not an object");
  }
  std::size_t budget = options.max_transcript_bytes_total;
  if (auto it = doc.find("findings"); it != doc.end()) {
    for (json& finding : *it) AttachTranscript(dir, finding, options, budget);
  }
  return doc;
}

std::string RenderFuzzReport(const json& data, const FuzzReportOptions& options) {
  std::string title = options.title;
  if (title.empty()) {
    const std::string target = data.is_object() ? StringMember(data, "target") : std::string();
    title = "smtp-harness fuzz: " + (target.empty() ? std::string("report") : target);
  }
  json config = json::object();
  const bool complete =
      data.is_object() && data.contains("complete") && data["complete"] == json(true);
  if (!options.poll_url.empty() && !complete) {
    config["poll_url"] = options.poll_url;
    config["poll_interval_ms"] = options.poll_interval_ms;
  }
  const std::string nonce = options.nonce.empty() ? RandomNonce() : options.nonce;
  return RenderPage(title, FuzzScript(), data, config, nonce);
}

absl::Status WriteFuzzReport(const std::string& out_dir) {
  auto data = ReadFuzzReportData(out_dir);
  if (!data.ok()) return data.status();
  return WriteFileAtomic((fs::path(out_dir) / kHtmlFile).string(), RenderFuzzReport(*data));
}

}  // namespace smtp::reports
