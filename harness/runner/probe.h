// The probe and preflight of a run: one session before the scenarios that
// learns what the target offers and tells setup mistakes apart from server
// faults, so that one mistake is one clear line (exit 2), not dozens of
// MUST failures.
//
//   connect -> greeting -> EHLO (LHLO for an LMTP target)
//     [-> STARTTLS -> EHLO]            when asked and offered
//     [-> MAIL FROM:<${sender}> -> RCPT TO:<${rcpt}>
//      -> RCPT TO:<relay-check@relay-check.invalid> (not LMTP; only when
//         the run has relay checks) -> RSET]   the preflight
//   -> QUIT
//
// Fatal (ProbeResult::fatal, with `hint` saying what to change):
//   no connection; no greeting; no readable EHLO reply (probe and preflight);
//   a TLS record where SMTP was expected, or silence from a server that
//   greets over TLS ("use tls:HOST:PORT"); a failed TLS handshake with a
//   server that greets in plain SMTP ("use HOST:PORT"); the profile's
//   sender or recipient refused ("--from", "--to") (preflight only).
// Not fatal, because they are the server's answers and scenarios test them:
//   a refusing greeting (554), a rejected EHLO, a 530 (STARTTLS or AUTH
//   required) to MAIL.
//
// Relay trust: a 2xx to the .invalid recipient (a domain that cannot exist,
// RFC 2606) means this client may relay (a trusted network) or the server
// accepts every recipient; `relay_trusted` says so, and the runner reports
// the relay checks (tag "relay") as inconclusive instead of judging them.
//
// Reply quirks: the probe reads replies with the reply leniencies on
// (kReplyQuirks). When the greeting or EHLO reply needed one (smtp-sink's
// "250 " with no text, say), `quirks` names it and `quirk` describes the
// first strict error with its byte offset in the server's stream; the
// runner reports that once and reads the rest of the run with those
// leniencies on, instead of failing every scenario on it.
#ifndef SMTP_HARNESS_RUNNER_PROBE_H_
#define SMTP_HARNESS_RUNNER_PROBE_H_

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "absl/status/status.h"
#include "harness/runner/executor.h"
#include "harness/scenario/variables.h"
#include "parser/leniency.h"
#include "results/results.h"
#include "results/transcript.h"

namespace smtp::runner {

// The reply-reader leniencies the probe tolerates and reports as quirks.
inline constexpr Leniencies kReplyQuirks = kTrailingWhitespace | kLooseReplyText |
                                           kBareCodeContinuation | kBareLfLineEnd | kBareCrLineEnd |
                                           kChallengeWithoutSpace;

struct ProbeOptions {
  bool starttls = false;    // upgrade with STARTTLS (and EHLO again) if offered
  bool record_tls = false;  // TargetInfo::tls records that STARTTLS session
  bool lmtp = false;        // LHLO instead of EHLO
  bool preflight = true;    // the sender/recipient and transport checks
  bool relay_check = true;  // with preflight: whether this client is trusted for relay
};

// What the probe learnt.
struct ProbeResult {
  absl::Status status;  // not OK: could not connect
  // Not empty when the target cannot be tested as set up (see above).
  std::string fatal;
  std::string hint;                     // with `fatal`: what to change, e.g. "use tls:HOST:PORT"
  harness::TargetInfo info;             // banner, ehlo_lines, tls
  std::vector<std::string> extensions;  // upper-case EHLO keywords of the first phase
  std::vector<std::string> tls_extensions;  // after STARTTLS; empty when not tried/failed
  Leniencies quirks = kStrict;              // reply leniencies the greeting/EHLO needed
  std::string quirk;                        // with `quirks`: the first strict error
  std::string relay_trusted;                // not empty: why the relay checks cannot judge (above)
  harness::Transcript transcript;           // not redacted: the runner redacts it
};

// Probes once (above). Never fails for server behaviour.
asio::awaitable<ProbeResult> ProbeTarget(const Connector& connector,
                                         const scenario::Variables& vars,
                                         const ExecutorOptions& options, const ProbeOptions& probe);

// The recipient the preflight uses to find out whether this client is
// trusted for relay.
inline constexpr std::string_view kRelayCheckRecipient = "relay-check@relay-check.invalid";

// The result that says once why the relay checks are inconclusive: id
// "preflight.relay-trusted", level security, verdict skip, reason
// "inconclusive: " + relay_trusted, with the probe's transcript.
harness::ScenarioResult RelayTrustResult(const ProbeResult& probe);

// The result that reports reply quirks once: id "preflight.reply-syntax",
// level SHOULD, RFC 5321 §4.2, verdict fail, with the probe's transcript.
harness::ScenarioResult QuirkFinding(const ProbeResult& probe);

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_PROBE_H_
