#include "app/default_suite.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_join.h"

#ifndef SMTP_SOURCE_SCENARIOS
#define SMTP_SOURCE_SCENARIOS ""
#endif

namespace smtp::app {

namespace fs = std::filesystem;

std::vector<std::string> DefaultSuiteCandidates() {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back(
        (exe.parent_path().parent_path() / "share" / "smtp-harness" / "scenarios").string());
  }
  if (const std::string source = SMTP_SOURCE_SCENARIOS; !source.empty()) out.push_back(source);
  out.push_back("scenarios");
  return out;
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

}  // namespace smtp::app
