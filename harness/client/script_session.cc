#include "harness/client/script_session.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "harness/sasl.h"
#include "parser/ascii.h"
#include "parser/command.h"
#include "results/absl_compat.h"
#include "results/transcript.h"

namespace smtp::client {
namespace {

constexpr std::size_t kMaxCommandLineKept = 64 * 1024;  // longer: read and refused
constexpr std::size_t kCommandLineLimit = 512;          // §4.5.3.1.4, CRLF included
constexpr std::string_view kCramChallenge = "<4711.1733443200@harness.test>";

bool Positive(int code) { return code >= 200 && code < 300; }

ServerAction Action(ServerAction::Kind kind) {
  ServerAction a;
  a.kind = kind;
  return a;
}

// The commands after which a client must wait for the reply even when
// PIPELINING is advertised (RFC 2920 §3.1; AUTH: RFC 4954 §4; STARTTLS:
// RFC 3207 §4), plus our own turns that are no command.
bool EndsGroup(std::string_view answers) {
  for (std::string_view v : {"greeting", "EHLO", "HELO", "DATA", "VRFY", "EXPN", "NOOP", "QUIT",
                             "STARTTLS", "AUTH", "AUTH-CHALLENGE"}) {
    if (answers == v) return true;
  }
  return false;
}

std::string Clip(std::string_view line) {
  return harness::EscapeBytes(line.substr(0, 120)) + (line.size() > 120 ? "..." : "");
}

}  // namespace

bool SessionRecord::Sent(std::string_view verb) const {
  return std::find(commands.begin(), commands.end(), verb) != commands.end();
}

ScriptedSession::ScriptedSession(const ServerScript& script, SessionSettings settings,
                                 SessionRecord* record)
    : script_(script),
      settings_(std::move(settings)),
      record_(record),
      lines_(LineReaderOptions{.leniencies = kBareLfLineEnd, .max_line = kMaxCommandLineKept}) {
  ++record_->connections;
}

void ScriptedSession::Violate(std::string_view kind, std::string_view clause, std::string detail) {
  std::size_t& n = violation_counts_[std::string(kind)];
  if (n++ >= settings_.max_violations_per_kind) return;
  record_->violations.push_back({std::string(kind), std::string(clause), std::move(detail)});
}

std::string ScriptedSession::Default(int code, std::string_view text) const {
  const int n = script_.reply_lines;
  std::string out;
  for (int i = 0; i < n; ++i) {
    std::string line = absl::StrCat(code, i + 1 < n ? "-" : " ", AV(text));
    if (n > 1) absl::StrAppend(&line, " (line ", i + 1, " of ", n, ")");
    if (line.size() + 2 < script_.reply_line_length) {
      line.append(script_.reply_line_length - 2 - line.size(), 'x');
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

ReplySpec ScriptedSession::Reply(std::string_view key, std::string fallback) {
  const int index = occurrences_[std::string(key)]++;
  if (auto it = script_.replies.find(key);
      it != script_.replies.end() && index < static_cast<int>(it->second.size())) {
    ReplySpec r = it->second[index];
    if (r.use_default) r.bytes = std::move(fallback);
    return r;
  }
  ReplySpec r;
  r.bytes = std::move(fallback);
  return r;
}

void ScriptedSession::Emit(std::vector<ServerAction>* out, const ReplySpec& r,
                           std::string_view answers) {
  if (!r.bytes.empty() || r.delay.count() > 0) {
    ServerAction a;
    a.bytes = r.bytes;
    a.delay = r.delay;
    a.chunk = r.chunk;
    a.chunk_delay = r.chunk_delay;
    a.answers = std::string(answers);
    out->push_back(std::move(a));
  }
  if (r.close) {
    out->push_back(Action(ServerAction::Kind::kClose));
    closed_ = true;
  } else if (r.stall) {
    out->push_back(Action(ServerAction::Kind::kStall));
    stalled_ = true;
  }
}

std::vector<ServerAction> ScriptedSession::Greet() {
  std::vector<ServerAction> out;
  ReplySpec r = script_.greeting.value_or(ReplySpec());
  if (!script_.greeting || r.use_default) {
    r.bytes = Default(220, script_.domain + " ESMTP smtp-harness client test");
  }
  Emit(&out, r, "greeting");
  return out;
}

void ScriptedSession::EarlyBytes(std::string_view answers) {
  if (answers == "AUTH-CHALLENGE" && state_ == State::kAuth) {
    Violate("early-command", "RFC 4954 §4", "an AUTH response before the server's challenge");
  } else if (answers == "greeting") {
    Violate("early-talker", "RFC 5321 §4.3.1", "the client sent before the greeting was complete");
  } else if (EndsGroup(answers) || !Advertised("PIPELINING")) {
    Violate("early-command", EndsGroup(answers) ? "RFC 2920 §3.1" : "RFC 5321 §4.2.1",
            absl::StrCat("bytes sent before the reply to ", AV(answers), " was complete"));
  }
}

bool ScriptedSession::Advertised(std::string_view keyword) const {
  return advertised_.contains(keyword);
}

void ScriptedSession::ResetTransaction() {
  mail_ok_ = false;
  body_8bit_ok_ = false;
  smtputf8_ = false;
  rcpt_total_ = rcpt_ok_ = 0;
}

void ScriptedSession::TlsEstablished() {
  tls_ = true;
  record_->tls_established = true;
  advertised_.clear();
  ehlo_done_ = false;
  ResetTransaction();
  lines_.Reset();
  state_ = State::kCommand;
}

std::vector<ServerAction> ScriptedSession::Feed(std::string_view in) {
  std::vector<ServerAction> out;
  unit_early_ = false;  // the first unit of a read may have waited for its reply
  while (!in.empty() && !closed_ && !stalled_) {
    std::string answered;  // the unit completed in this pass, "" when none
    if (state_ == State::kCommand || state_ == State::kAuth) {
      in.remove_prefix(lines_.Feed(in));
      if (!lines_.has_line()) break;
      const bool too_long = lines_.error().code != Errc::kOk;
      const std::string line(lines_.line());
      if (state_ == State::kAuth) {
        if (lines_.terminator() != LineTerminator::kCrLf) {
          Violate("line-end", "RFC 5321 §2.3.8", "an AUTH response not ended by CRLF");
        }
        AuthStep(line, &out);
        answered = state_ == State::kAuth ? "AUTH-CHALLENGE" : "AUTH";
      } else {
        const std::size_t before = out.size();
        Command(line, lines_.terminator(), too_long, &out);
        answered = record_->commands.back();
        if (answered == "STARTTLS" && out.size() > before &&
            out.back().kind == ServerAction::Kind::kStartTls) {
          if (!in.empty()) {
            Violate("after-starttls", "RFC 3207 §4",
                    absl::StrCat(in.size(),
                                 " bytes sent after STARTTLS before the handshake: ", Clip(in)));
          }
          return out;  // the rest belonged to plaintext: discarded (RFC 3207 §4)
        }
      }
    } else if (state_ == State::kData) {
      const std::size_t n = data_.Feed(in, [this](std::string_view piece) { BodyBytes(piece); });
      in.remove_prefix(n);
      if (!data_.done()) break;
      if (data_.count(DataEventKind::kLineTooLong) > 0) {
        Violate("text-line-length", "RFC 5321 §4.5.3.1.6",
                absl::StrCat(data_.count(DataEventKind::kLineTooLong),
                             " message line(s) over 1000 octets"));
      }
      if (data_.count(DataEventKind::kBareLf) + data_.count(DataEventKind::kBareCr) > 0) {
        Violate("line-end", "RFC 5321 §2.3.8",
                absl::StrCat("bare LF/CR in the message: ", data_.count(DataEventKind::kBareLf),
                             " LF, ", data_.count(DataEventKind::kBareCr), " CR"));
      }
      EndOfMessage(&out);
      answered = "DATA_END";
    } else if (state_ == State::kBdat) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(bdat_left_, in.size()));
      BodyBytes(in.substr(0, n));
      in.remove_prefix(n);
      bdat_left_ -= n;
      if (bdat_left_ > 0) break;
      state_ = State::kCommand;
      if (bdat_last_) {
        EndOfMessage(&out);
      } else {
        Emit(&out, Reply("BDAT", "250 2.0.0 chunk accepted\r\n"), "BDAT");
      }
      answered = "BDAT";
    } else {
      break;
    }
    // Bytes after a unit in the same read were sent before its reply.
    unit_early_ = !in.empty();
    if (!in.empty() && !answered.empty() && !closed_ && !stalled_) {
      if (answered == "QUIT") {
        Violate("after-quit", "RFC 5321 §4.1.1.10", "bytes sent after QUIT");
      } else {
        EarlyBytes(answered);
      }
    }
  }
  return out;
}

void ScriptedSession::Command(std::string_view line, LineTerminator term, bool too_long,
                              std::vector<ServerAction>* out) {
  const Verb verb = VerbOfFirstWord(line);
  std::string name(verb == Verb::kUnknown ? std::string_view("?") : VerbName(verb));
  record_->commands.push_back(name);
  if (term != LineTerminator::kCrLf) {
    Violate("line-end", "RFC 5321 §2.3.8",
            absl::StrCat("a command ended by a bare LF: ", Clip(line)));
  }
  if (too_long || line.size() + 2 > kCommandLineLimit) {
    Violate("command-line-length", "RFC 5321 §4.5.3.1.4",
            absl::StrCat("a command line of ",
                         too_long ? std::string("over 64 KiB") : absl::StrCat(line.size() + 2),
                         " octets"));
    if (too_long) {
      Emit(out, ReplyBytes("500 5.5.6 line too long\r\n"), name);
      return;
    }
  }
  if (quit_) Violate("after-quit", "RFC 5321 §4.1.1.10", "a command after QUIT: " + Clip(line));
  const std::string_view arg = line.find(' ') == std::string_view::npos
                                   ? std::string_view()
                                   : line.substr(line.find(' ') + 1);
  switch (verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
      Ehlo(verb == Verb::kEhlo, out);
      return;
    case Verb::kMail:
      Mail(line, out);
      return;
    case Verb::kRcpt:
      Rcpt(line, out);
      return;
    case Verb::kData:
      Data(out);
      return;
    case Verb::kRset:
      ResetTransaction();
      Emit(out, Reply("RSET", "250 2.0.0 Ok\r\n"), name);
      return;
    case Verb::kNoop:
      Emit(out, Reply("NOOP", Default(250, "2.0.0 Ok")), name);
      return;
    case Verb::kVrfy:
      Emit(out, Reply("VRFY", Default(252, "2.5.0 Cannot VRFY user")), name);
      return;
    case Verb::kHelp:
      Emit(out, ReplyBytes(Default(214, "2.0.0 smtp-harness client test")), name);
      return;
    case Verb::kQuit:
      quit_ = true;
      {
        ReplySpec r = Reply("QUIT", Default(221, "2.0.0 Bye"));
        if (!r.stall) r.close = true;
        Emit(out, r, name);
      }
      return;
    case Verb::kStarttls: {
      // Not a violation without the advertisement: a client required to
      // use TLS may try STARTTLS where it was not advertised (the line an
      // attacker strips); the 502 it gets is the answer. After TLS it is
      // one (RFC 3207 §4: "MUST NOT attempt to start a TLS session if a
      // TLS session is already active").
      if (tls_) Violate("unadvertised", "RFC 3207 §4", "STARTTLS again after TLS");
      ReplySpec r =
          Reply("STARTTLS", tls_                      ? "503 5.5.1 TLS already active\r\n"
                            : !Advertised("STARTTLS") ? "502 5.5.1 STARTTLS not advertised\r\n"
                                                      : "220 2.0.0 Ready to start TLS\r\n");
      if (r.code() != 220 || tls_ || r.close || r.stall) {
        Emit(out, r, name);
        return;
      }
      r.bytes += r.inject;
      Emit(out, r, name);
      if (r.tls_fail) {
        Emit(out, ReplyBytes("this is no TLS handshake\r\n", true), name);
        return;
      }
      out->push_back(Action(ServerAction::Kind::kStartTls));
      return;
    }
    case Verb::kAuth:
      Auth(arg, out);
      return;
    case Verb::kBdat: {
      const Result<smtp::Command> c = ParseCommand(std::string(line) + "\r\n");
      if (!c.ok()) {
        Violate("syntax", "RFC 3030 §2", "BDAT: " + Clip(line));
        Emit(out, ReplyBytes("501 5.5.4 bad BDAT\r\n", true), name);
        return;
      }
      if (!Advertised("CHUNKING")) {
        Violate("unadvertised", "RFC 3030 §2", "BDAT without CHUNKING advertised");
      }
      if (current_.body.empty() && body_seen_ == 0) {
        current_ = ReceivedMessage();
        current_.over_tls = tls_;
        current_.bdat = true;
        body_8bit_ = false;
      }
      bdat_left_ = c.value().chunk_size;
      bdat_last_ = c.value().bdat_last;
      state_ = State::kBdat;
      if (bdat_left_ == 0) {
        state_ = State::kCommand;
        if (bdat_last_) {
          EndOfMessage(out);
        } else {
          Emit(out, Reply("BDAT", "250 2.0.0 chunk accepted\r\n"), name);
        }
      }
      return;
    }
    default:
      Violate("unknown-command", "RFC 5321 §4.1.1",
              absl::StrCat("not a command (a desynchronised client?): ", Clip(line)));
      Emit(out, ReplyBytes("500 5.5.2 command unrecognized\r\n"), name);
      return;
  }
}

void ScriptedSession::Ehlo(bool ehlo, std::vector<ServerAction>* out) {
  ResetTransaction();
  advertised_.clear();
  size_limit_.reset();
  if (!ehlo) {
    const ReplySpec r = Reply("HELO", Default(250, script_.domain));
    ehlo_done_ = Positive(r.code());
    Emit(out, r, "HELO");
    return;
  }
  const std::vector<std::string> extensions =
      tls_ ? script_.extensions_tls.value_or(DefaultExtensions(settings_.mode, true))
           : script_.extensions.value_or(DefaultExtensions(settings_.mode, false));
  std::vector<std::string> lines = {absl::StrCat(script_.domain, " greets the client")};
  for (int i = 1; i < script_.reply_lines; ++i) {
    lines.push_back(absl::StrCat("X-HARNESS-FILLER-", i, " line ", i + 1, " of the reply"));
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].size() + 6 < script_.reply_line_length) {
      lines[i].append(script_.reply_line_length - 6 - lines[i].size(), 'x');
    }
  }
  lines.insert(lines.end(), extensions.begin(), extensions.end());
  std::string fallback;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    absl::StrAppend(&fallback, "250", i + 1 < lines.size() ? "-" : " ", lines[i], "\r\n");
  }
  const ReplySpec r = Reply("EHLO", fallback);
  ehlo_done_ = Positive(r.code());
  if (ehlo_done_) {
    // The keywords of what was sent: the lines after the first.
    bool first = true;
    for (absl::string_view al : absl::StrSplit(r.bytes, "\r\n", absl::SkipEmpty())) {
      const std::string_view l(al.data(), al.size());
      if (first || l.size() < 4) {
        first = false;
        continue;
      }
      std::string_view text = l.substr(4);
      const std::size_t sp = text.find(' ');
      const std::string keyword = absl::AsciiStrToUpper(AV(text.substr(0, sp)));
      advertised_[keyword] = sp == std::string_view::npos ? "" : std::string(text.substr(sp + 1));
    }
    if (auto it = advertised_.find("SIZE"); it != advertised_.end()) {
      std::uint64_t n = 0;
      if (!it->second.empty() && absl::SimpleAtoi(it->second, &n) && n > 0) size_limit_ = n;
    }
  }
  Emit(out, r, "EHLO");
}

