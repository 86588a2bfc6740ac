// `smtp-harness fuzz` across processes (-fork=N, -jobs=N, -workers=N): the
// contract between the parent and the child processes libFuzzer starts.
//
// libFuzzer's multi-process modes re-run argv[0] through system() with
// libFuzzer's own flags (and, for -jobs, the corpus directories) only:
//   -fork=N   `smtp-harness -flags... -reload=0 -print_final_stats=1
//             -max_total_time=J -stop_file=T -seed_inputs=@LIST -features_dir=F
//             TMP/C<J>` per job, short jobs first (FuzzerFork.cpp); also
//             `smtp-harness -flags... -merge_control_file=...` to merge.
//   -jobs=N   `smtp-harness -flags... CORPUS_DIRS > fuzz-<J>.log 2>&1`, N jobs
//             on -workers processes at a time (FuzzerDriver.cpp).
// That is not a `fuzz` command line, so the parent leaves what a child needs
// in the environment, which system() passes on: kFuzzChildEnv holds a
// ChildSpec as JSON (SerializeChildSpec). main() checks IsFuzzChild() before
// anything else; a child rebuilds the target and the FuzzConfig from the
// spec and runs libFuzzer with its own argv unchanged (RunFuzzChild). It
// writes OUT/workers/<pid>-<t>.json, not fuzz.json; the parent aggregates those
// (fuzz_workers.h).
#ifndef SMTP_FUZZ_NET_FUZZ_CHILD_H_
#define SMTP_FUZZ_NET_FUZZ_CHILD_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/net/fuzzer.h"
#include "fuzz/net/net_target.h"

namespace smtp::fuzz {

// The environment variable a child finds its ChildSpec in.
inline constexpr char kFuzzChildEnv[] = "SMTP_HARNESS_FUZZ_CHILD";

// Everything of the parent's FuzzConfig a child needs, in a form that
// survives the environment. Version 1.
struct ChildSpec {
  // --target as given ("embedded:planted", "127.0.0.1:2525", "exec:CMD")
  // and, for a network target, its options.
  std::string target;
  NetTargetOptions net;
  std::string out_dir;
  std::string dictionary_path;  // empty: none
  std::vector<std::string> seed_dirs;
  std::size_t minimize_runs = 0;
  std::chrono::milliseconds minimize_time{0};
  int reruns = 0;
  std::chrono::milliseconds recover_wait{0};
  bool defences_are_findings = false;
  std::chrono::milliseconds report_every{0};
  std::string replay_target_hint;
  std::string command_line;  // the parent's
  // The run the child belongs to (findings carry it, fuzz_workers.h) and
  // when it started (a finding's first_at_s counts from there).
  std::string run_id;
  double run_started_unix_s = 0;
};

// The spec as compact JSON, and back. Parse errors say what is wrong
// (not JSON, a missing or mistyped field, another version). Serialize fails
// on a string that is not UTF-8 (a path JSON cannot carry).
absl::StatusOr<std::string> SerializeChildSpec(const ChildSpec& spec);
absl::StatusOr<ChildSpec> ParseChildSpec(std::string_view text);

// The value of libFuzzer flag -NAME=N among `args` (the last one), 0 when
// absent or not a number.
int ProcessFlag(const std::vector<std::string>& args, std::string_view name);

// -fork or -jobs with a positive value among libFuzzer's flags (-workers
// only says how many jobs run at a time; alone, libFuzzer ignores it).
bool WantsProcesses(const std::vector<std::string>& libfuzzer_args);

// The spec of `config`'s run: `target` and `net` are how to build the
// target again (the FuzzConfig holds the built one only); the dictionary is
// the -dict file among the libFuzzer flags. Gives the run an id.
ChildSpec ChildSpecOf(const FuzzConfig& config, const std::string& target,
                      const NetTargetOptions& net);

// Puts the spec of `config`'s run into the environment for the children
// and marks `config` as a parent (run_id and run_started_unix_s set), so
// that RunFuzzer takes the multi-process flags. An error when the spec
// cannot be serialized or set.
absl::Status ExportChildSpec(FuzzConfig& config, const std::string& target,
                             const NetTargetOptions& net);

// The target a spec names, built afresh (each child has its own), or an
// error. Network targets are not probed: the parent did that.
absl::StatusOr<std::unique_ptr<SessionTarget>> MakeChildTarget(const ChildSpec& spec);

// RunFuzzer's check of libFuzzer's argv `args` before it runs: -merge and
// -minimize_crash (which re-run the binary as bare libFuzzer) are refused;
// -fork and -jobs need a parent (ExportChildSpec), which then
// runs this binary by its path (args[0] is rewritten), empties
// OUT/workers/ and starts reporting what the children do (fuzz_workers.h).
// 0, or 2 with the reason printed. A child's argv is not checked.
int PrepareProcesses(FuzzConfig& config, std::vector<std::string>& args);

// This process is a child of a multi-process run: kFuzzChildEnv is set and
// argv[1] is a flag (subcommands never start with '-').
bool IsFuzzChild(int argc, char** argv);

// The child's main: reads the spec, removes kFuzzChildEnv from the
// environment (the target's own processes need not see it), builds the
// FuzzConfig and runs libFuzzer with argv unchanged. Exits like RunFuzzer;
// 2 with one line on stderr when the spec is unusable.
int RunFuzzChild(int argc, char** argv);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_FUZZ_CHILD_H_
