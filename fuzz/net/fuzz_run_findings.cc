#include "fuzz/net/fuzz_run.h"

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
#include "results/atomic_file.h"
#include "results/session_file.h"
#include "results/transcript.h"

namespace smtp::fuzz::internal {

namespace fs = std::filesystem;

void Run::OnFinding(const SessionInput& input, const SessionResult& r) {
  const std::string raw_bucket = Bucket(r.verdict);
  const std::string route = RouteOf(r.verdict, !c_.target->started_by_us());
  if (auto seen = raw_buckets_.find(raw_bucket); seen != raw_buckets_.end()) {
    ++finding_sessions_;
    Finding& known = findings_.at(seen->second);
    ++known.count;
    ++known.routes[route];
    RetryFlaky(known, input, r, raw_bucket);
    return;
  }
  // A drop already shown to be an announced close is counted as that
  // defence (re-checked at every 2^k-th hit), before anything else: its
  // rare drops that reproduce no longer are not unconfirmed hits.
  const bool refused_then_dropped =
      r.verdict.kind == VerdictKind::kDropped && r.verdict.last_code >= 400;
  if (refused_then_dropped && announced_buckets_.contains(raw_bucket) &&
      AnnouncedNotDropped(input, raw_bucket)) {
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
  if (refused_then_dropped && !announced_buckets_.contains(raw_bucket) &&
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
  if (UnlocatedCrash(f.verdict)) {
    f.session = minimal;
    if (f.deterministic) f.killing_line = KillingLine(minimal);
    MergeByKillingLine(f);
  }
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

std::string Run::Bucket(const Verdict& v) const {
  if (v.signature.empty() && !c_.target->started_by_us()) return ForeignBucketOf(v);
  return BucketOf(v);
}

void Run::KeepUnconfirmed(const SessionInput& input, const SessionResult& r,
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
        smtp::WriteFileAtomic((dir / "input.bin").string(), SerializeSessionInput(input)).ok()) {
      u.dir = "unconfirmed/" + raw_bucket;
    }
  }
  std::fprintf(Console(),
               "smtp-harness fuzz: unconfirmed %s: no re-run of %d reproduced it (%s); not a "
               "finding%s%s\n",
               raw_bucket.c_str(), c_.reruns, r.verdict.detail.c_str(),
               u.dir.empty() ? "" : ", session kept in ", u.dir.c_str());
}

json Run::UnconfirmedJson() const {
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

namespace {

// A crash that came after its session ended (net_target.cc says so in the
// detail): its re-runs and minimizing wait 300 ms after each session for
// the server to die. A crash during the session is seen during each re-run
// that reproduces it, with no wait (a wait would cost every minimizing
// step that does not crash 300 ms).
bool LateCrash(const Verdict& v) {
  return v.kind == VerdictKind::kCrashed &&
         (v.detail.find("after the session ended") != std::string::npos ||
          v.detail.find("died between sessions") != std::string::npos);
}

}  // namespace

SessionInput Run::Examine(const SessionInput& input, const SessionResult& r,
                          const std::string& raw_bucket, Finding& f) {
  // A re-run that cannot reach a server we do not start says nothing about
  // the finding: the finding may have taken it down for a while (Postfix's
  // master throttles smtpd for 60 s after a crash). Such a re-run waits
  // for it (WaitForTarget) and is made again.
  const auto run = [&](const SessionInput& in, Clock::time_point limit) {
    SessionResult again = RunTarget(in);
    if (again.connect_failed && WaitForTarget(limit, "while a finding is re-run")) {
      again = RunTarget(in);
    }
    return again;
  };
  const auto same = [&](const SessionInput& in) {
    const SessionResult again = run(in, Clock::now() + c_.recover_wait);
    return !again.verdict.ok() && Bucket(again.verdict) == raw_bucket;
  };
  // A crash may come an instant after the session ends (a server that
  // dies between sessions): its re-runs and minimizing wait for it.
  struct Linger {
    SessionTarget* t;
    ~Linger() { t->set_linger(std::chrono::milliseconds(0)); }
  } linger{c_.target.get()};
  if (LateCrash(r.verdict)) c_.target->set_linger(std::chrono::milliseconds(300));
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
    const Verdict v = run(in, minimize_end).verdict;
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
  const SessionResult final_run = run(minimal, Clock::now() + c_.recover_wait);
  // A server the finding killed may not be back yet: a run that could
  // not connect says nothing about the finding.
  const bool reproduced = !final_run.verdict.ok() && !final_run.connect_failed;
  f.verdict = reproduced ? final_run.verdict : r.verdict;
  if (reproduced) SetTrigger(minimal, final_run, &f.verdict);
  f.bucket = Bucket(f.verdict);
  f.raw_steps = RawSteps(minimal);
  return minimal;
}

void Run::RetryFlaky(Finding& known, const SessionInput& input, const SessionResult& r,
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

void Run::MergeByCause(Finding& f) {
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
  std::fprintf(Console(), "smtp-harness fuzz: %s is %s by a simpler route (same abort: %s)\n",
               old_bucket.c_str(), f.bucket.c_str(), f.verdict.cause.c_str());
  Absorb(f, old_bucket);
  known->second = f.bucket;
}

void Run::Absorb(Finding& f, const std::string& old_bucket) {
  const Finding& old = findings_.at(old_bucket);
  f.count += old.count;
  for (const auto& [how, n] : old.routes) f.routes[how] += n;
  if (old.first_at_s < f.first_at_s) {
    f.first_at_s = old.first_at_s;
    f.first_at_session = old.first_at_session;
  }
  if (!old.dir.empty()) {
    std::error_code ec;
    fs::remove_all(fs::path(c_.out_dir) / old.dir, ec);
  }
  for (auto& [raw, bucket] : raw_buckets_) {
    if (bucket == old_bucket) bucket = f.bucket;
  }
  for (auto& [key, bucket] : minimized_) {
    if (bucket == old_bucket) bucket = f.bucket;
  }
  findings_.erase(old_bucket);
}

void Run::MergeByKillingLine(Finding& f) {
  if (c_.role != FuzzConfig::Role::kSingle) return;
  const auto same_signal = [&](const Finding& k) {
    return UnlocatedCrash(k.verdict) && k.verdict.signature == f.verdict.signature && !k.shared;
  };
  for (const auto& [bucket, k] : findings_) {
    if (bucket != f.bucket && same_signal(k) && SendsKillingLine(f.session, k.killing_line)) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: %s is %s by another route (its session sends \"%s\", "
                   "which alone kills the server)\n",
                   f.bucket.c_str(), bucket.c_str(), Printable(k.killing_line).c_str());
      f.bucket = bucket;
      return;
    }
  }
  if (f.killing_line.empty() || findings_.contains(f.bucket)) return;
  std::vector<std::string> absorbed;
  for (const auto& [bucket, k] : findings_) {
    if (same_signal(k) && SendsKillingLine(k.session, f.killing_line)) absorbed.push_back(bucket);
  }
  for (const std::string& old : absorbed) {
    std::fprintf(Console(),
                 "smtp-harness fuzz: %s is %s by another route (its session sends \"%s\", "
                 "which alone kills the server)\n",
                 old.c_str(), f.bucket.c_str(), Printable(f.killing_line).c_str());
    Absorb(f, old);
  }
}

bool Run::CountShared(const std::string& raw_bucket) {
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

void Run::Save(Finding& f, const SessionInput& minimal) {
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
  if (LateCrash(f.verdict)) c_.target->set_linger(std::chrono::milliseconds(300));
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
      smtp::WriteFileAtomic((dir / "input.bin").string(), SerializeSessionInput(minimal));
  if (st.ok()) st = harness::WriteSessionFile(t, session);
  json j = FindingJson(f);
  j["wire"] = {{"bytes_sent", t.total_bytes(harness::Direction::kClientToServer)},
               {"bytes_received", t.total_bytes(harness::Direction::kServerToClient)}};
  if (st.ok()) st = smtp::WriteFileAtomic((dir / "finding.json").string(), j.dump(1) + "\n");
  // The sanitizer's whole report, from the recorded run that showed it.
  if (st.ok() && f.session_shows_finding && !seen.report.empty()) {
    st = smtp::WriteFileAtomic((dir / "report.txt").string(), seen.report);
  }
  if (!st.ok()) {
    f.replay.clear();
    f.error = "cannot save the finding: " + std::string(st.message());
    return;
  }
}

json Run::RoutesJson(const std::map<std::string, std::uint64_t>& routes) {
  json out = json::array();
  for (const auto& [how, n] : routes) out.push_back({{"route", how}, {"count", n}});
  return out;
}

json Run::FindingJson(const Finding& f) const {
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

}  // namespace smtp::fuzz::internal
