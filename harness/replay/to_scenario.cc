#include "harness/replay/to_scenario.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "harness/replay/exchanges.h"
#include "parser/ascii.h"
#include "parser/data_reader.h"
#include "parser/leniency.h"
#include "results/transcript.h"

namespace smtp::replay {
namespace {

using Json = nlohmann::ordered_json;

// Printable ASCII and HT: what a `send` line or a `data` body may hold as
// JSON text (anything else goes through the byte escapes of send_raw).
bool PlainText(std::string_view s, bool allow_line_ends) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 0x20 && c < 0x7F) || c == '\t' || (allow_line_ends && (c == '\r' || c == '\n'));
  });
}

// `$` is the variable sigil of templates (harness/scenario/variables.h);
// `$$` is a literal one.
std::string NoVariables(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    out += c;
    if (c == '$') out += '$';
  }
  return out;
}

Json Expect(const Reply& r) {
  if (!r.enhanced) return r.code;
  Json j;
  j["code"] = r.code;
  j["enhanced"] = r.enhanced->ToString();
  return j;
}

Json Raw(std::string_view bytes) { return NoVariables(harness::EscapeBytes(bytes)); }

// The step that sends one unit.
Json SendStep(const Sent& u) {
  const bool line = u.kind == Sent::Kind::kCommand || u.kind == Sent::Kind::kSasl;
  if (line && u.crlf && !u.text.empty() && PlainText(u.text, false)) {
    return {{"send", NoVariables(u.text)}};
  }
  return {{"send_raw", Raw(u.bytes)}};
}

// id characters: letters, digits, '.', '_', '-'.
std::string IdPart(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (ok) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out.empty() ? "session" : out;
}

