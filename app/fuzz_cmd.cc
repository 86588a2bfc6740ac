// smtp-harness fuzz: stateful coverage-guided fuzzing of an SMTP server
// (fuzz/net/fuzzer.h), libFuzzer embedded as the engine.
//
//   fuzz [--target embedded[:PROFILE]] [--out DIR] [--seeds DIR]
//        [-LIBFUZZER_FLAG=VALUE...] [CORPUS_DIR...]
//
// Flags with one dash are libFuzzer's (-max_total_time=60, -runs=N,
// -seed=N, -dict=FILE, -print_final_stats=1, ...) and pass through, as do
// corpus directories. Without -max_total_time or -runs a run lasts
// kDefaultMaxTotalTimeS. Exit status: libFuzzer's (0 when the budget ran
// out; findings do not stop the run: they are in DIR/fuzz.json and
// DIR/findings/), 2 on a usage or setup error.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "app/default_suite.h"
#include "app/live_run.h"
#include "app/subcommand.h"
#include "fuzz/net/fuzzer.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, out);

ABSL_FLAG(std::string, seeds, "",
          "fuzz: seed directory of session inputs read after the corpus directories (default: the "
          "shipped corpus/fuzz_server_session; 'none' for no seeds)");
ABSL_FLAG(int, minimize_runs, 2000, "fuzz: test runs the minimizer may spend on each new finding");

namespace smtp::app {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness fuzz: %s\n", message.c_str());
  return 2;
}

}  // namespace

int RunFuzz(const std::vector<std::string>& args) {
  std::string label = absl::GetFlag(FLAGS_target);
  if (label.empty()) label = "embedded";
  fuzz::FuzzConfig config;
  if (label == "embedded" || label.rfind("embedded:", 0) == 0) {
    const std::string profile = label == "embedded" ? "strict" : label.substr(9);
    std::string error;
    config.target = fuzz::MakeEmbeddedTarget(profile, &error);
    if (config.target == nullptr) return Fail("--target: " + error);
    config.replay_target_hint =
        "127.0.0.1:PORT (smtp-harness serve --behavior " + profile + " --port PORT)";
  } else {
    return Fail("--target: '" + label + "': only embedded[:PROFILE] is supported so far");
  }
  for (const std::string& a : args) {
    if (a.empty()) return Fail("an empty argument");
  }
  std::string error;
  config.out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "fuzz", &error);
  if (!error.empty()) return Fail(error);
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
  config.libfuzzer_args = args;
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
  config.command_line = "smtp-harness fuzz --target " + label + " --out " + config.out_dir +
                        (args.empty() ? "" : " " + absl::StrJoin(args, " "));
  std::fprintf(stderr, "smtp-harness fuzz: target %s, out %s\n", config.target->Label().c_str(),
               config.out_dir.c_str());
  return fuzz::RunFuzzer(std::move(config));
}

}  // namespace smtp::app
