// The replay plan: a recorded session (results/transcript.h) as the groups of
// bytes its client sent before it waited, and after each group the number of
// replies the recorded server had completed by then (BuildPlan). Recorded
// and live replies are read alike (ReplyReading). See replay.h for how the
// plan is driven.
#ifndef SMTP_HARNESS_REPLAY_PLAN_H_
#define SMTP_HARNESS_REPLAY_PLAN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/replay/damage.h"
#include "parser/parse_error.h"
#include "parser/reply.h"
#include "results/results.h"

namespace smtp::replay {

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

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_PLAN_H_
