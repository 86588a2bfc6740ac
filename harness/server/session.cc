// Session: input framing (command lines, SASL lines, DATA bodies, BDAT
// chunks), replies, the state log, and message completion. The verbs
// themselves are in session_verbs.cc.
#include "harness/server/session.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "harness/wall_clock.h"
#include "parser/ascii.h"
#include "parser/reply.h"

namespace smtp::server {
namespace {

struct StateNameEntry {
  SessionState state;
  std::string_view name;
};
constexpr StateNameEntry kStateNames[] = {
    {SessionState::kInit, "INIT"},     {SessionState::kReady, "READY"},
    {SessionState::kMail, "MAIL"},     {SessionState::kRcpt, "RCPT"},
    {SessionState::kData, "DATA"},     {SessionState::kBdat, "BDAT"},
    {SessionState::kAuth, "AUTH"},     {SessionState::kTls, "TLS"},
    {SessionState::kClosed, "CLOSED"},
};

int ErrcBlock(Errc e) { return static_cast<int>(e) / 100; }

}  // namespace

std::string_view SessionStateName(SessionState s) {
  for (const auto& e : kStateNames) {
    if (e.state == s) return e.name;
  }
  return "?";
}

Session::Session(const ServerConfig& config, MessageSink* sink, SessionInfo info)
    : config_(config),
      sink_(sink),
      info_(std::move(info)),
      lines_(LineReaderOptions{
          .leniencies = EffectiveCommandLeniencies(config) & (kBareLfLineEnd | kBareCrLineEnd),
          .max_line = std::max(config.limits.command_line, kMaxAuthLine)}),
      data_(DataReaderOptions{.mode = EffectiveDataEndMode(config),
                              .max_line = config.limits.text_line}) {
  cmd_opts_.leniencies = EffectiveCommandLeniencies(config);
  cmd_opts_.limits = config.limits;
  if (config.profile == Profile::kFaulty) faults_ = FaultInjector(config.faults, info_.id);
  line_buf_.reserve(config.limits.command_line + 2);
}

Session::~Session() = default;

void Session::Start() {
  if (config_.refuse_sessions) {
    StartRefused("configured to accept no mail");
    return;
  }
  std::optional<Refusal> refusal;
  if (InjectFault(kFaultGreeting, &refusal)) {
    // RFC 5321 §3.1: the greeting may be 421 instead of 220.
    if (refusal) Close421("4.3.0", "Injected temporary failure", "greeting fault");
    return;
  }
  std::string text = config_.hostname + (config_.lmtp ? " LMTP" : " ESMTP") + " smtp-harness";
  Respond(220, "", text);
}

void Session::StartRefused(std::string_view why) {
  refused_ = true;
  // Not an error of the count: the 503s that follow are.
  Respond(554, "5.5.0", config_.hostname + " No SMTP service here: " + std::string(why), false);
  SetState(SessionState::kInit, why);
}

// --- state, replies ---------------------------------------------------------

void Session::SetState(SessionState to, std::string_view why) {
  if (to == state_) return;
  log_[log_count_ % kStateLogSize] = LogEntry{state_, to, why};
  ++log_count_;
  if (config_.log_hook) {
    std::string line(SessionStateName(state_));
    line.append(" -> ").append(SessionStateName(to)).append(" (").append(why).append(")");
    config_.log_hook(info_.id, line);
  }
  state_ = to;
}

std::string_view Session::abort_reason() const {
  if (action_ != SessionAction::kAbort || log_count_ == 0) return {};
  return log_[(log_count_ - 1) % kStateLogSize].why;
}

std::vector<std::string> Session::StateLog() const {
  std::vector<std::string> out;
  const std::size_t n = std::min(log_count_, kStateLogSize);
  for (std::size_t i = log_count_ - n; i < log_count_; ++i) {
    const LogEntry& e = log_[i % kStateLogSize];
    std::string line(SessionStateName(e.from));
    line.append(" -> ").append(SessionStateName(e.to)).append(" (").append(e.why).append(")");
    out.push_back(std::move(line));
  }
  return out;
}

void Session::Respond(std::uint16_t code, std::string_view enhanced, std::string_view text,
                      bool counts) {
  RespondLines(code, enhanced, {std::string(text)});
  if (counts && code >= 400 && code != 421) ++errors_;
}

void Session::RespondLines(std::uint16_t code, std::string_view enhanced,
                           const std::vector<std::string>& lines) {
  Reply r;
  r.code = code;
  for (const std::string& l : lines) {
    r.lines.push_back(enhanced.empty() ? l : std::string(enhanced) + " " + l);
  }
  out_ += SerializeReply(r);
  reply_ends_.push_back(out_.size());
}

void Session::Continue(std::string_view base64) {
  out_.append("334 ").append(base64).append("\r\n");
  reply_ends_.push_back(out_.size());
}

void Session::ClearOutput() {
  out_.clear();
  reply_ends_.clear();
}

void Session::Close421(std::string_view enhanced, std::string_view text, std::string_view why) {
  writer_.reset();
  body_open_ = false;
  Respond(421, enhanced, text);
  SetState(SessionState::kClosed, why);
  action_ = SessionAction::kClose;
}

void Session::OnTimeout() {
  if (state_ == SessionState::kClosed) return;
  Close421("4.4.2", "Idle timeout, closing connection", "timeout");
}

void Session::OnShutdown() {
  if (state_ == SessionState::kClosed) return;
  Close421("4.3.2", "Service shutting down", "shutdown");
}

void Session::OnPeerClosed() {
  if (state_ == SessionState::kClosed) return;
  writer_.reset();
  body_open_ = false;
  SetState(SessionState::kClosed, "peer closed");
  action_ = SessionAction::kClose;
}

void Session::OnTlsStarted() {
  // RFC 3207 §4.2: discard any knowledge obtained from the client before
  // the handshake (hello, transaction, authentication).
  ResetTransaction();
  helo_.clear();
  esmtp_ = false;
  authenticated_ = false;
  auth_user_.clear();
  auth_mech_ = AuthMech::kNone;
  lines_.Reset();
  if (Planted()) planted_deep_.OnHello(Verb::kUnknown);
  tls_ = true;
  action_ = SessionAction::kNone;
  SetState(SessionState::kInit, "TLS established");
}

void Session::OnTlsFailed() {
  SetState(SessionState::kClosed, "TLS handshake failed");
  action_ = SessionAction::kAbort;
}

std::string Session::Protocol() const {
  std::string p = config_.lmtp ? "LMTP" : (esmtp_ ? "ESMTP" : "SMTP");
  if (config_.lmtp || esmtp_) {
    if (tls_) p += "S";
    if (authenticated_) p += "A";
  }
  return p;
}

// --- input ------------------------------------------------------------------

bool Session::CanConsume() const {
  return action_ == SessionAction::kNone && state_ != SessionState::kClosed &&
         state_ != SessionState::kTls && out_.size() < kOutputHighWater;
}

std::size_t Session::Feed(std::string_view in) {
  std::size_t used = 0;
  while (used < in.size() && CanConsume()) {
    const std::string_view rest = in.substr(used);
    std::size_t n = 0;
    bool unit = false;
    switch (state_) {
      case SessionState::kData:
        n = FeedData(rest);
        break;
      case SessionState::kBdat:
        n = FeedBdat(rest);
        break;
      default:
        if (state_ != SessionState::kAuth && lines_.at_line_start()) {
          // A whole command line here: framed and parsed in one call.
          CommandFrame frame;
          cmd_opts_.utf8 = txn_.smtputf8;
          const ParseError e =
              ParseNextCommand(rest, cmd_opts_, lines_.options().max_line, &cmd_, &frame);
          if (e.code != Errc::kNeedMore) {
            n = frame.size;
            lines_.SkipLine(n);
            unit = true;
            input_after_line_ = rest.size() - n;
            ++progress_;
            if (frame.over_reader_limit) {
              Respond(500, "5.5.6", "Line too long");  // as HandleLine
            } else {
              HandleCommand(rest.substr(0, n), rest.substr(0, frame.content), e);
            }
            break;
          }
        }
        n = lines_.Feed(rest);
        if (lines_.has_line()) {
          unit = true;
          input_after_line_ = rest.size() - n;
          HandleLine();
        } else if (lines_.offset() - lines_.line_offset() > config_.max_discarded_line) {
          // Discarding is bounded too: stop reading an endless line.
          Close421("4.5.6", "Line too long", "line discard limit");
        }
        break;
    }
    used += n;
    if (config_.max_errors > 0 && errors_ > config_.max_errors && state_ != SessionState::kClosed) {
      Close421("4.7.0", "Too many errors", "error limit");
    }
    if (n == 0 && !unit) break;  // no progress possible (cannot happen; be safe)
  }
  return used;
}

void Session::HandleLine() {
  ++progress_;
  if (lines_.error().code == Errc::kLineTooLong) {
    if (state_ == SessionState::kAuth) SetState(SessionState::kReady, "AUTH aborted");
    Respond(500, "5.5.6", "Line too long");
    return;
  }
  if (state_ == SessionState::kAuth) {
    HandleAuthLine(lines_.line());
    return;
  }
  line_buf_.assign(lines_.line());
  switch (lines_.terminator()) {
    case LineTerminator::kLf:
      line_buf_ += '\n';
      break;
    case LineTerminator::kCr:
      line_buf_ += '\r';
      break;
    default:
      line_buf_ += "\r\n";
      break;
  }
  cmd_opts_.utf8 = txn_.smtputf8;
  const ParseError e = ParseCommandInto(line_buf_, cmd_opts_, &cmd_);
  HandleCommand(line_buf_, lines_.line(), e);
}

void Session::HandleCommand(std::string_view line, std::string_view content, const ParseError& e) {
  line_ = line;
  const bool ok = e.code == Errc::kOk;
  if (refused_) {
    // RFC 5321 §3.1: after a 554 greeting, "responding with 503 to any other
    // commands until QUIT".
    static constexpr Refusal kOnlyQuit{503, "5.5.1", "No SMTP service here; only QUIT is accepted"};
    if (ok && cmd_.verb == Verb::kQuit) {
      DoQuit(cmd_);
    } else if (ok && cmd_.verb == Verb::kBdat) {
      // RFC 3030 §2: the chunk's octets follow at once; read them as data.
      StartBdatDiscard(cmd_.chunk_size, kOnlyQuit);
    } else {
      Respond(kOnlyQuit);
    }
    return;
  }
  if (ok) {
    Dispatch(cmd_);
    return;
  }
  const Verb verb = VerbOfFirstWord(line);
  if (DispatchIgnoringArgument(verb, content, e)) return;
  HandleParseError(verb, e);
}

bool Session::DispatchIgnoringArgument(Verb verb, std::string_view content, const ParseError& e) {
  bool ignore = false;
  switch (verb) {
    case Verb::kVrfy:
    case Verb::kExpn:
      // RFC 5321 §3.5.1: VRFY / EXPN may name a mailbox, though String does
      // not allow "@"; answer them anyway.
      ignore = e.code == Errc::kBadString;
      break;
    case Verb::kNoop:
    case Verb::kHelp:
      // §4.1.1.9: "If a parameter string is specified, servers SHOULD ignore
      // it"; HELP's argument is only a hint (§4.1.1.8). Not a broken line,
      // though (a CR, LF or NUL inside it, or too long): those are refused
      // whatever the verb.
      ignore = e.code != Errc::kLineTooLong &&
               content.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
      break;
    default:
      break;
  }
  if (!ignore) return false;
  Command c;
  c.verb = verb;
  Dispatch(c);
  return true;
}

void Session::HandleParseError(Verb verb, const ParseError& e) {
  const std::string name = " (" + std::string(ErrcName(e.code)) + ")";
  if (e.code == Errc::kLineTooLong) {
    Respond(500, "5.5.6", "Line too long");
    return;
  }
  // Without a verb there is no command to check the sequence of.
  if (verb == Verb::kUnknown || ErrcBlock(e.code) == 1 || e.code == Errc::kEmptyCommand ||
      e.code == Errc::kBadVerb) {
    std::string_view what = "Syntax error, command unrecognized";
    if (e.code == Errc::kBareLf) what = "Bare LF in command line";
    if (e.code == Errc::kBareCr) what = "Bare CR in command line";
    if (e.code == Errc::kNulByte) what = "NUL in command line";
    Respond(500, "5.5.2", std::string(what) + name);
    return;
  }
  // Sequence first: the refusal the verb would get with valid arguments.
  if (std::optional<Refusal> r = RunCheck(verb)) {
    Respond(*r);
    return;
  }
  const bool is_mail = verb == Verb::kMail;
  const bool is_path = is_mail || verb == Verb::kRcpt;
  if (is_path && (e.code == Errc::kUtf8NotAllowed || e.code == Errc::kEightBit)) {
    Respond(553, "5.6.7", "Non-ASCII address requires SMTPUTF8" + name);
  } else if (is_path && ErrcBlock(e.code) == 3) {
    Respond(
        501, is_mail ? "5.1.7" : "5.1.3",
        std::string(is_mail ? "Bad sender address syntax" : "Bad recipient address syntax") + name);
  } else if (e.code == Errc::kParamNotAllowed) {
    Respond(555, "5.5.4", "Parameter not recognized here" + name);
  } else if (verb == Verb::kEhlo || verb == Verb::kHelo || verb == Verb::kLhlo) {
    Respond(501, "5.5.4", "Invalid domain name" + name);
  } else {
    Respond(501, "5.5.4", "Syntax error in parameters or arguments" + name);
  }
}

// --- bodies -------------------------------------------------------------------

namespace {

// The client's address as an RFC 5321 address literal, from "ip:port" or
// "[v6]:port": "[127.0.0.1]", "[IPv6:::1]"; "[unknown]" if it is neither.
std::string ClientLiteral(std::string_view client) {
  const std::size_t colon = client.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return "[unknown]";
  std::string_view ip = client.substr(0, colon);
  if (ip.front() == '[' && ip.back() == ']')
    return "[IPv6:" + std::string(ip.substr(1, ip.size() - 2)) + "]";
  return "[" + std::string(ip) + "]";
}

// RFC 5322 §3.3 date-time in UTC: "Sun, 29 Nov 2026 15:04:05 +0000".
std::string Rfc5322Now() { return harness::UtcNow("%a, %d %b %Y %H:%M:%S +0000"); }

}  // namespace

std::string Session::TraceLine() const {
  // RFC 5321 §4.4: Stamp = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
  return "Received: from " + (helo_.empty() ? std::string("unknown") : helo_) + " (" +
         ClientLiteral(info_.client) + ")\r\n\tby " + config_.hostname + " with " + Protocol() +
         " id " + std::to_string(info_.id) + "." + std::to_string(messages_accepted_ + 1) + "; " +
         Rfc5322Now() + "\r\n";
}

bool Session::OpenBody() {
  auto w = sink_->Open();
  if (!w.ok()) return false;
  writer_ = std::move(*w);
  if (config_.trace_header && !writer_->Append(TraceLine()).ok()) {
    writer_.reset();
    return false;
  }
  body_open_ = true;
  body_size_ = 0;
  overflow_ = false;
  sink_error_ = false;
  hash_body_ = sink_->wants_sha256();
  if (hash_body_) (void)sha_.FinalHex();  // start a fresh digest
  return true;
}

void Session::AppendBody(std::string_view piece) {
  if (!body_open_ || piece.empty()) return;
  body_size_ += piece.size();
  if (config_.max_message_size > 0 && body_size_ > config_.max_message_size) {
    overflow_ = true;
    writer_.reset();  // discards what was stored
  }
  if (overflow_ || sink_error_) return;
  if (hash_body_) sha_.Update(piece);
  if (!writer_->Append(piece).ok()) {
    sink_error_ = true;
    writer_.reset();
  }
}

std::size_t Session::FeedData(std::string_view in) {
  const std::size_t n = data_.Feed(in, [this](std::string_view piece) { AppendBody(piece); });
  if (data_.done()) {
    ++progress_;
    FinishMessage("end of data");
  }
  return n;
}

std::size_t Session::FeedBdat(std::string_view in) {
  const std::string_view piece = bdat_.Feed(in);
  if (!bdat_refusal_) AppendBody(piece);
  if (bdat_.done()) FinishChunk();
  return piece.size();
}

void Session::StartBdatDiscard(std::uint64_t size, const Refusal& r) {
  bdat_refusal_ = r;
  bdat_return_ = state_;
  bdat_.Reset(size);
  SetState(SessionState::kBdat, "BDAT refused");
  if (size == 0) FinishChunk();
}

void Session::FinishChunk() {
  ++progress_;
  if (bdat_refusal_) {
    const Refusal r = *bdat_refusal_;
    bdat_refusal_.reset();
    SetState(bdat_return_, "chunk discarded");
    Respond(r);
    return;
  }
  if (overflow_ || sink_error_) {
    // RFC 3030 §2: after a 5xx / 4xx the client sends no more chunks of
    // this transaction; any that come get 503.
    FinishMessage("chunk refused");
    return;
  }
  if (bdat_last_) {
    FinishMessage("BDAT LAST");
    return;
  }
  SetState(SessionState::kRcpt, "chunk received");
  Respond(250, "2.0.0", std::to_string(bdat_.chunk_size()) + " octets received");
}

void Session::RespondPerRecipient(std::uint16_t code, std::string_view enhanced,
                                  std::string_view text) {
  if (!config_.lmtp) {
    Respond(code, enhanced, text);
    return;
  }
  // RFC 2033 §4.2: one reply per successful RCPT, in order. The mailbox is
  // echoed only when it fits RFC 5321 textstring (no SMTPUTF8 octets).
  for (const std::string& rcpt : txn_.rcpts) {
    const bool printable = std::all_of(rcpt.begin(), rcpt.end(), [](char ch) {
      return static_cast<unsigned char>(ch) >= 32 && static_cast<unsigned char>(ch) < 127;
    });
    Respond(code, enhanced, printable ? "<" + rcpt + "> " + std::string(text) : std::string(text));
  }
}

void Session::FinishMessage(std::string_view why) {
  const bool data = state_ == SessionState::kData;
  SetState(SessionState::kReady, why);
  body_open_ = false;
  if (overflow_) {
    RespondPerRecipient(552, "5.3.4", "Message size exceeds fixed maximum message size");
  } else if (sink_error_ || !writer_) {
    RespondPerRecipient(451, "4.3.0", "Local error in processing");
  } else {
    std::optional<Refusal> fault;
    if (InjectFault(kFaultDataEnd, &fault)) {
      if (fault) RespondPerRecipient(fault->code, fault->enhanced, fault->text);
    } else {
      MessageInfo info;
      Envelope& e = info.envelope;
      e.session_id = info_.id;
      e.client = info_.client;
      e.helo = helo_;
      e.protocol = Protocol();
      e.tls = tls_;
      e.auth_user = auth_user_;
      e.mail_from = txn_.mail_from;
      e.mail_params = txn_.mail_params;
      e.rcpt_to = txn_.rcpts;
      e.rcpt_params = txn_.rcpt_params;
      switch (txn_.body) {
        case BodyType::k7Bit:
          e.body_type = "7BIT";
          break;
        case BodyType::k8BitMime:
          e.body_type = "8BITMIME";
          break;
        case BodyType::kBinaryMime:
          e.body_type = "BINARYMIME";
          break;
        case BodyType::kNone:
          break;
      }
      e.smtputf8 = txn_.smtputf8;
      e.transfer = txn_.bdat_used ? "BDAT" : "DATA";
      info.size = body_size_;
      if (hash_body_) info.sha256 = sha_.FinalHex();
      if (data) {
        const DataEnd& end = data_.end();
        info.data_end =
            std::string(WireEndName(end.before)) + "." + std::string(WireEndName(end.after));
        info.bare_lf = data_.count(DataEventKind::kBareLf);
        info.bare_cr = data_.count(DataEventKind::kBareCr);
        info.long_lines = data_.count(DataEventKind::kLineTooLong);
      }
      absl::StatusOr<std::string> id = writer_->Commit(info);
      if (id.ok()) {
        ++messages_accepted_;
        RespondPerRecipient(250, "2.0.0", "Ok: queued as " + *id);
      } else {
        RespondPerRecipient(451, "4.3.0", "Local error in processing");
      }
    }
  }
  writer_.reset();
  ResetTransaction();
}

void Session::ResetTransaction() {
  txn_ = Transaction{};
  writer_.reset();
  body_open_ = false;
  overflow_ = false;
  sink_error_ = false;
  body_size_ = 0;
  bdat_last_ = false;
  if (Planted()) planted_deep_.OnTransactionReset();
}

bool Session::InjectFault(FaultPoint point, std::optional<Refusal>* refusal) {
  switch (faults_.Roll(point)) {
    case Fault::kNone:
      return false;
    case Fault::kTempFail:
      *refusal = Refusal{451, "4.3.0", "Injected temporary failure", false};
      return true;
    case Fault::kShutdown:
      Close421("4.3.0", "Injected shutdown", "injected 421");
      return true;
    case Fault::kDisconnect:
      writer_.reset();
      body_open_ = false;
      SetState(SessionState::kClosed, "injected disconnect");
      action_ = SessionAction::kAbort;
      return true;
  }
  return false;
}

}  // namespace smtp::server