void ScriptedSession::Mail(std::string_view line, std::vector<ServerAction>* out) {
  ResetTransaction();
  const std::string text = std::string(line) + "\r\n";
  const Result<smtp::Command> parsed = ParseCommand(text);
  if (!parsed.ok()) {
    Violate("syntax", "RFC 5321 §4.1.2",
            absl::StrCat("MAIL: ", AV(parsed.error().reason), ": ", Clip(line)));
    Emit(out, Reply("MAIL", "501 5.5.4 syntax error in MAIL\r\n"), "MAIL");
    return;
  }
  const EsmtpParams& p = parsed.value().params;
  auto need = [&](std::string_view keyword, std::string_view what, std::string_view clause) {
    if (!Advertised(keyword)) {
      Violate("unadvertised", clause,
              absl::StrCat(AV(what), " without ", AV(keyword), " advertised"));
    }
  };
  if (p.size) {
    need("SIZE", "SIZE=", "RFC 1870 §6");
    if (size_limit_ && *p.size > *size_limit_) {
      Violate("size-exceeded", "RFC 1870 §6",
              absl::StrCat("MAIL SIZE=", *p.size, " over the advertised SIZE ", *size_limit_));
    }
  }
  if (p.body == BodyType::kBinaryMime) need("BINARYMIME", "BODY=BINARYMIME", "RFC 3030 §3");
  if (p.body != BodyType::kNone && p.body != BodyType::kBinaryMime) {
    need("8BITMIME", "BODY=", "RFC 6152 §3");
  }
  if (p.smtputf8) need("SMTPUTF8", "SMTPUTF8", "RFC 6531 §3.4");
  if (!p.auth.empty()) need("AUTH", "AUTH=", "RFC 4954 §5");
  if (p.ret != RetType::kNone || !p.envid.empty()) need("DSN", "RET=/ENVID=", "RFC 3461 §4");
  if (p.has_unknown) {
    Violate("unadvertised", "RFC 5321 §4.1.1.11", "an unknown MAIL parameter: " + Clip(line));
  }
  body_8bit_ok_ = p.body == BodyType::kBinaryMime || p.body == BodyType::k8BitMime || p.smtputf8;
  smtputf8_ = p.smtputf8;
  if (!tls_) record_->plaintext_mail = true;
  const ReplySpec r = Reply("MAIL", Default(250, "2.1.0 Sender ok"));
  mail_ok_ = Positive(r.code());
  Emit(out, r, "MAIL");
}

