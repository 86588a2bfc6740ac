#include "fuzz/net/fuzz_workers.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_join.h"
#include "fuzz/net/run_control.h"
#include "harness/wall_clock.h"
#include "reports/fuzz_report.h"
#include "reports/reports.h"
#include "results/atomic_file.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A stats file is a few KiB: two 4 KiB bitmaps and the process's findings
// (the minimized steps of each). The limit is fuzz.json's.
constexpr std::size_t kMaxWorkerFileBytes = 64u << 20;
// fuzz.json's rows of processes: a long fork run starts thousands.
constexpr std::size_t kMaxProcessRows = 500;

fs::path WorkersDir(const std::string& out_dir) { return fs::path(out_dir) / "workers"; }

// Seen counters as a bitmap, 1 bit per counter, in hex (low bit first).
std::string HexBits(const std::vector<std::uint8_t>& seen) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve((seen.size() + 7) / 8 * 2);
  for (std::size_t i = 0; i < seen.size(); i += 8) {
    unsigned byte = 0;
    for (std::size_t b = 0; b < 8 && i + b < seen.size(); ++b) {
      if (seen[i + b] != 0) byte |= 1u << b;
    }
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

bool ParseHexBits(const std::string& hex, std::vector<std::uint8_t>* seen) {
  if (hex.size() % 2 != 0) return false;
  seen->assign(hex.size() / 2 * 8, 0);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    const unsigned byte = static_cast<unsigned>(hi * 16 + lo);
    for (std::size_t b = 0; b < 8; ++b) (*seen)[i / 2 * 8 + b] = (byte >> b) & 1u;
  }
  return true;
}

void Union(const std::vector<std::uint8_t>& seen, std::vector<std::uint8_t>& into) {
  if (into.size() < seen.size()) into.resize(seen.size(), 0);
  for (std::size_t i = 0; i < seen.size(); ++i) into[i] |= seen[i];
}

std::size_t CountSeen(const std::vector<std::uint8_t>& seen) {
  return static_cast<std::size_t>(
      std::count_if(seen.begin(), seen.end(), [](auto b) { return b != 0; }));
}

// A file name for a bucket: bucket names are oracle-VERB-code, but they
// come from the server's replies in part, so anything else is replaced.
std::string SafeName(const std::string& bucket) {
  std::string s = bucket.substr(0, 200);
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return s.empty() ? "_" : s;
}

// `into` takes `from`'s hits of one bug: the counts summed, the earlier
// first_at_s.
void JoinHits(json& into, const json& from) {
  into["count"] = into.value("count", std::uint64_t{0}) + from.value("count", std::uint64_t{0});
  into["first_at_s"] = std::min(into.value("first_at_s", from.value("first_at_s", 0.0)),
                                from.value("first_at_s", into.value("first_at_s", 0.0)));
}

// How plain a saved finding's route is, for one bug reached by several
// routes: saved first (it has files), then fewest steps, raw steps and
// bytes of its minimized session; the bucket name breaks ties.
auto Plainness(const json& f) {
  const json minimize = f.value("minimize", json::object());
  return std::tuple(f.value("dir", "").empty(), minimize.value("steps_after", std::size_t{0}),
                    f.value("raw_steps", std::size_t{0}),
                    minimize.value("bytes_after", std::size_t{0}), f.value("bucket", ""));
}

