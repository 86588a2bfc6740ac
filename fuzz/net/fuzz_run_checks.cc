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
#include "results/session_file.h"
#include "results/transcript.h"

namespace smtp::fuzz::internal {

namespace fs = std::filesystem;

void Run::OnDeathBetweenSessions() {
  std::optional<SessionTarget::DeathBetween> d = c_.target->TakeDeathBetweenSessions();
  if (!d) return;
  SessionResult r;
  r.verdict = std::move(d->verdict);
  OnFinding(d->input, r);
}

void Run::OnDefence(const SessionInput& input, const Defence& d) {
  ++defence_sessions_;
  const std::string key = ReplySignature(d.code, d.text);
  auto [it, fresh] = defences_.try_emplace(key);
  DefenceEntry& e = it->second;
  ++e.count;
  ++e.routes[VerbText(d.verb)];
  if (!fresh) return;
  e.defence = d;
  e.first_at_s = RunTime();
  e.steps = StepsText(input);
  if (e.steps.size() > 2000) e.steps.resize(2000);
  std::fprintf(Console(),
               "smtp-harness fuzz: defence (not a finding): the server closed after \"%d %s\"%s\n",
               d.code, Printable(d.text).c_str(),
               d.not_421 ? "; RFC 5321 3.8 wants 421 before such a close" : "");
}

json Run::DefencesJson() const {
  json out = json::array();
  for (const auto& [key, e] : defences_) {
    json routes = json::array();
    for (const auto& [verb, n] : e.routes) routes.push_back({{"verb", verb}, {"count", n}});
    out.push_back({{"signature", key},
                   {"code", e.defence.code},
                   {"text", e.defence.text},
                   {"normalized", NormalizeReplyText(e.defence.text)},
                   {"verb", VerbText(e.defence.verb)},
                   {"count", e.count},
                   {"first_at_s", e.first_at_s},
                   {"routes", std::move(routes)},
                   {"steps", e.steps},
                   {"not_421", e.defence.not_421}});
  }
  return out;
}

int Run::OnConnectFailed(const SessionResult& r) {
  ++connect_failures_;
  if (++consecutive_connect_failures_ == 1 || consecutive_connect_failures_ % 100 == 0) {
    std::fprintf(Console(), "smtp-harness fuzz: target down (%llu attempts): %s\n",
                 static_cast<unsigned long long>(consecutive_connect_failures_),
                 r.verdict.detail.c_str());
  }
  // Down for a while (a master throttling after a crash) is not down: the
  // first failure waits for it, the mutations meanwhile would be wasted.
  if (consecutive_connect_failures_ == 1 &&
      !WaitForTarget(Clock::now() + c_.recover_wait, "(a session could not reach it)")) {
    RecordLiveness(r.verdict.detail, "a session");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return -1;  // not worth keeping in the corpus
}

bool Run::WaitForTarget(Clock::time_point limit, std::string_view when) {
  if (c_.target->started_by_us() || c_.target->in_process() || target_down_) return false;
  if (budget_end_) limit = std::min(limit, *budget_end_);
  const Clock::time_point start = Clock::now();
  if (start >= limit) return false;
  std::fprintf(
      Console(),
      "smtp-harness fuzz: the target does not take sessions %.*s; waiting up to %lld s "
      "for it (--recover_wait_ms)\n",
      static_cast<int>(when.size()), when.data(),
      static_cast<long long>(std::chrono::ceil<std::chrono::seconds>(limit - start).count()));
  while (Clock::now() < limit && StopSignal() == 0) {
    if (c_.target->Alive().ok()) {
      std::fprintf(Console(), "smtp-harness fuzz: the target is back after %.1f s\n",
                   std::chrono::duration<double>(Clock::now() - start).count());
      return true;
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(250), limit - Clock::now()));
  }
  std::fprintf(Console(), "smtp-harness fuzz: the target is still down after %.1f s\n",
               std::chrono::duration<double>(Clock::now() - start).count());
  // Down for the whole --recover_wait_ms: down, until a session reaches it
  // (a wait cut short by the minimizer's budget says less).
  if (limit - start >= c_.recover_wait) target_down_ = true;
  return false;
}

void Run::CheckAlive(const std::string& after) {
  if (c_.target->in_process()) return;
  if (const absl::Status st = c_.target->Alive();
      !st.ok() && !WaitForTarget(Clock::now() + c_.recover_wait, "after " + after)) {
    RecordLiveness(std::string(st.message()), after);
  }
}

void Run::RecordLiveness(const std::string& why, const std::string& after) {
  const std::string bucket = "unresponsive";
  if (auto it = findings_.find(bucket); it != findings_.end()) {
    ++it->second.count;
    return;
  }
  Finding f;
  f.bucket = bucket;
  f.verdict.kind = VerdictKind::kDropped;
  f.verdict.detail = "the server stopped taking sessions after " + after + ": " + why;
  f.count = 1;
  f.first_at_s = RunTime();
  f.first_at_session = sessions_;
  std::fprintf(Console(), "smtp-harness fuzz: FINDING %s: %s\n", bucket.c_str(),
               f.verdict.detail.c_str());
  findings_.emplace(bucket, std::move(f));
  WriteJson(false);
}

bool Run::HungPatiently(const SessionResult& again) {
  return !again.connect_failed && again.verdict.kind == VerdictKind::kHang &&
         !again.session_deadline;
}

void Run::KeepTheRealHang(const SessionInput& input, const SessionResult& patient,
                          SessionInput& minimal, Finding& f) {
  if (minimal == input) return;
  const std::optional<SessionResult> again = c_.target->RunPatiently(minimal);
  if (!again || HungPatiently(*again) || again->connect_failed) return;
  std::fprintf(Console(),
               "smtp-harness fuzz: %s: the minimized session is only slow with longer "
               "deadlines; the session that hung is kept as found (%zu steps)\n",
               f.bucket.c_str(), input.steps.size());
  minimal = input;
  f.verdict = patient.verdict;
  f.bucket = Bucket(f.verdict);
  f.minimize.steps_after = f.minimize.steps_before;
  f.minimize.bytes_after = f.minimize.bytes_before;
  f.raw_steps = RawSteps(input);
}

bool Run::SlowNotHung(const SessionInput& input, const std::string& raw_bucket,
                      std::optional<SessionResult>* hung) {
  const auto known = slow_buckets_.find(raw_bucket);
  if (known != slow_buckets_.end()) {
    const std::uint64_t n = ++known->second;
    if ((n & (n - 1)) != 0) {
      ++slow_sessions_;
      return true;
    }
  }
  std::optional<SessionResult> again = c_.target->RunPatiently(input);
  if (!again || again->connect_failed) return false;
  if (HungPatiently(*again)) {
    *hung = std::move(again);
    return false;
  }
  // Every reply came within the patient deadline but there were so many
  // slow ones (Postfix sleeps a second per error) that the session ran
  // out of time: slow too.
  const bool long_session = again->verdict.kind == VerdictKind::kHang;
  ++slow_sessions_;
  if (known == slow_buckets_.end()) {
    slow_buckets_.emplace(raw_bucket, 1);
    const std::string how =
        long_session          ? "answered every reply, but slowly enough to run past the "
                                "session's deadline"
        : again->verdict.ok() ? "ended normally"
                              : "ended " + std::string(VerdictName(again->verdict.kind));
    std::fprintf(Console(),
                 "smtp-harness fuzz: %s is not a hang: with longer deadlines the session %s "
                 "(--patient_reply_timeout_ms); counted as slow\n",
                 raw_bucket.c_str(), how.c_str());
  }
  return true;
}

bool Run::AnnouncedNotDropped(const SessionInput& input, const std::string& raw_bucket) {
  if (c_.defences_are_findings) return false;
  const auto known = announced_buckets_.find(raw_bucket);
  if (known != announced_buckets_.end()) {
    const std::uint64_t n = ++known->second.first;
    if ((n & (n - 1)) != 0) {
      OnDefence(input, known->second.second);
      return true;
    }
  }
  CheckStop(/*grace=*/true);
  const std::optional<SessionResult> again = c_.target->RunCautiously(input);
  if (!again || again->connect_failed || !again->verdict.ok() || !again->defence) return false;
  if (known == announced_buckets_.end()) {
    announced_buckets_.emplace(raw_bucket, std::pair{std::uint64_t{1}, *again->defence});
    std::fprintf(Console(),
                 "smtp-harness fuzz: %s is a defence: given time before its next write, the "
                 "session saw the server close after \"%d %s\" on its own\n",
                 raw_bucket.c_str(), again->defence->code, Printable(again->defence->text).c_str());
  }
  OnDefence(input, *again->defence);
  return true;
}

}  // namespace smtp::fuzz::internal
