#include "fuzz/net/fuzz_child.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>

#include "fuzz/net/fuzz_workers.h"
#include "fuzz/net/run_control.h"
#include "harness/wall_clock.h"

namespace smtp::fuzz {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The value of the last -NAME=VALUE among `args`, if any.
std::optional<std::string> FlagValue(const std::vector<std::string>& args, std::string_view name) {
  const std::string prefix = "-" + std::string(name) + "=";
  std::optional<std::string> value;
  for (const std::string& a : args) {
    if (a.rfind(prefix, 0) == 0) value = a.substr(prefix.size());
  }
  return value;
}

bool HasFlag(const std::vector<std::string>& args, std::string_view name) {
  return FlagValue(args, name).has_value();
}

}  // namespace

int ProcessFlag(const std::vector<std::string>& args, std::string_view name) {
  const std::optional<std::string> v = FlagValue(args, name);
  return v ? std::atoi(v->c_str()) : 0;  // as libFuzzer reads its flags
}

bool WantsProcesses(const std::vector<std::string>& libfuzzer_args) {
  // -workers alone is nothing to libFuzzer: it sizes -jobs.
  return ProcessFlag(libfuzzer_args, "fork") > 0 || ProcessFlag(libfuzzer_args, "jobs") > 0;
}

absl::StatusOr<std::string> SerializeChildSpec(const ChildSpec& s) {
  const json j = {{"version", 1},
                  {"target", s.target},
                  {"net",
                   {{"reply_timeout_ms", s.net.reply_timeout.count()},
                    {"unjudged_reply_timeout_ms", s.net.unjudged_reply_timeout.count()},
                    {"session_timeout_ms", s.net.session_timeout.count()},
                    {"greeting_timeout_ms", s.net.greeting_timeout.count()},
                    {"patient_reply_timeout_ms", s.net.patient_reply_timeout.count()},
                    {"max_connections_per_s", s.net.max_connections_per_s}}},
                  {"out_dir", s.out_dir},
                  {"dictionary", s.dictionary_path},
                  {"seed_dirs", s.seed_dirs},
                  {"minimize_runs", s.minimize_runs},
                  {"minimize_time_ms", s.minimize_time.count()},
                  {"reruns", s.reruns},
                  {"recover_wait_ms", s.recover_wait.count()},
                  {"defences_are_findings", s.defences_are_findings},
                  {"report_every_ms", s.report_every.count()},
                  {"replay_target_hint", s.replay_target_hint},
                  {"command_line", s.command_line},
                  {"run_id", s.run_id},
                  {"run_started_unix_s", s.run_started_unix_s}};
  try {
    return j.dump();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(std::string("the child spec: ") + e.what());
  }
}

absl::StatusOr<ChildSpec> ParseChildSpec(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("the child spec is not a JSON object");
  }
  ChildSpec s;
  // nlohmann's type errors name the field's type, not the field: say which.
  const char* at = "version";
  try {
    if (j.at(at).get<int>() != 1) return absl::InvalidArgumentError("child spec version is not 1");
    const auto ms = [&](const json& o, const char* name) {
      at = name;
      return std::chrono::milliseconds(o.at(name).get<std::int64_t>());
    };
    const auto str = [&](const char* name) {
      at = name;
      return j.at(name).get<std::string>();
    };
    s.target = str("target");
    at = "net";
    const json& net = j.at("net");
    s.net.reply_timeout = ms(net, "reply_timeout_ms");
    s.net.unjudged_reply_timeout = ms(net, "unjudged_reply_timeout_ms");
    s.net.session_timeout = ms(net, "session_timeout_ms");
    s.net.greeting_timeout = ms(net, "greeting_timeout_ms");
    s.net.patient_reply_timeout = ms(net, "patient_reply_timeout_ms");
    at = "max_connections_per_s";
    s.net.max_connections_per_s = net.at(at).get<double>();
    s.out_dir = str("out_dir");
    s.dictionary_path = str("dictionary");
    at = "seed_dirs";
    s.seed_dirs = j.at(at).get<std::vector<std::string>>();
    at = "minimize_runs";
    s.minimize_runs = j.at(at).get<std::size_t>();
    s.minimize_time = ms(j, "minimize_time_ms");
    at = "reruns";
    s.reruns = j.at(at).get<int>();
    s.recover_wait = ms(j, "recover_wait_ms");
    s.defences_are_findings = j.value("defences_are_findings", false);
    s.report_every = ms(j, "report_every_ms");
    s.replay_target_hint = str("replay_target_hint");
    s.command_line = str("command_line");
    s.run_id = str("run_id");
    at = "run_started_unix_s";
    s.run_started_unix_s = j.at(at).get<double>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(std::string("child spec field ") + at +
                                      ": missing or of the wrong type");
  }
  if (s.out_dir.empty() || s.run_id.empty() || s.target.empty()) {
    return absl::InvalidArgumentError("the child spec has no target, out_dir or run_id");
  }
  return s;
}

