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
// the count unknown: from then on the session can no longer be judged for
// desync or hangs. Its lines (each CRLF ends one) are read for as long as a
// command's reply, since most servers answer each, but a line that gets no
// reply is no finding: the wait ends at the first reply deadline missed,
// and the session goes on (maybe-replies, below). After the last step the machine sends QUIT and
// reads until the 221: any reply before it, in a session whose count is known, is a reply nobody
// asked for. (In a SASL exchange, "*" cancels it first.)
//
// Oracles (Verdict::kind):
// - kDropped: the server closed the connection while a reply was owed,
//   with no reply since our last write or right after a positive one (a
//   crash looks like this). A close the server announced is not a finding
//   but a defence (defence() below): after a 421, a 4xx / 5xx whose text
//   says the session ends ("goodbye", "too many errors", "closing"), a
//   221 nobody asked for, or a 4xx / 5xx at once followed by the close
//   (no write of ours in between). A crash right after such a reply is
//   therefore not seen: the blind spot of judging by the wire alone. The
//   fuzzer's own QUIT, in any step (raw or pipelined too), ends the
//   session: the 221 to it, or a close after it once the count of replies
//   is unknown, is the end, neither a finding nor a defence.
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
  // sanitizer: the report from its first line, as read from the server's
  // stderr (a --spawn server's frames symbolized by the fuzzer), bounded;
  // written beside the finding (report.txt).
  std::string report;
  // The reply that tripped the oracle, for a finding's signature
  // (signature.h): the unasked one (desync), the last one before a drop or
  // a hang (code 0: none), or none and the parser's reason (bad_reply).
  std::uint16_t reply_code = 0;
  std::string reply_text;
  // Which of the server's replies that is (0: the greeting; a malformed
  // reply has the number the next parsed one would have), SIZE_MAX: none.
  // The report highlights it in the transcript.
  std::size_t reply_index = SIZE_MAX;
  // In process only: the server's own account of an abort that ended the
  // session ("planted bug 1: HELP %x"). Findings with the same cause are
  // one bug, whatever route and bucket reached it.
  std::string cause;
  // desync and hang: what of ours the server read otherwise than we count,
  // or left unanswered (StepCause below; "greeting", "quit"). From outside a
  // server, the unasked reply (desync) and the reply before a silence
  // (hang) change with the route; what was sent does not, so the findings
  // of a server the fuzzer does not start are bucketed by this. Found as:
  // for a desync, the last step sent so far that a server may read as
  // more or fewer lines (MayReadOtherwise: the extra reply comes from it,
  // however many groups later it is seen); for a hang, such a step in the
  // last write, since the server stalls on what it got last. Failing
  // those, a hang's is the step being answered ("command-vrfy",
  // "data-body"), a desync's is empty: named by its reply.
  std::string culprit;

  bool ok() const { return kind == VerdictKind::kOk; }
};

// What a step is, as the cause of a desync or a hang: its kind, a command
// by its verb, and for a message body or a command line the octets that a
// server may take for line ends where we count none (or the other way):
// "data-body-bare-lf" (a LF without its CR: Postfix 3.7 and Dovecot end
// DATA at a bare-LF dot), "data-body-bare-cr", "data-body-nul",
// "data-body-long-line" (over 998 octets: a server may split it),
// "bdat-chunk" (a server without CHUNKING reads it as commands),
// "command-nul", "command-long-line" (over 510 octets), "command-noop" (a
// plain line: its verb, "command" when unknown), "starttls", "raw". The
// first of the octet features in that order names a step that has several.
std::string StepCause(const SessionStep& s);

// Whether a server may read the step as more or fewer lines than the
// machine counts: a BDAT chunk, or a body or command line with a bare LF,
// bare CR, NUL or an over-long line.
bool MayReadOtherwise(const SessionStep& s);

// A close the server announced (see the oracles above): a defence, such as
// an error limit, not a crash. The session's verdict stays ok.
struct Defence {
  std::uint16_t code = 0;  // the announcing reply (0: none read)
  std::string text;        // the line saying it closes, else its first (bounded)
  std::size_t step = 0;    // the step being sent or answered at the close
  Verb verb = Verb::kUnknown;
  // Closed after a 5xx (not 521): RFC 5321 §3.8 wants a 421 before a
  // close the server decides on. A conformance note, not a finding.
  bool not_421 = false;
};

