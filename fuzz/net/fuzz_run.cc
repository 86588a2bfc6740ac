#include "fuzz/net/fuzz_run.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "fuzz/net/finding_page.h"
#include "fuzz/net/fuzz_child.h"
#include "fuzz/net/libfuzzer_hooks.h"
#include "fuzz/net/minimize.h"
#include "fuzz/net/mutator.h"
#include "fuzz/net/pc_counters.h"
#include "fuzz/net/run_control.h"
#include "fuzz/net/signature.h"
#include "fuzz/net/state_feedback.h"
#include "harness/wall_clock.h"
#include "parser/data_reader.h"
#include "reports/fuzz_report.h"
#include "reports/reports.h"
#include "results/session_file.h"
#include "results/transcript.h"

namespace smtp::fuzz::internal {

namespace fs = std::filesystem;

// Raw steps in a session (fewer: a plainer route to a finding).
std::size_t RawSteps(const SessionInput& in) {
  return static_cast<std::size_t>(
      std::count_if(in.steps.begin(), in.steps.end(),
                    [](const SessionStep& x) { return x.kind == StepKind::kRaw; }));
}

std::string VerbText(Verb v) {
  const std::string_view name = VerbName(v);
  return name.empty() ? "none" : std::string(name);
}

// "dropped-BDAT-250": the oracle, the verb of the step it fired at, and the
// last reply code before it.
// Process oracles: "crashed-SIGABRT-in-parse_help" (located in a core
// file), "sanitizer-heap-buffer-overflow-in-f". A crash by a signal that
// could not be located (UnlocatedCrash) is named by its trigger too: the
// verb it died at and the reply code before it
// ("crashed-SIGABRT-HELP-after-220"), taken from the minimized session
// (SetTrigger), so that two different abort()s are two findings.
bool UnlocatedCrash(const Verdict& v) {
  return v.kind == VerdictKind::kCrashed && v.signature.rfind("SIG", 0) == 0 &&
         v.signature.find("-in-") == std::string::npos;
}

std::string BucketOf(const Verdict& v) {
  if (!v.signature.empty()) {
    std::string bucket = std::string(VerdictName(v.kind)) + "-" + v.signature;
    if (UnlocatedCrash(v)) {
      bucket += "-" + VerbText(v.verb) + "-after-" +
                (v.last_code == 0 ? std::string("none") : std::to_string(v.last_code));
    }
    return bucket;
  }
  return std::string(VerdictName(v.kind)) + "-" + VerbText(v.verb) + "-" +
         std::to_string(v.last_code);
}

std::string ForeignBucketOf(const Verdict& v) {
  const std::string oracle(VerdictName(v.kind));
  if ((v.kind == VerdictKind::kDesync || v.kind == VerdictKind::kHang) && !v.culprit.empty()) {
    return oracle + "-" + v.culprit;
  }
  return oracle + "-" + ReplySignature(v.reply_code, v.reply_text);
}

std::string RouteOf(const Verdict& v, bool foreign) {
  std::string route = VerbText(v.verb);
  if (foreign && v.kind == VerdictKind::kHang) {
    return route + " after " + ReplySignature(v.reply_code, v.reply_text);
  }
  route += " " + std::to_string(v.last_code);
  if (foreign && v.kind == VerdictKind::kDesync) {
    route += ", unasked " + ReplySignature(v.reply_code, v.reply_text);
  }
  return route;
}

// An unlocated crash's trigger, from a minimized session that crashed:
// the verb of the last line it sends (minimizing leaves nothing after the
// line that kills the server; a raw step's line has a verb too) and the
// last reply before the crash. The same for every route that minimizes to
// it, raw or not.
void SetTrigger(const SessionInput& minimal, const SessionResult& run, Verdict* v) {
  if (!UnlocatedCrash(*v)) return;
  v->verb = Verb::kUnknown;
  for (auto step = minimal.steps.rbegin(); step != minimal.steps.rend(); ++step) {
    if (step->kind != StepKind::kCommand && step->kind != StepKind::kRaw) {
      v->verb = step->kind == StepKind::kData ? Verb::kData : Verb::kUnknown;
      break;
    }
    std::string_view bytes = step->bytes;
    while (!bytes.empty() && (bytes.back() == '\n' || bytes.back() == '\r')) bytes.remove_suffix(1);
    const std::size_t nl = bytes.find_last_of("\r\n");
    const std::string_view line = nl == std::string_view::npos ? bytes : bytes.substr(nl + 1);
    if (line.empty()) continue;
    v->verb = VerbOfFirstWord(line);
    break;
  }
  v->last_code = run.replies.empty() ? 0 : run.replies.back().code;
}

std::vector<std::string> WireLines(const SessionInput& in) {
  constexpr std::size_t kMaxLines = 4096;
  std::string wire;
  for (const SessionStep& s : in.steps) {
    switch (s.kind) {
      case StepKind::kCommand:
        wire.append(s.bytes).append("\r\n");
        break;
      case StepKind::kRaw:
        wire.append(s.bytes);
        break;
      case StepKind::kData:
        wire.append("DATA\r\n").append(DotStuff(s.bytes));
        break;
      case StepKind::kBdat:
        wire.append(BdatWire(s));
        break;
      case StepKind::kStartTls:
        wire.append("STARTTLS\r\n");
        break;
    }
  }
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < wire.size() && lines.size() < kMaxLines;) {
    std::size_t lf = wire.find('\n', at);
    if (lf == std::string::npos) lf = wire.size();
    std::string_view line = std::string_view(wire).substr(at, lf - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    lines.emplace_back(line);
    at = lf + 1;
  }
  return lines;
}

std::string KillingLine(const SessionInput& minimal) {
  std::vector<std::string> lines = WireLines(minimal);
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines.size() == 1 ? lines.front() : std::string();
}

bool SendsKillingLine(const SessionInput& in, std::string_view killing) {
  if (killing.empty()) return false;
  const std::vector<std::string> lines = WireLines(in);
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.starts_with(killing); });
}

