// Replay: sends the client side of a recorded session (results/transcript.h,
// from `record`, `import-pcap`, a run's results.json or a fuzz finding) to a
// target through the one session engine (harness/session.h), and compares
// the replies with the recorded ones.
//
// The recording becomes a plan (BuildPlan): the client's bytes are sent in
// the groups the recorded client sent before it waited, and after each
// group as many replies are read as the recorded server had completed by
// then. So a pipelined group stays a group, and the comparison is reply by
// reply, not chunk by chunk (a group whose bytes are not substituted is
// still written in the recorded client's writes). A seen TLS upgrade (a
// "tls" entry) is redone with STARTTLS; an unseen one ("tls_opaque") ends
// the plan; TLS from the first byte is implicit TLS, the target's own. A
// damaged recording (damage.h) is planned up to its damage.
//
// Substitutions (ClientRewriter): the EHLO/HELO/LHLO name (when
// RewriteOptions::helo is set); in message bodies sent with DATA the
// Message-ID and Date header fields (fresh, so a server that drops
// duplicates sees a new message); AUTH responses the recording redacted
// ("***"): PLAIN, LOGIN, CRAM-MD5 (from the live challenge) and XOAUTH2,
// from RewriteOptions::auth_user/auth_password, with a wrong password where
// the recorded exchange failed. BDAT chunks are sent unchanged.
//
// Comparison levels, each including the one before: code; enhanced (RFC 3463
// code of the first line); text (every line, after normalize.h). Missing or
// extra replies differ at the code level.
#ifndef SMTP_HARNESS_REPLAY_REPLAY_H_
#define SMTP_HARNESS_REPLAY_REPLAY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "harness/replay/damage.h"
#include "harness/replay/normalize.h"
#include "harness/session.h"
#include "harness/transport.h"
#include "parser/parse_error.h"
#include "parser/reply.h"
#include "results/results.h"
#include "results/session_file.h"

