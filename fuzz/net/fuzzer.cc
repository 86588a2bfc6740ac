#include "fuzz/net/fuzzer.h"

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
#include "fuzz/net/fuzz_workers.h"
#include "fuzz/net/libfuzzer_hooks.h"
#include "fuzz/net/minimize.h"
#include "fuzz/net/mutator.h"
#include "fuzz/net/pc_counters.h"
#include "fuzz/net/run_control.h"
#include "fuzz/net/signature.h"
#include "fuzz/net/state_feedback.h"
#include "harness/wall_clock.h"
#include "reports/fuzz_report.h"
#include "reports/reports.h"
#include "results/session_file.h"
#include "results/transcript.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// How far past the time budget a session may run, so that a finding being
// examined when the budget ends is still saved.
constexpr Clock::duration kBudgetGrace = std::chrono::seconds(2);

harness::Transcript TranscriptOf(const SessionResult& r, const std::string& target);

// Raw steps in a session (fewer: a plainer route to a finding).
std::size_t RawSteps(const SessionInput& in) {
  return static_cast<std::size_t>(
      std::count_if(in.steps.begin(), in.steps.end(),
                    [](const SessionStep& x) { return x.kind == StepKind::kRaw; }));
}

// ---------------------------------------------------------------------------
// The embedded target.

class EmbeddedTarget : public SessionTarget {
 public:
  EmbeddedTarget(std::unique_ptr<smtp_netfuzz_embedded::Server> server, std::string label)
      : server_(std::move(server)), label_(std::move(label)) {}
  SessionResult Run(const SessionInput& input, bool wire) override {
    return RunEmbedded(*server_, input, wire);
  }
  std::string Label() const override { return label_; }
  bool in_process() const override { return true; }

 private:
  std::unique_ptr<smtp_netfuzz_embedded::Server> server_;
  std::string label_;
};

// ---------------------------------------------------------------------------
// Findings.

struct Finding {
  std::string bucket;
  Verdict verdict;
  bool deterministic = false;
  int reproduced = 0;  // of FuzzConfig::reruns
  std::uint64_t count = 0;
  double first_at_s = 0;
  std::uint64_t first_at_session = 0;
  MinimizeStats minimize;
  std::size_t raw_steps = 0;  // of the minimized input (fewer: a plainer route)
  std::string dir;            // relative to the out dir
  std::string steps;          // DebugString of the minimized input
  std::string replay;         // the command that replays it
  std::string reproduce;      // the same without this tool (Python), "" if none
  std::string error;          // why it could not be written, if so
  // Whether session.json's run tripped the same oracle, and where its
  // tripping reply is (finding_page.h TripLines).
  bool session_shows_finding = false;
  std::vector<std::pair<std::size_t, std::size_t>> trip_lines;
  bool shared = false;  // multi-process: counted here, saved by another process
  // "VERB last_code" -> hits: the routes that reached it.
  std::map<std::string, std::uint64_t> routes;
};

// A hit that no re-run reproduced (not a finding).
struct Unconfirmed {
  Verdict verdict;
  std::uint64_t count = 0;
  double first_at_s = 0;
  std::string steps;  // DebugString of the session as found
  std::string dir;    // "unconfirmed/<bucket>" holding its input.bin, if written
  std::map<std::string, std::uint64_t> routes;
};

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

}  // namespace

harness::Transcript SessionTarget::Record(const SessionInput& input, Verdict* verdict) {
  const SessionResult r = Run(input, /*wire=*/true);
  *verdict = r.verdict;
  return TranscriptOf(r, Label());
}

namespace {

harness::Transcript TranscriptOf(const SessionResult& r, const std::string& target) {
  harness::Transcript t;
  t.meta().source = "fuzz";
  t.meta().server = target;
  t.meta().started_at = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  t.AddEvent(harness::EntryKind::kConnect, target);
  for (const WireChunk& c : r.wire) {
    t.AddData(
        c.from_client ? harness::Direction::kClientToServer : harness::Direction::kServerToClient,
        c.bytes);
  }
  if (r.wire_truncated) t.AddEvent(harness::EntryKind::kTruncated, "fuzz wire cap");
  t.AddNote("oracle " + std::string(VerdictName(r.verdict.kind)) + ": " + r.verdict.detail);
  if (r.verdict.kind == VerdictKind::kDropped) {
    t.AddEvent(harness::EntryKind::kPeerClosed, "closed without a reply");
  } else {
    t.AddEvent(harness::EntryKind::kLocalClosed, "session over");
  }
  t.meta().ended_at = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  return t;
}

// ---------------------------------------------------------------------------
// The run: libFuzzer calls back into one global.

struct Sample {
  double t = 0;
  std::uint64_t sessions = 0;
  double per_s = 0;
  std::size_t pc_cov = 0;
  std::size_t states = 0;
  std::size_t findings = 0;
};

class Run {
 public:
  explicit Run(FuzzConfig config) : c_(std::move(config)), start_(Clock::now()) {
    if (c_.target->in_process() && !PcCounters().empty()) {
      coverage_ = PcCounters();
      coverage_source_ = "trace-pc";
    } else if (c_.afl != nullptr) {
      coverage_ = c_.afl->map();
      coverage_source_ = "afl";
    }
  }

  FuzzConfig& config() { return c_; }
  std::uint64_t sessions() const { return sessions_; }