void ScriptedSession::Rcpt(std::string_view line, std::vector<ServerAction>* out) {
  const Result<smtp::Command> parsed = ParseCommand(std::string(line) + "\r\n");
  if (!parsed.ok()) {
    Violate("syntax", "RFC 5321 §4.1.2",
            absl::StrCat("RCPT: ", AV(parsed.error().reason), ": ", Clip(line)));
  } else {
    const EsmtpParams& p = parsed.value().params;
    if ((p.notify != 0 || !p.orcpt_addr.empty()) && !Advertised("DSN")) {
      Violate("unadvertised", "RFC 3461 §4", "NOTIFY=/ORCPT= without DSN advertised");
    }
    if (p.has_unknown) {
      Violate("unadvertised", "RFC 5321 §4.1.1.11", "an unknown RCPT parameter: " + Clip(line));
    }
  }
  const ReplySpec r =
      Reply("RCPT", parsed.ok() ? Default(250, "2.1.5 Recipient ok")
                                : std::string("501 5.5.4 syntax error in RCPT\r\n"));
  ++rcpt_total_;
  if (Positive(r.code())) ++rcpt_ok_;
  Emit(out, r, "RCPT");
}

void ScriptedSession::Data(std::vector<ServerAction>* out) {
  // A DATA sent with the RCPTs before their replies (RFC 2920) is allowed;
  // one sent after every RCPT reply arrived refused is not (§3.3). When to
  // DATA was sent is only known without PIPELINING: then the client had to
  // wait for every reply (a DATA in the same read as the RCPT is an
  // early-command already). With PIPELINING a DATA read after we answered
  // may still have been sent before our reply arrived (msmtp writes RCPT
  // and DATA separately, without waiting): no verdict.
  if (rcpt_total_ > 0 && rcpt_ok_ == 0 && !unit_early_ && !Advertised("PIPELINING")) {
    Violate("data-after-rejection", "RFC 5321 §3.3",
            absl::StrCat("DATA after all ", rcpt_total_, " recipient(s) were refused"));
  }
  std::string fallback = !mail_ok_       ? "503 5.5.1 need MAIL first\r\n"
                         : rcpt_ok_ == 0 ? "554 5.5.1 no valid recipients\r\n"
                                         : Default(354, "End data with <CR><LF>.<CR><LF>");
  const ReplySpec r = Reply("DATA", std::move(fallback));
  if (r.code() / 100 == 3 && !r.close && !r.stall) {
    state_ = State::kData;
    data_.Reset();
    current_ = ReceivedMessage();
    current_.over_tls = tls_;
    body_seen_ = 0;
    body_8bit_ = false;
  }
  Emit(out, r, "DATA");
}

