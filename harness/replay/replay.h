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
#include "harness/replay/plan.h"
#include "harness/replay/rewrite.h"
#include "harness/session.h"
#include "harness/transport.h"
#include "parser/parse_error.h"
#include "parser/reply.h"
#include "results/results.h"
#include "results/session_file.h"

namespace smtp::replay {

namespace asio = boost::asio;

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