  int TestOne(const std::uint8_t* data, std::size_t size) {
    CheckStop(/*grace=*/false);
    const SessionInput input =
        ParseSessionInput(std::string_view(reinterpret_cast<const char*>(data), size));
    const SessionResult r = RunTarget(input);
    if (r.connect_failed) return OnConnectFailed(r);
    consecutive_connect_failures_ = 0;
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

  void Report(bool final) {
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
  }

 private:
  // Counters seen non-zero in any session so far (a word at a time: this
  // runs after every session).
  static void Accumulate(std::span<const std::uint8_t> now, std::vector<std::uint8_t>& seen) {
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
  static std::size_t Count(const std::vector<std::uint8_t>& seen) {
    return static_cast<std::size_t>(
        std::count_if(seen.begin(), seen.end(), [](std::uint8_t b) { return b != 0; }));
  }
  double Percent(std::uint64_t n) const {
    return sessions_ == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(sessions_);
  }
  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  // Since the run started: in a child of a multi-process run, the parent's
  // start.
  double RunTime() const {
    if (c_.run_started_unix_s <= 0) return Elapsed();
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return std::chrono::duration<double>(now).count() - c_.run_started_unix_s;
  }

  Sample Take() const {
    Sample s;
    s.t = Elapsed();
    s.sessions = sessions_;
    s.per_s = s.t > 0 ? static_cast<double>(sessions_) / s.t : 0;
    s.pc_cov = Count(pc_seen_);
    s.states = Count(states_seen_);
    s.findings = findings_.size();
    return s;
  }

  // Ends the run when a stop signal came (exit 128 + it) or the time budget
  // is spent (exit 0), with fuzz.json complete and the reason. `grace`: a
  // finding being examined may use a little past the budget to be saved.
  void CheckStop(bool grace) {
    if (const int sig = StopSignal(); sig != 0) Finish(StopReason(sig), 128 + sig);
    if (budget_end_ && Clock::now() >= *budget_end_ + (grace ? kBudgetGrace : Clock::duration{})) {
      Finish("time budget (-max_total_time) spent", 0);
    }
  }

 public:
  // The whole run's time budget: sessions are cut at it (plus the grace).
  void SetBudget(std::chrono::seconds budget) {
    budget_end_ = start_ + budget;
    c_.target->set_run_deadline(*budget_end_ + kBudgetGrace);
  }
  bool OverBudget() const { return budget_end_ && Clock::now() >= *budget_end_; }
  void set_stop_reason(std::string reason) {
    if (stop_reason_.empty()) stop_reason_ = std::move(reason);
  }

  [[noreturn]] void Finish(const std::string& reason, int code) {
    stop_reason_ = reason;
    if (c_.role != FuzzConfig::Role::kParent) Report(/*final=*/true);
    c_.target->Shutdown();
    std::fprintf(Console(), "smtp-harness fuzz: stopped: %s\n", reason.c_str());
    std::fflush(nullptr);
    std::_Exit(results_incomplete() && code == 0 ? 1 : code);
  }

  // From the watchdog's thread: the main thread is stuck in a session past
  // the grace. The last fuzz.json written is completed with the reason.
  [[noreturn]] void FinishFromWatchdog(int sig) {
    {
      std::lock_guard<std::mutex> lock(write_mu_);
      if (!finalized_ && !last_doc_.is_null()) {
        finalized_ = true;
        last_doc_["complete"] = true;
        last_doc_["stop_reason"] = StopReason(sig) + " (the session in flight was not finished)";
        (void)writer_.Write(c_.out_dir, last_doc_);
      }
    }
    std::fprintf(Console(), "smtp-harness fuzz: stopped: %s\n", StopReason(sig).c_str());
    std::fflush(nullptr);
    std::_Exit(128 + sig);
  }

 private:
  // A session of the target; with --defences_are_findings an announced
  // close is a drop, as it was before defences were told apart.
  SessionResult RunTarget(const SessionInput& input) {
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

  // A started server that died between sessions: blamed on the session
  // before, which the re-runs (with a linger, so that a death just after
  // the session is seen in it) confirm or leave unconfirmed.
  void OnDeathBetweenSessions() {
    std::optional<SessionTarget::DeathBetween> d = c_.target->TakeDeathBetweenSessions();
    if (!d) return;
    SessionResult r;
    r.verdict = std::move(d->verdict);
    OnFinding(d->input, r);
  }

  // A close the server announced: counted apart from the findings, one
  // entry per normalized announcing reply, with the routes to it. Cheap:
  // no re-run, no minimizing.
  void OnDefence(const SessionInput& input, const Defence& d) {
    ++defence_sessions_;
    const std::string key = ReplySignature(d.code, d.text);
    auto [it, fresh] = defences_.try_emplace(key);
    DefenceEntry& e = it->second;
    ++e.count;
    ++e.routes[VerbText(d.verb)];
    if (!fresh) return;
    e.defence = d;
    e.first_at_s = RunTime();
    e.steps = StepsText(input);
    if (e.steps.size() > 2000) e.steps.resize(2000);
    std::fprintf(
        Console(),
        "smtp-harness fuzz: defence (not a finding): the server closed after \"%d %s\"%s\n", d.code,
        Printable(d.text).c_str(), d.not_421 ? "; RFC 5321 3.8 wants 421 before such a close" : "");
  }

  static std::string Printable(std::string_view text) {
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

  json DefencesJson() const {
    json out = json::array();
    for (const auto& [key, e] : defences_) {
      json routes = json::array();
      for (const auto& [verb, n] : e.routes) routes.push_back({{"verb", verb}, {"count", n}});
      out.push_back({{"signature", key},
                     {"code", e.defence.code},
                     {"text", e.defence.text},
                     {"normalized", NormalizeReplyText(e.defence.text)},
                     {"verb", VerbText(e.defence.verb)},
                     {"count", e.count},
                     {"first_at_s", e.first_at_s},
                     {"routes", std::move(routes)},
                     {"steps", e.steps},
                     {"not_421", e.defence.not_421}});
    }
    return out;
  }

  // One conformance note for all closes after a 5xx (RFC 5321 §3.8).
  json ConformanceJson() const { return ConformanceNotes(DefencesJson()); }

  // No connection: not a finding, but a target that stays down is reported
  // (liveness) and the run slows to one attempt per 100 ms rather than
  // spinning.
  int OnConnectFailed(const SessionResult& r) {
    ++connect_failures_;
    if (++consecutive_connect_failures_ == 1 || consecutive_connect_failures_ % 100 == 0) {
      std::fprintf(Console(), "smtp-harness fuzz: target down (%llu attempts): %s\n",
                   static_cast<unsigned long long>(consecutive_connect_failures_),
                   r.verdict.detail.c_str());
    }
    if (consecutive_connect_failures_ == 1) RecordLiveness(r.verdict.detail, "a session");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return -1;  // not worth keeping in the corpus
  }

  void CheckAlive(const std::string& after) {
    if (c_.target->in_process()) return;
    if (const absl::Status st = c_.target->Alive(); !st.ok()) {
      RecordLiveness(std::string(st.message()), after);
    }
  }

  // The liveness oracle: the server stopped taking sessions.
  void RecordLiveness(const std::string& why, const std::string& after) {
    const std::string bucket = "unresponsive";
    if (auto it = findings_.find(bucket); it != findings_.end()) {
      ++it->second.count;
      return;
    }
    Finding f;
    f.bucket = bucket;
    f.verdict.kind = VerdictKind::kDropped;
    f.verdict.detail = "the server stopped taking sessions after " + after + ": " + why;
    f.count = 1;
    f.first_at_s = RunTime();
    f.first_at_session = sessions_;
    std::fprintf(Console(), "smtp-harness fuzz: FINDING %s: %s\n", bucket.c_str(),
                 f.verdict.detail.c_str());
    findings_.emplace(bucket, std::move(f));
    WriteJson(false);
  }

  // A session the oracles flagged. Its bucket is decided on the minimized
  // session: the same bug reached by different routes (pipelined, after
  // other commands, behind a raw step) minimizes to the same few steps and
  // so to one bucket. Each raw bucket (as found) is minimized once; later
  // sessions in it only count.
  void OnFinding(const SessionInput& input, const SessionResult& r) {
    const std::string raw_bucket = Bucket(r.verdict);
    const std::string route = RouteOf(r.verdict);
    if (auto seen = raw_buckets_.find(raw_bucket); seen != raw_buckets_.end()) {
      ++finding_sessions_;
      Finding& known = findings_.at(seen->second);
      ++known.count;
      ++known.routes[route];
      RetryFlaky(known, input, r, raw_bucket);
      return;
    }
    // A hit no re-run reproduced: counted apart; at every 2^k-th hit of its
    // bucket it is examined again, and one that reproduces then is a
    // finding.
    if (auto u = unconfirmed_.find(raw_bucket); u != unconfirmed_.end()) {
      ++unconfirmed_sessions_;
      const std::uint64_t n = ++u->second.count;
      ++u->second.routes[route];
      if ((n & (n - 1)) != 0) return;
    }
    if (CountShared(raw_bucket)) {
      ++finding_sessions_;
      return;
    }
    std::optional<SessionResult> patient;  // a hang that the patient re-run confirmed
    if (r.verdict.kind == VerdictKind::kHang && SlowNotHung(input, raw_bucket, &patient)) return;
    if (r.verdict.kind == VerdictKind::kDropped && r.verdict.last_code >= 400 &&
        AnnouncedNotDropped(input, raw_bucket)) {
      return;
    }
    Finding f;
    f.count = 1;
    f.first_at_s = RunTime();
    f.first_at_session = sessions_;
    SessionInput minimal = Examine(input, r, raw_bucket, f);
    // Confirmed: some re-run reproduced it, or (a hang) the patient re-run
    // hung too.
    if (f.reproduced == 0 && !patient) {
      KeepUnconfirmed(input, r, raw_bucket, route);
      return;
    }
    if (auto u = unconfirmed_.find(raw_bucket); u != unconfirmed_.end()) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: unconfirmed %s has a route that reproduces now "
                   "(reproduced %d/%d): a finding\n",
                   raw_bucket.c_str(), f.reproduced, c_.reruns);
      f.count = u->second.count;  // this hit included
      f.routes = u->second.routes;
      unconfirmed_sessions_ -= std::min(unconfirmed_sessions_, u->second.count);
      f.first_at_s = u->second.first_at_s;
      unconfirmed_.erase(u);
      std::error_code ec;
      fs::remove_all(fs::path(c_.out_dir) / "unconfirmed" / raw_bucket, ec);
    } else {
      ++f.routes[route];
    }
    finding_sessions_ += f.count;
    if (patient) KeepTheRealHang(input, *patient, minimal, f);
    if (!f.verdict.cause.empty()) MergeByCause(f);
    // Two buckets whose minimized sessions are the same are one.
    const std::string key = SerializeSessionInput(minimal);
    if (f.deterministic) {
      if (auto same = minimized_.find(key);
          same != minimized_.end() && findings_.contains(same->second)) {
        f.bucket = same->second;
      }
    }
    raw_buckets_.emplace(raw_bucket, f.bucket);
    if (c_.role != FuzzConfig::Role::kSingle) ShareRawBucket(c_.out_dir, raw_bucket, f.bucket);
    if (auto known = findings_.find(f.bucket); known != findings_.end()) {
      known->second.count += f.count;
      for (const auto& [how, n] : f.routes) known->second.routes[how] += n;
      return;
    }
    if (f.deterministic) minimized_.emplace(key, f.bucket);
    f.steps = StepsText(minimal);
    Save(f, minimal);
    if (!f.shared) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: FINDING %s (%s, reproduced %d/%d, %zu -> %zu steps): %s\n"
                   "  %s\n",
                   f.bucket.c_str(), f.deterministic ? "deterministic" : "flaky", f.reproduced,
                   c_.reruns, f.minimize.steps_before, f.minimize.steps_after,
                   f.verdict.detail.c_str(), f.error.empty() ? f.replay.c_str() : f.error.c_str());
    }
    const std::string bucket = f.bucket;
    findings_.emplace(bucket, std::move(f));
    WriteJson(false);
    CheckAlive("finding " + bucket);
  }