void ScriptedSession::BodyBytes(std::string_view piece) {
  if (piece.empty()) return;
  const std::size_t room =
      settings_.max_message_bytes - std::min(settings_.max_message_bytes, current_.body.size());
  current_.body.append(piece.substr(0, room));
  body_seen_ += piece.size();
  if (!tls_) record_->message_bytes_plaintext += piece.size();
  if (!body_8bit_ && !body_8bit_ok_ &&
      std::any_of(piece.begin(), piece.end(), [](char c) { return (c & 0x80) != 0; })) {
    body_8bit_ = true;
    Violate("8bit-data", "RFC 6152 §3",
            "octets over 127 in the message without BODY=8BITMIME or SMTPUTF8");
  }
}

void ScriptedSession::EndOfMessage(std::vector<ServerAction>* out) {
  // The header section: up to the first empty line; a message without one
  // is not judged here (its lines may be no header fields at all).
  const std::string_view body = current_.body;
  const std::size_t blank = body.find("\r\n\r\n");
  const std::string_view header =
      blank == std::string_view::npos ? std::string_view() : body.substr(0, blank);
  if (!smtputf8_ &&
      std::any_of(header.begin(), header.end(), [](char c) { return (c & 0x80) != 0; })) {
    Violate("utf8-header", "RFC 6531 §3.2",
            "octets over 127 in the message header without SMTPUTF8 in MAIL");
  }
  if (size_limit_ && body_seen_ > *size_limit_) {
    Violate("size-exceeded", "RFC 1870 §6",
            absl::StrCat("a message of ", body_seen_, " octets over the advertised SIZE ",
                         *size_limit_));
  }
  if (body_seen_ > current_.body.size()) current_.body += "\n[...truncated by the harness]";
  const ReplySpec r = Reply("DATA_END", "250 2.0.0 Ok: queued as HARNESS1\r\n");
  current_.accepted = Positive(r.code());
  record_->messages.push_back(std::move(current_));
  current_ = ReceivedMessage{};
  body_seen_ = 0;
  state_ = State::kCommand;
  ResetTransaction();
  Emit(out, r, "DATA_END");
}

