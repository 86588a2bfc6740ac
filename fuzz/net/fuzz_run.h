// The state of one `smtp-harness fuzz` process and what it does with each
// session (fuzzer.h has the whole story): class Run, which libFuzzer's
// callback drives through one global (fuzzer.cc). Its member functions are
// defined by concept:
//   fuzz_run.cc           the session loop, the time budget and stop
//                         signals, the progress line, fuzz.json;
//   fuzz_run_findings.cc  findings: buckets, re-runs, minimizing, merging,
//                         unconfirmed hits, the finding's files;
//   fuzz_run_checks.cc    second looks before a hit is a finding: announced
//                         closes (defences), slow versus hung, a drop that
//                         a cautious re-run shows announced, deaths between
//                         sessions, liveness.
// Internal to fuzz/net: not an API.
#ifndef SMTP_FUZZ_NET_FUZZ_RUN_H_
#define SMTP_FUZZ_NET_FUZZ_RUN_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "fuzz/net/fuzz_workers.h"
#include "fuzz/net/fuzzer.h"
#include "fuzz/net/minimize.h"
#include "harness/wall_clock.h"

namespace smtp::fuzz::internal {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// How far past the time budget a session may run, so that a finding being
// examined when the budget ends is still saved.
constexpr Clock::duration kBudgetGrace = std::chrono::seconds(2);

// Raw steps in a session (fewer: a plainer route to a finding).
std::size_t RawSteps(const SessionInput& in);

// The verb's name, "none" for none.
std::string VerbText(Verb v);

// "dropped-BDAT-250": the oracle, the verb of the step it fired at, and the
// last reply code before it.
// Process oracles: "crashed-SIGABRT-in-parse_help" (located in a core
// file), "sanitizer-heap-buffer-overflow-in-f". A crash by a signal that
// could not be located (UnlocatedCrash) is named by its trigger too: the
// verb it died at and the reply code before it
// ("crashed-SIGABRT-HELP-after-220"), taken from the minimized session
// (SetTrigger), so that two different abort()s are two findings.
bool UnlocatedCrash(const Verdict& v);
std::string BucketOf(const Verdict& v);

// A finding's bucket at a server the fuzzer does not start (fuzzer.h):
// the oracle and the normalized reply that tripped it (signature.h), so
// that one refusal reached by many routes is one finding; a desync or a
// hang by what of ours the server read otherwise or left unanswered
// (Verdict::culprit: "desync-data-body-bare-lf", "hang-bdat-chunk"), since
// the reply there changes with the route and the cause does not.
std::string ForeignBucketOf(const Verdict& v);

// One route to a finding, an attribute of it: the verb the oracle fired
// at and the last reply code ("MAIL 250"); at a server the fuzzer does not
// start, for a desync the unasked reply too ("QUIT 250, unasked
// 250-2.0.0-ok") and for a hang the reply before the silence ("MAIL after
// 250-2.1.0-ok"), which named those buckets before they were named by
// cause.
std::string RouteOf(const Verdict& v, bool foreign);

// An unlocated crash's trigger, from a minimized session that crashed:
// the verb of the last line it sends (minimizing leaves nothing after the
// line that kills the server; a raw step's line has a verb too) and the
// last reply before the crash. The same for every route that minimizes to
// it, raw or not.
void SetTrigger(const SessionInput& minimal, const SessionResult& run, Verdict* v);

// The lines a server reads from a session, in order, without their line
// ends (split at LF, a CR before it dropped): commands, raw bytes, DATA
// and its dot-stuffed body, BDAT lines and chunks, STARTTLS. Bounded to
// the first 4096 lines.
std::vector<std::string> WireLines(const SessionInput& in);

// The line that kills the server in a minimized one-line crash ("HELP %"),
// "" for a session of more than one line: only a crash minimized to a
// single line names a line that kills the server on its own.
std::string KillingLine(const SessionInput& minimal);

// Whether a session sends a line that starts with `killing` (KillingLine of
// a deterministic crash): a crash of the same signal in it is that crash,
// reached by another route (that line sent raw and completed by the next
// step, or behind many others), whatever minimizing made of it.
bool SendsKillingLine(const SessionInput& in, std::string_view killing);

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
  // An unlocated crash (UnlocatedCrash): its saved session, and the line
  // that kills the server if it was minimized to one (KillingLine).
  SessionInput session;
  std::string killing_line;
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
  explicit Run(FuzzConfig config);

