#include "harness/replay/replay.h"

#include <algorithm>
#include <ctime>
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

#include "harness/sasl.h"
#include "parser/ascii.h"
#include "parser/leniency.h"
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

std::string_view WithoutLineEnd(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

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

// --- Plan ----------------------------------------------------------------------

Plan BuildPlan(const harness::Transcript& t) {
  Plan plan;
  ReplyOptions reply_options;
  reply_options.leniencies = kAllLeniencies;
  ReplyReader reader(reply_options);
  std::string raw;             // bytes of the reply in progress
  std::size_t read_upto = 0;   // replies covered by kRead steps so far
  bool server_broken = false;  // the server's bytes stopped parsing
  bool last_is_send = false;   // the last step is a kSend nothing came after

  const auto sync = [&] {
    if (plan.replies.size() > read_upto) {
      read_upto = plan.replies.size();
      plan.steps.push_back(
          {.kind = PlanStep::Kind::kRead, .bytes = {}, .t_us = 0, .replies = read_upto});
      last_is_send = false;
    }
  };
  const auto feed = [&](std::string_view bytes) {
    while (!bytes.empty() && !server_broken) {
      const std::size_t n = reader.Feed(bytes);
      raw.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (reader.has_reply()) {
        plan.replies.push_back({std::move(raw), reader.TakeReply()});
        raw.clear();
      } else if (reader.failed()) {
        server_broken = true;
        plan.note = "the recorded server bytes stop parsing as replies at byte " +
                    std::to_string(reader.error().offset) + " (" +
                    std::string(ErrcName(reader.error().code)) + "): compared up to there";
      } else {
        break;
      }
    }
  };

  for (const Entry& e : t.entries()) {
    if (e.is_data() && e.size != e.data.size()) {
      plan.note = "the transcript was not stored in full (a storage cap): replayed up to there";
      break;
    }
    if (e.kind == EntryKind::kServerToClient) {
      feed(e.data);
    } else if (e.kind == EntryKind::kClientToServer) {
      sync();
      if (last_is_send) {
        plan.steps.back().bytes += e.data;
      } else {
        plan.steps.push_back(
            {.kind = PlanStep::Kind::kSend, .bytes = e.data, .t_us = e.t_us, .replies = 0});
        last_is_send = true;
      }
    } else if (e.kind == EntryKind::kTlsEstablished) {
      sync();
      plan.steps.push_back(
          {.kind = PlanStep::Kind::kStartTls, .bytes = {}, .t_us = e.t_us, .replies = 0});
      last_is_send = false;
    } else if (e.kind == EntryKind::kConnect && (!plan.steps.empty() || !plan.replies.empty())) {
      // A new connection: the server's stream starts afresh.
      sync();
      plan.steps.push_back(
          {.kind = PlanStep::Kind::kReconnect, .bytes = {}, .t_us = e.t_us, .replies = 0});
      reader.Reset();
      raw.clear();
      last_is_send = false;
    } else if (e.kind == EntryKind::kTlsOpaque) {
      sync();
      plan.steps.push_back(
          {.kind = PlanStep::Kind::kOpaque, .bytes = {}, .t_us = e.t_us, .replies = 0});
      plan.note = "the session switched to TLS unseen (tls_opaque): replayed up to the upgrade";
      return plan;
    }
  }
  // Sent bytes the server closed on without a reply: expect the close.
  // The client's bytes came last, then the server's close.
  const auto closed_after_send = [&] {
    bool closed = false;
    for (auto it = t.entries().rbegin(); it != t.entries().rend(); ++it) {
      if (it->is_data()) return closed && it->kind == EntryKind::kClientToServer;
      closed = closed || it->kind == EntryKind::kPeerClosed;
    }
    return false;
  };
  if (last_is_send && closed_after_send()) {
    plan.steps.push_back(
        {.kind = PlanStep::Kind::kExpectClose, .bytes = {}, .t_us = 0, .replies = 0});
  }
  sync();
  return plan;
}

// --- Substitutions ----------------------------------------------------------------

std::string Rfc5322Now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return std::string(buf, n);
}

ClientRewriter::ClientRewriter(RewriteOptions options) : options_(std::move(options)) {}

