#include "harness/runner/runner.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/runner/rate_limiter.h"
#include "harness/wall_clock.h"
#include "parser/extensions.h"

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

void Tally(Verdict v, harness::Counts* c) {
  switch (v) {
    case Verdict::kPass:
      ++c->pass;
      break;
    case Verdict::kFail:
      ++c->fail;
      break;
    case Verdict::kSkip:
      ++c->skip;
      break;
    case Verdict::kError:
      ++c->error;
      break;
  }
}

// One command and its reply for the probe; nullopt when there was none.
asio::awaitable<std::optional<Reply>> Exchange(Session& session, const std::string& line,
                                               Deadline d) {
  absl::Status sent = co_await session.Send(line, d);
  if (!sent.ok()) co_return std::nullopt;
  harness::ReplyOutcome got = co_await session.ReadReply(d);
  if (!got.ok()) co_return std::nullopt;
  co_return std::move(got.reply);
}

}  // namespace

std::string RepeatedId(const std::string& id, int index, int repeat) {
  return repeat <= 1 ? id : id + "#" + std::to_string(index + 1);
}

const char* ToolVersion() { return SMTP_HARNESS_VERSION; }

std::string NowIso8601() { return harness::UtcNow("%Y-%m-%dT%H:%M:%SZ"); }

asio::awaitable<ProbeResult> ProbeTarget(const Connector& connector,
                                         const scenario::Variables& vars,
                                         const ExecutorOptions& options, bool starttls,
                                         bool record_tls) {
  ProbeResult out;
  Session session(options.session);
  const auto step = options.step_timeout;
  const bool implicit = options.default_tls == scenario::TlsMode::kImplicit;
  asio::awaitable<absl::Status> op = connector(session, implicit, In(step));
  out.status = co_await std::move(op);
  if (!out.status.ok()) {
    out.transcript = session.TakeTranscript();
    co_return out;
  }
  if (auto tls = session.transport()->tls()) out.info.tls = *tls;
  harness::ReplyOutcome greeting = co_await session.ReadReply(In(step));
  if (greeting.ok() && !greeting.reply.lines.empty()) out.info.banner = greeting.reply.lines[0];
  if (greeting.ok() && greeting.reply.code == 220) {
    const std::string* domain = vars.Find("client_domain");
    const std::string ehlo = "EHLO " + (domain ? *domain : std::string("client.example")) + "\r\n";
    std::optional<Reply> reply = co_await Exchange(session, ehlo, In(step));
    if (reply && reply->code == 250) {
      ExtensionSet ext = DecodeEhlo(*reply);
      out.extensions = ext.keywords;
      out.info.ehlo_lines.assign(reply->lines.begin() + 1, reply->lines.end());
      if (starttls && ext.starttls) {
        const std::string starttls_line = "STARTTLS\r\n";
        std::optional<Reply> ready = co_await Exchange(session, starttls_line, In(step));
        if (ready && ready->code == 220) {
          absl::StatusOr<harness::TlsInfo> tls = co_await session.StartTls(In(step));
          if (tls.ok()) {
            if (record_tls) out.info.tls = *tls;
            std::optional<Reply> again = co_await Exchange(session, ehlo, In(step));
            if (again && again->code == 250) out.tls_extensions = DecodeEhlo(*again).keywords;
          }
        }
      }
    }
    const std::string quit_line = "QUIT\r\n";
    std::optional<Reply> bye = co_await Exchange(session, quit_line, In(step));
    (void)bye;
  }
  absl::Status closed = co_await session.Close(In(options.close_timeout));
  (void)closed;
  out.transcript = session.TakeTranscript();
  co_return out;
}

Runner::Runner(Connector connector, RunnerOptions options)
    : connector_(std::move(connector)), options_(std::move(options)) {
  options_.jobs = std::clamp(options_.jobs, 1, kMaxJobs);
  options_.repeat = std::clamp(options_.repeat, 1, kMaxRepeat);
}

asio::awaitable<RunResult> Runner::RunAsync(const std::vector<scenario::Scenario>& scenarios,
                                            const scenario::Variables& vars,
                                            const ProgressFn& progress) {
  RunResult run;
  run.started_at = NowIso8601();
  const Clock::time_point start = Clock::now();
  RateLimiter limiter(options_.rate);
  ExecutorOptions exec = options_.executor;
  exec.limiter = limiter.unlimited() ? nullptr : &limiter;

  scenario::TargetFacts facts;
  facts.implicit_tls = exec.default_tls == scenario::TlsMode::kImplicit;
  facts.deliveries = exec.deliveries != nullptr;
  facts.keywords_known = false;
  std::string unreachable;
  if (options_.probe) {
    if (exec.limiter) co_await limiter.Acquire();
    const bool learn_tls = options_.probe_starttls ||
                           std::any_of(scenarios.begin(), scenarios.end(),
                                       [](const scenario::Scenario& s) { return UsesTls(s); });
    ProbeResult probe =
        co_await ProbeTarget(connector_, vars, exec, learn_tls, options_.probe_starttls);
    run.target = std::move(probe.info);
    if (!probe.status.ok())
      unreachable = "target unreachable: " + std::string(probe.status.message());
    facts.plain_keywords = std::move(probe.extensions);
    facts.tls_keywords = std::move(probe.tls_extensions);
    facts.keywords_known = true;
  }

  const int repeat = options_.repeat;
  const std::size_t total = scenarios.size() * static_cast<std::size_t>(repeat);
  run.scenarios.resize(total);
  harness::Counts counts;
  std::size_t next = 0;
  int active = 0;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, Clock::time_point::max());

  auto finish = [&](std::size_t i, ScenarioResult r, Clock::time_point began) {
    r.id = RepeatedId(r.id, static_cast<int>(i % repeat), repeat);
    r.start_us = std::chrono::duration_cast<std::chrono::microseconds>(began - start).count();
    Tally(r.verdict, &counts);
    run.scenarios[i] = std::move(r);
    if (progress) progress(run.scenarios[i], counts, static_cast<int>(total));
  };
  auto worker = [&]() -> asio::awaitable<void> {
    for (std::size_t i = next++; i < total; i = next++) {
      const scenario::Scenario& s = scenarios[i / repeat];
      const Clock::time_point began = Clock::now();
      ScenarioResult r;
      std::optional<std::string> skip;
      skip = scenario::SkipReason(s, facts);
      if (!skip) skip = scenario::EmptyVariable(s, vars);
      if (!unreachable.empty() || skip) {
        r = DescribeScenario(s);
        r.verdict = unreachable.empty() ? Verdict::kSkip : Verdict::kError;
        r.reason = unreachable.empty() ? *skip : unreachable;
      } else {
        r = co_await RunScenario(s, vars, connector_, exec);
      }
      finish(i, std::move(r), began);
    }
  };
  const int jobs =
      static_cast<int>(std::min<std::size_t>(options_.jobs, std::max<std::size_t>(total, 1)));
  std::exception_ptr failure;
  for (int j = 0; j < jobs; ++j) {
    ++active;
    asio::co_spawn(executor, worker, [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
      if (--active == 0) all_done.cancel();
    });
  }
  if (active > 0) co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (failure) std::rethrow_exception(failure);
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
