#include "harness/runner/runner.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/runner/rate_limiter.h"
#include "harness/scenario/delivery.h"
#include "harness/wall_clock.h"
#include "results/absl_compat.h"
#include "results/redact.h"

namespace smtp::runner {

using harness::Clock;
using harness::Deadline;
using harness::In;
using harness::RunResult;
using harness::ScenarioResult;
using harness::Session;
using harness::Verdict;

namespace {

std::int64_t MicrosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

// The run so far: the header fields of `live` and its finished scenarios in
// order, `complete` false. Moved out of a mutable `live`, copied from a
// const one (std::move of a const member copies).
template <class Live>
RunResult Assemble(Live& live, const std::vector<char>& finished) {
  RunResult out;
  out.started_at = std::move(live.started_at);
  out.target = std::move(live.target);
  out.probe = std::move(live.probe);
  out.planned = live.planned;
  out.duration_us = live.duration_us;
  out.complete = false;
  for (std::size_t i = 0; i < live.scenarios.size(); ++i) {
    if (finished[i]) out.scenarios.push_back(std::move(live.scenarios[i]));
  }
  return out;
}

}  // namespace

std::string RepeatedId(const std::string& id, int index, int repeat) {
  return repeat <= 1 ? id : id + "#" + std::to_string(index + 1);
}

const char* ToolVersion() { return SMTP_HARNESS_VERSION; }

std::string NowIso8601() { return harness::UtcNow("%Y-%m-%dT%H:%M:%SZ"); }

Runner::Runner(Connector connector, RunnerOptions options)
    : connector_(std::move(connector)), options_(std::move(options)) {
  options_.jobs = std::clamp(options_.jobs, 1, kMaxJobs);
  options_.repeat = std::clamp(options_.repeat, 1, kMaxRepeat);
}

void Runner::Stop(std::string reason) {
  std::lock_guard lock(mu_);
  if (stopping_.exchange(true)) return;
  stop_reason_ = std::move(reason);
  if (executor_) asio::post(*executor_, [this] { CancelInFlight(); });
}

void Runner::CancelInFlight() {
  std::vector<std::shared_ptr<asio::cancellation_signal>> signals;
  {
    std::lock_guard lock(mu_);
    signals = signals_;
  }
  for (auto& sig : signals) sig->emit(asio::cancellation_type::terminal);
}

RunResult Runner::Snapshot() const {
  std::lock_guard lock(mu_);
  RunResult out = Assemble(live_, finished_);  // const: copied
  out.stopped = stop_reason_;
  return out;
}

// Runs `tasks` concurrently on this executor, each cancellable by Stop(),
// and returns when all have finished; rethrows the first exception.
asio::awaitable<void> Runner::RunAll(std::vector<std::function<asio::awaitable<void>()>> tasks) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, Clock::time_point::max());
  std::size_t active = tasks.size();
  std::exception_ptr failure;
  for (auto& task : tasks) {
    auto sig = std::make_shared<asio::cancellation_signal>();
    {
      std::lock_guard lock(mu_);
      signals_.push_back(sig);
    }
    asio::co_spawn(
        executor,
        [task = std::move(task)]() -> asio::awaitable<void> {
          // A cancelled operation completes with an error code, which the
          // transports turn into a status; nothing throws.
          co_await asio::this_coro::throw_if_cancelled(false);
          co_await task();
        },
        asio::bind_cancellation_slot(sig->slot(), [&, sig](std::exception_ptr e) {
          if (e && !failure) failure = e;
          {
            std::lock_guard lock(mu_);
            std::erase(signals_, sig);
          }
          if (--active == 0) all_done.cancel();
        }));
  }
  if (stopping_) CancelInFlight();  // Stop() before the tasks were registered
  if (active > 0) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (failure) std::rethrow_exception(failure);
}