  FuzzConfig& config() { return c_; }
  std::uint64_t sessions() const { return sessions_; }

  int TestOne(const std::uint8_t* data, std::size_t size);

  void Report(bool final);

 private:
  // Counters seen non-zero in any session so far (a word at a time: this
  // runs after every session).
  static void Accumulate(std::span<const std::uint8_t> now, std::vector<std::uint8_t>& seen);
  static std::size_t Count(const std::vector<std::uint8_t>& seen);
  double Percent(std::uint64_t n) const;
  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  // Since the run started: in a child of a multi-process run, the parent's
  // start.
  double RunTime() const;

  Sample Take() const;

  // Ends the run when a stop signal came (exit 128 + it) or the time budget
  // is spent (exit 0), with fuzz.json complete and the reason. `grace`: a
  // finding being examined may use a little past the budget to be saved.
  void CheckStop(bool grace);

 public:
  // The whole run's time budget: sessions are cut at it (plus the grace).
  void SetBudget(std::chrono::seconds budget);
  bool OverBudget() const { return budget_end_ && Clock::now() >= *budget_end_; }
  void set_stop_reason(std::string reason);

  [[noreturn]] void Finish(const std::string& reason, int code);

  // From the watchdog's thread: the main thread is stuck in a session past
  // the grace. The last fuzz.json written is completed with the reason.
  [[noreturn]] void FinishFromWatchdog(int sig);

 private:
  // A session of the target; with --defences_are_findings an announced
  // close is a drop, as it was before defences were told apart.
  SessionResult RunTarget(const SessionInput& input);
  // A server we do not start that stopped taking sessions: polls it
  // (Alive) until it greets again, `limit`, the budget or a stop, and says
  // so on the console (`when`: why we look). Whether it is back; false at
  // once for a server we start (it is restarted instead) or in process,
  // and once a wait has failed, until a session reaches the server again.
  bool WaitForTarget(Clock::time_point limit, std::string_view when);

  // A started server that died between sessions: blamed on the session
  // before, which the re-runs (with a linger, so that a death just after
  // the session is seen in it) confirm or leave unconfirmed.
  void OnDeathBetweenSessions();

  // A close the server announced: counted apart from the findings, one
  // entry per normalized announcing reply, with the routes to it. Cheap:
  // no re-run, no minimizing.
  void OnDefence(const SessionInput& input, const Defence& d);

  static std::string Printable(std::string_view text);

  json DefencesJson() const;

  // One conformance note for all closes after a 5xx (RFC 5321 §3.8).
  json ConformanceJson() const { return ConformanceNotes(DefencesJson()); }

  // No connection: not a finding, but a target that stays down is reported
  // (liveness) and the run slows to one attempt per 100 ms rather than
  // spinning.
  int OnConnectFailed(const SessionResult& r);

  void CheckAlive(const std::string& after);

  // The liveness oracle: the server stopped taking sessions.
  void RecordLiveness(const std::string& why, const std::string& after);

  // A session the oracles flagged. Its bucket is decided on the minimized
  // session: the same bug reached by different routes (pipelined, after
  // other commands, behind a raw step) minimizes to the same few steps and
  // so to one bucket. Each raw bucket (as found) is minimized once; later
  // sessions in it only count.
  void OnFinding(const SessionInput& input, const SessionResult& r);

  // A finding's identity (fuzzer.h): for a server the fuzzer does not
  // start, the oracle and the normalized reply that tripped it; for the
  // processes it starts (in process, exec:, --spawn), what died, else the
  // oracle, verb and last reply code as before.
  std::string Bucket(const Verdict& v) const;

  // A hit no re-run reproduced: listed apart, its session kept in
  // OUT/unconfirmed/<bucket>/input.bin, not a finding.
  void KeepUnconfirmed(const SessionInput& input, const SessionResult& r,
                       const std::string& raw_bucket, const std::string& route);

  json UnconfirmedJson() const;

  // Re-runs a finding's session (deterministic or flaky), minimizes a
  // deterministic one, and fills in `f` from the minimized session's
  // verdict; returns that session.
  SessionInput Examine(const SessionInput& input, const SessionResult& r,
                       const std::string& raw_bucket, Finding& f);

