#include "harness/runner/probe.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "harness/session.h"
#include "parser/extensions.h"
#include "parser/reply.h"
#include "results/absl_compat.h"

namespace smtp::runner {

using harness::Deadline;
using harness::In;
using harness::ReadStatus;
using harness::ReplyOutcome;
using harness::Session;

namespace {

// Why a reply the probe needs could not be read, for RunResult::stopped.
std::string Unreadable(const std::string& what, const ReplyOutcome& o,
                       std::chrono::milliseconds step) {
  switch (o.status) {
    case ReadStatus::kReply:
      return "";
    case ReadStatus::kTimeout:
      return "no " + what + " within " + std::to_string(step.count()) + " ms" +
             (o.partial.empty() ? "" : " (only part of it arrived)");
    case ReadStatus::kPeerClosed:
      return "the connection closed before the " + what + " was complete";
    case ReadStatus::kMalformed:
      return "the " + what + " is not a valid SMTP reply: " + std::string(ErrcName(o.error.code)) +
             " at offset " + std::to_string(o.error.offset) +
             (o.error.reason.empty() ? "" : " (" + std::string(o.error.reason) + ")");
    case ReadStatus::kError:
      return "the " + what + " could not be read: " + Message(o.transport_error);
  }
  return "the " + what + " could not be read";
}

// One command and its reply for the probe; nullopt when there was none.
asio::awaitable<std::optional<Reply>> Exchange(Session& session, const std::string& line,
                                               Deadline d) {
  absl::Status sent = co_await session.Send(line, d);
  if (!sent.ok()) co_return std::nullopt;
  ReplyOutcome got = co_await session.ReadReply(d);
  if (!got.ok()) co_return std::nullopt;
  co_return std::move(got.reply);
}

// A TLS record header: handshake (22) or alert (21), version 3.x.
bool LooksLikeTls(std::string_view bytes) {
  return bytes.size() >= 2 && (bytes[0] == 0x16 || bytes[0] == 0x15) && bytes[1] == 0x03;
}

// The first error a strict reply reader finds in the server's stream, as
// "byte N: code (reason)"; "" when there is none.
std::string FirstStrictError(std::string_view stream) {
  ReplyReader reader;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t n = reader.Feed(stream.substr(pos));
    pos += n;
    if (reader.has_reply()) {
      reader.TakeReply();
    } else if (reader.failed()) {
      const ParseError& e = reader.error();
      return "byte " + std::to_string(e.offset) +
             " of the server's stream: " + std::string(ErrcName(e.code)) +
             (e.reason.empty() ? "" : " (" + std::string(e.reason) + ")");
    } else if (n == 0) {
      break;
    }
  }
  return "";
}

std::string ReplyText(const Reply& r) {
  return std::to_string(r.code) + (r.lines.empty() ? "" : " " + r.lines[0]);
}

std::string Names(Leniencies set) {
  std::string out;
  ForEachLeniency(set, [&](std::string_view name) {
    if (!out.empty()) out += ", ";
    out += name;
  });
  return out;
}

// The greeting or EHLO reply needed reply leniencies: note them.
void NoteQuirk(ProbeResult& out, const std::string& what, const Reply& reply) {
  const Leniencies fired = reply.deviations & kReplyQuirks;
  if (fired == kStrict) return;
  if (out.quirks == kStrict) {
    out.quirk = "the " + what + " breaks the RFC 5321 §4.2 reply syntax (" + Names(fired) + ")";
  }
  out.quirks |= fired;
}

// The sender and recipient of the profile, each accepted (preflight).
// With `relay_check`, also whether this client is trusted for relay.
asio::awaitable<void> CheckEnvelope(Session& session, const scenario::Variables& vars,
                                    const std::function<Deadline()>& within, bool relay_check,
                                    ProbeResult& out) {
  const std::string* sender = vars.Find("sender");
  const std::string* rcpt = vars.Find("rcpt");
  const std::string from = sender ? *sender : "";
  std::optional<Reply> mail = co_await Exchange(session, "MAIL FROM:<" + from + ">\r\n", within());
  if (!mail || mail->code == 530) co_return;  // STARTTLS or AUTH first: the server's answer
  if (mail->code / 100 != 2) {
    out.fatal = "preflight: the server refuses the sender <" + from + ">: " + ReplyText(*mail);
    out.hint = "give a sender it accepts with --from (or the profile's \"sender\")";
    co_return;
  }
  if (rcpt != nullptr && !rcpt->empty()) {
    std::optional<Reply> to = co_await Exchange(session, "RCPT TO:<" + *rcpt + ">\r\n", within());
    if (to && to->code != 530 && to->code / 100 != 2) {
      out.fatal = "preflight: the server refuses the recipient <" + *rcpt + ">: " + ReplyText(*to);
      out.hint = "give a recipient it accepts with --to (or the profile's \"rcpt\")";
      co_return;
    }
  }
  // Relay trust: a recipient at a domain that cannot exist (RFC 2606
  // .invalid) is accepted only by a server that relays for this client or
  // accepts every recipient; the relay checks cannot tell then.
  std::optional<Reply> relay;
  if (relay_check) {
    relay = co_await Exchange(session, "RCPT TO:<" + std::string(kRelayCheckRecipient) + ">\r\n",
                              within());
  }
  if (relay && relay->code / 100 == 2) {
    out.relay_trusted = "the server accepts RCPT TO:<" + std::string(kRelayCheckRecipient) + "> (" +
                        ReplyText(*relay) +
                        "), a domain that cannot exist: it relays for this client (a trusted "
                        "network, e.g. Postfix's mynetworks) or accepts every recipient, so "
                        "whether it refuses strangers cannot be tested from here";
  }
  std::optional<Reply> reset = co_await Exchange(session, "RSET\r\n", within());
  (void)reset;
}

// Does the target greet over the other transport (TLS from the first byte
// when `implicit`, else plain)? For telling a transport mismatch from a dead
// target.
asio::awaitable<bool> GreetsOver(bool implicit, const Connector& connector,
                                 const ExecutorOptions& options,
                                 const std::function<Deadline()>& within) {
  Session other(options.session);
  bool greeted = false;
  if ((co_await connector(other, implicit, within())).ok()) {
    greeted = (co_await other.ReadReply(within())).ok();
  }
  absl::Status closed = co_await other.Close(In(options.close_timeout));
  (void)closed;
  co_return greeted;
}

}  // namespace