Run::Run(FuzzConfig config) : c_(std::move(config)), start_(Clock::now()) {
  if (c_.target->in_process() && !PcCounters().empty()) {
    coverage_ = PcCounters();
    coverage_source_ = "trace-pc";
  } else if (c_.afl != nullptr) {
    coverage_ = c_.afl->map();
    coverage_source_ = "afl";
  }
}

int Run::TestOne(const std::uint8_t* data, std::size_t size) {
  CheckStop(/*grace=*/false);
  const SessionInput input =
      ParseSessionInput(std::string_view(reinterpret_cast<const char*>(data), size));
  const SessionResult r = RunTarget(input);
  if (r.connect_failed) return OnConnectFailed(r);
  consecutive_connect_failures_ = 0;
  target_down_ = false;
  const std::vector<std::uint64_t> keys = TransitionKeys(r.replies);
  AddTransitions(keys, StateCounters());
  Accumulate(StateCounters(), states_seen_);
  if (!coverage_.empty()) Accumulate(coverage_, pc_seen_);
  ++sessions_;
  if (r.depth >= 1) ++reached_mail_;
  if (r.depth >= 2) ++reached_rcpt_;
  if (r.depth >= 3) ++reached_data_;
  if (!r.verdict.ok()) {
    OnFinding(input, r);
  } else if (r.defence) {
    OnDefence(input, *r.defence);
  }
  OnDeathBetweenSessions();
  return 0;
}

void Run::Report(bool final) {
  next_report_ = Clock::now() + c_.report_every;
  if (!final && sessions_ > 0) CheckAlive("periodic check");
  const Sample s = Take();
  if (samples_.size() >= 2000) {  // bounded: keep every other sample
    std::vector<Sample> half;
    for (std::size_t i = 0; i < samples_.size(); i += 2) half.push_back(samples_[i]);
    samples_ = std::move(half);
  }
  samples_.push_back(s);
  std::fprintf(Console(),
               "smtp-harness fuzz: %.0f s, %llu sessions (%.0f/s), server coverage %zu%s, "
               "response states %zu, past MAIL %.0f%% RCPT %.0f%% DATA %.0f%%, findings %llu "
               "in %zu bucket(s)%s%s\n",
               s.t, static_cast<unsigned long long>(s.sessions), s.per_s, s.pc_cov,
               coverage_source_ == "afl" ? " (AFL edges)" : "", s.states, Percent(reached_mail_),
               Percent(reached_rcpt_), Percent(reached_data_),
               static_cast<unsigned long long>(finding_sessions_), findings_.size(),
               SlowSessionsNote(slow_sessions_).c_str(), final ? " (done)" : "");
  WriteJson(final);
  // libFuzzer's corpus on tmpfs into OUT/corpus; at the end, the last copy
  // and the tmpfs directory's removal (work_corpus.h).
  if (c_.work_corpus != nullptr) c_.work_corpus->SyncOrClose(final, Console());
}

