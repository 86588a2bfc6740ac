#include "fuzz/client/client_fuzzer.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fuzz/client/client_oracle.h"
#include "fuzz/client/reply_mutator.h"
#include "fuzz/client/reply_script.h"
#include "fuzz/net/rng.h"
#include "fuzz/net/run_control.h"
#include "harness/client/client_scenario.h"
#include "harness/tls_cert.h"
#include "reports/fuzz_report.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"
#include "results/session_file.h"
#include "results/transcript.h"

namespace smtp::fuzz::client {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kReruns = 3;
constexpr auto kStatusEvery = std::chrono::seconds(5);
constexpr std::size_t kFocusRuns = 32;

// The message the client is asked to send: lines that need dot-stuffing,
// so the message oracle sees a client that gets it wrong.
constexpr std::string_view kFuzzMessage =
    "From: Sender <sender@client.test>\r\n"
    "To: Recipient <rcpt@server.test>\r\n"
    "Subject: smtp-harness fuzz --client\r\n"
    "\r\n"
    "A line.\r\n"
    ".A line that starts with a dot.\r\n"
    "..Two dots.\r\n"
    ".\r\n"
    "The last line.\r\n";

bool WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

void Say(const std::string& line) {
  std::fprintf(Console(), "smtp-harness fuzz --client: %s\n", line.c_str());
  std::fflush(Console());
}

// AFL's hit-count buckets: a count says "about how often", as one bit.
std::uint8_t Bucket(std::uint8_t n) {
  if (n == 0) return 0;
  if (n == 1) return 1;
  if (n == 2) return 2;
  if (n == 3) return 4;
  if (n < 8) return 8;
  if (n < 16) return 16;
  if (n < 32) return 32;
  if (n < 128) return 64;
  return 128;
}

// Coverage and state feedback over the run.
class Feedback {
 public:
  explicit Feedback(AflCoverage* afl) : afl_(afl) {
    if (afl_ != nullptr) virgin_.assign(afl_->map().size(), 0);
  }
  void Clear() {
    if (afl_ != nullptr) std::memset(afl_->map().data(), 0, afl_->map().size());
  }
  // Whether the iteration did something new; updates the totals.
  bool Add(const Iteration& it) {
    bool fresh = false;
    if (afl_ != nullptr) {
      const std::span<std::uint8_t> map = afl_->map();
      for (std::size_t i = 0; i < map.size(); ++i) {
        if (map[i] == 0) continue;
        const std::uint8_t b = Bucket(map[i]);
        if ((virgin_[i] & b) == 0) {
          if (virgin_[i] == 0) ++edges_;
          virgin_[i] |= b;
          fresh = true;
        }
      }
    }
    // State: successive commands, the end, the violations.
    const std::vector<std::string>& c = it.record.commands;
    std::string prev = "^";
    for (std::size_t i = 0; i <= c.size(); ++i) {
      const std::string next = i < c.size() ? c[i] : it.outcome.Describe().substr(0, 12);
      fresh = states_.insert(prev + ">" + next).second || fresh;
      prev = i < c.size() ? c[i] : "";
    }
    for (const smtp::client::Violation& v : it.record.violations) {
      fresh = states_.insert("violation:" + v.kind).second || fresh;
    }
    return fresh;
  }
  std::size_t edges() const { return edges_; }
  std::size_t states() const { return states_.size(); }

 private:
  AflCoverage* afl_;
  std::vector<std::uint8_t> virgin_;
  std::size_t edges_ = 0;
  std::set<std::string> states_;
};

struct Finding {
  Verdict verdict;
  ServerScript script;  // minimized
  std::size_t units_before = 0, units_after = 0, minimize_runs = 0;
  int reproduced = 0;
  std::uint64_t count = 1;
  double first_at_s = 0;
  std::uint64_t first_at_session = 0;
  std::string outcome, stderr_head, commands;
  std::string dir;  // relative to OUT
  std::string replay;
};

class Fuzzer {
 public:
  explicit Fuzzer(ClientFuzzConfig c) : c_(std::move(c)), rng_(c_.seed), feedback_(c_.afl.get()) {}

