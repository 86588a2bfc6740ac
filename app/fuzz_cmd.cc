// smtp-harness fuzz: stateful coverage-guided fuzzing of an SMTP server
// (fuzz/net/fuzzer.h), libFuzzer embedded as the engine.
//
//   fuzz [--target [lmtp:]embedded[:PROFILE]|HOST:PORT|tls:H:P|lmtp:H:P|exec:CMD]
//        [--spawn CMD] [--out DIR] [--seeds DIR]
//        [-LIBFUZZER_FLAG=VALUE...] [CORPUS_DIR...]
//
// Flags with one dash are libFuzzer's (-max_total_time=60, -runs=N,
// -seed=N, -dict=FILE, -print_final_stats=1, ...) and pass through, as do
// corpus directories. Without -max_total_time or -runs a run lasts
// kDefaultMaxTotalTimeS; without -entropic= it runs with -entropic=0, and
// a single process without -reload= with -reload=0.
// -fork=N and -jobs=N -workers=M run child
// processes of this binary: the target's recipe goes to them through the
// environment (fuzz/net/fuzz_child.h), and the parent's DIR/fuzz.json adds
// up what they did (fuzz/net/fuzz_workers.h). Exit status: libFuzzer's (0
// when the budget ran out; findings do not stop the run: they are in
// DIR/fuzz.json and DIR/findings/), 1 when fuzz.json or the report could
// not be written (the findings are on stderr), 2 on a usage or setup error.
#include <unistd.h>

#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "app/default_suite.h"
#include "app/fuzz_client.h"
#include "app/live_run.h"
#include "app/subcommand.h"
#include "fuzz/net/fuzz_child.h"
#include "fuzz/net/fuzzer.h"
#include "fuzz/net/liveness.h"
#include "fuzz/net/net_target.h"
#include "fuzz/net/run_control.h"
#include "harness/transport.h"
#include "results/absl_compat.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, out);

ABSL_FLAG(std::string, seeds, "",
          "fuzz: seed directory of session inputs read after the corpus directories (default: the "
          "shipped corpus/fuzz_server_session; 'none' for no seeds)");
ABSL_FLAG(int, minimize_runs, 2000, "fuzz: test runs the minimizer may spend on each new finding");
ABSL_FLAG(int, minimize_time_ms, 10000,
          "fuzz: wall time the minimizer may spend on each new finding (a slow server's runs)");
ABSL_FLAG(int, recover_wait_ms, 90000,
          "fuzz: a re-run of a finding against a server the fuzzer does not start waits this long "
          "for it to take sessions again (a master throttling restarts after a crash, as Postfix's "
          "does for 60 s) before it counts as not reproduced; 0: no wait");
ABSL_FLAG(bool, allow_remote, false,
          "fuzz: allow a target that is not on this host (default: loopback and exec: only)");
ABSL_FLAG(int, reply_timeout_ms, 1000,
          "fuzz: deadline of each reply over a connection; past it the session ends (a hang when "
          "a reply was owed)");
ABSL_FLAG(int, patient_reply_timeout_ms, 10000,
          "fuzz: a hang is run again with this deadline per reply before it counts (a server "
          "that sleeps after errors is slow, not hung); 0: no second run");
ABSL_FLAG(int, greeting_timeout_ms, 10000,
          "fuzz: deadline of the greeting over a connection when longer than --reply_timeout_ms "
          "(OpenSMTPD greets after a 5-s reverse-DNS lookup)");
ABSL_FLAG(int, fuzz_session_timeout_ms, 10000,
          "fuzz: deadline of a whole session over a connection, whatever the server sends");
ABSL_FLAG(std::string, spawn, "",
          "fuzz: start this listening server (/bin/sh -c CMD) before fuzzing --target HOST:PORT, "
          "restart it when it dies, stop it at the end; its death and sanitizer reports are "
          "findings, its output goes to OUT/spawned-server.log; {port} in CMD is replaced by "
          "the port to listen on (and gets a warm standby: --spawn_standby, whose port's "
          "incarnations write OUT/spawned-server.PORT.log)");
ABSL_FLAG(bool, spawn_standby, true,
          "fuzz: keep a warm standby of the --spawn server on a second port, so that a restart "
          "after a death is a switch, not a start; needs {port} in the --spawn command, which "
          "the fuzzer replaces with the port each incarnation listens on");
ABSL_FLAG(int, spawn_standby_port, 0,
          "fuzz: the standby's port (0: a free loopback port chosen at the start)");
