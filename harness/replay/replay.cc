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

#include "harness/replay/exchanges.h"
#include "harness/runner/probe.h"
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

ReplyOptions ReplyReading(bool bare_cr_line_end) {
  ReplyOptions o;
  o.leniencies = runner::kReplyQuirks & ~Leniencies{kBareCrLineEnd};
  if (bare_cr_line_end) o.leniencies |= kBareCrLineEnd;
  return o;
}

namespace {

// A recorded server whose greeting ends its lines with a bare CR: read with
// that leniency, as the runner's preflight would.
bool GreetingNeedsBareCr(const harness::Transcript& t) {
  ReplyReader reader(ReplyReading(false));
  for (const Entry& e : t.entries()) {
    if (e.kind != EntryKind::kServerToClient) continue;
    std::string_view bytes = e.data;
    while (!bytes.empty()) {
      bytes.remove_prefix(reader.Feed(bytes));
      if (reader.has_reply()) return false;
      if (reader.failed()) return reader.error().code == Errc::kBareCr;
    }
  }
  return false;
}

// The AUTH exchanges of a (undamaged) recording, in order.
std::vector<AuthNeed> AuthNeeds(const harness::Transcript& t) {
  std::vector<AuthNeed> out;
  // Most sessions hold no AUTH: not worth splitting.
  const std::string client = t.SideBytes(harness::Direction::kClientToServer);
  constexpr std::string_view kAuth = "AUTH";
  if (std::search(client.begin(), client.end(), kAuth.begin(), kAuth.end(),
                  [](char a, char b) { return ToUpper(a) == b; }) == client.end()) {
    return out;
  }
  const Exchanges x = SplitExchanges(t);
  // Units in order, each with its reply (nullptr when none was recorded).
  std::vector<std::pair<const Sent*, const Reply*>> units;
  for (const Exchange& e : x.exchanges) {
    for (std::size_t i = 0; i < e.sent.size(); ++i) {
      units.emplace_back(&e.sent[i], i < e.replies.size() ? &e.replies[i] : nullptr);
    }
  }
  for (std::size_t i = 0; i < units.size(); ++i) {
    const Sent& u = *units[i].first;
    if (u.kind != Sent::Kind::kCommand || u.verb != Verb::kAuth) continue;
    AuthNeed need;
    std::string_view rest = u.text;
    rest.remove_prefix(std::min(rest.size(), std::size_t{5}));  // "AUTH "
    need.mechanism = ToUpperCopy(rest.substr(0, rest.find(' ')));
    need.redacted = u.text.find("***") != std::string::npos;
    const Reply* last = units[i].second;
    // The responses: lines read after a 334, and a redacted one pipelined
    // with the command (read as a command line: no 334 came before it).
    const auto response = [&](std::size_t k) {
      const Sent& r = *units[k].first;
      return r.kind == Sent::Kind::kSasl || (r.kind == Sent::Kind::kCommand && r.text == "***");
    };
    for (std::size_t k = i + 1; k < units.size() && response(k); ++k) {
      need.redacted = need.redacted || units[k].first->text == "***";
      last = units[k].second;
    }
    need.failed = last != nullptr && last->code >= 400;
    need.succeeded = last != nullptr && last->code / 100 == 2;
    static constexpr std::string_view kRebuilt[] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};
    need.rebuildable =
        std::find(std::begin(kRebuilt), std::end(kRebuilt), need.mechanism) != std::end(kRebuilt);
    out.push_back(std::move(need));
  }
  return out;
}

}  // namespace