  int Run();

 private:
  absl::StatusOr<Iteration> Once(const ServerScript& s) {
    feedback_.Clear();
    ++sessions_;
    return RunIteration(s, env_);
  }
  bool Budget() const {
    if (StopSignal() != 0) return false;
    if (c_.runs && sessions_ >= *c_.runs) return false;
    return Clock::now() < started_ + c_.max_total_time;
  }
  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }
  void OnVerdict(const ServerScript& s, const Iteration& it, const Verdict& v);
  ServerScript Minimize(const ServerScript& s, const std::string& bucket, Finding* f);
  void WriteFinding(Finding& f);
  bool WriteFuzzJson(bool complete, const std::string& stop_reason);
  void Status();

  ClientFuzzConfig c_;
  Rng rng_;
  Feedback feedback_;
  IterationEnv env_;
  Clock::time_point started_ = Clock::now();
  std::uint64_t sessions_ = 0, unconfirmed_ = 0, finding_sessions_ = 0;
  std::vector<ServerScript> corpus_;
  std::vector<std::vector<std::string>> corpus_sent_;  // the verbs each entry's client sent
  std::size_t focus_ = 0, focus_left_ = 0;             // the entry being followed up
  std::map<std::string, Finding> findings_;
  std::map<std::string, std::uint64_t> unconfirmed_hits_;
  json timeline_ = json::array();
  std::mutex running_mu_;
  smtp::client::ClientProcess* running_ = nullptr;
};

void CrossOver(ServerScript* s, const ServerScript& other) {
  if (other.extensions) {
    std::vector<std::string>& e =
        s->extensions ? *s->extensions : s->extensions.emplace(*other.extensions);
    for (const std::string& x : *other.extensions) {
      if (std::find(e.begin(), e.end(), x) == e.end() && e.size() < 24) e.push_back(x);
    }
  }
  for (const auto& [key, list] : other.replies) s->replies.emplace(key, list);
}

ServerScript Fuzzer::Minimize(const ServerScript& s, const std::string& bucket, Finding* f) {
  ServerScript best = s;
  f->units_before = ScriptSize(s);
  const Clock::time_point until = Clock::now() + c_.minimize_time;
  bool changed = true;
  // Greedy: take out one unit at a time while the bucket stays. After a
  // success the units are listed again and the pass goes on at the same
  // position (the units before it failed already), so a pass costs about
  // one run per unit; passes until one takes nothing out, within the bounds.
  while (changed) {
    changed = false;
    std::vector<ScriptUnit> units = ScriptUnits(best);
    for (std::size_t pos = 0; pos < units.size();) {
      if (f->minimize_runs >= c_.minimize_runs || Clock::now() >= until || StopSignal() != 0) {
        f->units_after = ScriptSize(best);
        return best;
      }
      ServerScript candidate = WithoutUnit(best, units[pos]);
      ++f->minimize_runs;
      absl::StatusOr<Iteration> it = Once(candidate);
      const std::optional<Verdict> v = it.ok() ? Judge(*it, candidate, env_.message) : std::nullopt;
      if (v && v->bucket == bucket) {
        best = std::move(candidate);
        changed = true;
        units = ScriptUnits(best);
      } else {
        ++pos;
      }
    }
  }
  f->units_after = ScriptSize(best);
  return best;
}