  // A bucket whose saved session is flaky (kept as found, not minimized)
  // takes a later session that reproduces: at every 2^k-th hit of the
  // bucket, the new session is examined, and if it is deterministic and
  // minimizes into the same bucket, its files replace the flaky ones (a
  // crash first met through a timing-dependent route). One process only.
  void RetryFlaky(Finding& known, const SessionInput& input, const SessionResult& r,
                  const std::string& raw_bucket);

  // Whether a patient re-run still hung: a reply that did not come within
  // the longer deadline. One that ran out of session time with every reply
  // answered is slow.
  static bool HungPatiently(const SessionResult& again);

  // A hang is minimized at the normal deadlines, so its minimized form may
  // keep only a slow reply (a tarpit before the real hang: Postfix sleeps
  // after errors). That form is run patiently once more; if it is only
  // slow, the finding keeps the session as found, which did hang under the
  // longer deadlines, with the verdict of that run (where the server really
  // stopped answering).
  void KeepTheRealHang(const SessionInput& input, const SessionResult& patient,
                       SessionInput& minimal, Finding& f);

  // A hang is run again with far longer deadlines: a server that answers
  // then is slow (Postfix sleeps after errors), and this is not a finding.
  // Later hangs at the same verb and reply code are mostly slow too, but may
  // be a real one: every 2^k-th of them is run patiently again (a log of
  // their number), the others are counted as slow.
  // `*hung`: the patient re-run's result when it was made and still hung.
  bool SlowNotHung(const SessionInput& input, const std::string& raw_bucket,
                   std::optional<SessionResult>* hung);

  // A drop after a refusal, with our next write in between, may be a close
  // the refusal announced that our write overtook (OpenSMTPD closes an
  // instant after "500 5.5.1 Invalid command: Pipelining not supported";
  // we wrote within 50 us of it). The session is run once more, waiting
  // after each 4xx / 5xx for a close before writing: if the server then
  // closes on its own, it is a defence. Later drops of the same raw bucket
  // are counted as that defence, every 2^k-th checked again.
  bool AnnouncedNotDropped(const SessionInput& input, const std::string& raw_bucket);

  // In process the server says why it aborted, so a cause already in a
  // bucket is that bug again, reached by a route minimizing could not fold
  // (e.g. "HELP %x" sent raw, completed by the next step's line end). The
  // bug keeps one bucket, under its simplest route: a smaller minimized
  // session takes the bucket over (one process; several only merge).
  void MergeByCause(Finding& f);
  // Folds finding `old_bucket` into `f`: its count, its routes, its first
  // hit if earlier, its raw buckets and minimized sessions (both then name
  // `f`'s bucket); removes its directory and its entry.
  void Absorb(Finding& f, const std::string& old_bucket);

  // A crash without a frame (no core file) is named by its trigger, from
  // the minimized session; a route that minimizing could not bring down
  // to the line that kills the server (a flaky route, kept as found; a raw
  // step it could not split) would name the same abort otherwise
  // ("crashed-SIGABRT-RCPT-after-500" beside "crashed-SIGABRT-HELP-after-220").
  // Such a crash whose session sends the killing line of a known crash of
  // the same signal (SendsKillingLine) is that crash: counted in its bucket.
  // A new one-line crash takes over the known buckets whose sessions send
  // its line the same way (one process; several only merge by cause).
  void MergeByKillingLine(Finding& f);

  // Multi-process: a raw bucket another process already minimized is only
  // counted, in the bucket it minimized to.
  bool CountShared(const std::string& raw_bucket);

  void Save(Finding& f, const SessionInput& minimal);

  static json RoutesJson(const std::map<std::string, std::uint64_t>& routes);

  json FindingJson(const Finding& f) const;

 public:
  void WriteJson(bool final);

 public:
  // Whether the last write of fuzz.json / index.html failed (the exit
  // status says so).
  bool results_incomplete() const { return !last_write_.ok(); }

 private:
  // A process of a multi-process run: its stats for the parent.
  void WriteWorkerJson(bool final);

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
  bool target_down_ = false;  // a WaitForTarget gave up; no session reached it since
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

}  // namespace smtp::fuzz::internal

#endif  // SMTP_FUZZ_NET_FUZZ_RUN_H_
