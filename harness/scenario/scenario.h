// The scenario language model: plain structs produced by the loader
// (scenario_loader.h) and consumed by the runner. Strings that may contain
// `${var}` references are Templates (variables.h), expanded by the runner
// when the step executes; byte escapes (escapes.h) are already decoded,
// regexes compiled, fragments inlined, and default expectations filled in.
//
// The JSON format is described in docs/scenarios.md and scenarios/schema.json.
#ifndef SMTP_HARNESS_SCENARIO_SCENARIO_H_
#define SMTP_HARNESS_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "harness/scenario/expectation.h"
#include "harness/scenario/variables.h"

namespace smtp::scenario {

// How strongly the cited RFC text requires the behaviour under test; decides
// whether a failure is reported as a failure (MUST, security) or a warning.
enum class Level : std::uint8_t { kMust, kShould, kMay, kPolicy, kSecurity };
std::string_view LevelName(Level level);  // "MUST", "SHOULD", "MAY", "policy", "security"
// Inverse of LevelName, exact: what a scenario file's "level" must say.
std::optional<Level> ParseLevel(std::string_view name);
// The same, ignoring ASCII case ("must", "Security"): how a level is chosen
// on a command line (run and list --level).
std::optional<Level> ParseLevelIgnoringCase(std::string_view name);

enum class TlsMode : std::uint8_t { kNone, kImplicit };
std::string_view TlsModeName(TlsMode mode);  // "none", "implicit"
std::optional<TlsMode> ParseTlsMode(std::string_view name);

enum class AuthMechanism : std::uint8_t { kPlain, kLogin, kCramMd5, kXoauth2 };
std::string_view AuthMechanismName(AuthMechanism m);  // "PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"
std::optional<AuthMechanism> ParseAuthMechanism(std::string_view name);

// Where a step was written: "file:line:col" plus a label such as "step 3",
// "step 4.2" (2nd step inside the repeat at step 4) or "step 2 > ehlo step 1"
// (1st step of fragment "ehlo", included at step 2).
struct StepOrigin {
  std::string file;
  int line = 0;
  int column = 0;
  std::string label;
};

// Opens a connection. `tls` unset = the profile's tls mode.
struct ConnectStep {
  std::optional<TlsMode> tls;
};
// Sends `line` + CRLF.
struct SendStep {
  Template line;
};
// Sends `bytes` exactly (escapes decoded, nothing appended).
struct SendRawStep {
  Template bytes;  // escapes decoded
};
// Reads one reply and checks it. A reply meeting `inconclusive` (checked
// first) says nothing either way about the requirement under test (a 4xx
// temporary failure to VRFY): the scenario ends there, skipped, with the
// reason "inconclusive: <reply>: <because>", instead of failing. With
// `or_malformed` (a note), a reply the strict reader rejects counts as the
// one reply: its code (when it began with three digits) is checked against
// `expect`, and the note goes into the transcript: for scenarios
// whose requirement is not the reply's syntax (aiosmtpd echoes a bare CR of
// the command into its 500; that is a reply-syntax finding, not smuggling).
struct ExpectStep {
  Expectation expect;
  std::optional<Expectation> inconclusive;
  std::string because;  // with `inconclusive`: why such a reply decides nothing
  std::string or_malformed;
};
// The server must close the connection (EOF) within `within_ms` (unset = the
// step/scenario timeout). Bytes received before the close are recorded.
struct ExpectCloseStep {
  std::optional<int> within_ms;
};
// No bytes may arrive during `for_ms`. Two answers may be allowed instead,
// each of which passes the step and ends the scenario there (passed: the
// steps after it were written for a silent server): with `or_close`, the
// server closes the connection (without sending anything first); with
// `or_reply`, a complete reply arrives that meets it (one that does not
// fails the step). For requirements where refusing, or refusing and
// disconnecting, is an allowed answer too. `or_note`, when an alternative
// happens, goes into the transcript and becomes the passed result's reason
// (why that answer is acceptable, e.g. "not exploitable as tested: ...").
struct ExpectSilenceStep {
  int for_ms = 0;
  bool or_close = false;
  std::optional<Expectation> or_reply;
  std::string or_note;
};
// Sends all commands (each + CRLF) in one write, then reads one reply per
// expectation, in order (RFC 2920).
struct PipelineStep {
  std::vector<Template> send;
  std::vector<Expectation> expect;
};
// Sends STARTTLS, checks the reply against `expect` (default 220), then runs
// the TLS handshake; the runner then forgets the EHLO state (RFC 3207 §4.2).
// `inject` bytes are sent in the same write right after "STARTTLS\r\n"
// (the CVE-2011-0411 probe). With `if_offered` the step does nothing (and
// passes) unless the last EHLO reply on this connection advertised STARTTLS
// and the connection is not encrypted yet.
struct StartTlsStep {
  Expectation expect;
  Template inject;  // escapes decoded; empty = nothing
  bool if_offered = false;
};
// Runs an AUTH exchange; `expect` is the final reply (default 235).
struct AuthStep {
  AuthMechanism mechanism = AuthMechanism::kPlain;
  Template username;
  Template password;
  Expectation expect;
};
// Sends DATA and checks `accept` (default 354); sends `body` dot-stuffed,
// with CRLF appended if it does not end in one, then ".\r\n"; checks `expect`
// (default 250). With `pad_to` (a template expanding to a decimal octet
// count, e.g. a captured SIZE limit) the body is padded with filler lines to
// more than pad_to + pad_extra octets; when it expands to "" or 0 the
// requirement does not apply and the scenario is skipped at that step.
struct DataStep {
  Template body;
  Expectation accept;
  Expectation expect;
  std::optional<Template> pad_to;
  int pad_extra = 0;
};
// Sends DATA and checks `accept` (default 354); then sends `bytes` exactly
// (no stuffing, no terminator added). If `expect` is set, reads one reply
// and checks it; otherwise reads nothing (follow with expect / expect_silence).
struct DataRawStep {
  Template bytes;  // escapes decoded
  Expectation accept;
  std::optional<Expectation> expect;
};
// RFC 3030: one "BDAT <size>" command per chunk (the last with " LAST" when
// `last`); checks each non-final chunk's reply against `chunk_expect`
// (default 250) and the final one against `expect` (default 250).
struct BdatStep {
  std::vector<Template> chunks;  // escapes decoded
  bool last = true;
  Expectation chunk_expect;
  Expectation expect;
};
// Searches the last reply's lines for `regex` and stores group `group` of the
// first matching line in variable `into`. No match fails the step.
struct CaptureStep {
  enum class Source : std::uint8_t { kLastReply };
  Source from = Source::kLastReply;
  Regex regex;
  int group = 1;
  std::string into;
};
// Waits `ms` without reading.
struct SleepStep {
  int ms = 0;
};
// Checks what the target delivered over this scenario's connections (only
// targets whose sink the runner can read: runner/deliveries.h): exactly
// `count` messages, each of which meets every check that is set. Content
// lines are split at LF with a CR before it removed.
struct ExpectDeliveryStep {
  int count = 1;
  std::optional<Regex> first_line;   // the first content line matches
  std::optional<Regex> line;         // some content line matches
  std::optional<Regex> not_line;     // no content line matches
  std::optional<Template> contains;  // the content contains these bytes (escapes decoded)
  std::optional<Regex> mail_from;    // the reverse-path mailbox ("" for <>) matches
  std::optional<Regex> rcpt;         // some forward-path mailbox matches
  std::optional<int> rcpt_count;     // number of recipients
};
// Reads one reply: when it does not meet `expect`, the requirement under
// test does not apply to this server (a greeting of 554, a server that does
// not require TLS, ...) and the scenario is skipped there, not failed.
struct RequireStep {
  Expectation expect;
};
struct Step;
// Runs `steps` `times` times.
struct RepeatStep {
  int times = 1;
  std::vector<Step> steps;
};

using StepAction =
    std::variant<ConnectStep, SendStep, SendRawStep, ExpectStep, ExpectCloseStep, ExpectSilenceStep,
                 PipelineStep, StartTlsStep, AuthStep, DataStep, DataRawStep, BdatStep, CaptureStep,
                 SleepStep, RepeatStep, ExpectDeliveryStep, RequireStep>;

struct Step {
  StepAction action;
  std::optional<int> timeout_ms;  // per step; unset = runner default
  std::string note;               // free text, shown in reports
  StepOrigin origin;
};

// The JSON key of a step's type: "connect", "send", ..., "repeat".
std::string_view StepTypeName(const StepAction& action);

struct RfcReference {
  std::string document;  // "RFC 5321"
  std::string section;   // "4.1.1.1"
  std::string url;       // optional
};

struct Scenario {
  std::string id;  // unique within a suite
  std::string title;
  std::string description;
  RfcReference rfc;
  Level level = Level::kMust;
  std::vector<std::string> tags;
  std::vector<std::string> requires_extensions;  // EHLO keywords, upper case
  std::vector<std::string> requires_absent;      // must NOT be advertised, upper case
  bool requires_plaintext = false;               // skipped on an implicit-TLS target
  // "delivery": "incidental": the message its transactions send is not what
  // it checks (a MAIL or RCPT parameter is), so the no-delivery mode (run
  // --no_deliver, delivery.h) may end them with RSET instead of DATA/BDAT.
  // Default ("required"): a scenario that may deliver is skipped there.
  bool delivery_incidental = false;
  std::optional<int> timeout_ms;  // the whole scenario
  std::vector<Step> steps;        // fragments inlined
  std::string file;               // where it was loaded from
  // `file` relative to the suite directory LoadSuite found it under
  // ("core/x.json"); empty when no directory given to LoadSuite holds it.
  std::string suite_file;
};

// What the probe learnt about a target, for deciding which scenarios apply.
struct TargetFacts {
  std::vector<std::string> plain_keywords;  // EHLO keywords of the first phase, any case
  std::vector<std::string> tls_keywords;    // after STARTTLS; empty if not offered/failed
  bool implicit_tls = false;                // the first phase is already encrypted
  bool deliveries = false;                  // the runner can read what the target delivered
  bool keywords_known = true;               // false: no probe ran; keyword checks are skipped
  bool lmtp = false;  // the target speaks LMTP: only scenarios tagged "lmtp" run, and only then
  // Not empty: this client is trusted for relay, or the target accepts every
  // recipient (the probe's finding, runner/probe.h); scenarios tagged
  // "relay" cannot judge and are skipped as inconclusive with this reason.
  std::string relay_trusted = {};
};

// True when the scenario has an `expect_delivery` step.
bool UsesDeliveries(const Scenario& scenario);

// True when the scenario encrypts its connection: a `starttls` step
// (including `if_offered`) or a connect with "tls": "implicit".
bool UsesTls(const Scenario& scenario);

// Why `scenario` cannot run against the target, or nullopt when it can:
//   "LMTP scenario; the target speaks SMTP (...)"   (tag "lmtp", !lmtp)
//   "SMTP scenario; the target speaks LMTP"         (no tag "lmtp", lmtp)
//   "scenario needs a plaintext connection; the target uses implicit TLS"
//   "server does not advertise STARTTLS, AUTH"   (requires)
//   "server advertises DSN"                       (requires_absent)
//   "target offers no deliveries to check"        (expect_delivery)
//   "inconclusive: <relay_trusted>"               (tag "relay", relay_trusted set)
// `requires` is checked against the keywords of the phases the scenario
// reaches: the first phase, plus the post-STARTTLS phase when UsesTls();
// `requires_absent` against the last phase it reaches (the post-STARTTLS one
// when UsesTls() and the probe got that far). Without a probe
// (keywords_known false) neither keyword check applies.
std::optional<std::string> SkipReason(const Scenario& scenario, const TargetFacts& target);

// The variables a scenario's templates reference, sorted, without repeats.
std::vector<std::string> ReferencedVariables(const Scenario& scenario);

// Why `scenario` cannot run with `vars`: it references a variable that is
// set but empty, e.g. a profile without credentials for an AUTH scenario:
//   "profile variable 'user' is empty (the scenario uses ${user})"
// nullopt otherwise. Captured variables are not in `vars` and never count.
std::optional<std::string> EmptyVariable(const Scenario& scenario, const Variables& vars);

// Number of steps executed, counting repeats (saturates at INT64_MAX/2).
std::int64_t ExpandedStepCount(const std::vector<Step>& steps);

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_SCENARIO_H_