void Fuzzer::OnVerdict(const ServerScript& s, const Iteration& it, const Verdict& v) {
  ++finding_sessions_;
  if (auto found = findings_.find(v.bucket); found != findings_.end()) {
    ++found->second.count;
    return;
  }
  std::uint64_t& hits = unconfirmed_hits_[v.bucket];
  ++hits;
  // A bucket that did not reproduce is tried again at its 2^k-th hit only.
  if (hits > 1 && (hits & (hits - 1)) != 0) return;
  int reproduced = 0;
  for (int i = 0; i < kReruns; ++i) {
    absl::StatusOr<Iteration> again = Once(s);
    if (!again.ok()) continue;
    const std::optional<Verdict> w = Judge(*again, s, env_.message);
    if (w && w->bucket == v.bucket) ++reproduced;
  }
  if (reproduced == 0) {
    ++unconfirmed_;
    Say(absl::StrCat("unconfirmed ", v.bucket, " (0/", kReruns, " re-runs): ", v.detail));
    return;
  }
  unconfirmed_hits_.erase(v.bucket);
  Finding f;
  f.verdict = v;
  f.reproduced = reproduced;
  f.first_at_s = Elapsed();
  f.first_at_session = sessions_;
  f.script = Minimize(s, v.bucket, &f);
  // The files show the minimized run.
  absl::StatusOr<Iteration> last = Once(f.script);
  const Iteration& shown = last.ok() ? *last : it;
  f.outcome = shown.outcome.Describe();
  f.stderr_head = shown.outcome.stderr_head;
  f.commands = absl::StrJoin(shown.record.commands, " ");
  f.dir = "findings/" + v.bucket;
  f.replay = absl::StrCat("smtp-harness fuzz --client ", c_.profile_path, " --mode ",
                          AV(smtp::client::ClientModeName(c_.mode)), " --reproduce ", c_.out_dir,
                          "/", f.dir);
  const fs::path dir = fs::path(c_.out_dir) / f.dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  bool ok = !ec;
  ok = ok && WriteFile((dir / "scenario.json").string(),
                       ScenarioFileFor(f.script, c_.mode, "fuzz." + v.bucket,
                                       "fuzz --client finding " + v.bucket, env_.message));
  ok = ok && harness::WriteSessionFile(shown.transcript, (dir / "session.json").string()).ok();
  ok = ok && WriteFile((dir / "stderr.txt").string(), f.stderr_head);
  Say(absl::StrCat("FINDING ", v.bucket, " (", reproduced == kReruns ? "deterministic" : "flaky",
                   ", reproduced ", reproduced, "/", kReruns, ", ", f.units_before, " -> ",
                   f.units_after, " items): ", v.detail));
  for (const std::string& d : DescribeScript(f.script)) Say("  " + d);
  Say("  replay: " + f.replay);
  findings_.emplace(v.bucket, std::move(f));
  WriteFinding(findings_.at(v.bucket));
  if (!ok) Say("cannot write the files of " + v.bucket + " under " + dir.string());
}

void Fuzzer::WriteFinding(Finding& f) {
  json j = {{"bucket", f.verdict.bucket},
            {"oracle", f.verdict.oracle},
            {"kind", f.verdict.kind},
            {"detail", f.verdict.detail},
            {"client_outcome", f.outcome},
            {"client_commands", f.commands},
            {"reproduced", f.reproduced},
            {"reruns", kReruns},
            {"deterministic", f.reproduced == kReruns},
            {"steps", absl::StrJoin(DescribeScript(f.script), "\n")},
            {"script", ScriptToJson(f.script)},
            {"replay", f.replay},
            {"mode", std::string(smtp::client::ClientModeName(c_.mode))}};
  WriteFile((fs::path(c_.out_dir) / f.dir / "finding.json").string(), j.dump(2) + "\n");
}