std::string ClientRewriter::Rewrite(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 64);
  while (!bytes.empty()) {
    if (state_ == State::kBdat) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(bdat_left_, bytes.size()));
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      bdat_left_ -= n;
      if (bdat_left_ == 0) state_ = State::kCommand;
      continue;
    }
    const std::size_t lf = bytes.find('\n');
    if (lf == std::string_view::npos) {
      // An incomplete line ends the group: sent as it is; its rest, in the
      // next group, is not a line start.
      out.append(bytes);
      mid_line_ = true;
      break;
    }
    const std::string_view line = bytes.substr(0, lf + 1);
    bytes.remove_prefix(lf + 1);
    if (mid_line_) {
      out.append(line);
      mid_line_ = false;
      continue;
    }
    Line(line, &out);
  }
  return out;
}

void ClientRewriter::Line(std::string_view line, std::string* out) {
  const std::string_view text = WithoutLineEnd(line);
  const std::string_view end = line.substr(text.size());
  switch (state_) {
    case State::kCommand: {
      for (std::string_view verb : {"EHLO ", "HELO ", "LHLO "}) {
        if (StartsWithIgnoreCase(text, verb)) {
          const std::string_view name = text.substr(verb.size());
          helo_seen_ = std::string(name.substr(0, name.find(' ')));
          helo_sent_ = options_.helo.empty() ? helo_seen_ : options_.helo;
          if (!options_.helo.empty()) {
            out->append(text.substr(0, verb.size())).append(options_.helo).append(end);
            return;
          }
        }
      }
      if (!sasl_next_.empty()) {
        // A SASL response line (RFC 4954 §4), or "*" to cancel.
        const std::string next = sasl_next_.front();
        sasl_next_.erase(sasl_next_.begin());
        if (text == "***") {
          out->append(Secret(next)).append(end);
          return;
        }
        if (text == "*") sasl_next_.clear();
        out->append(line);
        return;
      }
      if (StartsWithIgnoreCase(text, "AUTH PLAIN") || StartsWithIgnoreCase(text, "AUTH LOGIN")) {
        const bool plain = StartsWithIgnoreCase(text, "AUTH PLAIN");
        std::string_view initial = text.substr(10);
        if (!initial.empty() && initial[0] == ' ') initial.remove_prefix(1);
        if (plain) {
          if (initial.empty()) sasl_next_ = {"plain"};
        } else {
          sasl_next_ = initial.empty() ? std::vector<std::string>{"user", "password"}
                                       : std::vector<std::string>{"password"};
        }
        if (initial == "***") {
          out->append(text.substr(0, 10))
              .append(" ")
              .append(Secret(plain ? "plain" : "user"))
              .append(end);
          return;
        }
        out->append(line);
        return;
      }
      if (StartsWithIgnoreCase(text, "DATA") &&
          text.find_first_not_of(' ', 4) == std::string_view::npos) {
        state_ = State::kHeaders;
        skip_folded_ = false;
        ++messages_;
      } else if (StartsWithIgnoreCase(text, "BDAT ")) {
        // BDAT n [LAST]: n octets of chunk follow the line.
        std::uint64_t n = 0;
        std::size_t i = 5;
        bool digits = false;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9' &&
               n < (std::uint64_t{1} << 50)) {
          n = n * 10 + static_cast<std::uint64_t>(text[i++] - '0');
          digits = true;
        }
        if (digits && n > 0) {
          bdat_left_ = n;
          state_ = State::kBdat;
        }
      }
      out->append(line);
      return;
    }
    case State::kHeaders:
      if (text == ".") {
        state_ = State::kCommand;
      } else if (text.empty()) {
        state_ = State::kBody;
      } else if (skip_folded_ && (text[0] == ' ' || text[0] == '\t')) {
        return;  // a continuation line of a field we replaced
      } else if (options_.fresh_ids && StartsWithIgnoreCase(text, "Message-ID:")) {
        skip_folded_ = true;
        out->append(text.substr(0, 11))
            .append(" <replay." + options_.session_tag + "." + std::to_string(messages_) + "@" +
                    options_.id_domain + ">")
            .append(end);
        return;
      } else if (options_.fresh_ids && StartsWithIgnoreCase(text, "Date:")) {
        skip_folded_ = true;
        out->append(text.substr(0, 5))
            .append(" " + (options_.date.empty() ? Rfc5322Now() : options_.date))
            .append(end);
        return;
      } else {
        skip_folded_ = false;
      }
      out->append(line);
      return;
    case State::kBody:
      if (text == ".") state_ = State::kCommand;
      out->append(line);
      return;
    case State::kBdat:
      out->append(line);  // not reached: Rewrite passes chunks through
      return;
  }
}