ChildSpec ChildSpecOf(const FuzzConfig& config, const std::string& target,
                      const NetTargetOptions& net) {
  ChildSpec s;
  s.target = target;
  s.net = net;
  s.out_dir = config.out_dir;
  s.dictionary_path = FlagValue(config.libfuzzer_args, "dict").value_or("");
  s.seed_dirs = config.seed_dirs;
  s.minimize_runs = config.minimize_runs;
  s.minimize_time = config.minimize_time;
  s.reruns = config.reruns;
  s.recover_wait = config.recover_wait;
  s.defences_are_findings = config.defences_are_findings;
  s.report_every = config.report_every;
  s.replay_target_hint = config.replay_target_hint;
  s.command_line = config.command_line;
  s.run_id = harness::UtcNow("%Y%m%dT%H%M%SZ") + "-" + std::to_string(getpid());
  s.run_started_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return s;
}

absl::Status ExportChildSpec(FuzzConfig& config, const std::string& target,
                             const NetTargetOptions& net) {
  const ChildSpec spec = ChildSpecOf(config, target, net);
  absl::StatusOr<std::string> text = SerializeChildSpec(spec);
  if (!text.ok()) return text.status();
  if (setenv(kFuzzChildEnv, text->c_str(), /*overwrite=*/1) != 0) {
    return absl::InternalError(std::string("cannot set ") + kFuzzChildEnv);
  }
  config.role = FuzzConfig::Role::kParent;
  config.run_id = spec.run_id;
  config.run_started_unix_s = spec.run_started_unix_s;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SessionTarget>> MakeChildTarget(const ChildSpec& spec) {
  if (const std::optional<EmbeddedLabel> embedded = ParseEmbeddedLabel(spec.target)) {
    std::string error;
    std::unique_ptr<SessionTarget> t = MakeEmbeddedTarget(*embedded, &error);
    if (t == nullptr) return absl::InvalidArgumentError(error);
    return t;
  }
  absl::StatusOr<harness::Target> target = harness::ParseTarget(spec.target);
  if (!target.ok()) return target.status();
  return MakeNetTarget(*target, spec.net);
}

bool IsFuzzChild(int argc, char** argv) {
  return std::getenv(kFuzzChildEnv) != nullptr && argc >= 2 && argv[1][0] == '-';
}

int RunFuzzChild(int argc, char** argv) {
  const char* env = std::getenv(kFuzzChildEnv);
  const std::string text = env != nullptr ? env : "";
  unsetenv(kFuzzChildEnv);
  const auto fail = [](std::string_view why) {
    std::fprintf(stderr, "smtp-harness fuzz (child %ld): %.*s\n", static_cast<long>(getpid()),
                 static_cast<int>(why.size()), why.data());
    return 2;
  };
  absl::StatusOr<ChildSpec> spec = ParseChildSpec(text);
  if (!spec.ok()) return fail(std::string(spec.status().message()));
  absl::StatusOr<std::unique_ptr<SessionTarget>> target = MakeChildTarget(*spec);
  if (!target.ok()) return fail("--target: " + std::string(target.status().message()));
  FuzzConfig c;
  c.target = std::move(*target);
  // An exec: target with AFL++ coverage: the parent's map is in the
  // environment; each child counts into a map of its own.
  if (const char* map_size = std::getenv("AFL_MAP_SIZE"); map_size != nullptr &&
                                                          std::getenv("__AFL_SHM_ID") != nullptr &&
                                                          spec->target.rfind("exec:", 0) == 0) {
    absl::StatusOr<std::unique_ptr<AflCoverage>> afl =
        AflCoverage::CreateExported(static_cast<std::size_t>(std::strtoull(map_size, nullptr, 10)));
    if (!afl.ok()) return fail(std::string(afl.status().message()));
    c.afl = *std::move(afl);
  }
  c.out_dir = spec->out_dir;
  c.argv0 = argv[0];
  c.seed_dirs = spec->seed_dirs;
  std::string error;
  if (!spec->dictionary_path.empty() &&
      !ReadDictionary(spec->dictionary_path, &c.dictionary, &error)) {
    return fail("-dict: " + error);
  }
  c.command_line = spec->command_line;
  c.minimize_runs = spec->minimize_runs;
  c.minimize_time = spec->minimize_time;
  c.reruns = spec->reruns;
  c.recover_wait = spec->recover_wait;
  c.defences_are_findings = spec->defences_are_findings;
  c.report_every = spec->report_every;
  c.replay_target_hint = spec->replay_target_hint;
  c.role = FuzzConfig::Role::kChild;
  c.child_argv.assign(argv, argv + argc);
  c.run_id = spec->run_id;
  c.run_started_unix_s = spec->run_started_unix_s;
  return RunFuzzer(std::move(c));
}

int PrepareProcesses(FuzzConfig& config, std::vector<std::string>& args) {
  if (config.role == FuzzConfig::Role::kChild) return 0;
  for (const char* flag : {"merge", "minimize_crash"}) {
    if (HasFlag(args, flag)) {
      std::fprintf(stderr,
                   "smtp-harness fuzz: -%s is not supported (it re-runs the binary as libFuzzer "
                   "alone); -fork, -jobs and -workers are\n",
                   flag);
      return 2;
    }
  }
  const int fork = ProcessFlag(args, "fork"), jobs = ProcessFlag(args, "jobs"),
            workers = ProcessFlag(args, "workers");
  if (!WantsProcesses(args)) return 0;
  if (config.role != FuzzConfig::Role::kParent) {
    std::fprintf(stderr,
                 "smtp-harness fuzz: -fork/-jobs: this target cannot run in several processes\n");
    return 2;
  }
  if (fork > 0 && jobs > 0) {
    std::fprintf(stderr, "smtp-harness fuzz: -fork and -jobs: choose one\n");
    return 2;
  }
  // libFuzzer runs argv[0] through system(): this binary, by its path.
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) args[0] = self.string();
  if (const absl::Status st = ResetWorkers(config.out_dir); !st.ok()) {
    std::fprintf(stderr, "smtp-harness fuzz: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  ParentRun parent;
  parent.out_dir = config.out_dir;
  parent.target = config.target->Label();
  parent.command_line = config.command_line;
  parent.libfuzzer_args = config.libfuzzer_args;
  parent.run_id = config.run_id;
  parent.mode = fork > 0 ? "fork" : "jobs";
  // As libFuzzer decides: -jobs without -workers runs half the cores' worth.
  const int half_cores = static_cast<int>(std::thread::hardware_concurrency() / 2);
  parent.parallel = fork > 0      ? fork
                    : workers > 0 ? workers
                                  : std::max(1, std::min(half_cores, jobs));
  parent.report_every = config.report_every;
  if (config.work_corpus != nullptr) {
    parent.on_report = [wc = config.work_corpus](bool final) { wc->SyncOrClose(final, Console()); };
  }
  StartParentReport(std::move(parent));
  return 0;
}

}  // namespace smtp::fuzz