ABSL_FLAG(int, spawn_timeout_ms, 10000,
          "fuzz: how long a (re)started --spawn server may take to greet");
ABSL_FLAG(bool, crash_backtraces, true,
          "fuzz: locate a --spawn server's crash by a signal in its core file with gdb (where gdb "
          "is installed and the kernel writes core files), so two crashes by one signal are two "
          "findings; without, crashes are told apart by the command they died at");
ABSL_FLAG(int, afl_map_size, 65536,
          "fuzz: size of the AFL++ coverage map (__AFL_SHM_ID) shared with exec: and --spawn "
          "targets built with afl-cc; 0 turns AFL++ coverage off");
ABSL_FLAG(bool, defences_are_findings, false,
          "fuzz: a close the server announced (a 421, a goodbye, a refusal at once followed by "
          "the close) is a finding (a drop), not a defence listed apart");
ABSL_FLAG(bool, libfuzzer_output, false,
          "fuzz: show libFuzzer's own output (#N NEW cov..., its warnings) on the console; by "
          "default it goes to OUT/libfuzzer.log and the console has the status line every 5 s "
          "and each new finding once");
ABSL_FLAG(bool, corpus_on_tmpfs, true,
          "fuzz: libFuzzer's working corpus in a fresh directory under /dev/shm (else $TMPDIR or "
          "/tmp), copied to OUT/corpus every 5 s and at the end, and removed; false: libFuzzer "
          "writes OUT/corpus itself (a file system call per new or reduced input)");
ABSL_FLAG(double, max_connections_per_s, 5000,
          "fuzz: at most this many connections a second to a network target (0: no limit)");

