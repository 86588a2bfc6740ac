#include "harness/replay/replay.h"

#include <algorithm>
#include <memory>
#include <random>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/runner/probe.h"
#include "parser/ascii.h"
#include "parser/parse_error.h"
#include "results/absl_compat.h"
#include "results/redact.h"

namespace smtp::replay {
namespace {

using harness::Clock;
using harness::Deadline;
using harness::Entry;
using harness::EntryKind;
using harness::In;
using harness::ScenarioResult;
using harness::Verdict;

constexpr std::size_t kMaxLabel = 80;

// The first word of a reply's first line (a greeting's or EHLO reply's host).
std::string FirstWord(const Reply& r) {
  if (r.lines.empty()) return {};
  std::string_view text = r.lines[0];
  return std::string(text.substr(0, text.find(' ')));
}

// "MAIL FROM:<a@b>" for a row label: the first line sent, shortened.
std::string FirstLine(std::string_view bytes) {
  std::string_view line = WithoutLineEnd(bytes.substr(0, bytes.find('\n')));
  std::string out = harness::EscapeBytes(line.substr(0, kMaxLabel));
  if (line.size() > kMaxLabel) out += "...";
  return out;
}

std::string OneLine(std::string_view replies) {
  std::string_view first = WithoutLineEnd(replies.substr(0, replies.find('\n')));
  std::string out = harness::EscapeBytes(first.substr(0, kMaxLabel));
  if (first.size() > kMaxLabel || first.size() + 2 < replies.size()) out += " ...";
  return out;
}

}  // namespace

// --- Comparison --------------------------------------------------------------------

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kCode:
      return "code";
    case Level::kEnhanced:
      return "enhanced";
    case Level::kText:
      return "text";
  }
  return "?";
}

