#include "reports/reports.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "harness/absl_compat.h"
#include "reports/html_report.h"
#include "reports/junit.h"

namespace smtp::reports {

absl::Status WriteFileAtomic(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::UnavailableError("cannot write " + tmp);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out.flush()) return absl::UnavailableError("write failed: " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return absl::UnavailableError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return absl::OkStatus();
}

absl::Status WriteAllReports(const harness::RunResult& run, const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::UnavailableError("cannot create " + out_dir + ": " + ec.message());
  const std::filesystem::path dir(out_dir);
  // results.json last: a watcher that sees it new finds the others already
  // matching (the report server renders from results.json alone anyway).
  if (auto st = WriteFileAtomic((dir / kJunitFile).string(), RenderJunit(run)); !st.ok()) return st;
  if (auto st = WriteFileAtomic((dir / kHtmlFile).string(), RenderHtmlReport(run)); !st.ok()) {
    return st;
  }
  return harness::WriteRunResult(run, (dir / kResultsFile).string());
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  std::string data;
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (data.size() + n > max_bytes) {
      return absl::ResourceExhaustedError(path + " is larger than " + std::to_string(max_bytes) +
                                          " bytes");
    }
    data.append(buf, n);
  }
  if (in.bad()) return absl::UnavailableError("read failed: " + path);
  return data;
}

absl::StatusOr<harness::RunResult> ReadRunResultBounded(const std::string& path,
                                                        std::size_t max_bytes) {
  auto text = ReadFileBounded(path, max_bytes);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(path + ": not valid JSON");
  auto run = harness::RunResultFromJson(j);
  if (!run.ok()) {
    return absl::InvalidArgumentError(path + ": " + Message(run.status()));
  }
  return run;
}

}  // namespace smtp::reports
