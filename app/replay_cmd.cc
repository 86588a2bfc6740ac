// smtp-harness replay: sends the client side of recorded sessions to a
// target and compares the replies with the recorded ones
// (harness/replay/replay.h).
//
//   replay SESSION... [--target HOST:PORT|tls:H:P|lmtp:H:P|exec:CMD]
//          [--compare code|enhanced|text] [--timing fast|original]
//          [--rules FILE] [--helo NAME] [--keep_ids] [--jobs N] [--out DIR]
//
// SESSION: session files (record, import-pcap, fuzz findings), directories
// of them, or a run's results.json. Without --target: the embedded server.
// Writes DIR/results.json, junit.xml and index.html (a side-by-side diff per
// session). Exit status: 0 nothing differs at the --compare level, 1 a
// session differs, 2 a harness error (unreadable session, target down).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "app/live_run.h"
#include "app/subcommand.h"
#include "harness/replay/replay.h"
#include "harness/run/embedded_target.h"
#include "harness/run/run_setup.h"
#include "harness/runner/progress.h"
#include "harness/runner/runner.h"
#include "harness/wall_clock.h"
#include "parser/leniency.h"
#include "results/absl_compat.h"
#include "results/session_file.h"

ABSL_DECLARE_FLAG(std::string, target);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(int, jobs);
ABSL_DECLARE_FLAG(int, timeout_ms);
ABSL_DECLARE_FLAG(std::string, helo);
ABSL_DECLARE_FLAG(std::string, target_name);
ABSL_DECLARE_FLAG(absl::Duration, progress_every);
ABSL_DECLARE_FLAG(std::string, auth_user);
ABSL_DECLARE_FLAG(std::string, auth_password);
ABSL_DECLARE_FLAG(std::string, auth_file);
ABSL_DECLARE_FLAG(std::int64_t, session_timeout_ms);

ABSL_FLAG(std::string, compare, "enhanced",
          "replay: the level at which replies must agree: code, enhanced (code and RFC 3463 "
          "enhanced code) or text (also the text, after the normalization rules)");
ABSL_FLAG(std::string, timing, "fast",
          "replay: fast (send as soon as the replies are in) or original (keep the recording's "
          "pauses between sends)");
ABSL_FLAG(
    std::string, rules, "",
    "replay: normalization rules JSON file, applied after the built-in ones (docs/replay.md)");
ABSL_FLAG(bool, keep_ids, false,
          "replay: send message bodies as recorded (default: fresh Message-ID and Date fields)");

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxListed = 50;

int Fail(const std::string& message) {
  std::fprintf(stderr, "smtp-harness replay: %s\n", message.c_str());
  return 2;
}

std::string CommandLine(const std::vector<std::string>& args) {
  std::string s = "smtp-harness replay";
  const auto add = [&](const char* flag, const std::string& value) {
    if (!value.empty()) s += std::string(" --") + flag + " " + value;
  };
  add("target", absl::GetFlag(FLAGS_target));
  add("compare", absl::GetFlag(FLAGS_compare));
  add("timing", absl::GetFlag(FLAGS_timing));
  add("rules", absl::GetFlag(FLAGS_rules));
  add("helo", absl::GetFlag(FLAGS_helo));
  add("auth_user", absl::GetFlag(FLAGS_auth_user));
  add("auth_password", absl::GetFlag(FLAGS_auth_password).empty() ? "" : "***");
  add("auth_file", absl::GetFlag(FLAGS_auth_file));
  if (absl::GetFlag(FLAGS_keep_ids)) s += " --keep_ids";
  add("out", absl::GetFlag(FLAGS_out));
  return s + " " + absl::StrJoin(args, " ");
}