bool ParseLevel(std::string_view name, Level* level) {
  for (Level l : {Level::kCode, Level::kEnhanced, Level::kText}) {
    if (name == LevelName(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

std::optional<Level> Compare(const Reply& recorded, const Reply& replayed,
                             const Normalizer& normalizer,
                             const std::vector<Normalizer::Name>& names) {
  if (recorded.code != replayed.code) return Level::kCode;
  if (recorded.enhanced != replayed.enhanced) return Level::kEnhanced;
  if (recorded.lines.size() != replayed.lines.size()) return Level::kText;
  for (std::size_t i = 0; i < recorded.lines.size(); ++i) {
    // Equal lines normalize equally: only differing ones need the rules.
    if (recorded.lines[i] == replayed.lines[i]) continue;
    if (normalizer.Apply(recorded.lines[i], names) != normalizer.Apply(replayed.lines[i], names)) {
      return Level::kText;
    }
  }
  return std::nullopt;
}

// --- Engine ---------------------------------------------------------------------------

namespace {

// Compare() for replies as read (ReplyReading): two malformed replies are
// the same at the code level when they break at the same byte for the same
// reason, and at the text level when their bytes up to there agree too.
std::optional<Level> CompareRead(const RecordedReply& recorded, const RecordedReply& replayed,
                                 const Normalizer& normalizer,
                                 const std::vector<Normalizer::Name>& names) {
  if (recorded.malformed.has_value() != replayed.malformed.has_value()) return Level::kCode;
  if (!recorded.malformed) return Compare(recorded.reply, replayed.reply, normalizer, names);
  if (recorded.malformed->code != replayed.malformed->code ||
      recorded.malformed->offset != replayed.malformed->offset) {
    return Level::kCode;
  }
  if (recorded.raw != replayed.raw &&
      normalizer.Apply(recorded.raw, names) != normalizer.Apply(replayed.raw, names)) {
    return Level::kText;
  }
  return std::nullopt;
}

// The most severe of two differences (code < enhanced < text).
std::optional<Level> Worst(std::optional<Level> a, std::optional<Level> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The id of a session in reports: its file name without ".json" (and
// without directories), or the scenario id of a results.json transcript.
std::string SessionId(const std::string& name) {
  std::string_view id = name;
  if (const auto hash = id.rfind('#'); hash != std::string_view::npos)
    return std::string(id.substr(hash + 1));
  if (const auto slash = id.rfind('/'); slash != std::string_view::npos)
    id.remove_prefix(slash + 1);
  if (id.ends_with(".json")) id.remove_suffix(5);
  return std::string(id);
}

std::string Describe(const harness::TranscriptMeta& m) {
  std::string out = "Recorded session";
  if (!m.source.empty()) out += " (" + m.source + ")";
  if (!m.client.empty() || !m.server.empty()) {
    out += " from " + (m.client.empty() ? "?" : m.client) + " to " +
           (m.server.empty() ? "?" : m.server);
  }
  if (!m.started_at.empty()) out += " at " + m.started_at;
  return out + ".";
}

struct Replayed {
  std::vector<RecordedReply> replies;
  std::vector<std::string> sent;  // per kRead group: the bytes sent before it
  std::string stopped;            // why the replay stopped early ("" if it did not)
  // kExpectClose: what the server did instead of closing ("" if it closed).
  std::string instead_of_close;
  std::string sent_before_close;
  Leniencies leniencies = kStrict;  // what the live replies needed (ReplyReading)
};

asio::awaitable<void> WaitUntil(Deadline at) {
  if (at <= Clock::now()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, at);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

std::string ReadProblem(const harness::ReplyOutcome& o, std::size_t index) {
  const std::string which = "reply " + std::to_string(index + 1);
  switch (o.status) {
    case harness::ReadStatus::kTimeout:
      return "no " + which + " within the step timeout";
    case harness::ReadStatus::kPeerClosed:
      return "the server closed the connection before " + which;
    case harness::ReadStatus::kMalformed:
      return which + " is malformed at byte " + std::to_string(o.error.offset) + " (" +
             std::string(ErrcName(o.error.code)) + ")";
    default:
      return which + ": " + Message(o.transport_error);
  }
}

// Drives the plan over `session`; fills `out`. Returns an error only when
// the connection could not be opened at all.
asio::awaitable<absl::Status> Drive(const Plan& plan, const harness::Target& target,
                                    const ReplayOptions& options, ClientRewriter& rewriter,
                                    harness::Session& session, Replayed& out) {
  const Clock::time_point start = Clock::now();
  const Deadline session_deadline = start + options.session_timeout;
  const auto within = [&] { return std::min(In(options.step_timeout), session_deadline); };
  absl::Status connected = co_await session.Connect(target, within());
  if (!connected.ok()) co_return connected;
  std::string sent;
  for (const PlanStep& step : plan.steps) {
    if (!out.stopped.empty() && step.kind != PlanStep::Kind::kRead) continue;
    switch (step.kind) {
      case PlanStep::Kind::kSend: {
        if (options.original_timing) {
          co_await WaitUntil(
              std::min(start + std::chrono::microseconds(step.t_us), session_deadline));
        }
        const std::string bytes = rewriter.Rewrite(step.bytes);
        sent += bytes;
        // Unchanged bytes go in the recorded client's writes: a server may
        // answer a line that arrives in pieces otherwise than one that
        // arrives whole (aiosmtpd and an over-long line).
        std::vector<std::string_view> writes;
        if (bytes == step.bytes && step.chunks.size() > 1) {
          std::size_t at = 0;
          for (std::size_t n : step.chunks) {
            writes.push_back(std::string_view(bytes).substr(at, n));
            at += n;
          }
        } else {
          writes.push_back(bytes);
        }
        for (std::string_view w : writes) {
          absl::Status s = co_await session.Send(w, within());
          if (!s.ok()) {
            out.stopped = "sending failed: " + Message(s);
            break;
          }
        }
        break;
      }
      case PlanStep::Kind::kRead:
        out.sent.push_back(std::move(sent));
        sent.clear();
        while (out.stopped.empty() && out.replies.size() < step.replies) {
          harness::ReplyOutcome o = co_await session.ReadReply(within());
          if (o.status == harness::ReadStatus::kMalformed) {
            // Read as the recorded bytes were: the session skips the rest
            // of the line, as BuildPlan does.
            out.replies.push_back({std::move(o.partial), Reply{}, o.error});
            continue;
          }
          if (!o.ok()) {
            out.stopped = ReadProblem(o, out.replies.size());
            break;
          }
          rewriter.OnReply(o.reply);
          out.leniencies |= o.reply.deviations;
          std::string raw = SerializeReply(o.reply);
          out.replies.push_back({std::move(raw), std::move(o.reply), std::nullopt});
        }
        break;
      case PlanStep::Kind::kStartTls: {
        if (out.replies.empty() || out.replies.back().malformed ||
            out.replies.back().reply.code != 220) {
          out.stopped = "the target did not accept STARTTLS (no 220): not replayed past it";
          break;
        }
        auto tls = co_await session.StartTls(within());
        if (!tls.ok()) out.stopped = "TLS handshake failed: " + Message(tls.status());
        break;
      }
      case PlanStep::Kind::kReconnect: {
        (void)co_await session.Close(In(options.close_timeout));
        absl::Status again = co_await session.Connect(target, within());
        if (!again.ok()) out.stopped = "reconnecting failed: " + Message(again);
        break;
      }
      case PlanStep::Kind::kOpaque:
        break;
      case PlanStep::Kind::kExpectClose: {
        out.sent_before_close = std::move(sent);
        sent.clear();
        const harness::CloseOutcome c = co_await session.ExpectClose(within());
        if (c.status == harness::CloseOutcome::Status::kStillOpen || c.data_bytes > 0) {
          out.instead_of_close =
              c.data_bytes > 0 ? c.data : std::string("(the connection stayed open)");
        }
        break;
      }
    }
  }
  (void)co_await session.Close(In(options.close_timeout));
  co_return absl::OkStatus();
}

}  // namespace

namespace {

// "not replayable: KIND: TEXT", the kind said once ("capture gap: capture
// gap: ..." reads as a stutter).
std::string NotReplayable(const Damage& d, const std::string& text) {
  const std::string prefix = "not replayable: ";
  if (text.starts_with(d.kind + ":")) return prefix + text;
  return prefix + d.kind + ": " + text;
}

}  // namespace

std::string NotReplayableKind(const ScenarioResult& r) {
  constexpr std::string_view kPrefix = "not replayable: ";
  if (r.verdict != Verdict::kSkip || !std::string_view(r.reason).starts_with(kPrefix)) return {};
  std::string_view rest = std::string_view(r.reason).substr(kPrefix.size());
  return std::string(rest.substr(0, rest.find(':')));
}

std::string NeedsCredentials(const Plan& plan, const RewriteOptions& rewrite) {
  const bool have = !rewrite.auth_user.empty() || !rewrite.auth_password.empty();
  for (const AuthNeed& a : plan.auth) {
    // A failure (or an outcome the record does not tell) is rebuilt with a
    // wrong password.
    if (!a.redacted || !a.succeeded) continue;
    if (!a.rebuildable) {
      return "not replayable: AUTH " + a.mechanism + ": its redacted secrets (***) cannot be " +
             "rebuilt for this mechanism";
    }
    if (!have) {
      return "not replayable: AUTH without credentials: the recording's AUTH " + a.mechanism +
             " secrets are redacted (***); give --auth_user and --auth_password (or record with "
             "--keep_secrets)";
    }
  }
  return {};
}

asio::awaitable<ScenarioResult> ReplaySession(const harness::NamedTranscript& named,
                                              const harness::Target& target,
                                              const ReplayOptions& options) {
  const harness::Transcript& recording = named.transcript;
  ScenarioResult r;
  r.id = SessionId(named.name);
  r.title = "Replay of " + r.id;
  r.description = Describe(recording.meta());
  r.file = named.name;
  r.level = "replay";
  r.group = "replay";
  r.tags = {"replay"};
  if (!recording.meta().source.empty()) r.tags.push_back(recording.meta().source);
  const Clock::time_point t0 = Clock::now();

  const Plan plan = BuildPlan(recording);
  // Sessions that cannot be replayed at all are skipped with the reason,
  // before any connection.
  std::string skip = NeedsCredentials(plan, options.rewrite);
  if (skip.empty() && plan.damage &&
      std::none_of(plan.steps.begin(), plan.steps.end(),
                   [](const PlanStep& s) { return s.kind == PlanStep::Kind::kRead; })) {
    skip = NotReplayable(*plan.damage, plan.damage->detail) + "; nothing before it can be replayed";
  }
  if (!skip.empty()) {
    r.verdict = Verdict::kSkip;
    r.reason = std::move(skip);
    r.transcript.meta().source = "replay";
    r.transcript.meta().server = target.ToString();
    r.transcript.AddNote(r.reason);
    co_return r;
  }
  RewriteOptions rewrite = options.rewrite;
  rewrite.auth = plan.auth;
  // Unique per session and per process: a random prefix drawn once.
  static const std::string process_tag = std::to_string(std::random_device{}());
  static std::atomic<std::uint64_t> counter{0};
  rewrite.session_tag = process_tag + "." + std::to_string(++counter);
  ClientRewriter rewriter(rewrite);
  harness::SessionOptions session_options = options.session;
  session_options.reply.leniencies = ReplyReading(plan.bare_cr_line_end).leniencies;
  harness::Session session(session_options);
  Replayed got;
  absl::Status status = co_await Drive(plan, target, options, rewriter, session, got);
  r.transcript = session.TakeTranscript();
  r.transcript.meta().source = "replay";
  r.transcript.meta().server = target.ToString();
  r.duration_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  if (!status.ok()) {
    r.verdict = Verdict::kError;
    r.reason = "could not replay: " + Message(status);
    co_return r;
  }
  const Leniencies quirks = got.leniencies & runner::kReplyQuirks;
  if (quirks != kStrict) {
    std::string names;
    ForEachLeniency(
        quirks, [&](std::string_view n) { names += (names.empty() ? "" : ", ") + std::string(n); });
    r.transcript.AddNote("the target's replies needed leniency (" + names +
                         "): read with it, as `run` reads a target whose preflight shows it");
    if (options.leniencies_seen) options.leniencies_seen->fetch_or(quirks);
  }

  // Host names seen in this session, for the normalizer.
  std::vector<Normalizer::Name> names;
  const auto add_name = [&](std::string word, std::string placeholder) {
    if (word.size() >= 3) names.push_back({std::move(word), std::move(placeholder)});
  };
  if (!plan.replies.empty()) add_name(FirstWord(plan.replies[0].reply), "<server-host>");
  if (!got.replies.empty()) add_name(FirstWord(got.replies[0].reply), "<server-host>");
  add_name(rewriter.helo_seen(), "<client-host>");
  add_name(rewriter.helo_sent(), "<client-host>");
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.word.size() > b.word.size(); });

  harness::ReplayComparison cmp;
  cmp.session = named.name;
  cmp.level = std::string(LevelName(options.level));
  std::size_t begin = 0;
  std::size_t group = 0;
  int text_only = 0;
  for (const PlanStep& step : plan.steps) {
    if (step.kind != PlanStep::Kind::kRead) continue;
    harness::ReplayRow row;
    row.sent = group < got.sent.size() ? got.sent[group] : std::string();
    ++group;
    std::optional<Level> worst;
    for (std::size_t i = begin; i < step.replies; ++i) {
      row.recorded += plan.replies[i].raw;
      if (i < got.replies.size()) {
        row.replayed += got.replies[i].raw;
        worst =
            Worst(worst, CompareRead(plan.replies[i], got.replies[i], options.normalizer, names));
      } else {
        worst = Level::kCode;  // missing
      }
    }
    begin = step.replies;
    if (worst) row.differs = std::string(LevelName(*worst));
    if (worst && *worst <= options.level) {
      if (++cmp.differences == 1) {
        harness::Failure f;
        f.step = static_cast<int>(cmp.rows.size());
        f.step_label = row.sent.empty() ? "the greeting" : "the reply to " + FirstLine(row.sent);
        f.expected = row.recorded;
        f.actual = row.replayed.empty() ? "(no reply: " + got.stopped + ")" : row.replayed;
        f.message = f.step_label + " differs at the " + row.differs +
                    " level: " + OneLine(row.recorded) + " -> " +
                    (row.replayed.empty() ? "no reply" : OneLine(row.replayed));
        r.failure = std::move(f);
      }
    } else if (worst) {
      ++text_only;
    }
    cmp.rows.push_back(std::move(row));
  }
  if (!plan.steps.empty() && plan.steps.back().kind == PlanStep::Kind::kExpectClose &&
      got.stopped.empty()) {
    harness::ReplayRow row;
    row.sent = got.sent_before_close;
    row.recorded = "(closed without a reply)";
    row.replayed = got.instead_of_close.empty() ? row.recorded : got.instead_of_close;
    if (!got.instead_of_close.empty()) {
      row.differs = std::string(LevelName(Level::kCode));
      if (++cmp.differences == 1) {
        harness::Failure f;
        f.step = static_cast<int>(cmp.rows.size());
        f.step_label = "the reply to " + FirstLine(row.sent);
        f.expected = row.recorded;
        f.actual = row.replayed;
        f.message = "the recorded server closed the connection without answering " +
                    FirstLine(row.sent) + "; the target answered " + OneLine(row.replayed);
        r.failure = std::move(f);
      }
    }
    cmp.rows.push_back(std::move(row));
  }
  const int rows = static_cast<int>(cmp.rows.size());
  const std::string damaged =
      plan.damage ? NotReplayable(*plan.damage, plan.damage->Describe()) : "";
  if (cmp.differences > 0) {
    r.verdict = Verdict::kFail;
    r.reason = std::to_string(cmp.differences) + " of " + std::to_string(rows) +
               " exchanges differ at the " + cmp.level + " level";
    if (!got.stopped.empty()) r.reason += "; " + got.stopped;
    if (!damaged.empty()) r.reason += "; then " + damaged;
  } else if (!damaged.empty()) {
    // The part before the damage is the same; the rest cannot be judged.
    r.verdict = Verdict::kSkip;
    r.reason = damaged + "; the " + std::to_string(rows) +
               " exchanges before it replay with no differences at the " + cmp.level + " level";
  } else {
    r.verdict = Verdict::kPass;
    r.reason =
        "no differences at the " + cmp.level + " level in " + std::to_string(rows) + " exchanges";
    if (text_only > 0) r.reason += " (" + std::to_string(text_only) + " differ only beyond it)";
  }
  if (!plan.note.empty()) r.reason += "; " + plan.note;
  if (plan.implicit_tls && target.kind != harness::Target::Kind::kTls) {
    r.reason += "; the recording used implicit TLS and the target is not tls:HOST:PORT";
  }
  // AUTH secrets (rebuilt from --auth_*, or sent as recorded) stay out of
  // every stored reply and report, whatever the server echoes.
  if (!rewriter.secrets().empty()) {
    const std::vector<std::string> secrets = harness::WithEscapedForms(rewriter.secrets());
    r.transcript.RedactStreams(rewriter.secrets());
    for (harness::ReplayRow& row : cmp.rows) {
      row.sent = harness::RedactText(row.sent, rewriter.secrets());
      row.replayed = harness::RedactText(row.replayed, rewriter.secrets());
      row.recorded = harness::RedactText(row.recorded, rewriter.secrets());
    }
    if (r.failure) {
      for (std::string* field : {&r.failure->step_label, &r.failure->message, &r.failure->expected,
                                 &r.failure->actual}) {
        *field = harness::RedactText(*field, secrets);
      }
    }
    r.reason = harness::RedactText(r.reason, secrets);
  }
  if (rewriter.sent_redacted()) {
    r.reason +=
        "; the recording's AUTH secrets are redacted (***): give --auth_user and "
        "--auth_password (or record with --keep_secrets) to replay AUTH";
  }
  r.transcript.AddNote(r.reason);
  r.replay = std::move(cmp);
  co_return r;
}

namespace {

// The greeting and EHLO reply the target gave, from the first replayed
// session that has them (the report's header shows them, as a run's does).
void FillTargetInfo(harness::RunResult* run) {
  ReplyOptions o = ReplyReading(false);
  for (const ScenarioResult& r : run->scenarios) {
    if (!r.replay || r.replay->rows.empty()) continue;
    const Result<Reply> greeting = ParseReply(r.replay->rows.front().replayed, o);
    if (!greeting.ok() || greeting->lines.empty()) continue;
    for (const harness::ReplayRow& row : r.replay->rows) {
      if (!StartsWithIgnoreCase(row.sent, "EHLO ") && !StartsWithIgnoreCase(row.sent, "LHLO ")) {
        continue;
      }
      const Result<Reply> ehlo = ParseReply(row.replayed, o);
      if (!ehlo.ok() || ehlo->code != 250) break;
      run->target.banner = greeting->lines.front();
      run->target.ehlo_lines.assign(ehlo->lines.begin() + 1, ehlo->lines.end());
      return;
    }
  }
}

}  // namespace

harness::RunResult ReplayAll(const std::vector<harness::NamedTranscript>& sessions,
                             const harness::Target& target, const ReplayOptions& options,
                             const std::function<void(const ScenarioResult&)>& on_done) {
  harness::RunResult run;
  run.fail_on = {"replay"};
  run.planned = static_cast<int>(sessions.size());
  run.target.target = target.ToString();
  std::vector<std::optional<ScenarioResult>> results(sessions.size());
  std::size_t next = 0;
  asio::io_context io;
  const Clock::time_point t0 = Clock::now();
  const auto worker = [&]() -> asio::awaitable<void> {
    while (next < sessions.size() && !(options.stop && options.stop->load())) {
      const std::size_t i = next++;
      ScenarioResult r = co_await ReplaySession(sessions[i], target, options);
      r.start_us =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count() -
          r.duration_us;
      if (on_done) on_done(r);
      results[i] = std::move(r);
    }
  };
  const int jobs = std::clamp(options.jobs, 1, 1024);
  for (int j = 0; j < jobs; ++j) asio::co_spawn(io, worker, asio::detached);
  io.run();
  for (auto& r : results) {
    if (r) run.scenarios.push_back(*std::move(r));
  }
  FillTargetInfo(&run);
  if (run.scenarios.size() < sessions.size()) {
    run.complete = false;
    run.stopped = "interrupted: " + std::to_string(sessions.size() - run.scenarios.size()) +
                  " sessions not replayed";
  }
  run.duration_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
  return run;
}

}  // namespace smtp::replay
