// The client side of one fuzzed session as a sans-I/O state machine: it
// turns a SessionInput (session_input.h) into writes and reads, watches the
// replies, and judges the session with the network fuzzer's oracles. The
// in-process driver (embedded_driver.h) and the network driver (over
// harness::Session) both run it, so a session means the same thing, and a
// finding the same thing, whatever carries the bytes.
//
//   ClientMachine m(input);
//   for (Action a = m.Next(); a.kind != ActionKind::kDone; a = m.Next()) {
//     switch (a.kind) {
//       case ActionKind::kWrite:    send a.bytes; break;
//       case ActionKind::kRead:     read one reply, then m.OnReply(reply) /
//                                   m.OnTimeout() / m.OnClosed() /
//                                   m.OnBadReply(offset, why); break;
//       case ActionKind::kStartTls: handshake, then m.OnTlsResult(ok); break;
//     }
//   }
//   m.verdict();  // what the oracles concluded
//
// Expectations. A step whose replies are known (a command line without CR or
// LF in it, DATA and its body, BDAT, STARTTLS) expects exactly one reply per
// line it sends. A raw step, or a command carrying its own CR or LF, makes
// the count unknown: nothing is read for it, and from then on the session
// can no longer be judged for desync (its replies arrive later, in front of
// others). After the last step the machine sends QUIT and reads until the
// 221: any reply before it, in a session whose count is known, is a reply
// nobody asked for. (In a SASL exchange, "*" cancels it first.)
//
// Oracles (Verdict::kind):
// - kDropped: the server closed the connection while a reply was owed,
//   with no reply since our last write or right after a positive one, and
//   the last reply was not a 421 / 221 / 521 / 554 (a crash looks like this). A
//   crash right after a 554 reply, or right after a refusal that answered
//   our last write, is therefore not seen: the blind spot of judging by
//   the wire alone.
// - kHang: no reply within the read deadline while one was owed (reported by
//   the driver through OnTimeout; the driver decides whether a stalled
//   server was merely waiting for input).
// - kBadReply: a reply that breaks RFC 5321 §4.2 syntax.
// - kDesync: more replies than commands (a reply to a smuggled command, or
//   one command answered twice), seen after QUIT or as a 354 / 334 to a
//   command that cannot get one; an unasked 421 excepted, since a server
//   may announce closing at any time (RFC 5321 §3.8).
#ifndef SMTP_FUZZ_NET_CLIENT_MACHINE_H_
#define SMTP_FUZZ_NET_CLIENT_MACHINE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/command.h"
#include "parser/reply.h"
#include "results/session_input.h"

namespace smtp::fuzz {

enum class ActionKind : std::uint8_t {
  kWrite,     // send `bytes`
  kRead,      // read one reply (a deadline applies)
  kStartTls,  // do the TLS handshake, then OnTlsResult
  kDone,      // close the connection; the session is over
};

struct Action {
  ActionKind kind = ActionKind::kDone;
  std::string bytes;  // kWrite
};

enum class VerdictKind : std::uint8_t {
  kOk,
  kDropped,
  kHang,
  kBadReply,
  kDesync,
  // Set by a driver that sees the server's process (exec:), never by the
  // machine: the process died by a signal, or wrote a sanitizer report.
  kCrashed,
  kSanitizer,
};

// "ok", "dropped", "hang", "bad_reply", "desync", "crashed", "sanitizer".
std::string_view VerdictName(VerdictKind kind);

struct Verdict {
  VerdictKind kind = VerdictKind::kOk;
  std::string detail;  // one line: what was owed, what came
  // The step being answered when the oracle fired (steps.size() for the
  // closing QUIT), its verb, and the last reply code before it (0: none).
  std::size_t step = 0;
  Verb verb = Verb::kUnknown;
  std::uint16_t last_code = 0;
  // The process oracles (crashed, sanitizer): what died and where, e.g.
  // "SIGABRT" or "heap-buffer-overflow-in-rcpt_to". Findings with one are
  // bucketed by it: the same crash reached by any route is one bucket.
  std::string signature;
  // In process only: the server's own account of an abort that ended the
  // session ("planted bug 1: HELP %x"). Findings with the same cause are
  // one bug, whatever route and bucket reached it.
  std::string cause;