asio::awaitable<RunResult> Runner::RunAsync(const std::vector<scenario::Scenario>& scenarios,
                                            const scenario::Variables& vars,
                                            const ProgressFn& progress) {
  const Clock::time_point start = Clock::now();
  const Deadline run_deadline =
      options_.run_timeout.count() > 0 ? start + options_.run_timeout : Deadline::max();
  const int repeat = options_.repeat;
  const std::size_t total = scenarios.size() * static_cast<std::size_t>(repeat);
  {
    std::lock_guard lock(mu_);
    executor_ = co_await asio::this_coro::executor;
    live_ = RunResult{};
    live_.started_at = NowIso8601();
    live_.planned = static_cast<int>(total);
    live_.scenarios.assign(total, ScenarioResult{});
    finished_.assign(total, 0);
  }
  RateLimiter limiter(options_.rate);
  ExecutorOptions exec = options_.executor;
  exec.limiter = limiter.unlimited() ? nullptr : &limiter;
  exec.run_deadline = run_deadline;
  exec.stop = &stopping_;
  auto check_deadline = [&] {
    if (!stopping_ && Clock::now() >= run_deadline) {
      Stop("run timeout: the run's " + std::to_string(options_.run_timeout.count()) + " ms passed");
    }
  };

  scenario::TargetFacts facts;
  facts.implicit_tls = exec.default_tls == scenario::TlsMode::kImplicit;
  facts.deliveries = exec.deliveries != nullptr;
  facts.keywords_known = false;
  facts.lmtp = options_.lmtp;
  std::size_t first = 0;  // index of the first scenario's result (after a quirk finding)
  if (options_.probe && !stopping_) {
    const bool learn_tls = options_.probe_starttls ||
                           std::any_of(scenarios.begin(), scenarios.end(),
                                       [](const scenario::Scenario& s) { return UsesTls(s); });
    ProbeResult probe;
    ProbeOptions probe_options;
    probe_options.starttls = learn_tls;
    probe_options.record_tls = options_.probe_starttls;
    probe_options.lmtp = options_.lmtp;
    probe_options.preflight = options_.preflight;
    // Asked only when the run has relay checks to judge.
    probe_options.relay_check =
        std::any_of(scenarios.begin(), scenarios.end(), [](const scenario::Scenario& s) {
          return std::find(s.tags.begin(), s.tags.end(), "relay") != s.tags.end();
        });
    std::vector<std::function<asio::awaitable<void>()>> probe_task;
    probe_task.push_back([&]() -> asio::awaitable<void> {
      if (exec.limiter) co_await limiter.Acquire();
      probe = co_await ProbeTarget(connector_, vars, exec, probe_options);
    });
    co_await RunAll(std::move(probe_task));
    // The probe's EHLO names ${client_domain}, which a profile may keep
    // secret: what the server echoes of it is redacted like any scenario's.
    const std::vector<std::string> secrets = harness::WithEscapedForms(vars.SecretValues());
    std::string fatal =
        probe.fatal.empty() ? "" : probe.fatal + (probe.hint.empty() ? "" : "; " + probe.hint);
    fatal = harness::RedactText(fatal, secrets);
    probe.transcript.RedactStreams(secrets);
    probe.info.banner = harness::RedactText(probe.info.banner, secrets);
    for (std::string& line : probe.info.ehlo_lines) line = harness::RedactText(line, secrets);
    if (probe.quirks != kStrict && fatal.empty()) {
      // One finding for the quirk; the scenarios read replies past it.
      exec.session.reply.leniencies |= probe.quirks;
      ScenarioResult finding = QuirkFinding(probe);
      finding.reason = harness::RedactText(finding.reason, secrets);
      std::lock_guard lock(mu_);
      live_.scenarios.insert(live_.scenarios.begin(), std::move(finding));
      finished_.insert(finished_.begin(), 1);
      live_.planned += 1;
      first = 1;
    }
    if (!probe.relay_trusted.empty() && fatal.empty()) {
      // Said once; the relay scenarios are skipped with the same reason.
      ScenarioResult said = RelayTrustResult(probe);
      said.reason = harness::RedactText(said.reason, secrets);
      facts.relay_trusted = harness::RedactText(probe.relay_trusted, secrets);
      std::lock_guard lock(mu_);
      live_.scenarios.insert(live_.scenarios.begin() + static_cast<std::ptrdiff_t>(first),
                             std::move(said));
      finished_.insert(finished_.begin() + static_cast<std::ptrdiff_t>(first), 1);
      live_.planned += 1;
      first += 1;
    }
    {
      std::lock_guard lock(mu_);
      live_.target = std::move(probe.info);
      live_.probe = std::move(probe.transcript);
    }
    if (!fatal.empty()) Stop(std::move(fatal));
    facts.plain_keywords = std::move(probe.extensions);
    facts.tls_keywords = std::move(probe.tls_extensions);
    facts.keywords_known = true;
  }

  harness::Counts counts;
  std::size_t next = 0;
  auto finish = [&](std::size_t i, ScenarioResult r, Clock::time_point began) {
    check_deadline();
    r.id = RepeatedId(r.id, static_cast<int>(i % repeat), repeat);
    r.start_us = std::chrono::duration_cast<std::chrono::microseconds>(began - start).count();
    if (stopping_ && r.verdict != Verdict::kPass && r.verdict != Verdict::kSkip) {
      std::lock_guard lock(mu_);
      r.verdict = Verdict::kError;
      r.reason = "interrupted (" + stop_reason_ + ")" + (r.reason.empty() ? "" : ": " + r.reason);
    }
    counts.Add(r.verdict);
    {
      std::lock_guard lock(mu_);
      live_.scenarios[first + i] = std::move(r);
      finished_[first + i] = 1;
      live_.duration_us = MicrosSince(start);
    }
    if (progress) progress(live_.scenarios[first + i], counts, static_cast<int>(total));
  };
  std::vector<std::function<asio::awaitable<void>()>> workers;
  auto worker = [&]() -> asio::awaitable<void> {
    for (;;) {
      check_deadline();
      if (stopping_ || next >= total) break;
      const std::size_t i = next++;
      const scenario::Scenario& s = scenarios[i / repeat];
      const Clock::time_point began = Clock::now();
      ScenarioResult r;
      std::optional<std::string> skip;
      skip = scenario::SkipReason(s, facts);
      if (!skip) skip = scenario::EmptyVariable(s, vars);
      if (!skip && exec.no_deliver) {
        const scenario::DeliveryEstimate e = scenario::EstimateDeliveries(s, vars);
        if (scenario::PlanWithoutDelivery(s, e) == scenario::NoDeliveryPlan::kSkip) {
          skip = harness::RedactText(scenario::NoDeliverySkipReason(s, e),
                                     harness::WithEscapedForms(vars.SecretValues()));
        }
      }
      if (skip) {
        r = DescribeScenario(s);
        r.verdict = Verdict::kSkip;
        r.reason = *skip;
      } else {
        const bool early = options_.early_talker_connector &&
                           std::find(s.tags.begin(), s.tags.end(), kEarlyTalkerTag) != s.tags.end();
        r = co_await RunScenario(s, vars, early ? options_.early_talker_connector : connector_,
                                 exec);
      }
      finish(i, std::move(r), began);
    }
  };
  const int jobs =
      static_cast<int>(std::min<std::size_t>(options_.jobs, std::max<std::size_t>(total, 1)));
  for (int j = 0; j < jobs; ++j) workers.push_back(worker);
  co_await RunAll(std::move(workers));

  RunResult run;
  {
    std::lock_guard lock(mu_);
    executor_.reset();
    run = Assemble(live_, finished_);  // moved out: the run is over
    run.stopped = stop_reason_;
    run.complete = stop_reason_.empty();
    live_ = RunResult{};
    finished_.clear();
  }
  run.duration_us = MicrosSince(start);
  co_return run;
}

RunResult Runner::Run(const std::vector<scenario::Scenario>& scenarios,
                      const scenario::Variables& vars, const ProgressFn& progress) {
  asio::io_context io;
  std::optional<RunResult> result;
  std::exception_ptr error;
  asio::co_spawn(
      io, [&]() { return RunAsync(scenarios, vars, progress); },
      [&](std::exception_ptr e, RunResult r) {
        error = e;
        if (!e) result.emplace(std::move(r));
      });
  io.run();
  if (error) std::rethrow_exception(error);
  return *std::move(result);
}

}  // namespace smtp::runner