  // A finding's identity (fuzzer.h): for a server the fuzzer does not
  // start, the oracle and the normalized reply that tripped it; for the
  // processes it starts (in process, exec:, --spawn), what died, else the
  // oracle, verb and last reply code as before.
  std::string Bucket(const Verdict& v) const {
    if (v.signature.empty() && !c_.target->started_by_us()) {
      return std::string(VerdictName(v.kind)) + "-" + ReplySignature(v.reply_code, v.reply_text);
    }
    return BucketOf(v);
  }

  // One route to a finding: the verb it fired at and the last reply code.
  static std::string RouteOf(const Verdict& v) {
    return VerbText(v.verb) + " " + std::to_string(v.last_code);
  }

  // A hit no re-run reproduced: listed apart, its session kept in
  // OUT/unconfirmed/<bucket>/input.bin, not a finding.
  void KeepUnconfirmed(const SessionInput& input, const SessionResult& r,
                       const std::string& raw_bucket, const std::string& route) {
    ++unconfirmed_sessions_;
    auto [it, fresh] = unconfirmed_.try_emplace(raw_bucket);
    Unconfirmed& u = it->second;
    if (!fresh) return;  // examined again at a 2^k-th hit: still not reproduced
    u.count = 1;
    ++u.routes[route];
    u.verdict = r.verdict;
    u.first_at_s = RunTime();
    u.steps = StepsText(input);
    if (u.steps.size() > 4000) u.steps.resize(4000);
    {
      // Of several processes, the first to create the directory keeps its
      // session there.
      const fs::path dir = fs::path(c_.out_dir) / "unconfirmed" / raw_bucket;
      std::error_code ec;
      fs::create_directories(dir.parent_path(), ec);
      const bool mine =
          !ec && (c_.role == FuzzConfig::Role::kSingle ? (fs::create_directory(dir, ec), !ec)
                                                       : fs::create_directory(dir, ec));
      if (mine &&
          reports::WriteFileAtomic((dir / "input.bin").string(), SerializeSessionInput(input))
              .ok()) {
        u.dir = "unconfirmed/" + raw_bucket;
      }
    }
    std::fprintf(Console(),
                 "smtp-harness fuzz: unconfirmed %s: no re-run of %d reproduced it (%s); not a "
                 "finding%s%s\n",
                 raw_bucket.c_str(), c_.reruns, r.verdict.detail.c_str(),
                 u.dir.empty() ? "" : ", session kept in ", u.dir.c_str());
  }

