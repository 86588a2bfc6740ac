#include "reports/report_site.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <nlohmann/json.hpp>

#include "reports/escape.h"
#include "reports/fuzz_report.h"
#include "reports/html_report.h"
#include "reports/junit.h"
#include "results/absl_compat.h"

namespace smtp::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxRunName = 128;
constexpr std::string_view kRunPrefix = "/run/";

HttpReply Text(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  r.csp = "default-src 'none'";
  return r;
}

// The status cell of a run in the listing, by what `run` exited with (the
// page header says the same: renderHeader in assets/report.js): stopped
// early; in progress; complete with errors (2); complete with findings that
// fail the run (1); complete with findings at levels not in fail-on (0);
// complete. Only the last is green.
std::string RunStatusHtml(const RunListing& r) {
  if (r.kind == RunKind::kFuzz) {
    // As the fuzz page's header says (renderHeader in assets/fuzz.js).
    if (!r.stopped.empty()) {
      return "<span class=\"status bad\">stopped: " + HtmlEscape(r.stopped) + "</span>";
    }
    if (!r.complete) return "<span class=\"status live\">in progress</span>";
    if (r.findings > 0) {
      return "<span class=\"status bad\">complete — " + std::to_string(r.findings) +
             (r.findings == 1 ? " finding" : " findings") + "</span>";
    }
    return "<span class=\"status done\">complete</span>";
  }
  if (!r.stopped.empty()) {
    return "<span class=\"status bad\">stopped: " + HtmlEscape(r.stopped) + "</span>";
  }
  if (!r.complete) return "<span class=\"status live\">in progress</span>";
  if (r.exit_status == 2) return "<span class=\"status error\">complete — errors</span>";
  if (r.exit_status != 0) return "<span class=\"status bad\">complete — findings</span>";
  if (r.findings > 0) {
    return "<span class=\"status note\">complete — " + std::to_string(r.findings) +
           (r.findings == 1 ? " finding" : " findings") + " not in fail-on</span>";
  }
  return "<span class=\"status done\">complete</span>";
}

std::string Listed(const RunListing& r) {
  if (r.kind == RunKind::kFuzz) {
    return std::to_string(r.sessions) + " sessions, " + std::to_string(r.findings) +
           (r.findings == 1 ? " finding bucket" : " finding buckets");
  }
  std::string s = std::to_string(r.totals.pass) + " pass, " + std::to_string(r.totals.fail) +
                  " fail, " + std::to_string(r.totals.skip) + " skip, " +
                  std::to_string(r.totals.error) + " error";
  return s;
}