std::string ClientRewriter::Secret(std::string_view which) {
  if (options_.auth_user.empty() && options_.auth_password.empty()) {
    sent_redacted_ = true;
    return "***";
  }
  std::string response =
      which == "plain"
          ? sasl::Base64Encode(std::string(1, '\0') + options_.auth_user + '\0' +
                               options_.auth_password)
          : sasl::Base64Encode(which == "user" ? options_.auth_user : options_.auth_password);
  if (secrets_.empty() && !options_.auth_password.empty())
    secrets_.push_back(options_.auth_password);
  if (which != "user") secrets_.push_back(response);
  return response;
}

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
  std::vector<Reply> replies;
  std::vector<std::string> sent;  // per kRead group: the bytes sent before it
  std::string stopped;            // why the replay stopped early ("" if it did not)
  // kExpectClose: what the server did instead of closing ("" if it closed).
  std::string instead_of_close;
  std::string sent_before_close;
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
        absl::Status s = co_await session.Send(bytes, within());
        if (!s.ok()) out.stopped = "sending failed: " + Message(s);
        break;
      }
      case PlanStep::Kind::kRead:
        out.sent.push_back(std::move(sent));
        sent.clear();
        while (out.stopped.empty() && out.replies.size() < step.replies) {
          harness::ReplyOutcome o = co_await session.ReadReply(within());
          if (!o.ok()) {
            out.stopped = ReadProblem(o, out.replies.size());
            break;
          }
          out.replies.push_back(std::move(o.reply));
        }
        break;
      case PlanStep::Kind::kStartTls: {
        if (out.replies.empty() || out.replies.back().code != 220) {
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
  RewriteOptions rewrite = options.rewrite;
  // Unique per session and per process: a random prefix drawn once.
  static const std::string process_tag = std::to_string(std::random_device{}());
  static std::atomic<std::uint64_t> counter{0};
  rewrite.session_tag = process_tag + "." + std::to_string(++counter);
  ClientRewriter rewriter(rewrite);
  harness::Session session(options.session);
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

  // Host names seen in this session, for the normalizer.
  std::vector<Normalizer::Name> names;
  const auto add_name = [&](std::string word, std::string placeholder) {
    if (word.size() >= 3) names.push_back({std::move(word), std::move(placeholder)});
  };
  if (!plan.replies.empty()) add_name(FirstWord(plan.replies[0].reply), "<server-host>");
  if (!got.replies.empty()) add_name(FirstWord(got.replies[0]), "<server-host>");
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
        row.replayed += SerializeReply(got.replies[i]);
        worst =
            Worst(worst, Compare(plan.replies[i].reply, got.replies[i], options.normalizer, names));
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
  if (cmp.differences > 0) {
    r.verdict = Verdict::kFail;
    r.reason = std::to_string(cmp.differences) + " of " + std::to_string(rows) +
               " exchanges differ at the " + cmp.level + " level";
    if (!got.stopped.empty()) r.reason += "; " + got.stopped;
  } else {
    r.verdict = Verdict::kPass;
    r.reason =
        "no differences at the " + cmp.level + " level in " + std::to_string(rows) + " exchanges";
    if (text_only > 0) r.reason += " (" + std::to_string(text_only) + " differ only beyond it)";
  }
  if (!plan.note.empty()) r.reason += "; " + plan.note;
  // Credentials we put in (AUTH rebuilt from --auth_*) stay out of reports.
  if (!rewriter.secrets().empty()) {
    const std::vector<std::string> secrets = harness::WithEscapedForms(rewriter.secrets());
    r.transcript.RedactStreams(secrets);
    for (harness::ReplayRow& row : cmp.rows)
      row.sent = harness::RedactText(row.sent, rewriter.secrets());
    if (r.failure) {
      r.failure->step_label = harness::RedactText(r.failure->step_label, secrets);
      r.failure->message = harness::RedactText(r.failure->message, secrets);
    }
  }
  if (rewriter.sent_redacted()) {
    r.reason +=
        "; the recording's AUTH secrets are redacted (***): give --auth_user and "
        "--auth_password (or record with --keep-secrets) to replay AUTH";
  }
  r.transcript.AddNote(r.reason);
  r.replay = std::move(cmp);
  co_return r;
}

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