asio::awaitable<ProbeResult> ProbeTarget(const Connector& connector,
                                         const scenario::Variables& vars,
                                         const ExecutorOptions& options,
                                         const ProbeOptions& probe) {
  ProbeResult out;
  harness::SessionOptions session_options = options.session;
  session_options.reply.leniencies |= kReplyQuirks;
  Session session(session_options);
  const auto step = options.step_timeout;
  const std::function<Deadline()> within = [&] { return std::min(In(step), options.run_deadline); };
  const bool implicit = options.default_tls == scenario::TlsMode::kImplicit;
  out.status = co_await connector(session, implicit, within());
  if (!out.status.ok()) {
    out.fatal = "target unreachable: " + Message(out.status);
    if (implicit && probe.preflight && co_await GreetsOver(false, connector, options, within)) {
      out.hint =
          "the server speaks plain SMTP there: use HOST:PORT instead of tls:HOST:PORT (with "
          "--tls starttls to upgrade)";
    }
    out.transcript = session.TakeTranscript();
    co_return out;
  }
  if (auto tls = session.transport()->tls()) out.info.tls = *tls;
  ReplyOutcome greeting = co_await session.ReadReply(within());
  if (greeting.ok() && !greeting.reply.lines.empty()) out.info.banner = greeting.reply.lines[0];
  if (!greeting.ok()) {
    out.fatal = Unreadable("greeting", greeting, step);
    if (!implicit && LooksLikeTls(greeting.partial)) {
      out.fatal = "the server sent a TLS record where an SMTP greeting was expected";
      out.hint = "it expects TLS from the first byte: use tls:HOST:PORT";
    } else if (!implicit && probe.preflight && greeting.status == ReadStatus::kTimeout &&
               greeting.partial.empty() && co_await GreetsOver(true, connector, options, within)) {
      out.hint =
          "the server greets over TLS: it expects TLS from the first byte (implicit TLS, as on "
          "port 465): use tls:HOST:PORT";
    }
  } else {
    NoteQuirk(out, "greeting", greeting.reply);
  }
  if (greeting.ok() && greeting.reply.code == 220) {
    const std::string* domain = vars.Find("client_domain");
    const std::string hello = std::string(probe.lmtp ? "LHLO " : "EHLO ") +
                              (domain ? *domain : std::string("client.example")) + "\r\n";
    const std::string what = probe.lmtp ? "LHLO reply" : "EHLO reply";
    std::optional<Reply> reply;
    if (absl::Status sent = co_await session.Send(hello, within()); !sent.ok()) {
      out.fatal = "the " + hello.substr(0, 4) + " command could not be sent: " + Message(sent);
    } else if (ReplyOutcome got = co_await session.ReadReply(within()); !got.ok()) {
      out.fatal = Unreadable(what, got, step);
    } else {
      reply = std::move(got.reply);
      NoteQuirk(out, what, *reply);
    }
    if (reply && reply->code == 250) {
      ExtensionSet ext = DecodeEhlo(*reply);
      out.extensions = ext.keywords;
      out.info.ehlo_lines.assign(reply->lines.begin() + 1, reply->lines.end());
      if (probe.starttls && ext.starttls) {
        std::optional<Reply> ready = co_await Exchange(session, "STARTTLS\r\n", within());
        if (ready && ready->code == 220) {
          absl::StatusOr<harness::TlsInfo> tls = co_await session.StartTls(within());
          if (tls.ok()) {
            if (probe.record_tls) out.info.tls = *tls;
            std::optional<Reply> again = co_await Exchange(session, hello, within());
            if (again && again->code == 250) out.tls_extensions = DecodeEhlo(*again).keywords;
          }
        }
      }
      // LMTP delivers to final recipients: relaying is not its question.
      if (probe.preflight && out.fatal.empty()) {
        co_await CheckEnvelope(session, vars, within, probe.relay_check && !probe.lmtp, out);
      }
    }
    std::optional<Reply> bye = co_await Exchange(session, "QUIT\r\n", within());
    (void)bye;
  }
  absl::Status closed = co_await session.Close(In(options.close_timeout));
  (void)closed;
  out.transcript = session.TakeTranscript();
  if (out.quirks != kStrict) {
    const std::string strict =
        FirstStrictError(out.transcript.SideBytes(harness::Direction::kServerToClient));
    if (!strict.empty()) out.quirk += ": " + strict;
  }
  co_return out;
}