// FNV-1a, 32 bits: a stable short tag that tells apart sessions whose
// names look alike.
std::string Tag(std::string_view bytes) {
  std::uint32_t h = 2166136261u;
  for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

// "results/run1/results.json#R5321-3.3-e" -> "R5321-3.3-e"; "d/s-1.json" -> "s-1".
std::string BaseName(std::string_view name) {
  if (const std::size_t hash = name.rfind('#'); hash != std::string_view::npos) {
    return std::string(name.substr(hash + 1));
  }
  if (const std::size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (name.ends_with(".json")) name.remove_suffix(5);
  return std::string(name);
}

// The reply leniencies the runner reads a whole run with: the quirks its
// probe finds in the greeting and the EHLO reply (harness/runner/probe.h,
// kReplyQuirks). Every other reply must be strict.
Leniencies ToleratedDeviations(const Exchanges& x) {
  constexpr Leniencies kQuirks = kTrailingWhitespace | kLooseReplyText | kBareCodeContinuation |
                                 kBareLfLineEnd | kBareCrLineEnd | kChallengeWithoutSpace;
  Leniencies seen = kStrict;
  for (const Exchange& e : x.exchanges) {
    for (std::size_t i = 0; i < e.replies.size(); ++i) {
      const bool ehlo = i < e.sent.size() && e.sent[i].verb == Verb::kEhlo;
      if (e.greeting || ehlo) seen |= e.replies[i].deviations;
    }
  }
  return seen & kQuirks;
}

// "Recorded session", "Captured (pcap) session", ...: the source said once
// (a "recorded" source is not "Recorded recorded session").
std::string SourceTitle(std::string_view source) {
  if (source.empty() || source == "recorded") return "Recorded session";
  if (source == "pcap") return "Captured (pcap) session";
  return "Recorded " + std::string(source) + " session";
}

// An LMTP session runs only against an LMTP target, which runs only
// scenarios tagged "lmtp" (docs/scenarios.md). The record does not say what
// the target was; the client's LHLO does, or a greeting that names LMTP
// ("220 host LMTP ...", as the embedded server's and Cyrus's do).
bool IsLmtp(const Exchanges& x) {
  for (const Exchange& e : x.exchanges) {
    for (const Sent& u : e.sent) {
      if (u.verb == Verb::kLhlo) return true;
    }
  }
  const std::string greeting = " " + x.exchanges.front().replies.front().lines.front() + " ";
  return greeting.find(" LMTP ") != std::string::npos;
}

// Writes the steps of exchange after exchange; stops (with a note) where
// the record gives nothing more to check.
class StepWriter {
 public:
  StepWriter(const Exchanges& x, Json* steps, std::vector<std::string>* notes)
      : x_(x), x_tolerated_(ToleratedDeviations(x)), steps_(*steps), notes_(*notes) {}

  void Run() {
    const auto& all = x_.exchanges;
    for (std::size_t i = 1; i < all.size(); ++i) {
      const Exchange& e = all[i];
      if (!Answered(e, i)) return;
      const std::size_t next = Write(i);
      if (next == 0) return;
      for (std::size_t k = i; k < next; ++k) Unsolicited(all[k]);
      i = next - 1;
      if (all[i].tls_opaque) {
        notes_.push_back(
            "the session went on over TLS that the record did not see (tls_opaque); the "
            "scenario ends after the handshake");
        return;
      }
    }
    const Exchange& last = all.back();
    if (x_.peer_closed && !last.sent.empty() && last.sent.back().verb == Verb::kQuit &&
        last.replies.size() >= last.sent.size() && !last.tls_opaque) {
      steps_.push_back({{"expect_close", {{"within_ms", 5000}}}});
    }
  }

  std::size_t answered_units() const { return answered_units_; }

 private:
  // Why exchange `index` cannot be written (a unit cut off or not
  // answered, a reply the runner cannot read), or nullopt.
  std::optional<std::string> Problem(const Exchange& e, std::size_t index) const {
    const std::string at = "exchange " + std::to_string(index);
    if (e.reply_error) return "the server sent bytes that are not a reply at " + at;
    for (const Reply& r : e.replies) {
      if ((r.deviations & ~x_tolerated_) != 0) {
        return "the server's reply at " + at +
               " is not strict RFC 5321 syntax, which the runner does not read";
      }
    }
    for (std::size_t u = 0; u < e.sent.size(); ++u) {
      if (e.sent[u].kind == Sent::Kind::kPartial) {
        return "the record ends in the middle of what the client sent (" + at + ")";
      }
      if (u >= e.replies.size()) return "the server did not answer " + at + " in the record";
    }
    return std::nullopt;
  }

  // No Problem with exchange `index`; otherwise notes it.
  bool Answered(const Exchange& e, std::size_t index) {
    std::optional<std::string> why = Problem(e, index);
    if (why) notes_.push_back(*why + "; the scenario stops before it");
    return !why;
  }

  void Unsolicited(const Exchange& e) {
    for (std::size_t r = e.sent.size(); r < e.replies.size(); ++r) {
      steps_.push_back({{"expect", Expect(e.replies[r])}, {"note", "the server spoke unasked"}});
    }
  }

  // Writes exchange i (and any it absorbs: a DATA body, AUTH lines) and
  // returns the index after the last one used, or 0 to stop.
  std::size_t Write(std::size_t i) {
    const Exchange& e = x_.exchanges[i];
    if (e.sent.size() > 1) {
      WriteGroup(e);
      return i + 1;
    }
    const Sent& u = e.sent.front();
    const Reply& r = e.replies.front();
    if (u.kind == Sent::Kind::kCommand && u.verb == Verb::kAuth) return WriteAuth(i);
    if (u.kind == Sent::Kind::kCommand && u.verb == Verb::kStarttls && r.code / 100 == 2 &&
        (e.tls_established || e.tls_opaque)) {
      steps_.push_back({{"starttls", {{"expect", Expect(r)}}}});
      ++answered_units_;
      return i + 1;
    }
    if (u.kind == Sent::Kind::kCommand && u.verb == Verb::kData && r.code == 354 &&
        i + 1 < x_.exchanges.size()) {
      const Exchange& b = x_.exchanges[i + 1];
      if (b.sent.size() == 1 && b.sent[0].kind == Sent::Kind::kDataBody && !Problem(b, i + 1)) {
        WriteData(r, b.sent[0], b.replies[0]);
        answered_units_ += 2;
        return i + 2;
      }
    }
    steps_.push_back(SendStep(u));
    steps_.push_back({{"expect", Expect(r)}});
    ++answered_units_;
    return i + 1;
  }

  void WriteGroup(const Exchange& e) {
    const bool lines = std::all_of(e.sent.begin(), e.sent.end(),
                                   [](const Sent& u) { return SendStep(u).contains("send"); });
    Json expects = Json::array();
    for (std::size_t u = 0; u < e.sent.size(); ++u) expects.push_back(Expect(e.replies[u]));
    answered_units_ += e.sent.size();
    if (lines) {
      Json sends = Json::array();
      for (const Sent& u : e.sent) sends.push_back(NoVariables(u.text));
      steps_.push_back({{"pipeline", {{"send", sends}, {"expect", expects}}}});
      return;
    }
    std::string bytes;
    for (const Sent& u : e.sent) bytes += u.bytes;
    steps_.push_back({{"send_raw", Raw(bytes)}, {"note", "a pipelined group, sent in one write"}});
    for (Json& x : expects) steps_.push_back({{"expect", std::move(x)}});
  }

  void WriteData(const Reply& accept, const Sent& body, const Reply& done) {
    if (DotStuff(body.text) == body.bytes && PlainText(body.text, true)) {
      steps_.push_back({{"data",
                         {{"body", NoVariables(body.text)},
                          {"accept", Expect(accept)},
                          {"expect", Expect(done)}}}});
      return;
    }
    steps_.push_back(
        {{"data_raw",
          {{"bytes", Raw(body.bytes)}, {"accept", Expect(accept)}, {"expect", Expect(done)}}}});
  }

  // AUTH and the lines answering its challenges (exchanges i, i+1, ...).
  std::size_t WriteAuth(std::size_t i) {
    std::size_t end = i + 1;
    while (end < x_.exchanges.size() && x_.exchanges[end].sent.size() == 1 &&
           x_.exchanges[end].sent[0].kind == Sent::Kind::kSasl) {
      ++end;
    }
    bool redacted = false;
    for (std::size_t k = i; k < end; ++k) {
      if (x_.exchanges[k].sent[0].bytes.find("***") != std::string::npos) redacted = true;
      if (!Answered(x_.exchanges[k], k)) return 0;
    }
    if (!redacted) {
      for (std::size_t k = i; k < end; ++k) {
        steps_.push_back(SendStep(x_.exchanges[k].sent[0]));
        steps_.push_back({{"expect", Expect(x_.exchanges[k].replies[0])}});
        ++answered_units_;
      }
      return end;
    }
    const Sent& cmd = x_.exchanges[i].sent[0];
    std::string_view rest = cmd.text;
    rest.remove_prefix(std::min(rest.size(), std::size_t{5}));  // "AUTH "
    const std::string mechanism = ToUpperCopy(rest.substr(0, rest.find(' ')));
    const Reply& final_reply = x_.exchanges[end - 1].replies[0];
    static constexpr std::string_view kKnown[] = {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"};
    if (std::find(std::begin(kKnown), std::end(kKnown), mechanism) == std::end(kKnown) ||
        final_reply.code == kContinueReqCode) {
      notes_.push_back("AUTH " + mechanism +
                       " with redacted secrets (\"***\") cannot be replayed; the scenario stops "
                       "before it");
      return 0;
    }
    if (final_reply.code / 100 != 2) {
      // Credentials that failed: the profile's would not fail the same way.
      notes_.push_back("AUTH " + mechanism +
                       " with redacted secrets (\"***\") failed in the record (" +
                       std::to_string(final_reply.code) +
                       "); the profile's credentials would not, so the scenario stops before it");
      return 0;
    }
    notes_.push_back(
        "the AUTH secrets were redacted in the record (\"***\"): the auth step uses "
        "the profile's ${user} and ${password}");
    steps_.push_back({{"auth",
                       {{"mechanism", mechanism},
                        {"username", "${user}"},
                        {"password", "${password}"},
                        {"expect", Expect(final_reply)}}}});
    ++answered_units_;
    return end;
  }

  const Exchanges& x_;
  const Leniencies x_tolerated_;
  Json& steps_;
  std::vector<std::string>& notes_;
  std::size_t answered_units_ = 0;
};

}  // namespace

absl::StatusOr<ConvertedScenario> ToScenario(const harness::NamedTranscript& session) {
  const harness::Transcript& t = session.transcript;
  const Exchanges x = SplitExchanges(t);
  if (x.exchanges.front().replies.empty()) {
    if (x.damage) {
      return absl::FailedPreconditionError("nothing to convert: not replayable: " +
                                           x.damage->detail + " (before any whole exchange)");
    }
    return absl::FailedPreconditionError("nothing to convert: the record has no greeting");
  }
  if (x.exchanges.front().reply_error) {
    return absl::FailedPreconditionError(
        "nothing to convert: the server sent bytes that are not a reply with or right after "
        "its greeting");
  }
  ConvertedScenario out;
  out.notes = x.notes;
  Json steps = Json::array();
  steps.push_back({{"connect", x.implicit_tls ? Json{{"tls", "implicit"}} : Json::object()}});
  steps.push_back({{"expect", Expect(x.exchanges.front().replies.front())}});
  StepWriter writer(x, &steps, &out.notes);
  writer.Run();
  if (writer.answered_units() == 0) {
    std::string why = "nothing to convert: no command the server answered";
    if (!out.notes.empty()) why += " (" + out.notes.back() + ")";
    return absl::FailedPreconditionError(why);
  }

  const harness::TranscriptMeta& m = t.meta();
  const std::string source = m.source.empty() ? "session" : m.source;
  const std::string base = BaseName(session.name);
  out.id = "recorded." + IdPart(base, 80) + "." + Tag(t.ToJsonString());
  std::string where;
  if (!m.client.empty()) where += " from " + m.client;
  if (!m.server.empty()) where += " to " + m.server;
  if (!m.started_at.empty()) where += " at " + m.started_at;
  std::string description = "Converted by `smtp-harness convert` from " + session.name +
                            " (source \"" + source + "\"" + where +
                            "). Each reply is checked by its code and, where it had one, its "
                            "enhanced status code; reply texts are not checked.";
  for (const std::string& n : out.notes) description += " Note: " + n + ".";

  Json j;
  j["id"] = out.id;
  j["title"] = SourceTitle(m.source) + " " + base + where + " is answered as recorded";
  j["description"] = description;
  j["rfc"] = {{"document", "RFC 5321"},
              {"section", "4.3.2"},
              {"url", "https://www.rfc-editor.org/rfc/rfc5321#section-4.3.2"}};
  j["level"] = "policy";
  j["tags"] = {"recorded"};
  if (IsLmtp(x)) j["tags"].push_back("lmtp");
  j["steps"] = steps;
  out.steps = steps.size();
  out.json = j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
  return out;
}

}  // namespace smtp::replay