  bool ok() const { return kind == VerdictKind::kOk; }
};

// One reply as the machine saw it, in order: which step it answered (or
// SIZE_MAX for one that was not owed), its verb, and its shape. The
// feedback (state_feedback.h) hashes these transitions.
struct ReplyEvent {
  std::size_t step = 0;
  Verb verb = Verb::kUnknown;
  std::uint16_t code = 0;
  // RFC 3463 class.subject.detail packed as class*1'000'000 + subject*1'000 +
  // detail; 0 when the reply has none.
  std::uint32_t enhanced = 0;
  std::uint16_t lines = 1;
  bool owed = true;  // false: nobody asked for it (desync)
};

class ClientMachine {
 public:
  // Read deadline and reply limits are the driver's; the machine only counts.
  // `lmtp` (RFC 2033): EHLO and HELO steps are sent as LHLO, and the end of
  // a message (after DATA's body, or BDAT ... LAST) is owed one reply per
  // recipient accepted in the transaction.
  explicit ClientMachine(const SessionInput& input, bool lmtp = false);

  // The next thing to do. kRead is returned first, for the greeting.
  Action Next();

  // Results of a kRead: a complete reply (parsed strictly by the driver), no
  // reply in time, the peer closed before a complete reply, or bytes that do
  // not parse as a reply (`offset` into the bytes read for this reply).
  void OnReply(const Reply& reply);
  void OnTimeout();
  void OnClosed();
  void OnBadReply(std::size_t offset, std::string_view why);
  // Result of a kStartTls.
  void OnTlsResult(bool ok);

  const Verdict& verdict() const { return verdict_; }
  const std::vector<ReplyEvent>& replies() const { return replies_; }
  // Steps fully sent (and answered, where replies were owed).
  std::size_t steps_done() const { return step_; }
  // Replies owed were all known up to here (no raw step sent yet).
  bool expectations_known() const { return known_; }
  // The deepest transaction stage a reply confirmed: 0 none, 1 MAIL accepted
  // (2xx), 2 RCPT accepted, 3 DATA / BDAT message accepted.
  int depth() const { return depth_; }
  bool tls_started() const { return tls_; }
  // Every reply owed so far was read and the next group is not sent yet: a
  // reply now is one nobody asked for (OnReply judges it).
  bool between_groups() const { return phase_ == Phase::kNextGroup; }

 private:
  enum class Phase : std::uint8_t {
    kGreeting,   // waiting for the 220
    kNextGroup,  // write the next group of steps
    kReplies,    // reading the replies owed to the group
    kBody,       // a 354 came: write the body
    kStartTls,   // a 2xx to STARTTLS came: handshake
    kQuit,       // wrote QUIT: read until 221 or close
    kDone,
  };

  struct Owed {
    std::size_t step;
    Verb verb;
    bool data = false;      // DATA: a 354 sends the body
    bool body = false;      // the reply to a body (end of message)
    bool starttls = false;  // STARTTLS: a 2xx starts TLS
    bool last = false;      // BDAT ... LAST: ends the message
    bool per_rcpt = false;  // LMTP: a further reply for one more recipient
  };

  void Fail(VerdictKind kind, std::string detail, std::size_t step, Verb verb);
  // The step (and its verb) whose reply is awaited now: the owed reply being
  // read, the closing QUIT (steps.size()), or the next step to write.
  struct Awaited {
    std::size_t step;
    Verb verb;
  };
  Awaited AwaitedReply() const;
  void Record(const Owed* owed, const Reply& reply);

  const SessionInput& input_;
  bool lmtp_ = false;
  std::size_t accepted_rcpts_ = 0;  // 2xx to RCPT in the open transaction
  Phase phase_ = Phase::kGreeting;
  std::size_t step_ = 0;      // next step to write
  std::vector<Owed> owed_;    // replies owed, oldest first
  std::size_t owed_pos_ = 0;  // next owed reply
  std::string pending_body_;  // kBody: what to write
  Verdict verdict_;
  std::vector<ReplyEvent> replies_;
  std::uint16_t last_code_ = 0;
  bool known_ = true;
  bool tls_ = false;
  int depth_ = 0;
  std::size_t quit_extra_ = 0;  // replies before the 221
  std::size_t replies_since_write_ = 0;
  bool quit_cancel_ = false;  // "*" went before QUIT: one more reply owed
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_CLIENT_MACHINE_H_
