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
#include <optional>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_join.h"
#include "fuzz/net/finding_page.h"
#include "fuzz/net/fuzz_child.h"
#include "fuzz/net/fuzz_run.h"
#include "fuzz/net/fuzz_workers.h"
#include "fuzz/net/libfuzzer_hooks.h"
#include "fuzz/net/minimize.h"
#include "fuzz/net/mutator.h"
#include "fuzz/net/pc_counters.h"
#include "fuzz/net/run_control.h"
#include "fuzz/net/signature.h"
#include "fuzz/net/state_feedback.h"
#include "fuzz/net/work_corpus.h"
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

}  // namespace

harness::Transcript SessionTarget::Record(const SessionInput& input, Verdict* verdict) {
  const SessionResult r = Run(input, /*wire=*/true);
  *verdict = r.verdict;
  return TranscriptOf(r, Label());
}

namespace {

// The run: libFuzzer calls back into one global (fuzz_run.h).
using internal::Run;

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
  // New inputs go to the first directory: the working corpus on tmpfs when
  // there is one, OUT/corpus then read as input (a run resumes from it).
  if (config.work_corpus != nullptr) args.push_back(config.work_corpus->dir());
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
  // libFuzzer's corpus on tmpfs (work_corpus.h); a child writes where its
  // argv says, the parent's.
  if (config.corpus_on_tmpfs && config.role != FuzzConfig::Role::kChild) {
    const std::vector<std::string> bases =
        config.work_corpus_bases.empty() ? WorkCorpus::DefaultBases() : config.work_corpus_bases;
    const std::string out_corpus = (fs::path(config.out_dir) / "corpus").string();
    const std::optional<std::string> base =
        WorkCorpus::ChooseBase(bases, WorkCorpus::kMinFreeBytes, &WorkCorpus::FreeBytes);
    absl::StatusOr<std::unique_ptr<WorkCorpus>> wc =
        base ? WorkCorpus::Create(*base, out_corpus)
             : absl::StatusOr<std::unique_ptr<WorkCorpus>>(absl::NotFoundError(
                   "no directory with " + std::to_string(WorkCorpus::kMinFreeBytes >> 20) +
                   " MiB free among " + absl::StrJoin(bases, ", ")));
    if (wc.ok()) {
      config.work_corpus = std::move(*wc);
      // A parent copies with its reports (fuzz_workers.h); a single process
      // on a thread, not between sessions.
      if (config.role == FuzzConfig::Role::kSingle) {
        config.work_corpus->StartSyncing(config.report_every, Console());
      }
      std::fprintf(
          Console(),
          "smtp-harness fuzz: libFuzzer's corpus is in %s, copied to %s every %lld s "
          "and at the end (--corpus_on_tmpfs=false: written there directly)\n",
          config.work_corpus->dir().c_str(), out_corpus.c_str(),
          static_cast<long long>(std::max<std::int64_t>(1, config.report_every.count() / 1000)));
    } else {
      std::fprintf(Console(), "smtp-harness fuzz: libFuzzer writes its corpus to %s (%s)\n",
                   out_corpus.c_str(), std::string(wc.status().message()).c_str());
    }
  }
  // A child runs the argv libFuzzer gave it, unchanged.
  std::vector<std::string> args =
      config.role == FuzzConfig::Role::kChild ? config.child_argv : LibFuzzerArgs(config);
  // An error before libFuzzer runs: no working corpus left behind.
  const auto fail = [&config](int rc) {
    if (config.work_corpus != nullptr) (void)config.work_corpus->Close();
    return rc;
  };
  if (const int rc = PrepareProcesses(config, args); rc != 0) return fail(rc);
  if (!RegisterCounters(StateCounters())) {
    std::fprintf(Console(), "smtp-harness fuzz: libFuzzer did not take the feedback counters\n");
    return fail(2);
  }
  if (config.target->in_process() && !PcCounters().empty() && !PcCountersRegistered()) {
    RegisterCounters(PcCounters());
  }
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