void Run::Accumulate(std::span<const std::uint8_t> now, std::vector<std::uint8_t>& seen) {
  if (seen.size() != now.size()) seen.assign(now.size(), 0);
  const std::size_t words = now.size() / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t a, b;
    std::memcpy(&a, now.data() + i * 8, 8);
    std::memcpy(&b, seen.data() + i * 8, 8);
    b |= a;
    std::memcpy(seen.data() + i * 8, &b, 8);
  }
}

std::size_t Run::Count(const std::vector<std::uint8_t>& seen) {
  return static_cast<std::size_t>(
      std::count_if(seen.begin(), seen.end(), [](std::uint8_t b) { return b != 0; }));
}

double Run::Percent(std::uint64_t n) const {
  return sessions_ == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(sessions_);
}

double Run::RunTime() const {
  if (c_.run_started_unix_s <= 0) return Elapsed();
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count() - c_.run_started_unix_s;
}

Sample Run::Take() const {
  Sample s;
  s.t = Elapsed();
  s.sessions = sessions_;
  s.per_s = s.t > 0 ? static_cast<double>(sessions_) / s.t : 0;
  s.pc_cov = Count(pc_seen_);
  s.states = Count(states_seen_);
  s.findings = findings_.size();
  return s;
}

void Run::CheckStop(bool grace) {
  if (const int sig = StopSignal(); sig != 0) Finish(StopReason(sig), 128 + sig);
  if (budget_end_ && Clock::now() >= *budget_end_ + (grace ? kBudgetGrace : Clock::duration{})) {
    Finish("time budget (-max_total_time) spent", 0);
  }
}

void Run::SetBudget(std::chrono::seconds budget) {
  budget_end_ = start_ + budget;
  c_.target->set_run_deadline(*budget_end_ + kBudgetGrace);
}

void Run::set_stop_reason(std::string reason) {
  if (stop_reason_.empty()) stop_reason_ = std::move(reason);
}

void Run::Finish(const std::string& reason, int code) {
  stop_reason_ = reason;
  if (c_.role != FuzzConfig::Role::kParent) Report(/*final=*/true);
  c_.target->Shutdown();
  std::fprintf(Console(), "smtp-harness fuzz: stopped: %s\n", reason.c_str());
  std::fflush(nullptr);
  std::_Exit(results_incomplete() && code == 0 ? 1 : code);
}

void Run::FinishFromWatchdog(int sig) {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (!finalized_ && !last_doc_.is_null()) {
      finalized_ = true;
      last_doc_["complete"] = true;
      last_doc_["stop_reason"] = StopReason(sig) + " (the session in flight was not finished)";
      (void)writer_.Write(c_.out_dir, last_doc_);
    }
  }
  // The main thread is stuck in a session, or in the last copy of the
  // corpus (thousands of files on a loaded disk take seconds): that copy
  // is let finish, not cut (the directory would stay behind).
  if (c_.work_corpus != nullptr) {
    c_.work_corpus->SyncOrClose(/*final=*/true, Console(), std::chrono::seconds(60));
  }
  std::fprintf(Console(), "smtp-harness fuzz: stopped: %s\n", StopReason(sig).c_str());
  std::fflush(nullptr);
  std::_Exit(128 + sig);
}

SessionResult Run::RunTarget(const SessionInput& input) {
  // Every session (found, re-run, minimized) is a point to stop at and to
  // say how the run goes: a slow server's re-runs and minimizing take
  // long, and the status line comes every report_every all the same.
  CheckStop(/*grace=*/true);
  if (Clock::now() >= next_report_) Report(false);
  SessionResult r = c_.target->Run(input, /*wire=*/false);
  // Cut short by the end of the budget: not judged.
  CheckStop(/*grace=*/false);
  if (c_.defences_are_findings && r.verdict.ok() && r.defence) {
    const Defence& d = *r.defence;
    r.verdict.kind = VerdictKind::kDropped;
    r.verdict.detail = "connection closed by the server after " + std::to_string(d.code) + " " +
                       d.text + " (an announced close)";
    r.verdict.step = d.step;
    r.verdict.verb = d.verb;
    r.verdict.last_code = d.code;
    r.verdict.reply_code = d.code;
    r.verdict.reply_text = d.text;
    r.defence.reset();
  }
  return r;
}