harness::ScenarioResult RelayTrustResult(const ProbeResult& probe) {
  harness::ScenarioResult r;
  r.id = "preflight.relay-trusted";
  r.title = "The relay checks can tell a refusal from trust";
  r.description =
      "Found by the preflight: the server accepted a recipient at a domain that cannot exist "
      "(RFC 2606 .invalid). A server does that only for a client it relays for, or when it "
      "accepts every recipient. The security.relay.* checks are reported as inconclusive (skipped "
      "with this reason) instead of failing: run them from a client outside the server's trusted "
      "networks.";
  r.rfc_document = "RFC 5321";
  r.rfc_section = "7.9";
  r.rfc_url = "https://www.rfc-editor.org/rfc/rfc5321#section-7.9";
  r.level = "security";
  r.tags = {"preflight", "relay"};
  r.group = "preflight";
  r.verdict = harness::Verdict::kSkip;
  r.reason = "inconclusive: " + probe.relay_trusted;
  r.transcript = probe.transcript;
  return r;
}

harness::ScenarioResult QuirkFinding(const ProbeResult& probe) {
  harness::ScenarioResult r;
  r.id = "preflight.reply-syntax";
  r.title = "Replies follow the RFC 5321 reply syntax";
  r.description =
      "Found by the preflight: a reply the strict reader rejects. It is reported once here; the "
      "rest of the run reads replies with the leniency named below, so that one quirk does not "
      "fail every scenario.";
  r.rfc_document = "RFC 5321";
  r.rfc_section = "4.2";
  r.rfc_url = "https://www.rfc-editor.org/rfc/rfc5321#section-4.2";
  r.level = "SHOULD";
  r.tags = {"preflight"};
  r.group = "preflight";
  r.verdict = harness::Verdict::kFail;
  r.reason = probe.quirk + "; the rest of the run reads replies with leniency " +
             Names(probe.quirks) + " on";
  r.transcript = probe.transcript;
  return r;
}

}  // namespace smtp::runner
