#include "harness/runner/executor.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/runner/executor_internal.h"
#include "harness/runner/rate_limiter.h"
#include "parser/ascii.h"
#include "parser/extensions.h"
#include "results/absl_compat.h"
#include "results/redact.h"

namespace smtp::runner {

using harness::Clock;
using harness::Deadline;
using harness::In;
using harness::ScenarioResult;
using harness::Session;
using harness::Target;
using harness::Verdict;
using std::chrono::milliseconds;

namespace internal {

Outcome Pass() { return {}; }

Outcome Fail(std::string expected, std::string actual, std::string message) {
  Outcome o;
  o.verdict = Verdict::kFail;
  o.expected = std::move(expected);
  o.actual = std::move(actual);
  o.message = std::move(message);
  return o;
}

Outcome Error(std::string message) {
  Outcome o;
  o.verdict = Verdict::kError;
  o.message = std::move(message);
  return o;
}

Outcome NotApplicable(std::string message) {
  Outcome o;
  o.verdict = Verdict::kSkip;
  o.message = std::move(message);
  return o;
}

HelloKind FindHello(std::string_view bytes) {
  HelloKind found = HelloKind::kNone;
  for (std::size_t at = 0; at + 4 <= bytes.size();) {
    const std::string_view verb = bytes.substr(at, 4);
    const bool tail_ok = at + 4 == bytes.size() || bytes[at + 4] == ' ' || bytes[at + 4] == '\r';
    if (tail_ok && (EqualsIgnoreCase(verb, "EHLO") || EqualsIgnoreCase(verb, "LHLO"))) {
      found = HelloKind::kExtended;
    }
    if (tail_ok && EqualsIgnoreCase(verb, "HELO")) found = HelloKind::kBasic;
    const std::size_t lf = bytes.find('\n', at);
    if (lf == std::string_view::npos) break;
    at = lf + 1;
  }
  return found;
}

std::string Quote(std::string_view bytes) {
  if (bytes.size() <= kMaxQuotedBytes) return harness::EscapeBytes(bytes);
  // The cut marker tells RedactText where a secret may have been cut off.
  return harness::EscapeBytes(bytes.substr(0, kMaxQuotedBytes)) + std::string(harness::kCutMarker) +
         " (" + std::to_string(bytes.size()) + " bytes)";
}

std::string ReplyText(const Reply& reply) {
  std::string out;
  for (std::size_t i = 0; i < reply.lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += std::to_string(reply.code);
    const bool last = i + 1 == reply.lines.size();
    if (!last || !reply.lines[i].empty()) out += last ? ' ' : '-';
    out += reply.lines[i];
  }
  return out;
}

namespace {

// Closing our side when the run is being stopped: brief, so that an
// interrupted run ends within its grace period.
constexpr milliseconds kStopCloseTimeout{200};

}  // namespace

asio::awaitable<void> SleepUntil(Deadline until) {
  asio::steady_timer timer(co_await asio::this_coro::executor, until);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

Executor::Executor(const scenario::Scenario& s, const scenario::Variables& vars,
                   const Connector& connector, const ExecutorOptions& options)
    : scenario_(s),
      vars_(vars),
      connector_(connector),
      options_(options),
      session_(options.session),
      uses_deliveries_(scenario::UsesDeliveries(s)) {}

asio::awaitable<ScenarioResult> Executor::Run() {
  ScenarioResult result = DescribeScenario(scenario_);
  if (options_.limiter != nullptr && !options_.limiter->unlimited()) {
    co_await options_.limiter->Acquire();
    prepaid_connect_ = true;
  }
  const Clock::time_point start = Clock::now();
  budget_len_ =
      scenario_.timeout_ms ? milliseconds(*scenario_.timeout_ms) : options_.scenario_timeout;
  budget_ = std::min(start + budget_len_, options_.run_deadline);
  session_.transcript().Restart();
  bool ok = false;
  std::string exception;
  try {
    const std::string no_iteration;
    ok = co_await RunSteps(scenario_.steps, budget_, no_iteration);
  } catch (const std::exception& e) {
    exception = e.what();
  }
  if (!exception.empty()) {
    ok = false;
    verdict_ = Verdict::kError;
    failure_.reset();
    result.reason = "internal error: " + exception;
    session_.transcript().AddEvent(harness::EntryKind::kError, result.reason);
  }
  if (session_.connected()) {
    const bool stopping = options_.stop != nullptr && options_.stop->load();
    absl::Status closed = co_await session_.Close(In(
        stopping ? std::min(kStopCloseTimeout, options_.close_timeout) : options_.close_timeout));
    (void)closed;  // recorded in the transcript
  }
  result.verdict = ok ? Verdict::kPass : verdict_;
  if (result.verdict == Verdict::kPass) result.reason = pass_reason_;
  if (result.verdict == Verdict::kSkip) result.reason = skip_reason_;
  if (failure_) {
    result.reason = failure_->message;
    result.failure = std::move(failure_);
  }
  result.duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
  result.transcript = session_.TakeTranscript();
  RedactResult(vars_, &result);
  co_return result;
}

asio::awaitable<bool> Executor::RunSteps(const std::vector<scenario::Step>& steps, Deadline outer,
                                         const std::string& iteration) {
  for (const scenario::Step& step : steps) {
    if (const auto* rep = std::get_if<scenario::RepeatStep>(&step.action)) {
      // A repeat's timeout_ms bounds the whole repeat, not each iteration.
      const Deadline d =
          step.timeout_ms ? std::min(In(milliseconds(*step.timeout_ms)), outer) : outer;
      for (int i = 0; i < rep->times; ++i) {
        const std::string it =
            iteration + ", iteration " + std::to_string(i + 1) + "/" + std::to_string(rep->times);
        const bool ok = co_await RunSteps(rep->steps, d, it);
        if (!ok) co_return false;
        if (ended_) co_return true;
      }
      continue;
    }
    ++executed_;
    step_start_ = Clock::now();
    const milliseconds timeout =
        step.timeout_ms ? milliseconds(*step.timeout_ms) : options_.step_timeout;
    const Deadline d = std::min(step_start_ + timeout, outer);
    if (!step.note.empty()) session_.transcript().AddNote(step.note);
    Outcome out;
    if (options_.stop != nullptr && options_.stop->load()) {
      out = Error("the run was stopped before this step");  // recorded like any error below
    } else {
      asio::awaitable<Outcome> op =
          std::visit([&](const auto& action) { return Do(action, d, outer); }, step.action);
      out = co_await std::move(op);
    }
    if (out.ok() && out.ends_scenario) {
      ended_ = true;
      pass_reason_ = std::move(out.message);
      co_return true;
    }
    if (out.ok()) continue;
    if (out.verdict == Verdict::kSkip) {
      session_.transcript().AddNote(step.origin.label + ": skip: " + out.message);
      verdict_ = Verdict::kSkip;
      skip_reason_ = std::move(out.message);
      co_return false;
    }
    harness::Failure f;
    f.step = executed_;
    f.step_label = step.origin.label + " (" + std::string(scenario::StepTypeName(step.action)) +
                   ")" + iteration;
    f.expected = std::move(out.expected);
    f.actual = std::move(out.actual);
    f.message = std::move(out.message);
    session_.transcript().AddNote(f.step_label + ": " + std::string(VerdictName(out.verdict)) +
                                  ": " + f.message);
    verdict_ = out.verdict;
    failure_ = std::move(f);
    co_return false;
  }
  co_return true;
}

std::string Executor::StepMs(Deadline d) const {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d - step_start_).count()) + " ms";
}

Outcome Executor::TimedOut(Deadline d, std::string expected, std::string actual,
                           std::string_view what) const {
  if (d >= budget_) {
    return Error("scenario time budget of " +
                 std::to_string(std::chrono::duration_cast<milliseconds>(budget_len_).count()) +
                 " ms exhausted (" + std::string(what) + ")");
  }
  return Fail(std::move(expected), std::move(actual), std::string(what) + " within " + StepMs(d));
}

Outcome Executor::Expand(const scenario::Template& t, std::string* out) const {
  absl::StatusOr<std::string> v = t.Expand(vars_);
  if (!v.ok()) return Error("cannot expand '" + t.source() + "': " + Message(v.status()));
  *out = *std::move(v);
  return Pass();
}

Outcome Executor::Check(const scenario::Expectation& expect, const Reply& reply,
                        std::string_view what, std::string expected) const {
  const std::string_view enhanced =
      reply.lines.empty() ? std::string_view() : scenario::ExtractEnhancedCode(reply.lines[0]);
  scenario::MatchResult m = expect.Match(reply.code, reply.lines, enhanced);
  if (m.matched) return Pass();
  if (expected.empty())
    return Fail(expect.Describe(), ReplyText(reply), std::string(what) + m.description);
  return Fail(expected, ReplyText(reply),
              std::string(what) + "expected " + expected + ", got " + ReplyText(reply));
}

asio::awaitable<Outcome> Executor::SendBytes(std::string_view bytes, Deadline d) {
  // The last hello command of the write decides what STARTTLS offer the
  // session has (a pipelined EHLO is answered before what follows it).
  switch (FindHello(bytes)) {
    case HelloKind::kExtended:
      ehlo_pending_ = true;
      break;
    case HelloKind::kBasic:  // HELO: no extensions, STARTTLS not offered
      ehlo_pending_ = false;
      starttls_offered_ = false;
      break;
    case HelloKind::kNone:
      break;
  }
  absl::Status st = co_await session_.Send(bytes, d);
  if (st.ok()) co_return Pass();
  if (absl::IsFailedPrecondition(st)) co_return Error("cannot send: " + Message(st));
  if (absl::IsDeadlineExceeded(st)) {
    co_return TimedOut(d, "the server to read what we send", "write blocked",
                       "the server did not read what we sent");
  }
  co_return Fail("the server to read what we send", "connection lost: " + Message(st),
                 "connection lost while sending: " + Message(st));
}

asio::awaitable<Outcome> Executor::Read(Deadline d, const scenario::Expectation* expect,
                                        std::string_view what) {
  harness::ReplyOutcome o = co_await session_.ReadReply(d);
  std::string expected = expect != nullptr ? expect->Describe() : "a reply";
  switch (o.status) {
    case harness::ReadStatus::kReply:
      last_reply_ = std::move(o.reply);
      if (ehlo_pending_) {
        ehlo_pending_ = false;
        starttls_offered_ = last_reply_->code == 250 && DecodeEhlo(*last_reply_).starttls;
      }
      if (expect == nullptr) co_return Pass();
      co_return Check(*expect, *last_reply_, what);
    case harness::ReadStatus::kTimeout:
      co_return TimedOut(d, std::move(expected),
                         o.partial.empty() ? "no reply" : "incomplete reply " + Quote(o.partial),
                         std::string(what) + "no complete reply");
    case harness::ReadStatus::kPeerClosed:
      co_return Fail(
          std::move(expected),
          o.partial.empty() ? "connection closed" : "connection closed after " + Quote(o.partial),
          std::string(what) + "the server closed the connection instead of replying");
    case harness::ReadStatus::kMalformed: {
      Outcome bad = Fail(std::move(expected), Quote(o.partial),
                         std::string(what) + "malformed reply (" +
                             std::string(ErrcName(o.error.code)) + " at offset " +
                             std::to_string(o.error.offset) + "): " + std::string(o.error.reason));
      bad.malformed = true;
      const std::string_view p = o.partial;
      if (p.size() >= 3 &&
          std::all_of(p.begin(), p.begin() + 3, [](char c) { return c >= '0' && c <= '9'; })) {
        bad.malformed_code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
      }
      co_return bad;
    }
    case harness::ReadStatus::kError:
      break;
  }
  if (absl::IsFailedPrecondition(o.transport_error)) {
    co_return Error(std::string(what) + "cannot read: " + Message(o.transport_error));
  }
  co_return Fail(std::move(expected), "transport error: " + Message(o.transport_error),
                 std::string(what) + "connection lost: " + Message(o.transport_error));
}

asio::awaitable<Outcome> Executor::Do(const scenario::ConnectStep& a, Deadline d, Deadline) {
  if (session_.connected()) {
    absl::Status closed = co_await session_.Close(std::min(In(options_.close_timeout), d));
    (void)closed;
  }
  if (options_.limiter != nullptr && !prepaid_connect_) co_await options_.limiter->Acquire();
  prepaid_connect_ = false;
  last_reply_.reset();
  ehlo_pending_ = starttls_offered_ = false;
  const bool implicit = a.tls.value_or(options_.default_tls) == scenario::TlsMode::kImplicit;
  asio::awaitable<absl::Status> op = connector_(session_, implicit, d);
  absl::Status st = co_await std::move(op);
  if (st.ok()) {
    if (std::string local = session_.transport()->local(); !local.empty()) {
      // Deliveries already recorded for this address (an earlier connection
      // that had the same ephemeral port) are not this scenario's.
      // Asked only by scenarios that check deliveries.
      const std::size_t before = options_.deliveries != nullptr && uses_deliveries_
                                     ? options_.deliveries->From({local}).size()
                                     : 0;
      clients_.push_back({std::move(local), before});
    }
    co_return Pass();
  }
  if (absl::IsDeadlineExceeded(st)) co_return Error("connect: timed out after " + StepMs(d));
  co_return Error("connect: " + Message(st));
}

asio::awaitable<Outcome> Executor::Do(const scenario::SendStep& a, Deadline d, Deadline) {
  std::string line;
  Outcome e = Expand(a.line, &line);
  if (!e.ok()) co_return e;
  line += "\r\n";
  Outcome sent = co_await SendBytes(line, d);
  co_return sent;
}

asio::awaitable<Outcome> Executor::Do(const scenario::SendRawStep& a, Deadline d, Deadline) {
  std::string bytes;
  Outcome e = Expand(a.bytes, &bytes);
  if (!e.ok()) co_return e;
  Outcome sent = co_await SendBytes(bytes, d);
  co_return sent;
}

asio::awaitable<Outcome> Executor::Do(const scenario::ExpectStep& a, Deadline d, Deadline) {
  if (!a.inconclusive && a.or_malformed.empty()) {
    Outcome got = co_await Read(d, &a.expect);
    co_return got;
  }
  Outcome got = co_await Read(d, nullptr);
  if (got.malformed && !a.or_malformed.empty()) {
    // The reply's syntax is another scenario's verdict; its code, when it
    // has one, is still this step's.
    last_reply_.reset();
    if (got.malformed_code != 0) {
      Reply code_only;
      code_only.code = static_cast<std::uint16_t>(got.malformed_code);
      Outcome judged = Check(a.expect, code_only, "malformed reply's code: ");
      if (!judged.ok()) co_return judged;
    }
    session_.transcript().AddNote("a malformed reply (" + got.message +
                                  ") counts as the one reply here. " + a.or_malformed);
    co_return Pass();
  }
  if (!got.ok()) {  // no reply at all: judged as `expect` would
    got.expected = a.expect.Describe();
    co_return got;
  }
  if (!a.inconclusive) co_return Check(a.expect, *last_reply_, "");
  if (Check(*a.inconclusive, *last_reply_, "").ok()) {
    co_return NotApplicable("inconclusive: got " + Quote(ReplyText(*last_reply_)) + ": " +
                            a.because);
  }
  co_return Check(a.expect, *last_reply_, "");
}

asio::awaitable<Outcome> Executor::Do(const scenario::RequireStep& a, Deadline d, Deadline) {
  Outcome got = co_await Read(d, nullptr);
  if (!got.ok()) co_return got;  // no reply at all is still the server's failure
  Outcome match = Check(a.expect, *last_reply_, "");
  if (match.ok()) co_return match;
  co_return NotApplicable("not applicable to this server: " + match.message);
}

asio::awaitable<Outcome> Executor::Do(const scenario::ExpectCloseStep& a, Deadline d,
                                      Deadline outer) {
  const Deadline until = a.within_ms ? std::min(In(milliseconds(*a.within_ms)), outer) : d;
  harness::CloseOutcome o = co_await session_.ExpectClose(until);
  using S = harness::CloseOutcome::Status;
  switch (o.status) {
    case S::kClosed:
    case S::kReset:
      if (o.data_bytes > 0) {
        session_.transcript().AddNote(std::to_string(o.data_bytes) +
                                      " bytes arrived before the close");
      }
      co_return Pass();
    case S::kStillOpen:
      if (o.flooded) {
        co_return Fail("the server closes the connection within " + StepMs(until),
                       "still open, sending without pause; received " + Quote(o.data),
                       "the server kept sending (" + std::to_string(o.data_bytes) +
                           " bytes) instead of closing the connection");
      }
      if (until >= budget_) {
        co_return TimedOut(until, "", "", "the server did not close the connection");
      }
      co_return Fail("the server closes the connection within " + StepMs(until),
                     o.data_bytes > 0 ? "still open; received " + Quote(o.data) : "still open",
                     "the server did not close the connection within " + StepMs(until));
    case S::kError:
      break;
  }
  co_return Fail("the server closes the connection", "transport error",
                 "transport error while waiting for the close: " + Message(o.transport_error));
}

Outcome Executor::Alternative(const scenario::ExpectSilenceStep& a, std::string_view what) {
  Outcome o = Pass();
  o.ends_scenario = true;
  o.message = std::string(what) + " (an allowed answer; the scenario ends here)";
  if (!a.or_note.empty()) o.message += ". " + a.or_note;
  session_.transcript().AddNote(o.message);
  return o;
}

asio::awaitable<Outcome> Executor::Do(const scenario::ExpectSilenceStep& a, Deadline d,
                                      Deadline outer) {
  const Deadline until = In(milliseconds(a.for_ms));
  if (until > outer) {
    co_return Error("a silence of " + std::to_string(a.for_ms) +
                    " ms does not fit in the remaining time budget");
  }
  harness::SilenceOutcome o = co_await session_.ExpectSilence(until);
  std::string expected = "no bytes for " + std::to_string(a.for_ms) + " ms";
  if (a.or_close) expected += ", or a close";
  if (a.or_reply) expected += ", or a reply: " + a.or_reply->Describe();
  using S = harness::SilenceOutcome::Status;
  switch (o.status) {
    case S::kSilent:
      co_return Pass();
    case S::kData:
      if (a.or_reply) {
        // The bytes stay in the reader: read them as a reply and check it.
        Outcome got = co_await Read(d, &*a.or_reply, "a reply where silence was expected: ");
        if (!got.ok()) co_return got;
        co_return Alternative(a, "the server replied " + Quote(ReplyText(*last_reply_)));
      }
      co_return Fail(
          expected, Quote(o.data),
          "the server sent " + std::to_string(o.data.size()) + " bytes where silence was expected");
    case S::kPeerClosed:
      if (a.or_close) co_return Alternative(a, "the server closed the connection");
      co_return Fail(expected, "connection closed",
                     "the server closed the connection where silence was expected");
    case S::kError:
      break;
  }
  if (a.or_close) {
    co_return Alternative(a, "the connection ended (" + Message(o.transport_error) + ")");
  }
  co_return Fail(expected, "transport error", "connection lost: " + Message(o.transport_error));
}

asio::awaitable<Outcome> Executor::Do(const scenario::PipelineStep& a, Deadline d, Deadline) {
  std::string wire;
  for (const scenario::Template& t : a.send) {
    std::string line;
    Outcome e = Expand(t, &line);
    if (!e.ok()) co_return e;
    wire += line;
    wire += "\r\n";
  }
  Outcome sent = co_await SendBytes(wire, d);
  if (!sent.ok()) co_return sent;
  for (std::size_t i = 0; i < a.expect.size(); ++i) {
    const std::string what =
        "pipeline reply " + std::to_string(i + 1) + "/" + std::to_string(a.expect.size()) + ": ";
    Outcome got = co_await Read(d, &a.expect[i], what);
    if (!got.ok()) co_return got;
  }
  co_return Pass();
}

asio::awaitable<Outcome> Executor::Do(const scenario::CaptureStep& a, Deadline, Deadline) {
  const std::string expected = "a reply line matching /" + a.regex.source() + "/";
  if (!last_reply_) co_return Fail(expected, "no reply yet", "nothing to capture from");
  for (const std::string& line : last_reply_->lines) {
    std::string value;
    if (a.regex.Search(line, a.group, &value)) {
      vars_.Set(a.into, std::move(value));
      co_return Pass();
    }
  }
  co_return Fail(expected, ReplyText(*last_reply_),
                 "no line of the last reply matches /" + a.regex.source() + "/");
}

asio::awaitable<Outcome> Executor::Do(const scenario::SleepStep& a, Deadline, Deadline outer) {
  const Deadline until = In(milliseconds(a.ms));
  if (until > outer) {
    co_return Error("a sleep of " + std::to_string(a.ms) +
                    " ms does not fit in the remaining time budget");
  }
  co_await SleepUntil(until);
  if (Clock::now() < until) co_return Error("the sleep was cut short: the run was stopped");
  co_return Pass();
}

asio::awaitable<Outcome> Executor::Do(const scenario::RepeatStep&, Deadline, Deadline) {
  co_return Error("internal: repeat reached the step dispatcher");  // RunSteps handles it
}

}  // namespace internal