  json UnconfirmedJson() const {
    json out = json::array();
    for (const auto& [bucket, u] : unconfirmed_) {
      json routes = json::array();
      for (const auto& [how, n] : u.routes) routes.push_back({{"route", how}, {"count", n}});
      out.push_back({{"bucket", bucket},
                     {"oracle", std::string(VerdictName(u.verdict.kind))},
                     {"detail", u.verdict.detail},
                     {"count", u.count},
                     {"first_at_s", u.first_at_s},
                     {"routes", std::move(routes)},
                     {"steps", u.steps},
                     {"dir", u.dir}});
    }
    return out;
  }

  // Re-runs a finding's session (deterministic or flaky), minimizes a
  // deterministic one, and fills in `f` from the minimized session's
  // verdict; returns that session.
  SessionInput Examine(const SessionInput& input, const SessionResult& r,
                       const std::string& raw_bucket, Finding& f) {
    const auto same = [&](const SessionInput& in) {
      const SessionResult again = RunTarget(in);
      return !again.verdict.ok() && Bucket(again.verdict) == raw_bucket;
    };
    // A crash may come an instant after the session ends (a server that
    // dies between sessions): its re-runs and minimizing wait for it.
    struct Linger {
      SessionTarget* t;
      ~Linger() { t->set_linger(std::chrono::milliseconds(0)); }
    } linger{c_.target.get()};
    if (r.verdict.kind == VerdictKind::kCrashed) {
      c_.target->set_linger(std::chrono::milliseconds(300));
    }
    f.reproduced = 0;
    for (int i = 0; i < c_.reruns; ++i) f.reproduced += same(input) ? 1 : 0;
    f.deterministic = f.reproduced == c_.reruns;
    // The minimizer keeps the oracle, not the route: the verb it fired at
    // and the reply before are context a smaller session need not repeat. A
    // flaky finding is kept as found: minimizing it would chase noise.
    // Also bounded in time: against a slow server (Postfix sleeps after
    // errors) a few thousand runs would stall the run for many minutes.
    const Clock::time_point minimize_end = Clock::now() + c_.minimize_time;
    const auto similar = [&](const SessionInput& in) {
      if (Clock::now() >= minimize_end || OverBudget() || StopSignal() != 0) {
        return false;  // keep what we have
      }
      const Verdict v = RunTarget(in).verdict;
      return v.kind == r.verdict.kind && v.signature == r.verdict.signature &&
             v.cause == r.verdict.cause &&
             (c_.target->started_by_us() || Bucket(v) == Bucket(r.verdict));
    };
    SessionInput minimal = input;
    f.minimize = MinimizeStats{};
    if (f.deterministic) {
      minimal = Minimize(input, similar, c_.minimize_runs, &f.minimize);
    } else {
      f.minimize.steps_before = f.minimize.steps_after = input.steps.size();
    }
    const SessionResult final_run = RunTarget(minimal);
    // A server the finding killed may not be back yet: a run that could
    // not connect says nothing about the finding.
    const bool reproduced = !final_run.verdict.ok() && !final_run.connect_failed;
    f.verdict = reproduced ? final_run.verdict : r.verdict;
    if (reproduced) SetTrigger(minimal, final_run, &f.verdict);
    f.bucket = Bucket(f.verdict);
    f.raw_steps = RawSteps(minimal);
    return minimal;
  }