namespace smtp::app {
namespace {

// libFuzzer flags this tool passes unless the user gives the same flag:
// -entropic=0 costs 30% less CPU per session (libFuzzer's entropic
// scheduler walks the corpus for every new feature) and found the deep
// planted bug sooner for 8 seeds of 9 (docs/PERFORMANCE.md, "Fuzz defaults").
constexpr std::string_view kDefaultLibFuzzerFlags[] = {"-entropic=0"};
// The same, for one fuzzing process only (no -fork, no -jobs): -reload=0.
// libFuzzer re-reads its first corpus directory every second (-reload=1)
// for inputs other processes put there: a stat of every file and a read of
// every file newer than the last pass, its own new inputs included. One
// process is the only writer of that directory (fuzzer.cc's working corpus
// or OUT/corpus), so the pass finds nothing to run and the search is the
// same without it (netfuzz_corpus_cli compares the corpora); -jobs children
// share the directory and need it (-fork passes -reload=0 to its own).
constexpr std::string_view kSingleProcessLibFuzzerFlags[] = {"-reload=0"};

// Appends each of `defaults` whose name ("-entropic=") `args` does not give.
void AddDefaultFlags(std::span<const std::string_view> defaults,
                     const std::vector<std::string>& args, std::vector<std::string>* out) {
  for (const std::string_view flag : defaults) {
    const std::string_view name = flag.substr(0, flag.find('=') + 1);
    bool given = false;
    for (const std::string& a : args) given = given || a.rfind(name, 0) == 0;
    if (!given) out->emplace_back(flag);
  }
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness fuzz: %s\n", message.c_str());
  return 2;
}

}  // namespace

int RunFuzz(const std::vector<std::string>& args) {
  // --client: the fuzzer is the server, a client is under test (app/fuzz_client.h).
  if (ClientFuzzRequested()) return RunClientFuzz(args);
  std::string label = absl::GetFlag(FLAGS_target);
  if (label.empty()) label = "embedded";
  const std::string spawn = absl::GetFlag(FLAGS_spawn);
  fuzz::FuzzConfig config;
  {
    std::string error;
    config.out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "fuzz", &error);
    if (!error.empty()) return Fail(error);
  }
  fuzz::NetTargetOptions o;  // a network target's; the children's too
  if (!spawn.empty() && fuzz::WantsProcesses(args)) {
    return Fail(
        "--spawn runs one server for one fuzzing process: not with -fork, -jobs or "
        "-workers (start several servers on their own ports instead)");
  }
  if (const std::optional<fuzz::EmbeddedLabel> embedded = fuzz::ParseEmbeddedLabel(label)) {
    if (!spawn.empty()) return Fail("--spawn needs --target HOST:PORT (where it listens)");
    std::string error;
    config.target = fuzz::MakeEmbeddedTarget(*embedded, &error);
    if (config.target == nullptr) return Fail("--target: " + error);
    config.replay_target_hint = std::string(embedded->lmtp ? "lmtp:" : "") +
                                "127.0.0.1:PORT (smtp-harness serve --behavior " +
                                embedded->profile + (embedded->lmtp ? " --lmtp" : "") +
                                " --listen 127.0.0.1:PORT)";
  } else {
    absl::StatusOr<harness::Target> target = harness::ParseTarget(label);
    if (!target.ok()) return Fail("--target: " + Message(target.status()));
    if (!fuzz::IsLoopbackTarget(*target) && !absl::GetFlag(FLAGS_allow_remote)) {
      return Fail("--target " + label +
                  " is not on this host: fuzzing a remote server needs --allow_remote");
    }
    if (absl::GetFlag(FLAGS_reply_timeout_ms) <= 0 ||
        absl::GetFlag(FLAGS_fuzz_session_timeout_ms) <= 0) {
      return Fail("timeouts must be positive");
    }
    o.reply_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_reply_timeout_ms));
    o.session_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_fuzz_session_timeout_ms));
    if (absl::GetFlag(FLAGS_greeting_timeout_ms) < 0) {
      return Fail("--greeting_timeout_ms must be >= 0");
    }
    o.greeting_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_greeting_timeout_ms));
    if (absl::GetFlag(FLAGS_patient_reply_timeout_ms) < 0) {
      return Fail("--patient_reply_timeout_ms must be >= 0");
    }
    o.patient_reply_timeout =
        std::chrono::milliseconds(absl::GetFlag(FLAGS_patient_reply_timeout_ms));
    o.max_connections_per_s = absl::GetFlag(FLAGS_max_connections_per_s);
    if (o.max_connections_per_s < 0) return Fail("--max_connections_per_s must be >= 0");
    if (!spawn.empty() && target->kind == harness::Target::Kind::kExec) {
      return Fail("--spawn needs --target HOST:PORT (where it listens), not exec:");
    }
    // AFL++ coverage for the processes the fuzzer starts: the map is in the
    // environment before the first of them.
    const int afl_map_size = absl::GetFlag(FLAGS_afl_map_size);
    if (afl_map_size < 0) return Fail("--afl_map_size must be >= 0");
    if (afl_map_size > 0 && (!spawn.empty() || target->kind == harness::Target::Kind::kExec)) {
      absl::StatusOr<std::unique_ptr<fuzz::AflCoverage>> afl =
          fuzz::AflCoverage::CreateExported(static_cast<std::size_t>(afl_map_size));
      if (!afl.ok()) return Fail("--afl_map_size: " + Message(afl.status()));
      config.afl = *std::move(afl);
    }
    std::unique_ptr<fuzz::SpawnedServer> spawned;
    if (!spawn.empty()) {
      if (absl::GetFlag(FLAGS_spawn_timeout_ms) <= 0) return Fail("timeouts must be positive");
      fuzz::SpawnOptions so;
      so.command = spawn;
      so.listen = *target;
      so.log_path = config.out_dir + "/spawned-server.log";
      so.startup_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_spawn_timeout_ms));
      so.core_backtraces = absl::GetFlag(FLAGS_crash_backtraces);
      so.standby = absl::GetFlag(FLAGS_spawn_standby);
      const int standby_port = absl::GetFlag(FLAGS_spawn_standby_port);
      if (standby_port < 0 || standby_port > 65535) {
        return Fail("--spawn_standby_port must be a port (0: chosen)");
      }
      so.standby_port = static_cast<std::uint16_t>(standby_port);
      spawned = std::make_unique<fuzz::SpawnedServer>(so);
      if (spawned->standby_active()) {
        std::fprintf(fuzz::Console(),
                     "smtp-harness fuzz: a warm standby of the spawned server waits on port %u "
                     "(its output in %s): a restart switches to it\n",
                     static_cast<unsigned>(spawned->standby_port()),
                     spawned->standby_log().c_str());
      } else if (so.standby) {
        std::fprintf(fuzz::Console(),
                     "smtp-harness fuzz: no warm standby of the spawned server (%s): each restart "
                     "waits for the server to start\n",
                     spawned->standby_why_not().c_str());
      }
      if (!spawned->symbolizer().empty()) {
        std::fprintf(fuzz::Console(),
                     "smtp-harness fuzz: the spawned server's AddressSanitizer reports are "
                     "symbolized by the fuzzer (%s; ASAN_OPTIONS gets symbolize=0)\n",
                     spawned->symbolizer().c_str());
      }
      if (so.core_backtraces && !spawned->backtraces_usable()) {
        std::fprintf(fuzz::Console(),
                     "smtp-harness fuzz: crashes of the spawned server are told apart by the "
                     "command they died at, not located (%s)\n",
                     spawned->backtraces_why_not().c_str());
      }
      if (absl::Status st = spawned->Start(); !st.ok()) return Fail(Message(st));
    }
    // An unreachable target is an error before fuzzing starts, not a run of
    // failed sessions.
    if (absl::Status st = fuzz::Probe(*target, o.reply_timeout * 5); !st.ok()) {
      return Fail("target unreachable: " + Message(st));
    }
    config.target = fuzz::MakeNetTarget(*target, o, std::move(spawned));
    config.replay_target_hint = target->ToString();
  }
  for (const std::string& a : args) {
    if (a.empty()) return Fail("an empty argument");
  }
  std::string error;
  const std::string seeds = absl::GetFlag(FLAGS_seeds);
  if (seeds != "none") {
    const std::string dir = seeds.empty() ? DefaultFuzzSeeds() : seeds;
    if (!seeds.empty() && access(dir.c_str(), R_OK) != 0) {
      return Fail("--seeds: cannot read " + dir);
    }
    if (!dir.empty()) config.seed_dirs.push_back(dir);
  }
  if (absl::GetFlag(FLAGS_minimize_runs) < 0) return Fail("--minimize_runs must be >= 0");
  config.minimize_runs = static_cast<std::size_t>(absl::GetFlag(FLAGS_minimize_runs));
  if (absl::GetFlag(FLAGS_minimize_time_ms) < 0) return Fail("--minimize_time_ms must be >= 0");
  config.minimize_time = std::chrono::milliseconds(absl::GetFlag(FLAGS_minimize_time_ms));
  if (absl::GetFlag(FLAGS_recover_wait_ms) < 0) return Fail("--recover_wait_ms must be >= 0");
  config.recover_wait = std::chrono::milliseconds(absl::GetFlag(FLAGS_recover_wait_ms));
  config.libfuzzer_args = args;
  config.defences_are_findings = absl::GetFlag(FLAGS_defences_are_findings);
  config.libfuzzer_output = absl::GetFlag(FLAGS_libfuzzer_output);
  config.corpus_on_tmpfs = absl::GetFlag(FLAGS_corpus_on_tmpfs);
  // The dictionary: -dict=FILE, else the shipped one. libFuzzer uses it in
  // its byte-level mutations, the session mutator in its own.
  std::string dict;
  for (const std::string& a : args) {
    if (a.rfind("-dict=", 0) == 0) dict = a.substr(6);
  }
  if (dict.empty()) {
    dict = DefaultFuzzDictionary();
    if (!dict.empty()) config.libfuzzer_args.push_back("-dict=" + dict);
  }
  if (!dict.empty() && !fuzz::ReadDictionary(dict, &config.dictionary, &error)) {
    return Fail("-dict: " + error);
  }
  // libFuzzer's defaults chosen by measurement (docs/PERFORMANCE.md, "Fuzz
  // defaults"): the entropic scheduler off, and for one process no reload
  // of its own corpus directory. A flag given wins.
  AddDefaultFlags(kDefaultLibFuzzerFlags, args, &config.libfuzzer_args);
  if (!fuzz::WantsProcesses(args)) {
    AddDefaultFlags(kSingleProcessLibFuzzerFlags, args, &config.libfuzzer_args);
  }
  config.command_line = "smtp-harness fuzz --target " + label +
                        (spawn.empty() ? "" : " --spawn '" + spawn + "'") + " --out " +
                        config.out_dir + (args.empty() ? "" : " " + absl::StrJoin(args, " "));
  // -fork / -jobs / -workers: the children rebuild the target from the
  // environment (fuzz/net/fuzz_child.h).
  if (fuzz::WantsProcesses(config.libfuzzer_args)) {
    if (absl::Status st = fuzz::ExportChildSpec(config, label, o); !st.ok()) {
      return Fail(Message(st));
    }
  }
  std::fprintf(stderr, "smtp-harness fuzz: target %s, out %s\n", config.target->Label().c_str(),
               config.out_dir.c_str());
  return fuzz::RunFuzzer(std::move(config));
}

}  // namespace smtp::app
