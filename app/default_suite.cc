#include "app/default_suite.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_join.h"

#ifndef SMTP_SOURCE_ROOT
#define SMTP_SOURCE_ROOT ""
#endif

namespace smtp::app {

namespace fs = std::filesystem;

namespace {

// EXE_DIR/../share/smtp-harness/<installed>, SOURCE_ROOT/<in_tree>, ./<in_tree>.
std::vector<std::string> ShippedCandidates(std::string_view installed, std::string_view in_tree) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(
        (exe.parent_path().parent_path() / "share" / "smtp-harness" / installed).string());
  }
  if (const std::string source = SMTP_SOURCE_ROOT; !source.empty()) {
    out.push_back((fs::path(source) / in_tree).string());
  }
  out.emplace_back(in_tree);
  return out;
}

}  // namespace

std::vector<std::string> DefaultSuiteCandidates() {
  return ShippedCandidates("scenarios", "scenarios");
}

std::string DefaultFuzzSeeds() {
  for (const std::string& c : ShippedCandidates("seeds", "corpus/fuzz_server_session")) {
    std::error_code ec;
    if (fs::is_directory(c, ec)) return c;
  }
  return "";
}

std::string DefaultFuzzDictionary() {
  for (const std::string& c : ShippedCandidates("smtp.dict", "fuzz/smtp.dict")) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c;
  }
  return "";
}

absl::StatusOr<std::string> DefaultSuite() {
  const std::vector<std::string> candidates = DefaultSuiteCandidates();
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (fs::is_directory(c, ec)) return c;
  }
  return absl::NotFoundError("no --suite given and the shipped suite is not in " +
                             absl::StrJoin(candidates, ", ") + "; give --suite PATH");
}

std::vector<std::string> ShippedFragmentDirs() {
  absl::StatusOr<std::string> suite = DefaultSuite();
  if (!suite.ok()) return {};
  std::error_code ec;
  const fs::path dir = fs::path(*suite) / "fragments";
  if (!fs::is_directory(dir, ec)) return {};
  return {dir.lexically_normal().string()};
}

}  // namespace smtp::app