  // A bucket whose saved session is flaky (kept as found, not minimized)
  // takes a later session that reproduces: at every 2^k-th hit of the
  // bucket, the new session is examined, and if it is deterministic and
  // minimizes into the same bucket, its files replace the flaky ones (a
  // crash first met through a timing-dependent route). One process only.
  void RetryFlaky(Finding& known, const SessionInput& input, const SessionResult& r,
                  const std::string& raw_bucket) {
    if (known.deterministic || known.shared || c_.role != FuzzConfig::Role::kSingle ||
        (known.count & (known.count - 1)) != 0) {
      return;
    }
    Finding f;
    const SessionInput minimal = Examine(input, r, raw_bucket, f);
    if (!f.deterministic || f.bucket != known.bucket) return;
    f.count = known.count;
    f.routes = known.routes;
    f.first_at_s = known.first_at_s;
    f.first_at_session = known.first_at_session;
    f.steps = StepsText(minimal);
    Save(f, minimal);
    std::fprintf(Console(),
                 "smtp-harness fuzz: %s has a route that reproduces now (%zu -> %zu steps); its "
                 "files replace the flaky one's\n",
                 f.bucket.c_str(), f.minimize.steps_before, f.minimize.steps_after);
    known = std::move(f);
    WriteJson(false);
  }

  // Whether a patient re-run still hung: a reply that did not come within
  // the longer deadline. One that ran out of session time with every reply
  // answered is slow.
  static bool HungPatiently(const SessionResult& again) {
    return !again.connect_failed && again.verdict.kind == VerdictKind::kHang &&
           !again.session_deadline;
  }

  // A hang is minimized at the normal deadlines, so its minimized form may
  // keep only a slow reply (a tarpit before the real hang: Postfix sleeps
  // after errors). That form is run patiently once more; if it is only
  // slow, the finding keeps the session as found, which did hang under the
  // longer deadlines, with the verdict of that run (where the server really
  // stopped answering).
  void KeepTheRealHang(const SessionInput& input, const SessionResult& patient,
                       SessionInput& minimal, Finding& f) {
    if (minimal == input) return;
    const std::optional<SessionResult> again = c_.target->RunPatiently(minimal);
    if (!again || HungPatiently(*again) || again->connect_failed) return;
    std::fprintf(Console(),
                 "smtp-harness fuzz: %s: the minimized session is only slow with longer "
                 "deadlines; the session that hung is kept as found (%zu steps)\n",
                 f.bucket.c_str(), input.steps.size());
    minimal = input;
    f.verdict = patient.verdict;
    f.bucket = Bucket(f.verdict);
    f.minimize.steps_after = f.minimize.steps_before;
    f.minimize.bytes_after = f.minimize.bytes_before;
    f.raw_steps = RawSteps(input);
  }

  // A hang is run again with far longer deadlines: a server that answers
  // then is slow (Postfix sleeps after errors), and this is not a finding.
  // Later hangs at the same verb and reply code are mostly slow too, but may
  // be a real one: every 2^k-th of them is run patiently again (a log of
  // their number), the others are counted as slow.
  // `*hung`: the patient re-run's result when it was made and still hung.
  bool SlowNotHung(const SessionInput& input, const std::string& raw_bucket,
                   std::optional<SessionResult>* hung) {
    const auto known = slow_buckets_.find(raw_bucket);
    if (known != slow_buckets_.end()) {
      const std::uint64_t n = ++known->second;
      if ((n & (n - 1)) != 0) {
        ++slow_sessions_;
        return true;
      }
    }
    std::optional<SessionResult> again = c_.target->RunPatiently(input);
    if (!again || again->connect_failed) return false;
    if (HungPatiently(*again)) {
      *hung = std::move(again);
      return false;
    }
    // Every reply came within the patient deadline but there were so many
    // slow ones (Postfix sleeps a second per error) that the session ran
    // out of time: slow too.
    const bool long_session = again->verdict.kind == VerdictKind::kHang;
    ++slow_sessions_;
    if (known == slow_buckets_.end()) {
      slow_buckets_.emplace(raw_bucket, 1);
      const std::string how =
          long_session          ? "answered every reply, but slowly enough to run past the "
                                  "session's deadline"
          : again->verdict.ok() ? "ended normally"
                                : "ended " + std::string(VerdictName(again->verdict.kind));
      std::fprintf(Console(),
                   "smtp-harness fuzz: %s is not a hang: with longer deadlines the session %s "
                   "(--patient_reply_timeout_ms); counted as slow\n",
                   raw_bucket.c_str(), how.c_str());
    }
    return true;
  }

  // A drop after a refusal, with our next write in between, may be a close
  // the refusal announced that our write overtook (OpenSMTPD closes an
  // instant after "500 5.5.1 Invalid command: Pipelining not supported";
  // we wrote within 50 us of it). The session is run once more, waiting
  // after each 4xx / 5xx for a close before writing: if the server then
  // closes on its own, it is a defence. Later drops of the same raw bucket
  // are counted as that defence, every 2^k-th checked again.
  bool AnnouncedNotDropped(const SessionInput& input, const std::string& raw_bucket) {
    if (c_.defences_are_findings) return false;
    const auto known = announced_buckets_.find(raw_bucket);
    if (known != announced_buckets_.end()) {
      const std::uint64_t n = ++known->second.first;
      if ((n & (n - 1)) != 0) {
        OnDefence(input, known->second.second);
        return true;
      }
    }
    CheckStop(/*grace=*/true);
    const std::optional<SessionResult> again = c_.target->RunCautiously(input);
    if (!again || again->connect_failed || !again->verdict.ok() || !again->defence) return false;
    if (known == announced_buckets_.end()) {
      announced_buckets_.emplace(raw_bucket, std::pair{std::uint64_t{1}, *again->defence});
      std::fprintf(Console(),
                   "smtp-harness fuzz: %s is a defence: given time before its next write, the "
                   "session saw the server close after \"%d %s\" on its own\n",
                   raw_bucket.c_str(), again->defence->code,
                   Printable(again->defence->text).c_str());
    }
    OnDefence(input, *again->defence);
    return true;
  }