// One bug, one bucket across processes: findings with one server abort
// reason (`cause`, known in process) that different processes minimized
// into different buckets are one, under the plainest route. The others'
// counts join it, their bucket names are listed in its "merged_buckets" and
// their directories in `superseded_dirs`.
void MergeByCause(std::vector<json>& findings, std::vector<std::string>& superseded_dirs) {
  std::map<std::string, std::vector<std::size_t>> by_cause;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    const std::string cause = findings[i].value("cause", "");
    if (!cause.empty()) by_cause[cause].push_back(i);
  }
  std::set<std::size_t> gone;
  for (const auto& [cause, at] : by_cause) {
    if (at.size() < 2) continue;
    const std::size_t keep =
        *std::min_element(at.begin(), at.end(), [&](std::size_t a, std::size_t b) {
          return Plainness(findings[a]) < Plainness(findings[b]);
        });
    json& kept = findings[keep];
    json merged = json::array();
    for (const std::size_t i : at) {
      if (i == keep) continue;
      const json& other = findings[i];
      JoinHits(kept, other);
      merged.push_back(other.value("bucket", ""));
      const std::string dir = other.value("dir", "");
      if (!dir.empty()) superseded_dirs.push_back(dir);
      gone.insert(i);
    }
    kept["merged_buckets"] = std::move(merged);
  }
  std::vector<json> left;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    if (!gone.contains(i)) left.push_back(std::move(findings[i]));
  }
  findings = std::move(left);
}

}  // namespace

json WorkerStatsJson(const WorkerStats& s) {
  return {
      {"pid", s.pid},
      {"started_us", s.started_us},
      {"run_id", s.run_id},
      {"complete", s.complete},
      {"elapsed_s", s.elapsed_s},
      {"sessions", s.sessions},
      {"reached", {{"mail", s.reached_mail}, {"rcpt", s.reached_rcpt}, {"data", s.reached_data}}},
      {"finding_sessions", s.finding_sessions},
      {"slow_sessions", s.slow_sessions},
      {"pc_seen", HexBits(s.pc_seen)},
      {"coverage_source", s.coverage_source},
      {"states_seen", HexBits(s.states_seen)},
      {"findings", s.findings},
      {"defence_sessions", s.defence_sessions},
      {"unconfirmed_sessions", s.unconfirmed_sessions},
      {"defences", s.defences},
      {"unconfirmed", s.unconfirmed},
      {"defences_are_findings", s.defences_are_findings}};
}