bool Fuzzer::WriteFuzzJson(bool complete, const std::string& stop_reason) {
  const double s = Elapsed();
  json stats = {{"sessions", sessions_},
                {"sessions_per_s", s > 0 ? static_cast<double>(sessions_) / s : 0.0},
                {"coverage_source", c_.afl ? "afl" : "none"},
                {"server_coverage", feedback_.edges()},
                {"client_coverage", feedback_.edges()},
                {"response_states", feedback_.states()},
                {"client_states", feedback_.states()},
                {"corpus", corpus_.size()},
                {"unconfirmed", unconfirmed_},
                {"finding_sessions", finding_sessions_},
                {"elapsed_s", s}};
  json findings = json::array();
  for (const auto& [bucket, f] : findings_) {
    findings.push_back(
        {{"bucket", bucket},
         {"oracle", f.verdict.oracle},
         {"kind", f.verdict.kind},
         {"detail", f.verdict.detail},
         {"reply", f.verdict.detail},
         {"verb", f.commands.empty() ? "none" : f.commands.substr(f.commands.rfind(' ') + 1)},
         {"count", f.count},
         {"first_at_s", f.first_at_s},
         {"first_at_session", f.first_at_session},
         {"deterministic", f.reproduced == kReruns},
         {"reproduced", f.reproduced},
         {"reruns", kReruns},
         {"steps", absl::StrJoin(DescribeScript(f.script), "\n")},
         {"minimize",
          {{"runs", f.minimize_runs},
           {"steps_before", f.units_before},
           {"steps_after", f.units_after},
           {"bytes_before", 0},
           {"bytes_after", 0}}},
         {"dir", f.dir},
         {"replay", f.replay}});
  }
  json doc = {{"target", "client:" + c_.profile.name},
              {"client", c_.profile.name},
              {"mode", std::string(smtp::client::ClientModeName(c_.mode))},
              {"complete", complete},
              {"seed", c_.seed},
              {"stats", stats},
              {"timeline", timeline_},
              {"findings", findings}};
  if (!stop_reason.empty()) doc["stop_reason"] = stop_reason;
  if (!smtp::WriteFileAtomic((fs::path(c_.out_dir) / "fuzz.json").string(), doc.dump(2) + "\n")
           .ok()) {
    return false;
  }
  return reports::WriteFuzzReport(c_.out_dir).ok();
}

void Fuzzer::Status() {
  const double s = Elapsed();
  timeline_.push_back({{"t", s},
                       {"sessions", sessions_},
                       {"coverage", feedback_.edges()},
                       {"states", feedback_.states()},
                       {"findings", findings_.size()}});
  Say(absl::StrCat(static_cast<int>(s), " s, ", sessions_, " runs (",
                   static_cast<int>(s > 0 ? static_cast<double>(sessions_) / s : 0), "/s), ",
                   c_.afl ? absl::StrCat("client coverage ", feedback_.edges(), " edges, ") : "",
                   "client states ", feedback_.states(), ", corpus ", corpus_.size(), ", findings ",
                   findings_.size()));
  WriteFuzzJson(false, "");
}