absl::StatusOr<replay::ReplayOptions> OptionsFromFlags() {
  replay::ReplayOptions o;
  if (!replay::ParseLevel(absl::GetFlag(FLAGS_compare), &o.level)) {
    return absl::InvalidArgumentError("--compare: '" + absl::GetFlag(FLAGS_compare) +
                                      "' is not code, enhanced or text");
  }
  const std::string timing = absl::GetFlag(FLAGS_timing);
  if (timing != "fast" && timing != "original") {
    return absl::InvalidArgumentError("--timing: '" + timing + "' is not fast or original");
  }
  o.original_timing = timing == "original";
  if (!absl::GetFlag(FLAGS_rules).empty()) {
    absl::StatusOr<replay::Normalizer> n = replay::Normalizer::FromFile(absl::GetFlag(FLAGS_rules));
    if (!n.ok()) return absl::InvalidArgumentError("--rules: " + Message(n.status()));
    o.normalizer = *std::move(n);
  }
  const int jobs = absl::GetFlag(FLAGS_jobs) == 0 ? 4 : absl::GetFlag(FLAGS_jobs);  // 0: automatic
  if (jobs < 1 || jobs > 1024) return absl::InvalidArgumentError("--jobs out of range (1..1024)");
  o.jobs = jobs;
  if (absl::GetFlag(FLAGS_timeout_ms) <= 0 || absl::GetFlag(FLAGS_session_timeout_ms) <= 0) {
    return absl::InvalidArgumentError("timeouts must be positive");
  }
  o.step_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  o.session_timeout = std::chrono::milliseconds(absl::GetFlag(FLAGS_session_timeout_ms));
  o.rewrite.helo = absl::GetFlag(FLAGS_helo);
  // Credentials for the AUTH exchanges the recording redacted.
  run::ProfileOverrides creds;
  if (!absl::GetFlag(FLAGS_auth_file).empty()) {
    if (absl::Status s = run::ReadCredentialsFile(absl::GetFlag(FLAGS_auth_file), &creds);
        !s.ok()) {
      return s;
    }
  }
  if (!absl::GetFlag(FLAGS_auth_user).empty()) creds.user = absl::GetFlag(FLAGS_auth_user);
  if (!absl::GetFlag(FLAGS_auth_password).empty())
    creds.password = absl::GetFlag(FLAGS_auth_password);
  o.rewrite.auth_user = creds.user.value_or("");
  o.rewrite.auth_password = creds.password.value_or("");
  o.rewrite.fresh_ids = !absl::GetFlag(FLAGS_keep_ids);
  return o;
}

// ", 2 not replayable: capture gap" / ", 3 not replayable (2 capture gap, 1
// truncated recording)"; "" when every session was replayed.
std::string NotReplayable(const harness::RunResult& result) {
  std::map<std::string, int> kinds;
  int n = 0;
  for (const harness::ScenarioResult& r : result.scenarios) {
    if (r.verdict != harness::Verdict::kSkip) continue;
    const std::string kind = replay::NotReplayableKind(r);
    ++kinds[kind.empty() ? std::string("skipped") : kind];
    ++n;
  }
  if (n == 0) return {};
  if (kinds.size() == 1)
    return ", " + std::to_string(n) + " not replayable: " + kinds.begin()->first;
  std::string out = ", " + std::to_string(n) + " not replayable (";
  for (const auto& [kind, count] : kinds) {
    if (out.back() != '(') out += ", ";
    out += std::to_string(count) + " " + kind;
  }
  return out + ")";
}

}  // namespace