std::string Run::Printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Run::WriteJson(bool final) {
  if (c_.role != FuzzConfig::Role::kSingle) return WriteWorkerJson(final);
  const Sample s = Take();
  json j;
  j["version"] = 1;
  j["kind"] = "fuzz";
  j["complete"] = final;
  j["stop_reason"] = stop_reason_;
  j["target"] = c_.target->Label();
  j["command_line"] = c_.command_line;
  j["libfuzzer_args"] = c_.libfuzzer_args;
  j["started_at"] = started_at_;
  j["updated_at"] = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  j["stats"] = {
      {"elapsed_s", s.t},
      {"sessions", s.sessions},
      {"sessions_per_s", s.per_s},
      {"server_coverage", s.pc_cov},
      {"coverage_source", coverage_source_},
      {"server_restarts", c_.target->restarts()},
      {"response_states", s.states},
      {"reached", {{"mail", reached_mail_}, {"rcpt", reached_rcpt_}, {"data", reached_data_}}},
      {"finding_sessions", finding_sessions_},
      {"slow_sessions", slow_sessions_},
      {"defence_sessions", defence_sessions_},
      {"unconfirmed_sessions", unconfirmed_sessions_},
      {"buckets", findings_.size()}};
  json timeline = json::array();
  for (const Sample& x : samples_) {
    timeline.push_back({{"t", x.t},
                        {"sessions", x.sessions},
                        {"sessions_per_s", x.per_s},
                        {"server_coverage", x.pc_cov},
                        {"response_states", x.states},
                        {"findings", x.findings}});
  }
  j["timeline"] = std::move(timeline);
  json findings = json::array();
  for (const auto& [bucket, f] : findings_) findings.push_back(FindingJson(f));
  j["findings"] = std::move(findings);
  j["unconfirmed"] = UnconfirmedJson();
  j["defences"] = DefencesJson();
  j["defences_are_findings"] = c_.defences_are_findings;
  j["conformance_notes"] = ConformanceJson();
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (finalized_) return;  // the watchdog ended the run
    last_write_ = writer_.Write(c_.out_dir, j);
    last_doc_ = std::move(j);
    finalized_ = final;
  }
  if (final && !last_write_.ok()) {
    std::fprintf(Console(),
                 "smtp-harness fuzz: ERROR: the results in %s are incomplete (%s); %zu finding "
                 "bucket(s) were printed above\n",
                 c_.out_dir.c_str(), std::string(last_write_.message()).c_str(), findings_.size());
  }
}

void Run::WriteWorkerJson(bool final) {
  WorkerStats w;
  w.pid = static_cast<long>(getpid());
  w.started_us = started_us_;
  w.run_id = c_.run_id;
  w.complete = final;
  w.elapsed_s = Elapsed();
  w.sessions = sessions_;
  w.reached_mail = reached_mail_;
  w.reached_rcpt = reached_rcpt_;
  w.reached_data = reached_data_;
  w.finding_sessions = finding_sessions_;
  w.slow_sessions = slow_sessions_;
  w.pc_seen = pc_seen_;
  w.coverage_source = coverage_source_;
  w.states_seen = states_seen_;
  w.defence_sessions = defence_sessions_;
  w.unconfirmed_sessions = unconfirmed_sessions_;
  w.defences = DefencesJson().get<std::vector<json>>();
  w.unconfirmed = UnconfirmedJson().get<std::vector<json>>();
  w.defences_are_findings = c_.defences_are_findings;
  for (const auto& [bucket, f] : findings_) {
    json j = f.shared ? json{{"bucket", f.bucket},
                             {"count", f.count},
                             {"first_at_s", f.first_at_s},
                             {"detail", f.verdict.detail}}
                      : FindingJson(f);
    j["shared"] = f.shared;
    w.findings.push_back(std::move(j));
  }
  if (const absl::Status st = WriteWorkerStats(c_.out_dir, w); !st.ok() && !stats_error_reported_) {
    stats_error_reported_ = true;
    std::fprintf(Console(), "smtp-harness fuzz: ERROR: %s (findings are still printed here)\n",
                 std::string(st.message()).c_str());
  }
}

}  // namespace smtp::fuzz::internal