namespace smtp::replay {

namespace asio = boost::asio;

// --- The plan ----------------------------------------------------------------

struct PlanStep {
  enum class Kind : std::uint8_t {
    kSend,       // send `bytes` (recorded at `t_us`)
    kRead,       // read replies until `replies` in all have been read
    kStartTls,   // upgrade with STARTTLS (the 220 was read by the kRead before)
    kOpaque,     // the recording saw no more: stop here
    kReconnect,  // the recorded client opened a new connection (a run's scenario)
    // The recorded server closed the connection without answering what was
    // sent last (a crash, as a fuzz finding records it): the replay expects
    // the same close, and a reply instead is a difference.
    kExpectClose,
  };
  Kind kind = Kind::kSend;
  std::string bytes;
  std::int64_t t_us = 0;
  std::size_t replies = 0;
  // kSend: the sizes of the recorded client's writes that make up `bytes`,
  // sent as such when nothing in them is substituted.
  std::vector<std::size_t> chunks;
};

// One reply, or bytes where a reply was due that are not one. Recorded and
// live replies are read alike (ReplyReading): a malformed one is the bytes
// up to its error, and reading resumes after the next LF (as
// harness::Session resyncs), so both sides stay in step and a server that
// sends the same bad bytes again replays "the same".
struct RecordedReply {
  std::string raw;  // the reply's bytes (malformed: up to and with the error)
  Reply reply;      // parsed (not malformed)
  std::optional<ParseError> malformed;
};

// How replies are read, recorded and live alike: the quirks the runner's
// preflight tolerates (harness/runner/probe.h kReplyQuirks), so control
// bytes and "250 " with no text are read whole; a CR alone ends a line only
// when the recorded greeting needs it (else a bare CR inside a reply is a
// malformed reply on both sides, not a line end that shifts every reply).
ReplyOptions ReplyReading(bool bare_cr_line_end);

// What the recording's AUTH exchanges need, in order of their AUTH commands.
struct AuthNeed {
  std::string mechanism;    // upper case: "PLAIN", "CRAM-MD5", ...
  bool redacted = false;    // a response was recorded as "***"
  bool failed = false;      // the exchange ended in a 4xx/5xx (535, ...)
  bool rebuildable = true;  // a redacted response of this mechanism can be rebuilt
  // It ended in a 2xx. Neither this nor `failed`: the record does not say
  // (it ends first, the replies cannot be paired), and any password does.
  bool succeeded = false;
};

struct Plan {
  std::vector<PlanStep> steps;
  std::vector<RecordedReply> replies;  // in order; a kRead's `replies` counts these
  // Why the plan stops short of the recording ("" when it does not): an
  // unseen TLS upgrade, damage (below).
  std::string note;
  // The recording is damaged (damage.h): the plan stops before the damage.
  std::optional<Damage> damage;
  // TLS was on from the first byte (record --upstream tls:): the target's
  // own TLS (tls:HOST:PORT) stands for it; no STARTTLS is redone.
  bool implicit_tls = false;
  // The recorded greeting ends its lines with a bare CR (ReplyReading).
  bool bare_cr_line_end = false;
  std::vector<AuthNeed> auth;
};

// The plan of `t`. Never fails: whatever cannot be replayed is cut off and
// said in Plan::note.
Plan BuildPlan(const harness::Transcript& t);

// --- Substitutions -------------------------------------------------------------

struct RewriteOptions {
  std::string helo;       // "" keeps the recorded EHLO/HELO/LHLO name
  bool fresh_ids = true;  // new Message-ID and Date header fields
  std::string id_domain = "smtp-harness.invalid";
  std::string session_tag;  // unique per replayed session (in the Message-ID)
  // The Date field's value; empty: the current time (RFC 5322 form).
  std::string date;
  // Credentials for AUTH exchanges whose secrets the recording redacted
  // ("***"): PLAIN, LOGIN, CRAM-MD5 (from the live challenge) and XOAUTH2
  // (the password as the token) responses are rebuilt from them. An
  // exchange that failed in the recording (`auth`, from Plan::auth) is
  // rebuilt with a deliberately wrong password, so it fails again. Empty:
  // a redacted exchange that succeeded is sent as it is (ReplaySession
  // skips such sessions first).
  std::string auth_user;
  std::string auth_password;
  std::vector<AuthNeed> auth;
};

// The password sent for a recorded AUTH exchange that failed.
inline constexpr std::string_view kWrongPassword = "smtp-harness-replay-wrong-password";

// Rewrites the client's stream group by group, keeping its state (command,
// header or body) across groups. Only complete lines are rewritten.
class ClientRewriter {
 public:
  explicit ClientRewriter(RewriteOptions options);
  std::string Rewrite(std::string_view bytes);
  // The EHLO/HELO/LHLO name the recording had, and the one sent instead
  // (the same without RewriteOptions::helo); the last one seen.
  const std::string& helo_seen() const { return helo_seen_; }
  const std::string& helo_sent() const { return helo_sent_; }
  // A live reply was read: the last AUTH challenge (334) is what a
  // CRAM-MD5 response answers.
  void OnReply(const Reply& reply);
  // A redacted AUTH response ("***") was sent as it is (no credentials).
  bool sent_redacted() const { return sent_redacted_; }
  // What must not appear in reports: the password and every AUTH response
  // sent, rebuilt from the credentials or sent as recorded (with its
  // decoded password where it has one).
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  enum class State : std::uint8_t { kCommand, kHeaders, kBody, kBdat };
  void Line(std::string_view line, std::string* out);
  // A redacted SASL response: rebuilt from the credentials, or kept.
  std::string Secret(std::string_view redacted);

  RewriteOptions options_;
  State state_ = State::kCommand;
  bool mid_line_ = false;        // the previous group ended inside a line
  bool skip_folded_ = false;     // dropping the continuation lines of a replaced field
  std::uint64_t bdat_left_ = 0;  // kBdat: chunk bytes still to pass through
  int messages_ = 0;
  std::string helo_seen_;
  std::string helo_sent_;
  // A SASL response as sent: kept among the secrets.
  void AddSecret(std::string_view which, std::string_view response);