void ScriptedSession::Auth(std::string_view argument, std::vector<ServerAction>* out) {
  const std::size_t sp = argument.find(' ');
  const std::string mech = absl::AsciiStrToUpper(AV(argument.substr(0, sp)));
  const std::string_view initial =
      sp == std::string_view::npos ? std::string_view() : argument.substr(sp + 1);
  record_->auth_mechanisms.push_back(mech);
  if (!Advertised("AUTH")) {
    Violate("unadvertised", "RFC 4954 §4", "AUTH without AUTH advertised");
  } else {
    bool listed = false;
    for (absl::string_view m : absl::StrSplit(advertised_.at("AUTH"), ' ', absl::SkipEmpty())) {
      listed = listed || absl::AsciiStrToUpper(m) == mech;
    }
    if (!listed) {
      Violate("unadvertised", "RFC 4954 §4",
              absl::StrCat("AUTH ", mech, ": a mechanism not advertised (", advertised_.at("AUTH"),
                           ")"));
    }
  }
  if ((mech == "PLAIN" || mech == "LOGIN") && !tls_ && !settings_.allow_plaintext_auth) {
    Violate("plaintext-auth", "RFC 4954 §4",
            absl::StrCat("AUTH ", mech, " sent the password without TLS"));
  }
  auth_mech_ = mech;
  auth_step_ = 0;
  auth_user_.clear();
  if (mech == "PLAIN" || mech == "LOGIN") {
    if (!initial.empty()) {
      AuthStep(initial, out);
      return;
    }
    state_ = State::kAuth;
    Emit(out, ReplyBytes(mech == "PLAIN" ? "334 \r\n" : "334 VXNlcm5hbWU6\r\n"), "AUTH-CHALLENGE");
  } else if (mech == "CRAM-MD5") {
    state_ = State::kAuth;
    Emit(out, ReplyBytes(absl::StrCat("334 ", sasl::Base64Encode(kCramChallenge), "\r\n")),
         "AUTH-CHALLENGE");
  } else {
    Emit(out, ReplyBytes("504 5.5.4 mechanism not supported\r\n"), "AUTH");
  }
}