absl::StatusOr<WorkerStats> ParseWorkerStats(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("not an object");
  WorkerStats s;
  const auto field = [&](const char* name, json::value_t type) -> const json* {
    const auto it = j.find(name);
    if (it == j.end()) return nullptr;
    // A count: any integer >= 0 (it is signed in a json built in memory).
    if (type == json::value_t::number_unsigned) {
      return it->is_number_integer() && it->get<std::int64_t>() >= 0 ? &*it : nullptr;
    }
    if (it->type() != type) return nullptr;
    return &*it;
  };
  const json* pid = field("pid", json::value_t::number_unsigned);
  const json* started = field("started_us", json::value_t::number_unsigned);
  const json* run_id = field("run_id", json::value_t::string);
  const json* complete = field("complete", json::value_t::boolean);
  const json* sessions = field("sessions", json::value_t::number_unsigned);
  const json* reached = field("reached", json::value_t::object);
  const json* finding_sessions = field("finding_sessions", json::value_t::number_unsigned);
  const json* pc = field("pc_seen", json::value_t::string);
  const json* states = field("states_seen", json::value_t::string);
  const json* findings = field("findings", json::value_t::array);
  const auto elapsed = j.find("elapsed_s");
  if (!pid || !started || !run_id || !complete || !sessions || !reached || !finding_sessions ||
      !pc || !states || !findings || elapsed == j.end() || !elapsed->is_number()) {
    return absl::InvalidArgumentError("a field is missing or of the wrong type");
  }
  s.pid = pid->get<long>();
  s.started_us = started->get<std::int64_t>();
  s.run_id = run_id->get<std::string>();
  s.complete = complete->get<bool>();
  s.elapsed_s = elapsed->get<double>();
  s.sessions = sessions->get<std::uint64_t>();
  s.finding_sessions = finding_sessions->get<std::uint64_t>();
  s.slow_sessions = j.value("slow_sessions", std::uint64_t{0});  // absent before it existed
  s.defence_sessions = j.value("defence_sessions", std::uint64_t{0});
  s.unconfirmed_sessions = j.value("unconfirmed_sessions", std::uint64_t{0});
  s.defences_are_findings = j.value("defences_are_findings", false);
  for (const char* name : {"defences", "unconfirmed"}) {
    const auto list = j.find(name);
    if (list == j.end()) continue;
    if (!list->is_array()) return absl::InvalidArgumentError(std::string(name) + ": not a list");
    for (const json& e : *list) {
      const char* key = std::string_view(name) == "defences" ? "signature" : "bucket";
      if (!e.is_object() || !e.contains(key) || !e[key].is_string() || !e.contains("count") ||
          !e["count"].is_number_unsigned() || !e.contains("routes") || !e["routes"].is_array()) {
        return absl::InvalidArgumentError(std::string("an entry of ") + name +
                                          " without its key, count or routes");
      }
    }
    (std::string_view(name) == "defences" ? s.defences : s.unconfirmed) =
        list->get<std::vector<json>>();
  }
  for (auto [name, into] : {std::pair{"mail", &s.reached_mail}, std::pair{"rcpt", &s.reached_rcpt},
                            std::pair{"data", &s.reached_data}}) {
    const auto it = reached->find(name);
    if (it == reached->end() || !it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return absl::InvalidArgumentError(std::string("reached.") + name + " is missing");
    }
    *into = it->get<std::uint64_t>();
  }
  s.coverage_source = j.value("coverage_source", std::string("none"));
  if (!ParseHexBits(pc->get<std::string>(), &s.pc_seen) ||
      !ParseHexBits(states->get<std::string>(), &s.states_seen)) {
    return absl::InvalidArgumentError("pc_seen / states_seen: not a hex bitmap");
  }
  for (const json& f : *findings) {
    if (!f.is_object() || !f.contains("bucket") || !f["bucket"].is_string() ||
        !f.contains("count") || !f["count"].is_number_integer() || f["count"] < 0) {
      return absl::InvalidArgumentError("a finding without bucket or count");
    }
    // The fields the parent reads (ReadWorkerTotals, the FINDING line).
    const auto typed = [&](const char* name, bool (json::*is)() const noexcept) {
      return !f.contains(name) || (f[name].*is)();
    };
    const auto minimize_typed = [&] {
      if (!f.contains("minimize")) return true;
      const json& m = f["minimize"];
      return m.is_object() &&
             std::all_of(m.begin(), m.end(), [](const json& x) { return x.is_number_unsigned(); });
    };
    if (!typed("first_at_s", &json::is_number) || !typed("shared", &json::is_boolean) ||
        !typed("detail", &json::is_string) || !typed("replay", &json::is_string) ||
        !typed("cause", &json::is_string) || !typed("dir", &json::is_string) ||
        !typed("raw_steps", &json::is_number_unsigned) || !minimize_typed()) {
      return absl::InvalidArgumentError("a finding field of the wrong type");
    }
    s.findings.push_back(f);
  }
  return s;
}