// Whether a reply's text says the server ends the session ("goodbye", "too
// many errors", "closing", ...; case-insensitive).
bool TextSaysClosing(std::string_view text);

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
  // The connection was reset (not closed in order): what the server sent
  // last may be lost with it (a goodbye written just before it closed with
  // our next line unread). Judged as a close where the count of replies is
  // known; else the session ends unjudged, since a lost goodbye and a crash
  // look alike (a spawned server's process then decides: reset() tells the
  // caller to wait for it).
  void OnReset();
  bool reset() const { return reset_; }
  void OnBadReply(std::size_t offset, std::string_view why);
  // Result of a kStartTls.
  void OnTlsResult(bool ok);

  const Verdict& verdict() const { return verdict_; }
  // Set when the session ended in a close the server announced (the
  // verdict is then ok).
  const std::optional<Defence>& defence() const { return defence_; }
  // A QUIT line of ours went out in some step (not the closing one).
  bool quit_sent() const { return quit_sent_; }
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
  // Replies read since our last write.
  std::size_t replies_since_write() const { return replies_since_write_; }
  // The code of the last reply read (0: none yet).
  std::uint16_t last_code() const { return last_code_; }
  // The count is unknown and the last reply says the server waits for
  // input (354: a message body; 334: a SASL line; a BDAT line sent as a
  // command whose chunk has not all gone out; a 220 past the greeting:
  // a STARTTLS sent raw was accepted, and the server waits for a handshake
  // that never comes): a reply may rightly never come, so a driver need
  // not wait long for it.
  bool server_waits_for_input() const {
    return !known_ && (last_code_ == 354 || last_code_ == kContinueReqCode || chunk_left_ > 0 ||
                       (last_code_ == 220 && replies_.size() > 1));
  }

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
    // A line of a raw step (or of a command carrying its own line ends):
    // most servers answer it, but one that does not (a line it takes as
    // message text, a length limit) is no finding: a timeout skips the
    // group's maybe-replies and the session goes on.
    bool maybe = false;
  };

  void Fail(VerdictKind kind, std::string detail, std::size_t step, Verb verb);
  // Verdict::culprit of a desync or hang found at `step`.
  std::string Culprit(VerdictKind kind, std::size_t step) const;
  void Answer(const Reply& reply);        // OnReply but for the end by our QUIT
  void NoteQuit(std::string_view bytes);  // QUIT lines in a step of several lines
  void AddMaybe(std::size_t n);           // n maybe-replies owed to the step being added
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
  bool reset_ = false;              // OnReset was called
  Phase phase_ = Phase::kGreeting;
  std::size_t step_ = 0;         // next step to write
  std::size_t group_start_ = 0;  // first step of the last write (steps.size(): QUIT)
  std::vector<Owed> owed_;       // replies owed, oldest first
  std::size_t owed_pos_ = 0;     // next owed reply
  std::string pending_body_;     // kBody: what to write
  Verdict verdict_;
  std::vector<ReplyEvent> replies_;
  std::uint16_t last_code_ = 0;
  std::string last_text_;  // first line of the last reply (bounded)
  std::optional<Defence> defence_;
  bool quit_sent_ = false;        // a QUIT line of ours in a step
  bool quit_argued_ = false;      // a "QUIT <argument>" line: its 221 and close end the session
  std::uint64_t chunk_left_ = 0;  // octets a BDAT command line announced, not sent yet
  bool known_ = true;
  bool tls_ = false;
  int depth_ = 0;
  std::size_t quit_extra_ = 0;  // replies before the 221
  std::size_t replies_since_write_ = 0;
  std::size_t replies_read_ = 0;    // every reply read, also past kMaxReplyEvents
  bool chunking_ = false;           // the last EHLO reply advertised CHUNKING
  bool last_says_closing_ = false;  // a line of the last reply says the session ends
  std::string closing_text_;        // that line, else the first (bounded)
  bool quit_cancel_ = false;        // "*" went before QUIT: one more reply owed
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_CLIENT_MACHINE_H_
