#include "fuzz/net/client_machine.h"

#include <algorithm>
#include <cctype>
#include <cstring>
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

// Two memchr scans: string_view::find_first_of("\r\n") calls memchr on the
// two-octet set once per octet of `s` (6% of a fuzzing run's CPU).
bool HasLineEnd(std::string_view s) {
  return std::memchr(s.data(), '\n', s.size()) != nullptr ||
         std::memchr(s.data(), '\r', s.size()) != nullptr;
}

// The QUIT lines in `bytes`: a line that is QUIT (case-insensitive, with
// or without spaces around it) is surely one; a line whose first word is
// QUIT, with an argument, is one to a lenient server, which answers 221 and
// closes. A bare CR ends a line here too: a server that takes it as a line
// end reads the QUIT.
enum class QuitLine { kNone, kWithArgument, kBare };

QuitLine QuitIn(std::string_view bytes) {
  QuitLine found = QuitLine::kNone;
  while (!bytes.empty()) {
    const std::size_t end = bytes.find_first_of("\r\n");
    std::string_view line = bytes.substr(0, end);
    bytes = end == std::string_view::npos ? std::string_view() : bytes.substr(end + 1);
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (VerbOfFirstWord(line) != Verb::kQuit) continue;
    if (line.size() == 4) return QuitLine::kBare;
    found = QuitLine::kWithArgument;
  }
  return found;
}

// Maybe-replies read for one group at most (a raw step of many lines).
constexpr std::size_t kMaxMaybeReplies = 256;

// Replies a raw run of bytes surely gets from a server that answers each
// line: one per CRLF. A server that also ends lines at a bare LF (Postfix)
// sends more, which are read later, unjudged; counting those too would
// make every session against a strict server wait out a deadline for a
// reply that never comes.
std::size_t LineEnds(std::string_view bytes) {
  std::size_t n = 0;
  for (std::size_t at = bytes.find("\r\n"); at != std::string_view::npos;
       at = bytes.find("\r\n", at + 2)) {
    ++n;
  }
  return n;
}

// The chunk size of a "BDAT <size>[ LAST]" line (0 when unreadable), at
// most 2^40.
std::uint64_t BdatSize(std::string_view line) {
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  std::uint64_t n = 0;
  for (std::size_t i = sp + 1; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    n = std::min<std::uint64_t>(n * 10 + static_cast<std::uint64_t>(line[i] - '0'),
                                std::uint64_t{1} << 40);
  }
  return n;
}

// Reply text kept for a defence's description.
constexpr std::size_t kMaxKeptText = 200;

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

// The octets of a body or command line a server may read as line ends
// where we count none (or the other way), by name, the first that
// applies; "" for none. `max_line`: the longest line without its CRLF
// that a server must take whole (RFC 5321 §4.5.3.1.4 and .6).
std::string_view OddOctets(std::string_view bytes, std::size_t max_line) {
  bool bare_cr = false, nul = false, long_line = false;
  std::size_t line = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) return "bare-lf";
    bare_cr = bare_cr || (c == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n'));
    nul = nul || c == '\0';
    line = c == '\n' ? 0 : line + (c == '\r' ? 0 : 1);
    long_line = long_line || line > max_line;
  }
  return bare_cr ? "bare-cr" : nul ? "nul" : long_line ? "long-line" : "";
}

constexpr std::size_t kMaxTextLine = 998;     // RFC 5321 §4.5.3.1.6, without CRLF
constexpr std::size_t kMaxCommandLine = 510;  // RFC 5321 §4.5.3.1.4, without CRLF

}  // namespace

std::string StepCause(const SessionStep& s) {
  switch (s.kind) {
    case StepKind::kData: {
      const std::string_view odd = OddOctets(s.bytes, kMaxTextLine);
      return odd.empty() ? "data-body" : "data-body-" + std::string(odd);
    }
    case StepKind::kBdat:
      return "bdat-chunk";
    case StepKind::kStartTls:
      return "starttls";
    case StepKind::kRaw:
      return "raw";
    case StepKind::kCommand:
      break;
  }
  const std::string_view odd = OddOctets(s.bytes, kMaxCommandLine);
  if (!odd.empty()) return "command-" + std::string(odd);
  std::string verb(VerbName(VerbOfFirstWord(s.bytes)));
  for (char& c : verb) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return verb.empty() ? "command" : "command-" + verb;
}

bool MayReadOtherwise(const SessionStep& s) {
  switch (s.kind) {
    case StepKind::kBdat:
      return true;
    case StepKind::kData:
      return !OddOctets(s.bytes, kMaxTextLine).empty();
    case StepKind::kCommand:
      return !OddOctets(s.bytes, kMaxCommandLine).empty();
    case StepKind::kRaw:
    case StepKind::kStartTls:
      break;
  }
  return false;
}