void ScriptedSession::AuthStep(std::string_view line, std::vector<ServerAction>* out) {
  state_ = State::kCommand;
  if (line == "*") {
    Emit(out, ReplyBytes("501 5.0.0 AUTH cancelled\r\n"), "AUTH");
    return;
  }
  const std::optional<std::string> decoded = sasl::Base64DecodeStrict(line);
  bool ok = false;
  if (decoded && auth_mech_ == "PLAIN") {
    const std::optional<sasl::PlainMessage> m = sasl::ParsePlainMessage(*decoded);
    ok = m && m->authcid == settings_.user && m->passwd == settings_.password;
  } else if (decoded && auth_mech_ == "LOGIN" && auth_step_ == 0) {
    auth_user_ = *decoded;
    auth_step_ = 1;
    state_ = State::kAuth;
    Emit(out, ReplyBytes("334 UGFzc3dvcmQ6\r\n"), "AUTH-CHALLENGE");
    return;
  } else if (decoded && auth_mech_ == "LOGIN") {
    ok = auth_user_ == settings_.user && *decoded == settings_.password;
  } else if (decoded && auth_mech_ == "CRAM-MD5") {
    const std::optional<sasl::CramMd5Fields> f = sasl::ParseCramMd5Response(*decoded);
    ok = f && f->user == settings_.user &&
         f->digest == sasl::HmacMd5Hex(settings_.password, kCramChallenge);
  }
  Emit(out,
       Reply("AUTH", ok ? "235 2.7.0 Authentication successful\r\n"
                        : "535 5.7.8 Authentication credentials invalid\r\n"),
       "AUTH");
}

}  // namespace smtp::client
