#include "harness/replay/plan.h"

#include <algorithm>

#include "harness/replay/exchanges.h"
#include "harness/runner/probe.h"
#include "parser/ascii.h"
#include "parser/leniency.h"

namespace smtp::replay {

using harness::Entry;
using harness::EntryKind;

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

}  // namespace smtp::replay
