// `smtp-harness fuzz`: stateful, coverage-guided fuzzing of an SMTP server
// with libFuzzer as the engine (LLVMFuzzerRunDriver). One input is one
// session (session_input.h); a session target runs it (in process against
// the embedded server, or over a connection) through the ClientMachine and
// its oracles. Feedback: the response-state counters (state_feedback.h),
// plus the embedded server's code coverage (pc_counters.h).
//
// A session the oracles flag is a finding. The first of each bucket is
// re-run to say whether it is deterministic (none reproducing: an
// "unconfirmed" hit, listed apart, not a finding), minimized (minimize.h),
// and written to
// OUT/findings/<bucket>/: input.bin (the session input), session.json (the
// transcript of the minimized session, replayable with `smtp-harness replay`)
// and finding.json. A bucket is, for a server the fuzzer does not start,
// the oracle and the normalized reply that tripped it (signature.h), a
// desync or hang the oracle and what of ours the server read otherwise or
// left unanswered (Verdict::culprit); for
// one it starts, what died (signal, sanitizer frame) or else the oracle,
// the verb of the step it fired at and the last reply code. A close the
// server announced is a defence, counted apart (client_machine.h).
// OUT/fuzz.json holds the stats over time; it is rewritten
// atomically every few seconds and at each new finding, so an interrupted
// run keeps what it found.
//
// With -fork / -jobs / -workers the sessions run in child processes of the
// same binary (fuzz_child.h: the FuzzConfig travels in the environment);
// each writes its stats to OUT/workers/<pid>-<t>.json and claims a bucket
// before writing OUT/findings/<bucket>/, and the parent, which runs no
// sessions, writes fuzz.json from the sum of them (fuzz_workers.h).
#ifndef SMTP_FUZZ_NET_FUZZER_H_
#define SMTP_FUZZ_NET_FUZZER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "fuzz/net/afl_coverage.h"
#include "fuzz/net/embedded_driver.h"
#include "fuzz/net/work_corpus.h"
#include "results/session_input.h"
#include "results/transcript.h"