  // SASL responses still to come as lines: "plain", "user", "password",
  // "cram", "xoauth2".
  std::vector<std::string> sasl_next_;
  std::size_t auth_index_ = 0;   // AUTH commands seen
  bool auth_failed_ = false;     // the current exchange failed in the recording
  bool auth_succeeded_ = false;  // it succeeded (else failed or unknown)
  std::string challenge_;        // the last 334's text, decoded
  bool sent_redacted_ = false;
  std::vector<std::string> secrets_;
};

// The current time as an RFC 5322 date-time ("Thu, 03 Dec 2026 22:40:05 +0000").
std::string Rfc5322Now();

// --- Comparison -------------------------------------------------------------------

enum class Level : std::uint8_t { kCode, kEnhanced, kText };
std::string_view LevelName(Level level);  // "code", "enhanced", "text"
bool ParseLevel(std::string_view name, Level* level);

// The first level at which `replayed` differs from `recorded`, if any.
// `names` are the per-session host names for the normalizer.
std::optional<Level> Compare(const Reply& recorded, const Reply& replayed,
                             const Normalizer& normalizer,
                             const std::vector<Normalizer::Name>& names);

// --- The engine -------------------------------------------------------------------

struct ReplayOptions {
  Level level = Level::kEnhanced;  // differences at this level or below count
  bool original_timing = false;    // wait as long between sends as the recording
  RewriteOptions rewrite;
  Normalizer normalizer;
  std::chrono::milliseconds step_timeout{10'000};      // each read
  std::chrono::milliseconds session_timeout{120'000};  // each session in all
  std::chrono::milliseconds close_timeout{2'000};
  harness::SessionOptions session;
  int jobs = 1;  // sessions in flight at once
  // Set (from any thread) to stop: no further session starts.
  const std::atomic<bool>* stop = nullptr;
  // When set: the reply leniencies (ReplyReading) live replies needed, ORed
  // in by every session, so the caller can say so once.
  std::atomic<Leniencies>* leniencies_seen = nullptr;
};

// Why a session cannot be replayed before any connection (its verdict is
// skip, with this as the reason), or "": a redacted AUTH that succeeded in
// the recording and no credentials in `rewrite`, or a mechanism whose
// redacted secrets cannot be rebuilt. Damage is judged by ReplaySession.
std::string NeedsCredentials(const Plan& plan, const RewriteOptions& rewrite);

// For a skipped session ("not replayable: KIND: ..."), KIND: "capture gap",
// "capture started mid-stream", "truncated recording", "AUTH without
// credentials", ...; "" for every other result. Summaries group by it.
std::string NotReplayableKind(const harness::ScenarioResult& r);

// Replays one session against `target` and returns its result: verdict pass
// (no difference at options.level), fail (the first difference in
// `failure`, every row in `replay`), error (could not connect, ...), skip
// ("not replayable: ...": a damaged recording, replayed up to the damage
// with no difference, or not at all; an AUTH it cannot rebuild). Level
// "replay", group "replay". Secrets of the AUTH exchanges it sends are
// redacted from every stored reply, row and text of the result.
asio::awaitable<harness::ScenarioResult> ReplaySession(const harness::NamedTranscript& session,
                                                       const harness::Target& target,
                                                       const ReplayOptions& options);

// Replays `sessions` in order, options.jobs at a time, on the calling
// thread. `on_done` (may be empty) sees each result as it finishes. The
// RunResult's exit status is 0 when nothing differs at the chosen level, 1
// when something does, 2 when a session could not be replayed (an error;
// a skipped session changes nothing). Its target info holds the greeting
// and EHLO reply the target gave in the first session that got them.
harness::RunResult ReplayAll(
    const std::vector<harness::NamedTranscript>& sessions, const harness::Target& target,
    const ReplayOptions& options,
    const std::function<void(const harness::ScenarioResult&)>& on_done = {});

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_REPLAY_H_