absl::Status FuzzJsonWriter::Write(const std::string& out_dir, const json& fuzz_json) {
  const absl::Status st =
      smtp::WriteFileAtomic((fs::path(out_dir) / "fuzz.json").string(),
                            fuzz_json.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
  if (!st.ok()) {
    if (!json_reported_) {
      json_reported_ = true;
      std::fprintf(Console(), "smtp-harness fuzz: ERROR: %s (findings are still printed here)\n",
                   std::string(st.message()).c_str());
    }
    return st;
  }
  // The HTML report, from what was just written (reports/fuzz_report.h).
  const absl::Status html = reports::WriteFuzzReport(out_dir);
  if (!html.ok() && !html_reported_) {
    html_reported_ = true;
    std::fprintf(Console(), "smtp-harness fuzz: ERROR: the HTML report: %s\n",
                 std::string(html.message()).c_str());
  }
  return html;
}

absl::Status WriteWorkerStats(const std::string& out_dir, const WorkerStats& stats) {
  const fs::path path = WorkersDir(out_dir) / (std::to_string(stats.pid) + "-" +
                                               std::to_string(stats.started_us) + ".json");
  return smtp::WriteFileAtomic(
      path.string(), WorkerStatsJson(stats).dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string SlowSessionsNote(std::uint64_t slow_sessions) {
  if (slow_sessions == 0) return "";
  return ", " + std::to_string(slow_sessions) + " slow session(s)";
}

bool ClaimBucket(const std::string& out_dir, const std::string& bucket) {
  std::error_code ec;
  const fs::path claims = WorkersDir(out_dir) / "claims";
  fs::create_directories(claims, ec);
  // create_directory is false (no error) when it already exists: the one
  // process that creates it writes the finding.
  return fs::create_directory(claims / SafeName(bucket), ec) && !ec;
}

std::optional<std::string> SharedRawBucket(const std::string& out_dir,
                                           const std::string& raw_bucket) {
  std::ifstream in(WorkersDir(out_dir) / "raw" / SafeName(raw_bucket), std::ios::binary);
  std::string bucket;
  if (!in || !std::getline(in, bucket) || bucket.empty()) return std::nullopt;
  return bucket;
}

void ShareRawBucket(const std::string& out_dir, const std::string& raw_bucket,
                    const std::string& bucket) {
  std::error_code ec;
  const fs::path dir = WorkersDir(out_dir) / "raw";
  fs::create_directories(dir, ec);
  // A temporary of this process's own, renamed: a reader sees the whole
  // line or no file.
  const fs::path tmp = dir / (SafeName(raw_bucket) + "." + std::to_string(getpid()) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << bucket << "\n";
    if (!out) return;
  }
  fs::rename(tmp, dir / SafeName(raw_bucket), ec);
  if (ec) fs::remove(tmp, ec);
}

namespace {

// Adds `from`'s hits to `into` (an entry of fuzz.json's defences or
// unconfirmed): the count, the routes ({"<route_key>": name, "count": n}),
// the earliest first_at_s.
void JoinEntry(json& into, const json& from, const char* route_key) {
  into["count"] = into.value("count", std::uint64_t{0}) + from.value("count", std::uint64_t{0});
  into["first_at_s"] = std::min(into.value("first_at_s", 0.0), from.value("first_at_s", 0.0));
  std::map<std::string, std::uint64_t> routes;
  const json none = json::array();
  const auto routes_of = [&](const json& e) -> const json& {
    const auto it = e.find("routes");
    return it == e.end() ? none : *it;
  };
  for (const json* list : {&routes_of(into), &routes_of(from)}) {
    if (!list->is_array()) continue;
    for (const json& r : *list) {
      routes[r.value(route_key, "")] += r.value("count", std::uint64_t{0});
    }
  }
  json joined = json::array();
  for (const auto& [name, n] : routes) joined.push_back({{route_key, name}, {"count", n}});
  into["routes"] = std::move(joined);
  if (into.value("dir", "").empty() && !from.value("dir", "").empty()) into["dir"] = from["dir"];
}

}  // namespace

json ConformanceNotes(const json& defences) {
  json out = json::array();
  json replies = json::array();
  std::uint64_t n = 0;
  for (const json& d : defences) {
    if (!d.value("not_421", false)) continue;
    n += d.value("count", std::uint64_t{0});
    replies.push_back(std::to_string(d.value("code", 0)) + " " + d.value("text", ""));
  }
  if (n > 0) {
    out.push_back({{"note",
                    "the server closes the connection after a 5xx reply, where RFC 5321 section "
                    "3.8 wants a 421 before a close it decides on"},
                   {"sessions", n},
                   {"replies", std::move(replies)}});
  }
  return out;
}

// Sums and unions of processes' stats.
struct WorkerAggregator::Sums {
  WorkerTotals t;
  std::vector<std::uint8_t> pc, states;
  std::map<std::string, json> by_bucket;
  std::map<std::string, json> defences;     // by signature
  std::map<std::string, json> unconfirmed;  // by bucket
  std::set<std::string> files;              // folded, by name

  void Add(const WorkerStats& s) {
    ++t.processes;
    t.complete += s.complete ? 1 : 0;
    t.sessions += s.sessions;
    t.reached_mail += s.reached_mail;
    t.reached_rcpt += s.reached_rcpt;
    t.reached_data += s.reached_data;
    t.finding_sessions += s.finding_sessions;
    t.slow_sessions += s.slow_sessions;
    Union(s.pc_seen, pc);
    Union(s.states_seen, states);
    if (s.coverage_source != "none") t.coverage_source = s.coverage_source;
    t.per_process.push_back({{"pid", s.pid},
                             {"started_us", s.started_us},
                             {"sessions", s.sessions},
                             {"elapsed_s", s.elapsed_s},
                             {"complete", s.complete}});
    t.defences_are_findings = t.defences_are_findings || s.defences_are_findings;
    for (const json& d : s.defences) {
      auto [at, fresh] = defences.emplace(d["signature"].get<std::string>(), d);
      if (!fresh) JoinEntry(at->second, d, "verb");
    }
    for (const json& u : s.unconfirmed) {
      auto [at, fresh] = unconfirmed.emplace(u["bucket"].get<std::string>(), u);
      if (!fresh) JoinEntry(at->second, u, "route");
    }
    for (const json& f : s.findings) {
      auto [at, fresh] = by_bucket.emplace(f["bucket"].get<std::string>(), f);
      if (fresh) continue;
      json& merged = at->second;
      // The details of the process that saved the finding win.
      if (merged.value("shared", false) && !f.value("shared", false)) {
        json saved = f;
        JoinHits(saved, merged);
        merged = std::move(saved);
      } else {
        JoinHits(merged, f);
      }
    }
  }

  WorkerTotals Totals() const {
    WorkerTotals out = t;
    out.server_coverage = CountSeen(pc);
    out.response_states = CountSeen(states);
    for (const auto& [bucket, f] : by_bucket) {
      out.findings.push_back(f);
      out.findings.back().erase("shared");
      out.findings.back().erase("merged_buckets");  // the parent's to say
    }
    MergeByCause(out.findings, out.superseded_dirs);
    for (const auto& [signature, d] : defences) {
      out.defences.push_back(d);
      out.defence_sessions += d.value("count", std::uint64_t{0});
    }
    for (const auto& [bucket, u] : unconfirmed) {
      if (by_bucket.contains(bucket)) continue;  // another process confirmed it
      out.unconfirmed.push_back(u);
      out.unconfirmed_sessions += u.value("count", std::uint64_t{0});
    }
    std::sort(out.per_process.begin(), out.per_process.end(),
              [](const json& a, const json& b) { return a["started_us"] < b["started_us"]; });
    if (out.per_process.size() > kMaxProcessRows) {  // the latest
      out.per_process_omitted = out.per_process.size() - kMaxProcessRows;
      out.per_process.erase(
          out.per_process.begin(),
          out.per_process.begin() + static_cast<std::ptrdiff_t>(out.per_process_omitted));
    }
    return out;
  }
};

WorkerAggregator::WorkerAggregator(std::string out_dir, std::string run_id)
    : out_dir_(std::move(out_dir)), run_id_(std::move(run_id)), folded_(std::make_unique<Sums>()) {}

WorkerAggregator::~WorkerAggregator() = default;

WorkerTotals WorkerAggregator::Refresh() {
  Sums now = *folded_;
  std::error_code ec;
  for (fs::directory_iterator it(WorkersDir(out_dir_), ec), end; !ec && it != end;
       it.increment(ec)) {
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (p.extension() != ".json" || folded_->files.count(name) != 0 || !it->is_regular_file(ec)) {
      continue;
    }
    absl::StatusOr<std::string> text = reports::ReadFileBounded(p.string(), kMaxWorkerFileBytes);
    absl::StatusOr<WorkerStats> s = absl::InvalidArgumentError("unreadable");
    if (text.ok()) {
      const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded()) s = ParseWorkerStats(j);
    }
    if (!s.ok() || s->run_id != run_id_) {
      ++now.t.skipped;
      continue;
    }
    now.Add(*s);
    if (s->complete) {  // it will not change: fold it for good
      folded_->Add(*s);
      folded_->files.insert(name);
    }
  }
  return now.Totals();
}

WorkerTotals ReadWorkerTotals(const std::string& out_dir, const std::string& run_id) {
  return WorkerAggregator(out_dir, run_id).Refresh();
}

void RemoveSupersededFindings(const std::string& out_dir, const WorkerTotals& totals) {
  for (const std::string& dir : totals.superseded_dirs) {
    const std::string name = dir.substr(std::min(dir.size(), sizeof "findings/" - 1));
    if (!dir.starts_with("findings/") || name.empty() || name == "." || name == ".." ||
        name.find('/') != std::string::npos) {
      continue;
    }
    std::error_code ec;
    fs::remove_all(fs::path(out_dir) / "findings" / name, ec);
  }
}

absl::Status ResetWorkers(const std::string& out_dir) {
  std::error_code ec;
  fs::remove_all(WorkersDir(out_dir), ec);
  if (!ec) fs::create_directories(WorkersDir(out_dir), ec);
  if (ec) {
    return absl::InternalError("cannot empty " + WorkersDir(out_dir).string() + ": " +
                               ec.message());
  }
  return absl::OkStatus();
}

namespace {

// The parent's reporter: one object for the process's life (the thread and
// the exit handler share it; it is never destroyed).
class ParentReporter {
 public:
  explicit ParentReporter(ParentRun p) : p_(std::move(p)), workers_(p_.out_dir, p_.run_id) {}

  void Loop() {
    std::unique_lock lock(mu_);
    if (!done_) UpdateLocked(false);  // fuzz.json from the start
    while (!done_) {
      if (cv_.wait_for(lock, p_.report_every, [&] { return done_; })) break;
      UpdateLocked(false);
    }
  }

  // At exit (libFuzzer's parent ends with exit(0)): the final fuzz.json, and
  // exit status 1 when it could not be written, as a single process does.
  void Finish() {
    std::lock_guard lock(mu_);
    if (done_) return;
    done_ = true;
    UpdateLocked(true);
    cv_.notify_all();
    if (!last_write_.ok()) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: ERROR: the results in %s are incomplete (%s); the finding "
                   "bucket(s) were printed above\n",
                   p_.out_dir.c_str(), std::string(last_write_.message()).c_str());
      std::fflush(nullptr);
      std::_Exit(1);  // inside an exit handler: exit() again would be undefined
    }
  }

 private:
  struct Sample {
    double t;
    std::uint64_t sessions;
    std::size_t cov, states, findings;
  };

  void UpdateLocked(bool final) {
    const double t = std::chrono::duration<double>(Clock::now() - start_).count();
    const WorkerTotals w = workers_.Refresh();
    const double per_s = t > 0 ? static_cast<double>(w.sessions) / t : 0;
    if (samples_.size() >= 2000) {  // bounded: keep every other sample
      std::vector<Sample> half;
      for (std::size_t i = 0; i < samples_.size(); i += 2) half.push_back(samples_[i]);
      samples_ = std::move(half);
    }
    samples_.push_back({t, w.sessions, w.server_coverage, w.response_states, w.findings.size()});
    for (const json& f : w.findings) PrintNew(f);
    if (final) {
      // Every process has ended: the buckets merged by cause lose their
      // directories to the plainest route's.
      for (const json& f : w.findings) {
        if (!f.contains("merged_buckets")) continue;
        std::vector<std::string> names;
        for (const json& b : f["merged_buckets"]) names.push_back(b.get<std::string>());
        std::fprintf(Console(), "smtp-harness fuzz: %s also holds %s (same abort: %s)\n",
                     f.value("bucket", "").c_str(), absl::StrJoin(names, ", ").c_str(),
                     f.value("cause", "").c_str());
      }
      RemoveSupersededFindings(p_.out_dir, w);
    }
    std::fprintf(Console(),
                 "smtp-harness fuzz: %.0f s, %zu process(es) (%zu running, -%s=%d), %llu sessions "
                 "(%.0f/s), server coverage %zu, response states %zu, findings %llu in %zu "
                 "bucket(s)%s%s\n",
                 t, w.processes, w.processes - w.complete, p_.mode.c_str(), p_.parallel,
                 static_cast<unsigned long long>(w.sessions), per_s, w.server_coverage,
                 w.response_states, static_cast<unsigned long long>(w.finding_sessions),
                 w.findings.size(), SlowSessionsNote(w.slow_sessions).c_str(),
                 final ? " (done)" : "");
    Write(w, t, per_s, final);
    if (p_.on_report) p_.on_report(final);
  }

  // A child's own FINDING line is in its log (fork mode deletes those):
  // the parent prints each bucket once as it shows up.
  void PrintNew(const json& f) {
    const std::string bucket = f.value("bucket", "");
    if (!printed_.insert(bucket).second) return;
    const std::string replay = f.value("replay", "");
    std::fprintf(Console(), "smtp-harness fuzz: FINDING %s: %s%s%s\n", bucket.c_str(),
                 f.value("detail", "").c_str(), replay.empty() ? "" : "\n  ", replay.c_str());
  }

  // fuzz.json as a single process writes it (fuzzer.cc), plus "processes".
  void Write(const WorkerTotals& w, double t, double per_s, bool final) {
    json j;
    j["version"] = 1;
    j["kind"] = "fuzz";
    j["complete"] = final;
    j["target"] = p_.target;
    j["command_line"] = p_.command_line;
    j["libfuzzer_args"] = p_.libfuzzer_args;
    j["started_at"] = started_at_;
    j["updated_at"] = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
    j["stats"] = {
        {"elapsed_s", t},
        {"sessions", w.sessions},
        {"sessions_per_s", per_s},
        {"server_coverage", w.server_coverage},
        {"coverage_source", w.coverage_source},
        {"server_restarts", 0},  // --spawn is one process's
        {"response_states", w.response_states},
        {"reached", {{"mail", w.reached_mail}, {"rcpt", w.reached_rcpt}, {"data", w.reached_data}}},
        {"finding_sessions", w.finding_sessions},
        {"slow_sessions", w.slow_sessions},
        {"defence_sessions", w.defence_sessions},
        {"unconfirmed_sessions", w.unconfirmed_sessions},
        {"buckets", w.findings.size()}};
    json timeline = json::array();
    for (const Sample& x : samples_) {
      timeline.push_back({{"t", x.t},
                          {"sessions", x.sessions},
                          {"sessions_per_s", x.t > 0 ? static_cast<double>(x.sessions) / x.t : 0},
                          {"server_coverage", x.cov},
                          {"response_states", x.states},
                          {"findings", x.findings}});
    }
    j["timeline"] = std::move(timeline);
    j["findings"] = w.findings;
    j["unconfirmed"] = w.unconfirmed;
    j["defences"] = w.defences;
    j["defences_are_findings"] = w.defences_are_findings;
    j["conformance_notes"] = ConformanceNotes(w.defences);
    j["processes"] = {{"mode", p_.mode},
                      {"parallel", p_.parallel},
                      {"run_id", p_.run_id},
                      {"count", w.processes},
                      {"complete", w.complete},
                      {"unreadable_stats_files", w.skipped},
                      {"per_process", w.per_process},
                      {"per_process_omitted", w.per_process_omitted}};
    // A failed write is said on stderr by the writer; the last one decides
    // the exit status (Finish).
    last_write_ = writer_.Write(p_.out_dir, j);
  }

  ParentRun p_;
  WorkerAggregator workers_;
  Clock::time_point start_ = Clock::now();
  std::string started_at_ = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<Sample> samples_;
  std::set<std::string> printed_;  // buckets
  FuzzJsonWriter writer_;
  absl::Status last_write_;
};

ParentReporter* g_parent = nullptr;

void FinishParent() {
  if (g_parent != nullptr) g_parent->Finish();
}

}  // namespace

void StartParentReport(ParentRun parent) {
  g_parent = new ParentReporter(std::move(parent));  // lives until exit
  std::atexit(FinishParent);
  std::thread([] { g_parent->Loop(); }).detach();
}

}  // namespace smtp::fuzz