namespace smtp::fuzz {

// Runs one session against a target.
class SessionTarget {
 public:
  virtual ~SessionTarget() = default;
  // `wire`: keep the bytes of both sides (for a finding's transcript).
  virtual SessionResult Run(const SessionInput& input, bool wire) = 0;
  // "embedded:strict", "127.0.0.1:2525"...
  virtual std::string Label() const = 0;
  // In process: the server's code coverage is in PcCounters().
  virtual bool in_process() const { return false; }
  // The fuzzer starts the server's process (in process, exec:, --spawn):
  // its deaths say what broke. Otherwise only its replies do, and a
  // finding is named by the reply that tripped the oracle (signature.h).
  virtual bool started_by_us() const { return in_process(); }
  // The session again, as a transcript (a finding's session.json), and
  // that run's verdict in `*verdict`. The default builds it from Run's wire
  // bytes.
  virtual harness::Transcript Record(const SessionInput& input, Verdict* verdict);
  // The session again with far longer deadlines, to tell a hang from a slow
  // reply; nullopt where time plays no part (in process) or when turned
  // off.
  virtual std::optional<SessionResult> RunPatiently(const SessionInput& input) {
    return std::nullopt;
  }
  // The session again, giving the server time, before each write that
  // follows a 4xx / 5xx, to close on its own: a drop there may be a close
  // the refusal announced that our next write overtook (OpenSMTPD closes
  // just after "500 5.5.1 Invalid command: Pipelining not supported").
  // nullopt where time plays no part (in process).
  virtual std::optional<SessionResult> RunCautiously(const SessionInput& input) {
    return std::nullopt;
  }
  // The liveness probe (after each finding and periodically): OK, or why the
  // server no longer takes a session.
  virtual absl::Status Alive() { return absl::OkStatus(); }
  // A server the fuzzer started (--spawn): how often it was restarted after
  // dying, and Shutdown stops it (at exit).
  virtual int restarts() const { return 0; }
  // The run ends at `t` (its time budget): no session runs past it.
  virtual void set_run_deadline(std::chrono::steady_clock::time_point t) {}
  virtual void Shutdown() {}
  // A server the fuzzer started that died between sessions (not during one
  // of its writes or reads): the session run just before, which may have
  // caused it, and the process oracle's verdict. Taken once; nullopt when
  // none. The fuzzer re-runs that session with a linger (below) to see
  // whether it reproduces.
  struct DeathBetween {
    SessionInput input;
    Verdict verdict;
  };
  virtual std::optional<DeathBetween> TakeDeathBetweenSessions() { return std::nullopt; }
  // After each session, wait up to this long for a started server to die
  // before judging its process (0: only a session that ended badly waits):
  // a server that dies just after a session that ended well is caught in
  // that session, not the next.
  virtual void set_linger(std::chrono::milliseconds linger) {}
};

// The embedded server in process (the instrumented copy in g++ builds),
// named "embedded" or "embedded:PROFILE", behind "lmtp:" for LMTP.
struct EmbeddedLabel {
  std::string profile = "strict";
  bool lmtp = false;
};
// nullopt: `label` does not name the embedded server.
std::optional<EmbeddedLabel> ParseEmbeddedLabel(std::string_view label);
// nullptr and `*error` for an unknown profile.
std::unique_ptr<SessionTarget> MakeEmbeddedTarget(const EmbeddedLabel& which, std::string* error);

struct FuzzConfig {
  std::unique_ptr<SessionTarget> target;
  std::string out_dir;
  // argv[0] and the libFuzzer flags and corpus directories, as given.
  std::string argv0 = "smtp-harness";
  std::vector<std::string> libfuzzer_args;
  // Seed directories read after the user's (the shipped seeds).
  std::vector<std::string> seed_dirs;
  // Tokens for the structure-aware mutator (libFuzzer keeps -dict entries
  // to itself): the entries of the dictionary file in use.
  std::vector<std::string> dictionary;
  std::string command_line;  // for fuzz.json
  // Minimizer budget per finding (test runs, wall time), and re-runs to decide
  // deterministic / flaky.
  std::size_t minimize_runs = 2000;
  std::chrono::milliseconds minimize_time{10'000};
  int reruns = 3;
  // A re-run of a finding that finds a server we do not start down (not
  // taking sessions: Postfix's master stops starting smtpd for 60 s after
  // one crashed) waits this long for it to come back before it counts as
  // not reproduced. 0: no wait.
  std::chrono::milliseconds recover_wait{90'000};
  // A close the server announced (client_machine.h, Defence) is a finding
  // too, as a drop, instead of a defence listed apart.
  bool defences_are_findings = false;
  // libFuzzer's own output on the console; else in OUT/libfuzzer.log.
  bool libfuzzer_output = false;
  // Progress line and fuzz.json rewrite period.
  std::chrono::milliseconds report_every{5000};
  // The command a finding's replay line names as the target.
  std::string replay_target_hint;
  // libFuzzer's working corpus on tmpfs, mirrored into OUT/corpus
  // (work_corpus.h); false: libFuzzer writes OUT/corpus itself. RunFuzzer
  // makes `work_corpus` (a single process's or a parent's; children write
  // into the directory their argv names). `work_corpus_bases`: where to
  // put it, the first usable (default WorkCorpus::DefaultBases()).
  bool corpus_on_tmpfs = true;
  std::vector<std::string> work_corpus_bases;
  std::shared_ptr<WorkCorpus> work_corpus;
  // exec: and --spawn targets: the AFL++ coverage map the target counts
  // into (afl_coverage.h), registered with libFuzzer as feedback and
  // reported as the server's coverage. nullptr: none.
  std::unique_ptr<AflCoverage> afl;
  // Multi-process runs (-fork, -jobs, -workers; fuzz_child.h): kParent once
  // ExportChildSpec put the spec in the environment, kChild in the
  // processes libFuzzer starts, which run `child_argv` (libFuzzer's argv as
  // given to the child) unchanged and write their stats for the parent
  // (fuzz_workers.h) instead of fuzz.json.
  enum class Role { kSingle, kParent, kChild };
  Role role = Role::kSingle;
  std::vector<std::string> child_argv;
  std::string run_id;             // the run's, shared by its processes
  double run_started_unix_s = 0;  // first_at_s counts from here
};

// Default libFuzzer time budget when neither -max_total_time nor -runs is
// given: a run is bounded unless the user asks otherwise.
inline constexpr int kDefaultMaxTotalTimeS = 60;

// Runs libFuzzer. It exits the process itself when done (fuzz.json is
// finalized by an exit handler); returns only on an error before fuzzing
// starts (exit status 2, message printed).
int RunFuzzer(FuzzConfig config);

// The entries of a libFuzzer / AFL dictionary file: one quoted string per
// line (optionally name=), with \\, \" and \xNN escapes; '#' comments.
// Errors name the file and line.
bool ReadDictionary(const std::string& path, std::vector<std::string>* entries, std::string* error);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_FUZZER_H_