  // In process the server says why it aborted, so a cause already in a
  // bucket is that bug again, reached by a route minimizing could not fold
  // (e.g. "HELP %x" sent raw, completed by the next step's line end). The
  // bug keeps one bucket, under its simplest route: a smaller minimized
  // session takes the bucket over (one process; several only merge).
  void MergeByCause(Finding& f) {
    const auto [known, fresh] = cause_buckets_.try_emplace(f.verdict.cause, f.bucket);
    if (fresh || known->second == f.bucket) return;
    const std::string old_bucket = known->second;
    const Finding& old = findings_.at(old_bucket);
    // Fewer steps, then fewer raw ones, then fewer bytes.
    const bool simpler =
        std::tuple(f.minimize.steps_after, f.raw_steps, f.minimize.bytes_after) <
        std::tuple(old.minimize.steps_after, old.raw_steps, old.minimize.bytes_after);
    if (c_.role != FuzzConfig::Role::kSingle || old.shared || !f.deterministic || !simpler ||
        findings_.contains(f.bucket)) {
      f.bucket = old_bucket;
      return;
    }
    f.count += old.count;
    f.first_at_s = old.first_at_s;
    f.first_at_session = old.first_at_session;
    if (!old.dir.empty()) {
      std::error_code ec;
      fs::remove_all(fs::path(c_.out_dir) / old.dir, ec);
    }
    std::fprintf(Console(), "smtp-harness fuzz: %s is %s by a simpler route (same abort: %s)\n",
                 old_bucket.c_str(), f.bucket.c_str(), f.verdict.cause.c_str());
    findings_.erase(old_bucket);
    for (auto& [raw, bucket] : raw_buckets_) {
      if (bucket == old_bucket) bucket = f.bucket;
    }
    known->second = f.bucket;
  }

  // Multi-process: a raw bucket another process already minimized is only
  // counted, in the bucket it minimized to.
  bool CountShared(const std::string& raw_bucket) {
    if (c_.role == FuzzConfig::Role::kSingle) return false;
    const std::optional<std::string> bucket = SharedRawBucket(c_.out_dir, raw_bucket);
    if (!bucket) return false;
    raw_buckets_.emplace(raw_bucket, *bucket);
    auto [it, fresh] = findings_.try_emplace(*bucket);
    if (fresh) {
      it->second.bucket = *bucket;
      it->second.shared = true;
      it->second.first_at_s = RunTime();
      it->second.first_at_session = sessions_;
    }
    ++it->second.count;
    return true;
  }

  void Save(Finding& f, const SessionInput& minimal) {
    // Of several processes, the one that claims the bucket writes it.
    if (c_.role != FuzzConfig::Role::kSingle && !ClaimBucket(c_.out_dir, f.bucket)) {
      f.shared = true;
      return;
    }
    f.dir = "findings/" + f.bucket;
    const fs::path dir = fs::path(c_.out_dir) / f.dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      f.error = "cannot create " + dir.string() + ": " + ec.message();
      return;
    }
    // A crash just after the session is caught in its transcript too.
    if (f.verdict.kind == VerdictKind::kCrashed) {
      c_.target->set_linger(std::chrono::milliseconds(300));
    }
    // The stored session must show its finding: a recording whose run did
    // not trip the same oracle (a flaky finding, a server still restarting)
    // is made again, up to the re-runs' count; if none does, finding.json
    // and the report say so.
    harness::Transcript t;
    Verdict seen;
    for (int i = 0; i < std::max(1, c_.reruns); ++i) {
      t = c_.target->Record(minimal, &seen);
      f.session_shows_finding = seen.kind == f.verdict.kind;
      if (f.session_shows_finding || OverBudget() || StopSignal() != 0) break;
    }
    c_.target->set_linger(std::chrono::milliseconds(0));
    f.trip_lines = f.session_shows_finding ? TripLines(t, seen.reply_index)
                                           : std::vector<std::pair<std::size_t, std::size_t>>{};
    t.meta().source = "fuzz";
    const std::string session = (dir / "session.json").string();
    // finding.json carries the replay command too, and a reproduction
    // without this tool.
    f.replay = "smtp-harness replay " + session +
               (c_.replay_target_hint.empty() ? "" : " --target " + c_.replay_target_hint);
    f.reproduce = RawReproduction(t, c_.target->Label());
    absl::Status st =
        reports::WriteFileAtomic((dir / "input.bin").string(), SerializeSessionInput(minimal));
    if (st.ok()) st = harness::WriteSessionFile(t, session);
    json j = FindingJson(f);
    j["wire"] = {{"bytes_sent", t.total_bytes(harness::Direction::kClientToServer)},
                 {"bytes_received", t.total_bytes(harness::Direction::kServerToClient)}};
    if (st.ok()) st = reports::WriteFileAtomic((dir / "finding.json").string(), j.dump(1) + "\n");
    if (!st.ok()) {
      f.replay.clear();
      f.error = "cannot save the finding: " + std::string(st.message());
      return;
    }
  }

  static json RoutesJson(const std::map<std::string, std::uint64_t>& routes) {
    json out = json::array();
    for (const auto& [how, n] : routes) out.push_back({{"route", how}, {"count", n}});
    return out;
  }