Plan BuildPlan(const harness::Transcript& recorded) {
  Plan plan;
  // Only a damaged recording is copied (cut); the rest is read in place.
  std::optional<Undamaged> undamaged;
  if (FindDamage(recorded)) undamaged = CutAtDamage(recorded);
  const harness::Transcript& t = undamaged ? undamaged->transcript : recorded;
  if (undamaged) plan.damage = std::move(undamaged->damage);
  plan.bare_cr_line_end = GreetingNeedsBareCr(t);
  plan.auth = AuthNeeds(t);
  ReplyReader reader(ReplyReading(plan.bare_cr_line_end));
  std::string raw;              // bytes of the reply in progress
  std::size_t read_upto = 0;    // replies covered by kRead steps so far
  bool resync = false;          // after a malformed reply: skipping through the next LF
  std::size_t reply_start = 0;  // reader.offset() where the reply in progress began
  bool last_is_send = false;    // the last step is a kSend nothing came after

  const auto sync = [&] {
    if (plan.replies.size() > read_upto) {
      read_upto = plan.replies.size();
      plan.steps.push_back({.kind = PlanStep::Kind::kRead,
                            .bytes = {},
                            .t_us = 0,
                            .replies = read_upto,
                            .chunks = {}});
      last_is_send = false;
    }
  };
  // Mirrors harness::Session::ReadReply: a malformed reply is the bytes up
  // to its error; the rest of its line is skipped.
  const auto feed = [&](std::string_view bytes) {
    while (!bytes.empty()) {
      if (resync) {
        const std::size_t lf = bytes.find('\n');
        if (lf == std::string_view::npos) return;
        bytes.remove_prefix(lf + 1);
        resync = false;
        continue;
      }
      const std::size_t n = reader.Feed(bytes);
      raw.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
      if (reader.has_reply()) {
        plan.replies.push_back({std::move(raw), reader.TakeReply(), std::nullopt});
        raw.clear();
        reply_start = reader.offset();
      } else if (reader.failed()) {
        ParseError error = reader.error();
        error.offset -= std::min(error.offset, reply_start);  // as the session counts
        plan.replies.push_back({std::move(raw), Reply{}, error});
        raw.clear();
        reader.Reset();
        reply_start = 0;
        resync = true;
      } else {
        break;
      }
    }
  };
  const auto reset_reader = [&] {
    reader.Reset();
    reply_start = 0;
    raw.clear();
    resync = false;
  };

  bool seen_data = false;
  for (const Entry& e : t.entries()) {
    if (e.is_data() && e.size != e.data.size()) {
      plan.note = "the transcript was not stored in full (a storage cap): replayed up to there";
      break;
    }
    if (e.kind == EntryKind::kServerToClient) {
      seen_data = true;
      feed(e.data);
    } else if (e.kind == EntryKind::kClientToServer) {
      seen_data = true;
      sync();
      if (last_is_send) {
        plan.steps.back().bytes += e.data;
        plan.steps.back().chunks.push_back(e.data.size());
      } else {
        plan.steps.push_back({.kind = PlanStep::Kind::kSend,
                              .bytes = e.data,
                              .t_us = e.t_us,
                              .replies = 0,
                              .chunks = {e.data.size()}});
        last_is_send = true;
      }
    } else if (e.kind == EntryKind::kTlsEstablished && !seen_data && plan.steps.empty()) {
      plan.implicit_tls = true;  // TLS from the first byte: the target's own
    } else if (e.kind == EntryKind::kTlsEstablished) {
      sync();
      plan.steps.push_back({.kind = PlanStep::Kind::kStartTls,
                            .bytes = {},
                            .t_us = e.t_us,
                            .replies = 0,
                            .chunks = {}});
      reset_reader();
      last_is_send = false;
    } else if (e.kind == EntryKind::kConnect && (!plan.steps.empty() || !plan.replies.empty())) {
      // A new connection: the server's stream starts afresh.
      sync();
      plan.steps.push_back({.kind = PlanStep::Kind::kReconnect,
                            .bytes = {},
                            .t_us = e.t_us,
                            .replies = 0,
                            .chunks = {}});
      reset_reader();
      seen_data = false;
      last_is_send = false;
    } else if (e.kind == EntryKind::kTlsOpaque) {
      sync();
      plan.steps.push_back({.kind = PlanStep::Kind::kOpaque,
                            .bytes = {},
                            .t_us = e.t_us,
                            .replies = 0,
                            .chunks = {}});
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
        {.kind = PlanStep::Kind::kExpectClose, .bytes = {}, .t_us = 0, .replies = 0, .chunks = {}});
  }
  sync();
  // Bytes sent last that nothing answered in the record (a damaged record's
  // cut never leaves any): nothing to compare them with.
  if (plan.damage) {
    while (!plan.steps.empty() && plan.steps.back().kind == PlanStep::Kind::kSend) {
      plan.steps.pop_back();
    }
  }
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
        if (text == "*") {
          sasl_next_.clear();
        } else {
          AddSecret(next, text);
        }
        out->append(line);
        return;
      }
      if (StartsWithIgnoreCase(text, "AUTH ")) {
        std::string_view rest = text.substr(5);
        const std::string mechanism = ToUpperCopy(rest.substr(0, rest.find(' ')));
        std::string_view initial =
            rest.find(' ') == std::string_view::npos ? "" : rest.substr(rest.find(' ') + 1);
        auth_failed_ = auth_index_ < options_.auth.size() && options_.auth[auth_index_].failed;
        auth_succeeded_ =
            auth_index_ < options_.auth.size() && options_.auth[auth_index_].succeeded;
        ++auth_index_;
        challenge_.clear();
        std::string first;  // what the initial response stands for
        if (mechanism == "PLAIN") {
          first = "plain";
          if (initial.empty()) sasl_next_ = {"plain"};
        } else if (mechanism == "LOGIN") {
          first = "user";
          sasl_next_ = initial.empty() ? std::vector<std::string>{"user", "password"}
                                       : std::vector<std::string>{"password"};
        } else if (mechanism == "CRAM-MD5") {
          sasl_next_ = {"cram"};
        } else if (mechanism == "XOAUTH2") {
          first = "xoauth2";
          if (initial.empty()) sasl_next_ = {"xoauth2"};
        } else {
          sasl_next_.clear();
        }
        if (initial == "***" && !first.empty()) {
          out->append(text.substr(0, 5 + mechanism.size()))
              .append(" ")
              .append(Secret(first))
              .append(end);
          return;
        }
        if (!initial.empty() && initial != "=") AddSecret(first, initial);
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

void ClientRewriter::OnReply(const Reply& reply) {
  if (reply.code != kContinueReqCode || reply.lines.empty()) return;
  challenge_ = sasl::Base64DecodeLenient(reply.lines.front()).value_or("");
}

void ClientRewriter::AddSecret(std::string_view which, std::string_view response) {
  // Shorter ones would hide ordinary text everywhere (cf. kMinRedactedFragment).
  constexpr std::size_t kMinSecret = 4;
  if (response.size() < kMinSecret) return;
  secrets_.emplace_back(response);
  const std::optional<std::string> decoded = sasl::Base64DecodeLenient(response);
  if (!decoded || decoded->empty()) return;
  if (which == "plain") {
    if (const std::optional<sasl::PlainMessage> m = sasl::ParsePlainMessage(*decoded)) {
      if (m->passwd.size() >= kMinSecret) secrets_.emplace_back(m->passwd);
    }
  } else if (which == "password" && decoded->size() >= kMinSecret) {
    secrets_.push_back(*decoded);
  }
}

std::string ClientRewriter::Secret(std::string_view which) {
  const bool have = !options_.auth_user.empty() || !options_.auth_password.empty();
  // A recorded failure fails again: the same user, a wrong password. So is
  // an exchange whose outcome the record does not tell, without credentials.
  const bool wrong = auth_failed_ || (!have && !auth_succeeded_);
  if (!have && !wrong) {
    sent_redacted_ = true;
    return "***";
  }
  const std::string user = options_.auth_user.empty() ? "smtp-harness-replay" : options_.auth_user;
  const std::string password = wrong ? std::string(kWrongPassword) : options_.auth_password;
  std::string response;
  if (which == "plain") {
    response = sasl::Base64Encode(std::string(1, '\0') + user + '\0' + password);
  } else if (which == "user") {
    response = sasl::Base64Encode(user);
  } else if (which == "cram") {
    response = sasl::Base64Encode(sasl::CramMd5Response(user, password, challenge_));
  } else if (which == "xoauth2") {
    response = sasl::Base64Encode(sasl::Xoauth2Message(user, password));
  } else {
    response = sasl::Base64Encode(password);
  }
  if (!options_.auth_password.empty() &&
      std::find(secrets_.begin(), secrets_.end(), options_.auth_password) == secrets_.end()) {
    secrets_.push_back(options_.auth_password);
  }
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