int RunReplay(const std::vector<std::string>& args) {
  BlockStopSignals();
  if (args.empty()) return Fail("name the sessions to replay (files, directories, results.json)");
  absl::StatusOr<replay::ReplayOptions> options = OptionsFromFlags();
  if (!options.ok()) return Fail(Message(options.status()));
  absl::StatusOr<std::vector<harness::NamedTranscript>> sessions = harness::ReadSessions(args);
  if (!sessions.ok()) return Fail(Message(sessions.status()));

  // Every session needs credentials that were not given: a usage error,
  // not a run of skips. (The embedded server lends its own test account.)
  if (!absl::GetFlag(FLAGS_target).empty() && !sessions->empty()) {
    std::string why;
    for (const harness::NamedTranscript& s : *sessions) {
      why = replay::NeedsCredentials(replay::BuildPlan(s.transcript), options->rewrite);
      if (why.empty()) break;
    }
    if (!why.empty()) {
      return Fail("no session can be replayed: " +
                  why.substr(std::string_view("not replayable: ").size()));
    }
  }

  std::optional<run::EmbeddedTarget> embedded;
  harness::Target target;
  std::string label = absl::GetFlag(FLAGS_target);
  if (label.empty()) {
    absl::StatusOr<run::EmbeddedTarget> started = run::StartEmbeddedTarget();
    if (!started.ok()) return Fail("embedded server: " + Message(started.status()));
    embedded = *std::move(started);
    label = embedded->Label();
    if (options->rewrite.auth_user.empty() && options->rewrite.auth_password.empty()) {
      options->rewrite.auth_user = embedded->user;  // the embedded server's test account
      options->rewrite.auth_password = embedded->password;
    }
    target.host = embedded->endpoint.address;
    target.port = embedded->endpoint.port;
    std::fprintf(stderr, "smtp-harness replay: no --target: embedded server (strict) on %s\n",
                 embedded->endpoint.ToString().c_str());
  } else {
    absl::StatusOr<harness::Target> parsed = harness::ParseTarget(label);
    if (!parsed.ok()) return Fail("--target: " + Message(parsed.status()));
    target = *parsed;
  }

  std::string error;
  const std::string out_dir = MakeOutDir(absl::GetFlag(FLAGS_out), "replay", &error);
  if (!error.empty()) return Fail(error);

  // A terminal gets one line redrawn; a log (CI) a line every --progress_every.
  runner::ProgressPrinter printer = runner::ProgressPrinter::For(
      stderr,
      std::chrono::milliseconds(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_progress_every))));
  std::atomic<bool> stop{false};
  options->stop = &stop;
  std::atomic<Leniencies> leniencies{kStrict};
  options->leniencies_seen = &leniencies;
  std::mutex mu;
  harness::RunResult so_far;  // guarded by mu: the snapshot
  so_far.fail_on = {"replay"};
  so_far.complete = false;
  so_far.planned = static_cast<int>(sessions->size());
  const std::string started_at = harness::UtcNow("%Y-%m-%dT%H:%M:%SZ");
  LiveRunOptions live;
  live.out_dir = out_dir;
  live.snapshot = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return so_far;
  };
  live.stop = [&](std::string reason) {
    std::lock_guard<std::mutex> lock(mu);
    so_far.stopped = std::move(reason);
    stop = true;
  };
  live.tick = [&printer] { printer.Tick(); };
  live.finalize = [&](harness::RunResult& r) {
    r.tool_version = runner::ToolVersion();
    r.started_at = started_at;
    r.command_line = CommandLine(args);
    r.target.target = label;
    r.target.name = absl::GetFlag(FLAGS_target_name);
    if (r.target.name.empty() && embedded) r.target.name = "embedded";
  };
  LiveRun live_run(std::move(live));
  harness::RunResult result;
  try {
    result = replay::ReplayAll(*sessions, target, *options, [&](const harness::ScenarioResult& r) {
      std::lock_guard<std::mutex> lock(mu);
      so_far.scenarios.push_back(r);
      printer.Update(so_far.Totals(), so_far.planned);
    });
  } catch (const std::exception& e) {
    printer.Finish();
    return Fail(std::string("internal error: ") + e.what());
  }
  printer.Finish();
  if (embedded) embedded->Stop();
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!so_far.stopped.empty()) result.stopped = so_far.stopped;
  }
  const int status = live_run.Finish(result);
  std::printf("%s\n%s\n", (fs::path(out_dir) / "index.html").c_str(),
              (fs::path(out_dir) / "results.json").c_str());
  const harness::Counts c = result.Totals();
  std::printf(
      "%d sessions replayed against %s: %d the same, %d differ at the %s level%s, %d errors\n",
      c.total(), label.c_str(), c.pass, c.fail, absl::GetFlag(FLAGS_compare).c_str(),
      NotReplayable(result).c_str(), c.error);
  if (const Leniencies l = leniencies.load(); l != kStrict) {
    std::string names;
    ForEachLeniency(
        l, [&](std::string_view n) { names += (names.empty() ? "" : ", ") + std::string(n); });
    std::printf(
        "note: the target's replies needed leniency (%s); read with it, as `run` reads a target "
        "whose preflight shows the quirk\n",
        names.c_str());
  }
  std::size_t listed = 0;
  for (const harness::ScenarioResult& r : result.scenarios) {
    if (r.verdict == harness::Verdict::kPass || ++listed > kMaxListed) continue;
    const char* what = r.verdict == harness::Verdict::kFail   ? "DIFF "
                       : r.verdict == harness::Verdict::kSkip ? "SKIP "
                                                              : "ERROR";
    std::printf("  %s %s: %s\n", what, r.id.c_str(),
                r.failure ? r.failure->message.c_str() : r.reason.c_str());
  }
  if (!result.stopped.empty()) std::printf("stopped: %s\n", result.stopped.c_str());
  return status;
}

}  // namespace smtp::app