Connector TargetConnector(Target target) {
  return [target = std::move(target)](Session& session, bool implicit_tls,
                                      Deadline deadline) -> asio::awaitable<absl::Status> {
    Target t = target;
    if (implicit_tls) {
      if (t.kind == Target::Kind::kExec) {
        co_return absl::UnimplementedError("implicit TLS is not available for exec: targets");
      }
      t.kind = Target::Kind::kTls;
    } else if (t.kind == Target::Kind::kTls) {
      t.kind = Target::Kind::kTcp;
    }
    absl::Status st = co_await session.Connect(t, deadline);
    co_return st;
  };
}

ScenarioResult DescribeScenario(const scenario::Scenario& s) {
  ScenarioResult r;
  r.id = s.id;
  r.title = s.title;
  r.description = s.description;
  r.file = s.suite_file.empty() ? s.file : s.suite_file;
  r.rfc_document = s.rfc.document;
  r.rfc_section = s.rfc.section;
  r.rfc_url = s.rfc.url;
  r.level = std::string(scenario::LevelName(s.level));
  r.tags = s.tags;
  // "4.1.1.1" -> "4.1": clauses group under their second-level section.
  std::string section = s.rfc.section;
  if (std::size_t dot = section.find('.'); dot != std::string::npos) {
    if (std::size_t dot2 = section.find('.', dot + 1); dot2 != std::string::npos) {
      section.resize(dot2);
    }
  }
  r.group = section.empty() ? s.rfc.document : s.rfc.document + " §" + section;
  r.verdict = Verdict::kError;
  return r;
}

asio::awaitable<ScenarioResult> RunScenario(const scenario::Scenario& s,
                                            const scenario::Variables& vars,
                                            const Connector& connector,
                                            const ExecutorOptions& options) {
  internal::Executor executor(s, vars, connector, options);
  ScenarioResult r = co_await executor.Run();
  co_return r;
}

void RedactResult(const scenario::Variables& vars, ScenarioResult* r) {
  const std::vector<std::string> secrets = vars.SecretValues();
  if (secrets.empty()) return;
  // Texts quote wire bytes escaped (Quote), so they get the escaped forms too.
  const std::vector<std::string> text_secrets = harness::WithEscapedForms(secrets);
  r->reason = harness::RedactText(r->reason, text_secrets);
  if (r->failure) {
    r->failure->step_label = harness::RedactText(r->failure->step_label, text_secrets);
    r->failure->expected = harness::RedactText(r->failure->expected, text_secrets);
    r->failure->actual = harness::RedactText(r->failure->actual, text_secrets);
    r->failure->message = harness::RedactText(r->failure->message, text_secrets);
  }
  r->transcript.RedactStreams(secrets);
}

}  // namespace smtp::runner
