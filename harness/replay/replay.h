// Replay: sends the client side of a recorded session (results/transcript.h,
// from `record`, `import-pcap`, a run's results.json or a fuzz finding) to a
// target through the one session engine (harness/session.h), and compares
// the replies with the recorded ones.
//
// The recording becomes a plan (BuildPlan): the client's bytes are sent in
// the groups the recorded client sent before it waited, and after each
// group as many replies are read as the recorded server had completed by
// then. So a pipelined group stays a group, and the comparison is reply by
// reply, not chunk by chunk. A seen TLS upgrade (a "tls" entry) is redone
// with STARTTLS; an unseen one ("tls_opaque") ends the plan.
//
// Substitutions (ClientRewriter): the EHLO/HELO/LHLO name (when
// RewriteOptions::helo is set); in message bodies sent with DATA the
// Message-ID and Date header fields (fresh, so a server that drops
// duplicates sees a new message); AUTH PLAIN and LOGIN responses the
// recording redacted ("***"), from RewriteOptions::auth_user/auth_password.
// BDAT chunks are sent unchanged.
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

#include "harness/replay/normalize.h"
#include "harness/session.h"
#include "harness/transport.h"
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
};

struct RecordedReply {
  std::string raw;  // the bytes of the reply as recorded
  Reply reply;      // parsed leniently
};

struct Plan {
  std::vector<PlanStep> steps;
  std::vector<RecordedReply> replies;  // in order; a kRead's `replies` counts these
  // Why the plan stops short of the recording ("" when it does not): the
  // recorded server bytes stop parsing as replies at some byte, an unseen TLS
  // upgrade, a truncated transcript.
  std::string note;
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
  // ("***"): PLAIN and LOGIN responses are rebuilt from them. Empty: the
  // redacted exchange is sent as it is (and fails).
  std::string auth_user;
  std::string auth_password;
};

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
  // A redacted AUTH response ("***") was sent as it is (no credentials).
  bool sent_redacted() const { return sent_redacted_; }
  // What must not appear in reports: the password and every AUTH response
  // built from the credentials.
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
  // SASL responses still to come as lines: "plain", "user", "password".
  std::vector<std::string> sasl_next_;
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
};

// Replays one session against `target` and returns its result: verdict pass
// (no difference at options.level), fail (the first difference in
// `failure`, every row in `replay`), error (could not connect, ...). Level
// "replay", group "replay".
asio::awaitable<harness::ScenarioResult> ReplaySession(const harness::NamedTranscript& session,
                                                       const harness::Target& target,
                                                       const ReplayOptions& options);

// Replays `sessions` in order, options.jobs at a time, on the calling
// thread. `on_done` (may be empty) sees each result as it finishes. The
// RunResult's exit status is 0 when nothing differs at the chosen level, 1
// when something does, 2 when a session could not be replayed.
harness::RunResult ReplayAll(
    const std::vector<harness::NamedTranscript>& sessions, const harness::Target& target,
    const ReplayOptions& options,
    const std::function<void(const harness::ScenarioResult&)>& on_done = {});

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_REPLAY_H_
