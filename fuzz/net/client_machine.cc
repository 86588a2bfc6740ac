#include "fuzz/net/client_machine.h"

#include <algorithm>
#include <utility>

#include "parser/ascii.h"
#include "parser/data_reader.h"

namespace smtp::fuzz {
namespace {

// Replies kept for the feedback; a longer session still runs, uncounted.
constexpr std::size_t kMaxReplyEvents = 4096;
// Replies read after QUIT, before the 221, in a session whose count is
// unknown (a raw step's replies arriving late).
constexpr std::size_t kMaxQuitDrain = 256;

std::uint32_t PackEnhanced(const std::optional<EnhancedCode>& e) {
  if (!e) return 0;
  return std::uint32_t{e->klass} * 1'000'000u + std::uint32_t{e->subject} * 1'000u + e->detail;
}

bool HasLineEnd(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// The verb a step sends: its command's, or DATA / BDAT / STARTTLS for the
// steps that send those; none for raw bytes.
Verb StepVerb(const SessionStep& s) {
  switch (s.kind) {
    case StepKind::kCommand:
      return VerbOfFirstWord(s.bytes);
    case StepKind::kData:
      return Verb::kData;
    case StepKind::kBdat:
      return Verb::kBdat;
    case StepKind::kStartTls:
      return Verb::kStarttls;
    case StepKind::kRaw:
      break;
  }
  return Verb::kUnknown;
}

}  // namespace

std::string_view VerdictName(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::kOk:
      return "ok";
    case VerdictKind::kDropped:
      return "dropped";
    case VerdictKind::kHang:
      return "hang";
    case VerdictKind::kBadReply:
      return "bad_reply";
    case VerdictKind::kDesync:
      return "desync";
    case VerdictKind::kCrashed:
      return "crashed";
    case VerdictKind::kSanitizer:
      return "sanitizer";
  }
  return "?";
}

ClientMachine::ClientMachine(const SessionInput& input, bool lmtp) : input_(input), lmtp_(lmtp) {}

Action ClientMachine::Next() {
  for (;;) {
    switch (phase_) {
      case Phase::kGreeting:
      case Phase::kReplies:
      case Phase::kQuit:
        return {ActionKind::kRead, {}};
      case Phase::kBody:
        phase_ = Phase::kReplies;
        replies_since_write_ = 0;
        return {ActionKind::kWrite, std::exchange(pending_body_, {})};
      case Phase::kStartTls:
        return {ActionKind::kStartTls, {}};
      case Phase::kDone:
        return {ActionKind::kDone, {}};
      case Phase::kNextGroup:
        break;
    }
    if (step_ >= input_.steps.size()) {
      phase_ = Phase::kQuit;
      replies_since_write_ = 0;
      // In a SASL exchange (RFC 4954 §4) QUIT would be read as the client's
      // response: cancel it first ("*", answered with 501).
      if (last_code_ == kContinueReqCode) {
        quit_cancel_ = true;
        return {ActionKind::kWrite, "*\r\nQUIT\r\n"};
      }
      return {ActionKind::kWrite, "QUIT\r\n"};
    }
    // One group: this step and the pipelined steps right after it, in one
    // write; then the replies owed to all of them, in order.
    owed_.clear();
    owed_pos_ = 0;
    std::string bytes;
    do {
      const SessionStep& s = input_.steps[step_];
      // Whatever is pipelined behind DATA reaches the server before its 354:
      // a strict server refuses it (and may close), a lenient one takes it
      // as message text. Either way, no reply count can be expected.
      if (!owed_.empty() && owed_.back().data) known_ = false;
      switch (s.kind) {
        case StepKind::kCommand: {
          const Verb verb = HasLineEnd(s.bytes) ? Verb::kUnknown : VerbOfFirstWord(s.bytes);
          // LMTP has LHLO where SMTP has EHLO and HELO (RFC 2033 §4.1): the
          // same sessions reach the same states.
          if (lmtp_ && (verb == Verb::kEhlo || verb == Verb::kHelo)) {
            bytes.append("LHLO").append(s.bytes.substr(4)).append("\r\n");
          } else {
            bytes.append(s.bytes).append("\r\n");
          }
          if (HasLineEnd(s.bytes)) {
            known_ = false;
            break;
          }
          if (verb == Verb::kBdat) {
            // Its chunk is whatever follows: unknowable here.
            known_ = false;
            break;
          }
          owed_.push_back({.step = step_,
                           .verb = verb,
                           .data = verb == Verb::kData,
                           .starttls = verb == Verb::kStarttls});
          break;
        }
        case StepKind::kData:
          bytes.append("DATA\r\n");
          owed_.push_back({.step = step_, .verb = Verb::kData, .data = true});
          break;
        case StepKind::kBdat:
          // In an open SASL exchange (or one AUTH in this group may open) the
          // BDAT line is the client's response and its chunk runs into the
          // next line: the count is lost.
          if (last_code_ == kContinueReqCode ||
              std::any_of(owed_.begin(), owed_.end(),
                          [](const Owed& o) { return o.verb == Verb::kAuth; })) {
            known_ = false;
          }
          bytes.append(BdatWire(s));
          owed_.push_back({.step = step_, .verb = Verb::kBdat, .last = s.last});
          break;
        case StepKind::kRaw:
          bytes.append(s.bytes);
          known_ = false;
          break;
        case StepKind::kStartTls:
          bytes.append("STARTTLS\r\n");
          owed_.push_back({.step = step_, .verb = Verb::kStarttls, .starttls = true});
          break;
      }
      ++step_;
    } while (step_ < input_.steps.size() && input_.steps[step_].pipelined);
    if (!owed_.empty()) phase_ = Phase::kReplies;
    if (!bytes.empty()) {
      replies_since_write_ = 0;
      return {ActionKind::kWrite, std::move(bytes)};
    }
  }
}

void ClientMachine::Record(const Owed* owed, const Reply& reply) {
  last_code_ = reply.code;
  ++replies_since_write_;
  if (replies_.size() >= kMaxReplyEvents) return;
  ReplyEvent e;
  e.step = owed != nullptr ? owed->step : SIZE_MAX;
  // Once the count is unknown, which command a reply answers is a guess:
  // the feedback sees no verb rather than a wrong one.
  e.verb = owed != nullptr && known_ && !owed->body ? owed->verb : Verb::kUnknown;
  e.code = reply.code;
  e.enhanced = PackEnhanced(reply.enhanced);
  e.lines = static_cast<std::uint16_t>(std::min<std::size_t>(reply.lines.size(), 0xffff));
  e.owed = owed != nullptr;
  replies_.push_back(e);
}

void ClientMachine::OnReply(const Reply& reply) {
  switch (phase_) {
    case Phase::kGreeting: {
      Owed greeting{.step = 0, .verb = Verb::kUnknown};
      Record(&greeting, reply);
      phase_ = Phase::kNextGroup;
      return;
    }
    case Phase::kReplies: {
      const Owed owed = owed_[owed_pos_++];
      const std::uint16_t before = last_code_;
      Record(&owed, reply);
      // Replies that only one command can get, to another: the replies are
      // out of step (a smuggled command answered, a command answered twice).
      const bool continue_ok = reply.code != 354
                                   ? (reply.code != kContinueReqCode || owed.verb == Verb::kAuth ||
                                      before == kContinueReqCode)
                                   : owed.data;
      if (known_ && !continue_ok) {
        Fail(VerdictKind::kDesync,
             std::to_string(reply.code) + " in answer to " +
                 (owed.body ? std::string("a message body")
                            : std::string(VerbName(owed.verb).empty() ? "a command"
                                                                      : VerbName(owed.verb))) +
                 ": the replies are out of step",
             owed.step, owed.verb);
        return;
      }
      // A server that does not know BDAT or AUTH (500, 502) reads the chunk
      // or the SASL lines sent behind it as commands, each with a reply of
      // its own: from here on the count is unknown.
      if ((owed.verb == Verb::kBdat || owed.verb == Verb::kAuth) &&
          (reply.code == 500 || reply.code == 502)) {
        known_ = false;
      }
      const bool positive = reply.code / 100 == 2;
      if (positive && owed.verb == Verb::kMail) depth_ = std::max(depth_, 1);
      if (positive && owed.verb == Verb::kRcpt) depth_ = std::max(depth_, 2);
      const bool message_end = owed.body || (owed.verb == Verb::kBdat && owed.last);
      if (positive && message_end) depth_ = 3;
      // The transaction's recipients, for LMTP's replies at the end of the
      // message.
      if (positive && owed.verb == Verb::kMail) accepted_rcpts_ = 0;
      if (positive && owed.verb == Verb::kRcpt) ++accepted_rcpts_;
      if (positive && (owed.verb == Verb::kRset || owed.verb == Verb::kEhlo ||
                       owed.verb == Verb::kHelo || owed.verb == Verb::kLhlo)) {
        accepted_rcpts_ = 0;  // a refused one (501: no argument) changes nothing
      }
      if (message_end && !owed.per_rcpt) {
        // RFC 2033 §4.2: one reply per recipient that RCPT accepted, in
        // order, whatever became of the message.
        if (lmtp_ && accepted_rcpts_ > 1) {
          Owed more = owed;
          more.per_rcpt = true;
          owed_.insert(owed_.begin() + static_cast<std::ptrdiff_t>(owed_pos_), accepted_rcpts_ - 1,
                       more);
        }
        accepted_rcpts_ = 0;
      }
      if (owed.data && reply.code == 354) {
        const SessionStep& s = input_.steps[owed.step];
        pending_body_ = s.kind == StepKind::kData ? DotStuff(s.bytes) : std::string(".\r\n");
        owed_.insert(owed_.begin() + static_cast<std::ptrdiff_t>(owed_pos_),
                     Owed{.step = owed.step, .verb = Verb::kData, .body = true});
        phase_ = Phase::kBody;
        return;
      }
      if (owed.starttls && positive) {
        accepted_rcpts_ = 0;  // RFC 3207 §4.2: the server forgets the session
        // The server discards what was pipelined behind STARTTLS (RFC 3207
        // §5, CVE-2011-0411): nothing more is owed for this group.
        owed_.resize(owed_pos_);
        phase_ = Phase::kStartTls;
        return;
      }
      if (owed_pos_ == owed_.size()) phase_ = Phase::kNextGroup;
      return;
    }
    case Phase::kQuit:
      if (reply.code == 221) {
        Record(nullptr, reply);
        replies_.back().owed = true;
        phase_ = Phase::kDone;
        return;
      }
      if (quit_cancel_) {  // the reply to "*"
        quit_cancel_ = false;
        Owed cancel{.step = input_.steps.size(), .verb = Verb::kAuth};
        Record(&cancel, reply);
        return;
      }
      Record(nullptr, reply);
      // 421: the server is closing the channel, which it may announce at
      // any time (RFC 5321 §3.8), e.g. after too many errors.
      if (reply.code == 421) {
        phase_ = Phase::kDone;
        return;
      }
      if (known_) {
        Fail(VerdictKind::kDesync,
             "reply " + std::to_string(reply.code) + " that no command asked for (read after QUIT)",
             input_.steps.size(), Verb::kQuit);
        return;
      }
      if (reply.code == 421 || ++quit_extra_ > kMaxQuitDrain) phase_ = Phase::kDone;
      return;
    case Phase::kNextGroup: {
      // A reply before the next command was sent (a driver that can see it,
      // the in-process one, hands it over): no command asked for it — a
      // smuggled command answered, or one answered twice. A 421 may come at
      // any time (RFC 5321 §3.8).
      const std::uint16_t before = last_code_;
      Record(nullptr, reply);
      if (reply.code == 421) {
        phase_ = Phase::kDone;
        return;
      }
      if (known_) {
        last_code_ = before;  // the verdict names the reply before it
        const std::size_t sent = step_ == 0 ? 0 : step_ - 1;
        Fail(VerdictKind::kDesync,
             "reply " + std::to_string(reply.code) +
                 " before the next command was sent: no command asked for it",
             sent, step_ == 0 ? Verb::kUnknown : StepVerb(input_.steps[sent]));
      }
      return;
    }
    case Phase::kBody:
    case Phase::kStartTls:
    case Phase::kDone:
      return;  // not reading: a driver error; ignore
  }
}

void ClientMachine::OnTimeout() {
  if (phase_ == Phase::kDone) return;
  // With a raw step in flight the server may rightly be waiting for input
  // (a DATA body, a BDAT chunk, a SASL line) that never comes: not a hang.
  if (!known_) {
    phase_ = Phase::kDone;
    return;
  }
  const Awaited a = AwaitedReply();
  Fail(VerdictKind::kHang,
       phase_ == Phase::kGreeting ? "no greeting within the deadline"
       : phase_ == Phase::kQuit   ? "no reply to QUIT within the deadline"
                                  : "no reply within the deadline",
       a.step, a.verb);
}

void ClientMachine::OnClosed() {
  if (phase_ == Phase::kDone) return;
  // A server may close after a 421 (shutting down, too many errors), a 221,
  // a 521 (RFC 7504: does not accept mail, then closes), a 554 (RFC 5321
  // §3.1 "No SMTP service here"; an early talker, data
  // pipelined behind DATA: the close may come after we wrote more), after
  // refusing what it was just sent (a 4xx / 5xx since our last write), and
  // accepting STARTTLS when a raw step's handshake fails. A crash looks
  // different: silence since our last write, or a close right after a
  // positive reply.
  if (last_code_ == 421 || last_code_ == 221 || last_code_ == 554 || last_code_ == 521 ||
      (replies_since_write_ > 0 && last_code_ >= 400) || (!known_ && last_code_ == 220) ||
      (phase_ == Phase::kQuit && !known_)) {
    phase_ = Phase::kDone;
    return;
  }
  if (phase_ == Phase::kNextGroup || phase_ == Phase::kBody || phase_ == Phase::kStartTls) {
    // Closed while we were writing: the last reply was not a goodbye.
    Fail(VerdictKind::kDropped,
         "connection closed by the server while sending; last reply " + std::to_string(last_code_),
         step_ == 0 ? 0 : step_ - 1,
         step_ == 0 ? Verb::kUnknown : StepVerb(input_.steps[step_ - 1]));
    return;
  }
  const Awaited a = AwaitedReply();
  Fail(VerdictKind::kDropped,
       phase_ == Phase::kGreeting ? std::string("connection closed without a greeting")
       : phase_ == Phase::kQuit
           ? "connection closed after QUIT without a 221; last reply " + std::to_string(last_code_)
           : "connection closed without a reply; last reply " + std::to_string(last_code_),
       a.step, a.verb);
}

void ClientMachine::OnBadReply(std::size_t offset, std::string_view why) {
  if (phase_ == Phase::kDone) return;
  const Awaited a = AwaitedReply();
  Fail(VerdictKind::kBadReply,
       "reply breaks RFC 5321 4.2 at octet " + std::to_string(offset) + ": " + std::string(why),
       a.step, a.verb);
}

ClientMachine::Awaited ClientMachine::AwaitedReply() const {
  if (phase_ == Phase::kQuit) return {input_.steps.size(), Verb::kQuit};
  if (phase_ == Phase::kReplies && owed_pos_ < owed_.size()) {
    return {owed_[owed_pos_].step, owed_[owed_pos_].verb};
  }
  return {step_, Verb::kUnknown};
}

void ClientMachine::OnTlsResult(bool ok) {
  if (phase_ != Phase::kStartTls) return;
  if (!ok) {
    // Our handshake failing is not the server's fault (no finding): stop.
    phase_ = Phase::kDone;
    return;
  }
  tls_ = true;
  phase_ = owed_pos_ < owed_.size() ? Phase::kReplies : Phase::kNextGroup;
}

void ClientMachine::Fail(VerdictKind kind, std::string detail, std::size_t step, Verb verb) {
  if (verdict_.ok()) {
    verdict_.kind = kind;
    verdict_.detail = std::move(detail);
    verdict_.step = step;
    verdict_.verb = verb;
    verdict_.last_code = last_code_;
  }
  phase_ = Phase::kDone;
}

}  // namespace smtp::fuzz