int Fuzzer::Run() {
  std::error_code ec;
  fs::create_directories(c_.out_dir, ec);
  if (ec) {
    Say("cannot create " + c_.out_dir + ": " + ec.message());
    return 2;
  }
  absl::StatusOr<harness::CertAndKey> cert = harness::MakeSelfSignedCert("localhost");
  if (!cert.ok()) {
    Say("certificate: " + Message(cert.status()));
    return 2;
  }
  env_.profile = &c_.profile;
  env_.mode = c_.mode;
  env_.message = std::string(kFuzzMessage);
  env_.message_path = (fs::path(c_.out_dir) / "message.eml").string();
  env_.cafile = (fs::path(c_.out_dir) / "harness-ca.pem").string();
  env_.cert = *cert;
  if (!WriteFile(env_.message_path, env_.message) || !WriteFile(env_.cafile, cert->cert_pem)) {
    Say("cannot write the message file under " + c_.out_dir);
    return 2;
  }
  env_.running = [this](smtp::client::ClientProcess* p) {
    std::lock_guard<std::mutex> lock(running_mu_);
    running_ = p;
  };
  fs::create_directories(fs::path(c_.out_dir) / "corpus", ec);
  InstallStopHandlers();
  // A stop request ends a client that is still running at once.
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (StopSignal() != 0) {
        std::lock_guard<std::mutex> lock(running_mu_);
        if (running_ != nullptr) running_->Stop();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  Say(absl::StrCat("client ", c_.profile.name, ", mode ", AV(smtp::client::ClientModeName(c_.mode)),
                   ", seed ", c_.seed, c_.afl ? ", AFL++ coverage map shared (__AFL_SHM_ID)" : "",
                   ", out ", c_.out_dir));

  // Seeds: the default server, then the scripts of the seed files.
  std::vector<ServerScript> seeds = {ServerScript{}};
  for (const std::string& f : c_.seed_files) {
    absl::StatusOr<smtp::client::ClientScenario> s = ReadScenarioFile(f);
    if (!s.ok()) {
      Say("seed " + f + ": " + Message(s.status()));
      continue;
    }
    seeds.push_back(s->server);
  }
  Clock::time_point next_status = Clock::now() + kStatusEvery;
  std::size_t seed_index = 0;
  int setup_errors = 0;
  while (Budget()) {
    ServerScript s;
    if (seed_index < seeds.size()) {
      s = seeds[seed_index++];
    } else {
      // A parent: a new entry first gets kFocusRuns children of its own
      // (AFL's energy for fresh finds: a step towards a deep state is
      // followed up at once); else one biased to the newest entries. Then
      // 1-4 mutations.
      const std::size_t n = corpus_.size();
      std::size_t pick = 0;
      if (focus_left_ > 0 && focus_ < n) {
        pick = focus_;
        --focus_left_;
      } else if (n > 0 && rng_.OneIn(3)) {
        pick = n - 1 - rng_.Below(std::min<std::size_t>(n, 4));
      } else if (n > 0) {
        // Of two at random, the one whose client got further (sent more
        // commands): a parent that stops at MAIL rarely reaches RCPT.
        pick = rng_.Below(n);
        const std::size_t other = rng_.Below(n);
        if (corpus_sent_[other].size() > corpus_sent_[pick].size()) pick = other;
      }
      std::vector<std::string> sent;
      if (n > 0) {
        s = corpus_[pick];
        sent = corpus_sent_[pick];
      }
      // Crossover: what another entry found (its extensions, its replies
      // for commands this one does not script) joins this one, so two
      // steps found apart meet.
      if (n > 1 && rng_.OneIn(6)) CrossOver(&s, corpus_[rng_.Below(n)]);
      const std::size_t mutations = 1 + rng_.Below(focus_left_ > 0 ? 2 : 4);
      for (std::size_t i = 0; i < mutations; ++i) MutateScript(&s, c_.mode, rng_, sent);
    }
    absl::StatusOr<Iteration> it = Once(s);
    if (!it.ok()) {
      Say("iteration: " + Message(it.status()));
      if (++setup_errors >= 10) break;
      continue;
    }
    // The first run meets the default server: a client that never
    // connects (a wrong command: exit 127) makes every run meaningless.
    if (sessions_ == 1 && it->record.connections == 0) {
      std::string err = it->outcome.stderr_head.substr(0, 300);
      Say(absl::StrCat(
          "the client never connected to the fuzzer (", it->outcome.Describe(),
          ") with: ", it->command,
          err.empty() ? "" : absl::StrCat("; its stderr: ", harness::EscapeBytes(err))));
      setup_errors = 10;
      break;
    }
    const bool fresh = feedback_.Add(*it);
    if (const std::optional<Verdict> v = Judge(*it, s, env_.message)) {
      OnVerdict(s, *it, *v);
    } else if (fresh) {
      corpus_.push_back(s);
      corpus_sent_.push_back(it->record.commands);
      // Kept on disk too: `--seeds OUT/corpus` starts the next run here.
      const std::string name = absl::StrCat(corpus_.size(), ".json");
      WriteFile((fs::path(c_.out_dir) / "corpus" / name).string(),
                ScenarioFileFor(s, c_.mode, absl::StrCat("fuzz.corpus.", corpus_.size()),
                                "fuzz --client corpus entry", env_.message));
      focus_ = corpus_.size() - 1;
      focus_left_ = kFocusRuns;
    }
    if (Clock::now() >= next_status) {
      Status();
      next_status = Clock::now() + kStatusEvery;
    }
  }
  done.store(true);
  watcher.join();
  const int sig = StopSignal();
  const std::string reason =
      sig != 0 ? StopReason(sig)
               : (c_.runs && sessions_ >= *c_.runs ? "-runs reached" : "-max_total_time reached");
  Status();
  const bool written = WriteFuzzJson(true, reason);
  Say(absl::StrCat("done (", reason, "): ", sessions_, " runs, ", findings_.size(),
                   " finding(s) in ", c_.out_dir, "/findings"));
  if (!written) Say("fuzz.json or index.html could not be written in " + c_.out_dir);
  if (sig != 0) return 128 + sig;
  if (setup_errors >= 10) return 2;
  return written ? 0 : 1;
}

}  // namespace