  json FindingJson(const Finding& f) const {
    return {{"bucket", f.bucket},
            {"oracle", std::string(VerdictName(f.verdict.kind))},
            {"verb", VerbText(f.verdict.verb)},
            {"last_code", f.verdict.last_code},
            {"detail", f.verdict.detail},
            {"cause", f.verdict.cause},
            {"deterministic", f.deterministic},
            {"reproduced", f.reproduced},
            {"reply", std::to_string(f.verdict.reply_code) + " " + f.verdict.reply_text},
            {"routes", RoutesJson(f.routes)},
            {"reruns", c_.reruns},
            {"count", f.count},
            {"first_at_s", f.first_at_s},
            {"first_at_session", f.first_at_session},
            {"minimize",
             {{"runs", f.minimize.runs},
              {"steps_before", f.minimize.steps_before},
              {"steps_after", f.minimize.steps_after},
              {"bytes_before", f.minimize.bytes_before},
              {"bytes_after", f.minimize.bytes_after}}},
            {"steps", f.steps},
            {"raw_steps", f.raw_steps},
            {"dir", f.dir},
            {"replay", f.replay},
            {"reproduce", f.reproduce},
            {"session_shows_finding", f.session_shows_finding},
            {"trip_lines", f.trip_lines},
            {"error", f.error}};
  }

 public:
  void WriteJson(bool final) {
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
                   c_.out_dir.c_str(), std::string(last_write_.message()).c_str(),
                   findings_.size());
    }
  }

 public:
  // Whether the last write of fuzz.json / index.html failed (the exit
  // status says so).
  bool results_incomplete() const { return !last_write_.ok(); }

 private:
  // A process of a multi-process run: its stats for the parent.
  void WriteWorkerJson(bool final) {
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
    if (const absl::Status st = WriteWorkerStats(c_.out_dir, w);
        !st.ok() && !stats_error_reported_) {
      stats_error_reported_ = true;
      std::fprintf(Console(), "smtp-harness fuzz: ERROR: %s (findings are still printed here)\n",
                   std::string(st.message()).c_str());
    }
  }

  FuzzConfig c_;
  Clock::time_point start_;
  Clock::time_point next_report_ = Clock::now();
  std::string started_at_ = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  std::int64_t started_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  std::uint64_t sessions_ = 0;
  std::uint64_t reached_mail_ = 0, reached_rcpt_ = 0, reached_data_ = 0;
  std::uint64_t finding_sessions_ = 0;
  std::uint64_t slow_sessions_ = 0;                    // hangs a patient re-run answered
  std::map<std::string, std::uint64_t> slow_buckets_;  // raw bucket -> its slow sessions
  // Raw drop buckets a cautious re-run showed to be announced closes: their
  // hits and the defence.
  std::map<std::string, std::pair<std::uint64_t, Defence>> announced_buckets_;
  std::uint64_t connect_failures_ = 0;
  std::uint64_t consecutive_connect_failures_ = 0;
  std::vector<std::uint8_t> states_seen_, pc_seen_;
  // The server's coverage counters: the embedded server's PC counters, an
  // AFL++ target's edge map, or none (then server_coverage stays 0).
  std::span<std::uint8_t> coverage_;
  std::string coverage_source_ = "none";
  std::map<std::string, Finding> findings_;
  struct DefenceEntry {
    Defence defence;  // the first session's
    std::uint64_t count = 0;
    double first_at_s = 0;
    std::string steps;                            // the first session's
    std::map<std::string, std::uint64_t> routes;  // verb -> sessions
  };
  std::map<std::string, DefenceEntry> defences_;    // by ReplySignature
  std::map<std::string, Unconfirmed> unconfirmed_;  // by bucket as found
  std::uint64_t unconfirmed_sessions_ = 0;
  std::map<std::string, std::string> minimized_;  // minimized input -> bucket
  std::uint64_t defence_sessions_ = 0;
  std::map<std::string, std::string> raw_buckets_;    // as found -> as minimized
  std::map<std::string, std::string> cause_buckets_;  // server's abort reason -> bucket
  std::vector<Sample> samples_;
  FuzzJsonWriter writer_;
  // fuzz.json writes: the main thread's, and the watchdog's last one.
  std::mutex write_mu_;
  json last_doc_;
  bool finalized_ = false;
  std::optional<Clock::time_point> budget_end_;
  std::string stop_reason_;            // fuzz.json "stop_reason"; empty while running
  bool stats_error_reported_ = false;  // OUT/workers/<pid>.json (a child's)
  absl::Status last_write_;
};

Run* g_run = nullptr;
MutatorOptions g_mutator;

int OneSession(const std::uint8_t* data, std::size_t size) { return g_run->TestOne(data, size); }

void AtExit() {
  if (g_run == nullptr) return;
  // A parent's own sessions (libFuzzer runs some in the parent: -jobs on one
  // core, files given as inputs) join the children's; its report is
  // fuzz_workers.h's.
  if (g_run->config().role != FuzzConfig::Role::kParent) {
    g_run->set_stop_reason("libFuzzer ended the run (-max_total_time or -runs)");
    g_run->Report(/*final=*/true);
  } else if (g_run->sessions() > 0) {
    g_run->WriteJson(/*final=*/true);
  }
  g_run->config().target->Shutdown();
  // Results that could not be written are a failed run, whatever
  // libFuzzer's status.
  if (g_run->results_incomplete()) {
    std::fflush(nullptr);
    std::_Exit(1);
  }
}

bool HasFlag(const std::vector<std::string>& args, std::string_view name) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a.rfind(std::string("-") + std::string(name) + "=", 0) == 0;
  });
}