// The listing fields of a fuzz run from its fuzz.json.
absl::Status ReadFuzzListing(const fs::path& file, std::size_t max_bytes, RunListing& r) {
  auto text = ReadFileBounded(file.string(), max_bytes);
  if (!text.ok()) return text.status();
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(file.string() + ": not valid JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError(file.string() + ": not a JSON object");
  const auto str = [&doc](const char* key) {
    const auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.target = str("target");
  r.started_at = str("started_at");
  r.complete = doc.value("complete", json(false)) == json(true);
  // A run that SIGINT / SIGTERM stopped (fuzz.json "stop_reason").
  if (const std::string why = str("stop_reason"); why.rfind("interrupted", 0) == 0) {
    r.stopped = why;
  }
  if (const auto f = doc.find("findings"); f != doc.end() && f->is_array()) {
    r.findings = static_cast<int>(f->size());
  }
  if (const auto s = doc.find("stats"); s != doc.end() && s->is_object()) {
    if (const auto n = s->find("sessions"); n != s->end() && n->is_number()) {
      r.sessions = n->get<std::int64_t>();
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view RunKindName(RunKind kind) {
  return kind == RunKind::kFuzz ? "fuzz" : "conformance";
}

bool IsSafeRunName(std::string_view name) {
  if (name.empty() || name.size() > kMaxRunName || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

ReportSite::ReportSite(std::string dir, SiteLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

std::vector<RunListing> ReportSite::ListRuns() {
  std::vector<RunListing> runs;
  std::error_code ec;
  fs::directory_iterator it(dir_, fs::directory_options::skip_permission_denied, ec);
  std::size_t looked = 0;
  std::lock_guard lock(mu_);
  std::map<std::string, RunListing> fresh;
  for (; !ec && it != fs::directory_iterator() && looked < limits_.max_dir_entries;
       it.increment(ec), ++looked) {
    const std::string name = it->path().filename().string();
    if (!IsSafeRunName(name) || !it->is_directory(ec)) continue;
    // results.json makes a conformance run; failing that, fuzz.json a fuzz run.
    RunKind kind = RunKind::kConformance;
    fs::path file = it->path() / kResultsFile;
    std::error_code fec;
    auto mtime = fs::last_write_time(file, fec);
    if (fec) {
      kind = RunKind::kFuzz;
      file = it->path() / kFuzzFile;
      fec.clear();
      mtime = fs::last_write_time(file, fec);
    }
    const auto size = fec ? 0 : fs::file_size(file, fec);
    if (fec) continue;  // neither: not a run
    RunListing r;
    r.name = name;
    r.kind = kind;
    r.mtime_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
    r.size = size;
    if (auto c = cache_.find(name); c != cache_.end() && c->second.kind == r.kind &&
                                    c->second.mtime_ns == r.mtime_ns && c->second.size == r.size) {
      r = c->second;
    } else if (kind == RunKind::kFuzz) {
      const absl::Status st = ReadFuzzListing(file, limits_.max_fuzz_bytes, r);
      r.ok = st.ok();
      if (!st.ok()) r.error = Message(st);
    } else if (auto run = ReadRunResultBounded(file.string(), limits_.max_results_bytes);
               run.ok()) {
      r.ok = true;
      r.target = run->target.target;
      r.target_name = run->target.name;
      r.started_at = run->started_at;
      r.complete = run->complete;
      r.stopped = run->stopped;
      r.exit_status = run->ExitStatus();
      r.totals = run->Totals();
      for (const auto& sc : run->scenarios) {
        r.findings += sc.verdict == harness::Verdict::kFail && !run->Decides(sc.level);
      }
    } else {
      r.error = Message(run.status());
    }
    fresh[name] = r;
    runs.push_back(std::move(r));
  }
  cache_ = std::move(fresh);
  std::sort(runs.begin(), runs.end(), [](const RunListing& a, const RunListing& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns > b.mtime_ns : a.name < b.name;
  });
  if (runs.size() > limits_.max_runs) runs.resize(limits_.max_runs);
  return runs;
}

HttpReply ReportSite::Handle(std::string_view method, std::string_view target) {
  if (method != "GET" && method != "HEAD") return Text(405, "method not allowed\n");
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/") return Listing(/*json=*/false);
  if (path == "/runs.json") return Listing(/*json=*/true);
  if (!path.starts_with(kRunPrefix)) return Text(404, "not found\n");
  path.remove_prefix(kRunPrefix.size());
  const std::size_t slash = path.find('/');
  const std::string_view name = path.substr(0, slash);
  const std::string_view file = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  if (!IsSafeRunName(name)) return Text(404, "not found\n");
  for (const RunListing& r : ListRuns()) {
    if (r.name != name) continue;
    if (slash == std::string_view::npos) {
      HttpReply redirect = Text(301, "moved\n");
      redirect.location = std::string(kRunPrefix) + r.name + "/";
      return redirect;
    }
    return Run(r, file);
  }
  return Text(404, "no such run\n");
}

HttpReply ReportSite::Run(const RunListing& listing, std::string_view file) {
  if (listing.kind == RunKind::kFuzz) return FuzzRun(listing, file);
  if (file != "" && file != kHtmlFile && file != kResultsFile && file != kJunitFile) {
    return Text(404, "not found\n");
  }
  const fs::path path = fs::path(dir_) / listing.name / kResultsFile;
  auto run = ReadRunResultBounded(path.string(), limits_.max_results_bytes);
  if (!run.ok()) {
    return Text(run.status().code() == absl::StatusCode::kNotFound ? 404 : 500,
                "cannot read run " + listing.name + ": " + Message(run.status()) + "\n");
  }
  HttpReply r;
  if (file == kResultsFile) {
    r.content_type = "application/json";
    r.body = JsonForScript(harness::ToJson(*run));
    r.csp = "default-src 'none'";
  } else if (file == kJunitFile) {
    r.content_type = "application/xml; charset=utf-8";
    r.body = RenderJunit(*run);
    r.csp = "default-src 'none'";
  } else {
    HtmlReportOptions opts;
    opts.poll_url = std::string(kResultsFile);  // relative to /run/NAME/
    opts.poll_interval_ms = limits_.poll_interval_ms;
    opts.nonce = RandomNonce();
    opts.title = "smtp-harness: " + listing.name;
    r.content_type = "text/html; charset=utf-8";
    r.body = RenderHtmlReport(*run, opts);
    r.csp = ContentSecurityPolicy(opts.nonce);
  }
  return r;
}

HttpReply ReportSite::FuzzRun(const RunListing& listing, std::string_view file) {
  constexpr std::string_view kDataFile = "fuzz-data.json";
  if (file != "" && file != kHtmlFile && file != kFuzzFile && file != kDataFile) {
    return Text(404, "not found\n");
  }
  const fs::path dir = fs::path(dir_) / listing.name;
  HttpReply r;
  if (file == kFuzzFile) {
    auto text = ReadFileBounded((dir / kFuzzFile).string(), limits_.max_fuzz_bytes);
    const json doc = text.ok() ? json::parse(*text, nullptr, false) : json();
    if (!text.ok() || doc.is_discarded()) {
      return Text(500, "cannot read run " + listing.name + ": " +
                           (text.ok() ? "fuzz.json is not valid JSON" : Message(text.status())) +
                           "\n");
    }
    r.content_type = "application/json";
    r.body = JsonForScript(doc);
    r.csp = "default-src 'none'";
    return r;
  }
  FuzzReportOptions opts;
  opts.max_fuzz_json_bytes = limits_.max_fuzz_bytes;
  auto data = ReadFuzzReportData(dir.string(), opts);
  if (!data.ok()) {
    return Text(data.status().code() == absl::StatusCode::kNotFound ? 404 : 500,
                "cannot read run " + listing.name + ": " + Message(data.status()) + "\n");
  }
  if (file == kDataFile) {
    r.content_type = "application/json";
    r.body = JsonForScript(*data);
    r.csp = "default-src 'none'";
    return r;
  }
  opts.poll_url = std::string(kDataFile);  // relative to /run/NAME/
  opts.poll_interval_ms = limits_.poll_interval_ms;
  opts.nonce = RandomNonce();
  opts.title = "smtp-harness fuzz: " + listing.name;
  r.content_type = "text/html; charset=utf-8";
  r.body = RenderFuzzReport(*data, opts);
  r.csp = ContentSecurityPolicy(opts.nonce);
  return r;
}

HttpReply ReportSite::Listing(bool as_json) {
  const std::vector<RunListing> runs = ListRuns();
  HttpReply r;
  if (as_json) {
    json list = json::array();
    for (const RunListing& run : runs) {
      list.push_back({{"name", run.name},
                      {"kind", RunKindName(run.kind)},
                      {"ok", run.ok},
                      {"error", run.error},
                      {"target", run.target},
                      {"target_name", run.target_name},
                      {"started_at", run.started_at},
                      {"complete", run.complete},
                      {"stopped", run.stopped},
                      {"exit_status", run.exit_status},
                      {"findings", run.findings},
                      {"sessions", run.sessions},
                      {"totals",
                       {{"pass", run.totals.pass},
                        {"fail", run.totals.fail},
                        {"skip", run.totals.skip},
                        {"error", run.totals.error}}}});
    }
    r.content_type = "application/json";
    r.body = JsonForScript({{"dir", dir_}, {"runs", std::move(list)}});
    r.csp = "default-src 'none'";
    return r;
  }
  // Server-side HTML: every value goes through HtmlEscape.
  const std::string nonce = RandomNonce();
  std::string rows;
  for (const RunListing& run : runs) {
    const std::string link = std::string(kRunPrefix) + run.name + "/";
    const std::string kind(RunKindName(run.kind));
    rows += "<tr class=\"run-" + kind + "\"><td><a href=\"" + HtmlEscape(link) + "\">" +
            HtmlEscape(run.name) + "</a></td><td class=\"kind\">" + kind + "</td>";
    if (!run.ok) {
      rows +=
          "<td colspan=\"4\" class=\"muted\">unreadable: " + HtmlEscape(run.error) + "</td></tr>\n";
      continue;
    }
    const std::string who = run.target_name.empty() ? run.target : run.target_name;
    rows += "<td>" + HtmlEscape(who) + "</td><td>" + HtmlEscape(run.started_at) + "</td><td>" +
            HtmlEscape(Listed(run)) + "</td><td>" + RunStatusHtml(run) + "</td></tr>\n";
  }
  if (runs.empty()) rows = "<tr><td colspan=\"6\" class=\"empty\">no runs yet</td></tr>\n";
  r.content_type = "text/html; charset=utf-8";
  r.csp = ContentSecurityPolicy(nonce);
  r.body =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><title>smtp-harness runs</title>"
      "<style nonce=\"" +
      nonce + "\">" + std::string(ReportCss()) +
      "</style></head><body data-ready=\"1\"><div id=\"app\">"
      "<h1>smtp-harness runs</h1><p class=\"muted\">" +
      HtmlEscape(dir_) +
      "</p><table id=\"runs\"><thead><tr><th>Run</th><th>Kind</th><th>Target</th>"
      "<th>Started</th><th>Results</th><th>Status</th></tr></thead><tbody>\n" +
      rows + "</tbody></table></div></body></html>\n";
  return r;
}

}  // namespace smtp::reports