int RunClientFuzzer(ClientFuzzConfig config) { return Fuzzer(std::move(config)).Run(); }

int ReproduceClientFinding(const smtp::client::ClientProfile& profile,
                           std::optional<smtp::client::ClientMode> mode, const std::string& path,
                           int times) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const std::string scenario_path = is_dir ? (fs::path(path) / "scenario.json").string() : path;
  absl::StatusOr<smtp::client::ClientScenario> scenario = ReadScenarioFile(scenario_path);
  if (!scenario.ok()) {
    Say("--reproduce: " + Message(scenario.status()));
    return 2;
  }
  std::string expected;  // the bucket, from finding.json
  if (is_dir) {
    std::ifstream in(fs::path(path) / "finding.json");
    json j = json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("bucket") && j["bucket"].is_string()) {
      expected = j["bucket"].get<std::string>();
    }
  }
  const smtp::client::ClientMode m = mode.value_or(scenario->mode);
  if (!profile.has(m)) {
    Say(absl::StrCat("the profile has no \"", AV(smtp::client::ClientModeName(m)), "\" command"));
    return 2;
  }
  const fs::path work =
      fs::temp_directory_path() / absl::StrCat("smtp-harness-reproduce-", ::getpid());
  fs::create_directories(work, ec);
  absl::StatusOr<harness::CertAndKey> cert = harness::MakeSelfSignedCert("localhost");
  if (ec || !cert.ok()) {
    Say("cannot prepare " + work.string());
    return 2;
  }
  IterationEnv env;
  env.profile = &profile;
  env.mode = m;
  env.message = scenario->message;
  env.message_path = (work / "message.eml").string();
  env.cafile = (work / "harness-ca.pem").string();
  env.cert = *cert;
  if (!WriteFile(env.message_path, env.message) || !WriteFile(env.cafile, cert->cert_pem)) {
    Say("cannot write under " + work.string());
    return 2;
  }
  int hits = 0;
  for (int i = 0; i < times; ++i) {
    absl::StatusOr<Iteration> it = RunIteration(scenario->server, env);
    if (!it.ok()) {
      Say("run: " + Message(it.status()));
      fs::remove_all(work, ec);
      return 2;
    }
    const std::optional<Verdict> v = Judge(*it, scenario->server, env.message);
    const bool hit = v && (expected.empty() || v->bucket == expected);
    hits += hit ? 1 : 0;
    Say(absl::StrCat("run ", i + 1, "/", times, ": ",
                     v ? absl::StrCat(v->bucket, ": ", v->detail)
                       : absl::StrCat("no finding (client ", it->outcome.Describe(), ")")));
  }
  fs::remove_all(work, ec);
  Say(absl::StrCat(hits > 0 ? "REPRODUCED " : "NOT REPRODUCED ",
                   expected.empty() ? "a finding" : expected, ": ", hits, "/", times, " runs"));
  return hits > 0 ? 0 : 1;
}

}  // namespace smtp::fuzz::client