// libFuzzer's argv: the flags, a bounded time, the run's own corpus first
// (new inputs go there), then the user's directories and the seeds.
std::vector<std::string> LibFuzzerArgs(const FuzzConfig& config) {
  std::vector<std::string> args{config.argv0};
  std::vector<std::string> dirs;
  for (const std::string& a : config.libfuzzer_args) {
    (a.size() > 1 && a[0] == '-' ? args : dirs).push_back(a);
  }
  if (!HasFlag(args, "max_total_time") && !HasFlag(args, "runs")) {
    args.push_back("-max_total_time=" + std::to_string(kDefaultMaxTotalTimeS));
  }
  if (!HasFlag(args, "max_len")) args.push_back("-max_len=16384");
  // A session with a finding also runs its re-runs, its patient re-run and
  // the minimizer inside libFuzzer's callback (up to a minute against a slow
  // server): not a "slow unit" worth a crash-slow-unit-* file in --out.
  if (!HasFlag(args, "report_slow_units")) args.push_back("-report_slow_units=3600");
  if (!HasFlag(args, "artifact_prefix")) {
    args.push_back("-artifact_prefix=" + (fs::path(config.out_dir) / "crash-").string());
  }
  args.push_back((fs::path(config.out_dir) / "corpus").string());
  for (const std::string& d : dirs) args.push_back(d);
  std::error_code ec;
  for (const std::string& d : config.seed_dirs) {
    if (fs::is_directory(d, ec)) args.push_back(d);
  }
  return args;
}

}  // namespace

std::optional<EmbeddedLabel> ParseEmbeddedLabel(std::string_view label) {
  EmbeddedLabel out;
  if (label.substr(0, 5) == "lmtp:") {
    out.lmtp = true;
    label.remove_prefix(5);
  }
  if (label == "embedded") return out;
  if (label.substr(0, 9) != "embedded:") return std::nullopt;
  out.profile = std::string(label.substr(9));
  return out;
}

std::unique_ptr<SessionTarget> MakeEmbeddedTarget(const EmbeddedLabel& which, std::string* error) {
  auto server =
      smtp_netfuzz_embedded::Server::Create({.profile = which.profile, .lmtp = which.lmtp}, error);
  if (server == nullptr) return nullptr;
  return std::make_unique<EmbeddedTarget>(
      std::move(server), (which.lmtp ? "lmtp:embedded:" : "embedded:") + which.profile);
}

int RunFuzzer(FuzzConfig config) {
  if (!LibFuzzerLinked()) {
    std::fprintf(Console(), "smtp-harness fuzz: this binary was built without libFuzzer\n");
    return 2;
  }
  std::error_code ec;
  fs::create_directories(fs::path(config.out_dir) / "corpus", ec);
  if (ec) {
    std::fprintf(Console(), "smtp-harness fuzz: cannot create %s: %s\n", config.out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  // A child runs the argv libFuzzer gave it, unchanged.
  std::vector<std::string> args =
      config.role == FuzzConfig::Role::kChild ? config.child_argv : LibFuzzerArgs(config);
  if (const int rc = PrepareProcesses(config, args); rc != 0) return rc;
  if (!RegisterCounters(StateCounters())) {
    std::fprintf(Console(), "smtp-harness fuzz: libFuzzer did not take the feedback counters\n");
    return 2;
  }
  if (config.target->in_process() && !PcCounters().empty()) RegisterCounters(PcCounters());
  if (config.afl != nullptr) RegisterCounters(config.afl->map());
  g_mutator.dictionary = config.dictionary;
  const bool parent = config.role == FuzzConfig::Role::kParent;
  const bool single = config.role == FuzzConfig::Role::kSingle;
  // SIGINT / SIGTERM stop the run as the budget does (run_control.h), not
  // libFuzzer's way (exit 72, fuzz.json left incomplete). A multi-process
  // parent leaves them to libFuzzer, which stops its children.
  if (!parent) {
    if (!HasFlag(args, "handle_int")) args.push_back("-handle_int=0");
    if (!HasFlag(args, "handle_term")) args.push_back("-handle_term=0");
    InstallStopHandlers();
  }
  // The console: the tool's lines; libFuzzer's go to OUT/libfuzzer.log.
  if (!config.libfuzzer_output && config.role != FuzzConfig::Role::kChild) {
    const std::string log = (fs::path(config.out_dir) / "libfuzzer.log").string();
    std::string error;
    if (SendLibFuzzerOutputTo(log, &error)) {
      std::fprintf(
          Console(),
          "smtp-harness fuzz: libFuzzer's output goes to %s (--libfuzzer_output shows it)\n",
          log.c_str());
    } else {
      std::fprintf(stderr, "smtp-harness fuzz: libFuzzer's output stays here: %s\n", error.c_str());
    }
  }
  const std::optional<int> budget_s = parent ? std::nullopt : MaxTotalTime(args);
  g_run = new Run(std::move(config));  // lives until exit: libFuzzer exits
  std::atexit(AtExit);
  if (budget_s) g_run->SetBudget(std::chrono::seconds(*budget_s));
  if (single) {
    StartStopWatchdog(std::chrono::milliseconds(1500),
                      [](int sig) { g_run->FinishFromWatchdog(sig); });
  }
  if (!parent) g_run->Report(false);
  const int rc = RunLibFuzzer(args, &OneSession);
  return rc;
}

}  // namespace smtp::fuzz

// libFuzzer's hooks for structure-aware fuzzing (found by the linker: they
// are only ever called while RunFuzzer's libFuzzer runs).
extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned seed) {
  return smtp::fuzz::MutateSession(data, size, max_size, seed, smtp::fuzz::g_mutator,
                                   smtp::fuzz::LibFuzzerByteMutator());
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* a, std::size_t a_size,
                                                 const std::uint8_t* b, std::size_t b_size,
                                                 std::uint8_t* out, std::size_t max_out,
                                                 unsigned seed) {
  return smtp::fuzz::CrossOverSessions(a, a_size, b, b_size, out, max_out, seed);
}