bool TextSaysClosing(std::string_view text) {
  // The first 512 octets, ASCII letters lowered (the words are ASCII; no
  // allocation and no locale call per octet: this runs on every reply line).
  char buf[512];
  const std::size_t n = std::min(text.size(), sizeof buf);
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    buf[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view lower(buf, n);
  for (const std::string_view word :
       {"goodbye", "good bye", "bye", "too many", "closing", "disconnect", "shutting down",
        "connection will be closed", "session terminated"}) {
    if (lower.find(word) != std::string::npos) return true;
  }
  return false;
}

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
    group_start_ = step_;
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
    std::size_t chunk_mark = 0;  // where a BDAT line's chunk starts in `bytes`
    do {
      const SessionStep& s = input_.steps[step_];
      // Whatever is pipelined behind DATA reaches the server before its 354:
      // a strict server refuses it (and may close), a lenient one takes it
      // as message text. Either way, no reply count can be expected.
      if (!owed_.empty() && owed_.back().data) known_ = false;
      switch (s.kind) {
        case StepKind::kCommand: {
          const Verb first = VerbOfFirstWord(s.bytes);
          const bool lines = HasLineEnd(s.bytes);  // several lines on the wire
          const Verb verb = lines ? Verb::kUnknown : first;
          // LMTP has LHLO where SMTP has EHLO and HELO (RFC 2033 §4.1): the
          // same sessions reach the same states.
          if (lmtp_ && (verb == Verb::kEhlo || verb == Verb::kHelo)) {
            bytes.append("LHLO").append(s.bytes.substr(4)).append("\r\n");
          } else {
            bytes.append(s.bytes).append("\r\n");
          }
          // A QUIT command step is ours with whatever follows its verb, also
          // a line end ("QUIT x\ry": a server reads a QUIT either way).
          if (first == Verb::kQuit) {
            quit_sent_ = true;
          } else if (lines) {
            NoteQuit(s.bytes);
          }
          if (lines) {
            known_ = false;
            AddMaybe(LineEnds(s.bytes) + 1);
            break;
          }
          if (verb == Verb::kBdat) {
            // Its chunk is whatever follows: unknowable here. Until that
            // many octets have gone out, the server waits for them.
            known_ = false;
            chunk_left_ = BdatSize(s.bytes);
            chunk_mark = bytes.size();
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
          // A server without CHUNKING reads the chunk as commands: a QUIT
          // line in it is ours.
          NoteQuit(s.bytes);
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
          NoteQuit(s.bytes);
          known_ = false;
          AddMaybe(LineEnds(s.bytes));
          break;
        case StepKind::kStartTls:
          bytes.append("STARTTLS\r\n");
          owed_.push_back({.step = step_, .verb = Verb::kStarttls, .starttls = true});
          break;
      }
      ++step_;
    } while (step_ < input_.steps.size() && input_.steps[step_].pipelined);
    if (!owed_.empty()) phase_ = Phase::kReplies;
    if (chunk_left_ > 0)
      chunk_left_ -= std::min<std::uint64_t>(chunk_left_, bytes.size() - chunk_mark);
    if (!bytes.empty()) {
      replies_since_write_ = 0;
      return {ActionKind::kWrite, std::move(bytes)};
    }
  }
}

void ClientMachine::NoteQuit(std::string_view bytes) {
  switch (QuitIn(bytes)) {
    case QuitLine::kBare:
      quit_sent_ = true;
      break;
    case QuitLine::kWithArgument:
      quit_argued_ = true;
      break;
    case QuitLine::kNone:
      break;
  }
}

void ClientMachine::AddMaybe(std::size_t n) {
  const auto maybe = static_cast<std::size_t>(
      std::count_if(owed_.begin(), owed_.end(), [](const Owed& o) { return o.maybe; }));
  n = std::min(n, kMaxMaybeReplies - std::min(maybe, kMaxMaybeReplies));
  owed_.insert(owed_.end(), n, Owed{.step = step_, .verb = Verb::kUnknown, .maybe = true});
}

void ClientMachine::Record(const Owed* owed, const Reply& reply) {
  ++replies_read_;
  last_code_ = reply.code;
  last_text_ = reply.lines.empty() ? std::string() : reply.lines[0].substr(0, kMaxKeptText);
  // Any line may say so: Exim's "500-unrecognized command" ends "500 Too
  // many syntax or protocol errors" before its close.
  // That line names the defence: the first line of Exim's is the refused
  // command's own ("503-sender already given"), which varies with what was
  // refused, while the cause (its error limit) is one.
  const auto closing = std::find_if(reply.lines.begin(), reply.lines.end(),
                                    [](const std::string& l) { return TextSaysClosing(l); });
  last_says_closing_ = closing != reply.lines.end();
  closing_text_ = last_says_closing_ ? closing->substr(0, kMaxKeptText) : last_text_;
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
  Answer(reply);
  // The 221 to a QUIT of ours (sent raw, pipelined, or as a step) ends the
  // session: nothing more can be sent, and the close that follows is the
  // end, not a drop.
  if ((quit_sent_ || quit_argued_) && reply.code == 221 && phase_ != Phase::kGreeting) {
    phase_ = Phase::kDone;
  }
}

void ClientMachine::Answer(const Reply& reply) {
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
      // its own: from here on the count is unknown. So does one that refuses
      // a BDAT without having advertised CHUNKING in this session (Exim:
      // "503 BDAT command used when CHUNKING not advertised", then "500
      // unrecognized command" to the chunk); one that advertised it reads
      // the chunk even when it refuses the command (RFC 3030 §2).
      if ((owed.verb == Verb::kBdat || owed.verb == Verb::kAuth) &&
          (reply.code == 500 || reply.code == 502)) {
        known_ = false;
      }
      if (owed.verb == Verb::kBdat && reply.code >= 400 && !chunking_) known_ = false;
      const bool positive = reply.code / 100 == 2;
      // What the server advertised: a new EHLO (or HELO, or STARTTLS)
      // replaces it.
      if (owed.verb == Verb::kEhlo || owed.verb == Verb::kHelo || owed.verb == Verb::kLhlo ||
          (owed.starttls && positive)) {
        chunking_ = false;
      }
      if (positive && (owed.verb == Verb::kEhlo || owed.verb == Verb::kLhlo)) {
        for (std::size_t i = 1; i < reply.lines.size(); ++i) {
          const std::string_view kw = std::string_view(reply.lines[i]).substr(0, 8);
          chunking_ =
              chunking_ ||
              (kw.size() == 8 && std::equal(kw.begin(), kw.end(), "CHUNKING", [](char a, char b) {
                 return std::toupper(static_cast<unsigned char>(a)) == b;
               }));
        }
      }
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
        // order, whatever became of the message. A 500-504 refuses the
        // command itself (syntax, sequence: RFC 5321 §4.2.2), so no
        // message was taken and one reply is all: Dovecot 2.3 answers a
        // BDAT LAST after a failed chunk with "503 5.5.0 Previous data
        // chunk failed, issue RSET first", once for two recipients.
        const bool refused_command = reply.code >= 500 && reply.code <= 504;
        if (lmtp_ && accepted_rcpts_ > 1 && !refused_command) {
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
        verdict_.reply_code = reply.code;  // the unasked reply trips it
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
  // A line that got no reply (taken as message text, still being read):
  // the group's other maybe-replies are not waited for either.
  if (phase_ == Phase::kReplies && owed_pos_ < owed_.size() && owed_[owed_pos_].maybe) {
    while (owed_pos_ < owed_.size() && owed_[owed_pos_].maybe) ++owed_pos_;
    if (owed_pos_ == owed_.size()) phase_ = Phase::kNextGroup;
    return;
  }
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
  // Our own QUIT, sent in a step, ends the session: after its 221, or, once
  // the count of replies is unknown, whenever the close comes (the 221 may
  // be among the replies not read).
  if ((quit_sent_ || quit_argued_) && last_code_ == 221) {
    phase_ = Phase::kDone;
    return;
  }
  if (quit_sent_ && !known_) {
    phase_ = Phase::kDone;
    return;
  }
  // The step being sent (we were about to write) or answered.
  const bool writing =
      phase_ == Phase::kNextGroup || phase_ == Phase::kBody || phase_ == Phase::kStartTls;
  const Awaited a = writing
                        ? Awaited{step_ == 0 ? 0 : step_ - 1,
                                  step_ == 0 ? Verb::kUnknown : StepVerb(input_.steps[step_ - 1])}
                        : AwaitedReply();
  // A close the server announced: a 421 (RFC 5321 §3.8), a 4xx / 5xx whose
  // text says so, a 221 we did not ask for, a 521 (RFC 7504) or 554 (RFC
  // 5321 §3.1, "no SMTP service"; also an early talker's), or a refusal at
  // once followed by the close (no write of ours in between). A defence,
  // not a crash. The 221 is one to anything but our QUIT (whose 221 ended
  // the session above), even if our closing QUIT went out before the close
  // was seen (over TLS it may be).
  const bool announced = last_code_ == 421 || last_code_ == 554 || last_code_ == 521 ||
                         last_code_ == 221 ||
                         (last_code_ >= 400 && (replies_since_write_ > 0 || last_says_closing_));
  if (announced && phase_ != Phase::kGreeting) {
    defence_ = Defence{.code = last_code_,
                       .text = closing_text_,
                       .step = a.step,
                       .verb = a.verb,
                       .not_421 = last_code_ / 100 == 5 && last_code_ != 521};
    phase_ = Phase::kDone;
    return;
  }
  // A raw step's STARTTLS whose handshake we never made, the end after our
  // closing QUIT once the count is unknown.
  if ((!known_ && last_code_ == 220) || (phase_ == Phase::kQuit && !known_)) {
    phase_ = Phase::kDone;
    return;
  }
  if (writing) {
    // Closed before our next write: the last reply was not a goodbye.
    Fail(VerdictKind::kDropped,
         "connection closed by the server before the next step was sent; last reply " +
             std::to_string(last_code_),
         a.step, a.verb);
    return;
  }
  Fail(VerdictKind::kDropped,
       phase_ == Phase::kGreeting ? std::string("connection closed without a greeting")
       : phase_ == Phase::kQuit
           ? "connection closed after QUIT without a 221; last reply " + std::to_string(last_code_)
           : "connection closed without a reply; last reply " + std::to_string(last_code_),
       a.step, a.verb);
}

void ClientMachine::OnReset() {
  if (phase_ == Phase::kDone) return;
  reset_ = true;
  if (known_) {
    OnClosed();
    return;
  }
  phase_ = Phase::kDone;
}

void ClientMachine::OnBadReply(std::size_t offset, std::string_view why) {
  if (phase_ == Phase::kDone) return;
  // A STARTTLS sent raw and accepted (a 220 past the greeting, the count
  // unknown): the server now speaks TLS, and answers our plaintext with a
  // TLS alert. Not an SMTP reply to judge (Exim 4.96: "\x15\x03\x03...",
  // a false bad_reply of a 3-minute run): the session ends there.
  if (!known_ && last_code_ == 220 && replies_read_ > 1) {
    phase_ = Phase::kDone;
    return;
  }
  const Awaited a = AwaitedReply();
  const bool first = verdict_.ok();
  Fail(VerdictKind::kBadReply,
       "reply breaks RFC 5321 4.2 at octet " + std::to_string(offset) + ": " + std::string(why),
       a.step, a.verb);
  if (first) {  // no reply parsed: the parser's reason names it
    verdict_.reply_code = 0;
    verdict_.reply_index = replies_read_;  // the malformed one, not counted
    // A stray CR, LF or another control octet inside reply text is one
    // fault (the server echoes what it was sent), whichever octet it was.
    const bool control = why.find("CR without LF") != std::string_view::npos ||
                         why.find("CR not followed by LF") != std::string_view::npos ||
                         why.find("LF without CR") != std::string_view::npos ||
                         why.find("LF not preceded by CR") != std::string_view::npos ||
                         why.find("textstring:") != std::string_view::npos;
    verdict_.reply_text = control ? "a control octet in the reply text" : std::string(why);
  }
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

std::string ClientMachine::Culprit(VerdictKind kind, std::size_t step) const {
  if (phase_ == Phase::kGreeting) return "greeting";
  const std::size_t sent = std::min(step_, input_.steps.size());
  const std::size_t from = kind == VerdictKind::kHang ? std::min(group_start_, sent) : 0;
  for (std::size_t i = sent; i > from; --i) {
    if (MayReadOtherwise(input_.steps[i - 1])) return StepCause(input_.steps[i - 1]);
  }
  // A reply nobody asked for, with nothing odd sent: the reply itself is
  // the best name (a command answered twice).
  if (kind == VerdictKind::kDesync) return "";
  return step < input_.steps.size() ? StepCause(input_.steps[step]) : "quit";
}

void ClientMachine::Fail(VerdictKind kind, std::string detail, std::size_t step, Verb verb) {
  if (verdict_.ok()) {
    if (kind == VerdictKind::kDesync || kind == VerdictKind::kHang) {
      verdict_.culprit = Culprit(kind, step);
    }
    verdict_.kind = kind;
    verdict_.detail = std::move(detail);
    verdict_.step = step;
    verdict_.verb = verb;
    verdict_.last_code = last_code_;
    verdict_.reply_code = last_code_;
    verdict_.reply_text = last_text_;
    verdict_.reply_index = replies_read_ == 0 ? SIZE_MAX : replies_read_ - 1;
  }
  phase_ = Phase::kDone;
}

}  // namespace smtp::fuzz
