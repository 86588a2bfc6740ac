// The verb table of Session: for each verb a fault point, a check (may it
// run in this state? else the refusal) and a proceed (do it). The checks are
// pure; every reply of a verb that passed its check comes from its proceed.
#include <algorithm>
#include <chrono>

#include "harness/sasl.h"
#include "harness/server/relay_policy.h"
#include "harness/server/session.h"
#include "parser/ascii.h"

namespace smtp::server {
namespace {

// The mailbox of a path as written, without brackets and source route;
// "Postmaster" as written for <Postmaster>; "" for the null path.
std::string Mailbox(const Path& p) {
  if (p.is_null) return "";
  std::string m(p.local_part);
  if (!p.domain.empty()) m.append("@").append(p.domain);
  return m;
}

std::string ParamsText(const EsmtpParams& p) {
  std::string s;
  AppendEsmtpParams(p, &s);
  if (!s.empty() && s[0] == ' ') s.erase(0, 1);
  return s;
}

}  // namespace

struct Session::VerbHandler {
  Verb verb;
  std::uint32_t fault;  // FaultPoint, 0: none
  std::optional<Refusal> (Session::*check)() const;
  void (Session::*proceed)(const Command&);
};

const Session::VerbHandler* Session::FindHandler(Verb v) {
  static const VerbHandler kTable[] = {
      {Verb::kEhlo, kFaultHelo, &Session::CheckHello, &Session::DoEhlo},
      {Verb::kHelo, kFaultHelo, &Session::CheckHello, &Session::DoHelo},
      {Verb::kLhlo, kFaultHelo, &Session::CheckLhlo, &Session::DoEhlo},
      {Verb::kMail, kFaultMail, &Session::CheckMail, &Session::DoMail},
      {Verb::kRcpt, kFaultRcpt, &Session::CheckRcpt, &Session::DoRcpt},
      {Verb::kData, kFaultData, &Session::CheckData, &Session::DoData},
      {Verb::kBdat, kFaultData, &Session::CheckBdat, &Session::DoBdat},
      {Verb::kRset, kFaultOther, nullptr, &Session::DoRset},
      {Verb::kNoop, kFaultOther, nullptr, &Session::DoNoop},
      {Verb::kVrfy, kFaultOther, nullptr, &Session::DoVrfy},
      {Verb::kExpn, 0, &Session::CheckNotImplemented, nullptr},
      {Verb::kHelp, kFaultOther, nullptr, &Session::DoHelp},
      {Verb::kQuit, 0, nullptr, &Session::DoQuit},
      {Verb::kStarttls, kFaultOther, &Session::CheckStarttls, &Session::DoStarttls},
      {Verb::kAuth, kFaultOther, &Session::CheckAuth, &Session::DoAuth},
      {Verb::kEtrn, 0, &Session::CheckNotImplemented, nullptr},
  };
  for (const VerbHandler& h : kTable) {
    if (h.verb == v) return &h;
  }
  return nullptr;
}

std::optional<Session::Refusal> Session::RunCheck(Verb v) const {
  const VerbHandler* h = FindHandler(v);
  if (h == nullptr || h->check == nullptr) return std::nullopt;
  return (this->*h->check)();
}

void Session::Dispatch(const Command& c) {
  const VerbHandler* h = FindHandler(c.verb);
  if (h == nullptr) {
    Respond(500, "5.5.2", "Command not recognized");
    return;
  }
  std::optional<Refusal> r = CheckTlsRequired(c.verb);
  if (!r && h->check != nullptr) r = (this->*h->check)();
  if (!r && h->fault != 0 && InjectFault(static_cast<FaultPoint>(h->fault), &r) && !r) {
    return;  // closed by the fault
  }
  if (r) {
    if (c.verb != Verb::kBdat) {
      Respond(*r);
      return;
    }
    // RFC 3030 §2: a refused chunk is still read, so the stream stays in
    // sync. A failed chunk fails its transaction.
    if (!r->counts && InTransaction()) {
      ResetTransaction();
      SetState(SessionState::kReady, "BDAT fault");
    }
    StartBdatDiscard(c.chunk_size, *r);
    return;
  }
  if (h->proceed != nullptr) (this->*h->proceed)(c);
}

// --- checks -------------------------------------------------------------------

std::optional<Session::Refusal> Session::CheckHello() const {
  // RFC 2033 §4.1: an LMTP server speaks LHLO only.
  if (config_.lmtp) return Refusal{500, "5.5.1", "Use LHLO in LMTP mode"};
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckLhlo() const {
  if (!config_.lmtp) return Refusal{500, "5.5.2", "Command not recognized"};
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckTlsRequired(Verb v) const {
  // RFC 3207 §4: a server that requires TLS "SHOULD return the reply code
  // 530 Must issue a STARTTLS command first to every command other than
  // NOOP, EHLO, STARTTLS, or QUIT" (LHLO is LMTP's EHLO). RSET keeps its 250:
  // RFC 5321 §4.1.1.5 "MUST send a 250 OK reply to a RSET command".
  if (!config_.require_tls || tls_) return std::nullopt;
  switch (v) {
    case Verb::kRset:
    case Verb::kNoop:
    case Verb::kEhlo:
    case Verb::kLhlo:
    case Verb::kStarttls:
    case Verb::kQuit:
      return std::nullopt;
    default:
      return Refusal{530, "5.7.0", "Must issue a STARTTLS command first"};
  }
}

std::optional<Session::Refusal> Session::CheckMail() const {
  if (state_ == SessionState::kInit) {
    return Refusal{503, "5.5.1", config_.lmtp ? "Send LHLO first" : "Send EHLO/HELO first"};
  }
  if (InTransaction()) return Refusal{503, "5.5.1", "Nested MAIL command"};
  if (config_.require_auth && !authenticated_) {
    return Refusal{530, "5.7.0", "Authentication required"};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckRcpt() const {
  if (!InTransaction()) return Refusal{503, "5.5.1", "Need MAIL command"};
  // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the
  // rest in another transaction, so this does not count as an error.
  if (config_.max_recipients > 0 && txn_.rcpts.size() >= config_.max_recipients) {
    return Refusal{452, "4.5.3", "Too many recipients", false};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckData() const {
  if (!InTransaction()) return Refusal{503, "5.5.1", "Need MAIL command"};
  if (state_ != SessionState::kRcpt) return Refusal{503, "5.5.1", "Need RCPT command"};
  if (txn_.bdat_used) return Refusal{503, "5.5.1", "DATA not allowed after BDAT"};
  // RFC 3030 §3: BINARYMIME bodies can only be sent with BDAT.
  if (txn_.body == BodyType::kBinaryMime) {
    return Refusal{503, "5.5.1", "BODY=BINARYMIME requires BDAT"};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckBdat() const {
  if (!config_.extensions.chunking) return Refusal{502, "5.5.1", "Command not implemented"};
  if (!InTransaction()) return Refusal{503, "5.5.1", "Need MAIL command"};
  if (state_ != SessionState::kRcpt) return Refusal{503, "5.5.1", "Need RCPT command"};
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckStarttls() const {
  if (tls_) return Refusal{503, "5.5.1", "TLS already active"};
  if (!StarttlsOffered()) return Refusal{502, "5.5.1", "Command not implemented"};
  if (InTransaction()) {
    return Refusal{503, "5.5.1", "STARTTLS not allowed during a mail transaction"};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckAuth() const {
  if (config_.credentials.empty() || config_.auth_advertise == AuthAdvertise::kNever) {
    return Refusal{502, "5.5.1", "Command not implemented"};
  }
  if (!esmtp_) return Refusal{503, "5.5.1", "Send EHLO first"};
  if (authenticated_) return Refusal{503, "5.5.1", "Already authenticated"};
  if (InTransaction()) return Refusal{503, "5.5.1", "AUTH not allowed during a mail transaction"};
  if (!AuthOffered()) {
    // RFC 4954 §6.
    return Refusal{538, "5.7.11", "Encryption required for requested authentication mechanism"};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckNotImplemented() const {
  return Refusal{502, "5.5.1", "Command not implemented"};
}

bool Session::StarttlsOffered() const {
  return config_.extensions.starttls && config_.tls.enabled && !config_.tls.implicit &&
         info_.tls_available && !tls_;
}

bool Session::AuthOffered() const {
  if (config_.credentials.empty()) return false;
  switch (config_.auth_advertise) {
    case AuthAdvertise::kAlways:
      return true;
    case AuthAdvertise::kAfterTls:
      return tls_;
    case AuthAdvertise::kNever:
      return false;
  }
  return false;
}

std::optional<Session::Refusal> Session::CheckRelay(const Path& rcpt) const {
  const RelayConfig& relay = config_.relay;
  if (relay.open_relay || (authenticated_ && relay.relay_when_authenticated)) return std::nullopt;
  const LocalIdentity self{config_.hostname, relay.local_domains, info_.local_address};
  switch (ClassifyRecipient(rcpt, self)) {
    case RcptClass::kLocal:
      return std::nullopt;
    case RcptClass::kForeign:
      // RFC 5321 §7.9: "a 550 code SHOULD be used"; RFC 3463 5.7.1.
      return Refusal{550, "5.7.1", "Relay access denied"};
    case RcptClass::kRoutedLocalPart:
      return Refusal{550, "5.7.1", "Relay access denied: no routing by local part (% ! @)"};
  }
  return std::nullopt;
}

std::optional<Session::Refusal> Session::CheckMailParams(const EsmtpParams& p) const {
  // RFC 5321 §4.1.1.11: 555 for parameters not recognized or not implemented.
  constexpr Refusal kUnsupported{555, "5.5.4", "Parameter not recognized or not implemented"};
  if (p.has_unknown) return kUnsupported;
  const ExtensionConfig& ext = config_.extensions;
  for (const EsmtpParam& param : p) {
    bool ok = true;
    switch (param.kind) {
      case ParamKeyword::kSize:
        ok = ext.size;
        break;
      case ParamKeyword::kBody:
        ok = ext.eightbitmime &&
             (p.body != BodyType::kBinaryMime || (ext.binarymime && ext.chunking));
        break;
      case ParamKeyword::kSmtputf8:
        ok = ext.smtputf8;
        break;
      case ParamKeyword::kRet:
      case ParamKeyword::kEnvid:
      case ParamKeyword::kNotify:
      case ParamKeyword::kOrcpt:
        ok = ext.dsn;
        break;
      case ParamKeyword::kAuth:
        ok = AuthOffered();
        break;
      case ParamKeyword::kUnknown:
        ok = false;
        break;
    }
    if (!ok) return kUnsupported;
  }
  return std::nullopt;
}

// --- proceeds -----------------------------------------------------------------

void Session::DoEhlo(const Command& c) {
  ResetTransaction();
  helo_ = std::string(c.text);
  esmtp_ = true;
  SetState(SessionState::kReady, VerbName(c.verb));
  if (Planted()) planted_deep_.OnHello(c.verb);
  const ExtensionConfig& ext = config_.extensions;
  // The name is echoed only when it is printable ASCII: reply text is
  // %d9 / %d32-126 (RFC 5321 §4.2), and an EHLO argument need not be (a
  // U-label, RFC 6531 §3.3, or any octet in lenient parsing). Found by
  // `smtp-harness fuzz` (bad_reply-EHLO).
  const bool printable =
      std::all_of(helo_.begin(), helo_.end(), [](char ch) { return ch >= 32 && ch <= 126; });
  std::vector<std::string> lines = {printable ? config_.hostname + " greets " + helo_
                                              : config_.hostname};
  if (ext.pipelining) lines.push_back("PIPELINING");
  if (ext.size) lines.push_back("SIZE " + std::to_string(config_.max_message_size));
  if (ext.eightbitmime) lines.push_back("8BITMIME");
  if (ext.enhancedstatuscodes) lines.push_back("ENHANCEDSTATUSCODES");
  if (ext.smtputf8) lines.push_back("SMTPUTF8");
  if (ext.dsn) lines.push_back("DSN");
  if (ext.chunking) lines.push_back("CHUNKING");
  if (ext.chunking && ext.binarymime && ext.eightbitmime) lines.push_back("BINARYMIME");
  if (StarttlsOffered()) lines.push_back("STARTTLS");
  if (AuthOffered()) lines.push_back("AUTH PLAIN LOGIN CRAM-MD5");
  lines.push_back("HELP");
  RespondLines(250, "", lines);  // RFC 2034 §3: no enhanced code here
}

void Session::DoHelo(const Command& c) {
  ResetTransaction();
  helo_ = std::string(c.text);
  esmtp_ = false;
  SetState(SessionState::kReady, "HELO");
  if (Planted()) planted_deep_.OnHello(c.verb);
  Respond(250, "", config_.hostname);
}

void Session::DoMail(const Command& c) {
  if (std::optional<Refusal> r = CheckMailParams(c.params)) {
    Respond(*r);
    return;
  }
  // RFC 1870 §6.
  if (c.params.size && config_.max_message_size > 0 && *c.params.size > config_.max_message_size) {
    Respond(552, "5.3.4", "Message size exceeds fixed maximum message size");
    return;
  }
  txn_ = Transaction{};
  txn_.mail_from = Mailbox(c.path);
  txn_.mail_params = ParamsText(c.params);
  txn_.body = c.params.body;
  txn_.smtputf8 = c.params.smtputf8;
  SetState(SessionState::kMail, "MAIL");
  if (Planted()) planted_deep_.OnMailAccepted(c.params);
  Respond(250, "2.1.0", "Ok");
}

void Session::DoRcpt(const Command& c) {
  if (std::optional<Refusal> r = CheckMailParams(c.params)) {
    Respond(*r);
    return;
  }
  if (std::optional<Refusal> r = CheckRelay(c.path)) {
    Respond(*r);
    return;
  }
  std::string mailbox = Mailbox(c.path);
  for (const std::string& rejected : config_.reject_recipients) {
    if (EqualsIgnoreCase(rejected, mailbox)) {
      Respond(550, "5.1.1", "Recipient rejected");
      return;
    }
  }
  txn_.rcpts.push_back(std::move(mailbox));
  txn_.rcpt_params.push_back(ParamsText(c.params));
  SetState(SessionState::kRcpt, "RCPT");
  if (Planted()) planted_deep_.OnRcptAccepted(c.params);
  Respond(250, "2.1.5", "Ok");
}

void Session::DoData(const Command&) {
  if (input_after_line_ > 0 && EffectiveRejectEarlyData(config_)) {
    // The client sent on before it could have seen a 354 (RFC 5321 §3.3,
    // RFC 2920 §3.1). What follows is message text: never run it as commands.
    ResetTransaction();
    Respond(554, "5.5.0", "Improper use of pipelining: data sent before the 354 reply");
    SetState(SessionState::kClosed, "data before 354");
    action_ = SessionAction::kClose;
    return;
  }
  if (!OpenBody()) {
    Respond(451, "4.3.0", "Local error in processing");
    return;
  }
  data_.Reset();
  SetState(SessionState::kData, "DATA");
  Respond(354, "", "End data with <CR><LF>.<CR><LF>");
}

void Session::DoBdat(const Command& c) {
  if (Planted() && planted_deep_.BdatCrashes(c)) {
    PlantedCrash("planted bug 2: BDAT 0 LAST");  // planted.h
    return;
  }
  if (!txn_.bdat_used) {
    if (!OpenBody()) {
      ResetTransaction();
      SetState(SessionState::kReady, "sink error");
      StartBdatDiscard(c.chunk_size, Refusal{451, "4.3.0", "Local error in processing"});
      return;
    }
    txn_.bdat_used = true;
  }
  bdat_last_ = c.bdat_last;
  bdat_refusal_.reset();
  bdat_.Reset(c.chunk_size);
  SetState(SessionState::kBdat, "BDAT");
  if (c.chunk_size == 0) FinishChunk();  // "BDAT 0 LAST" (RFC 3030 §2)
}

void Session::DoRset(const Command&) {
  ResetTransaction();
  if (state_ != SessionState::kInit) SetState(SessionState::kReady, "RSET");
  Respond(250, "2.0.0", "Ok");
}

void Session::DoNoop(const Command&) { Respond(250, "2.0.0", "Ok"); }

void Session::DoVrfy(const Command&) {
  // RFC 5321 §3.5.3 / §7.3.
  Respond(252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
}

void Session::DoHelp(const Command&) {
  if (Planted() && PlantedHelpCrashes(line_)) {
    PlantedCrash("planted bug 1: HELP %x");  // planted.h
    return;
  }
  RespondLines(214, "2.0.0",
               {"Commands: EHLO HELO LHLO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS "
                "AUTH",
                "See RFC 5321"});
}

void Session::DoQuit(const Command&) {
  Respond(221, "2.0.0", "Bye");
  SetState(SessionState::kClosed, "QUIT");
  action_ = SessionAction::kClose;
}

void Session::DoStarttls(const Command&) {
  Respond(220, "2.0.0", "Ready to start TLS");
  SetState(SessionState::kTls, "STARTTLS");
  action_ = SessionAction::kStartTls;
}

// --- AUTH (RFC 4954) ------------------------------------------------------------

void Session::DoAuth(const Command& c) {
  AuthMech m = AuthMech::kNone;
  if (EqualsIgnoreCase(c.auth_mechanism, "PLAIN")) m = AuthMech::kPlain;
  if (EqualsIgnoreCase(c.auth_mechanism, "LOGIN")) m = AuthMech::kLogin;
  if (EqualsIgnoreCase(c.auth_mechanism, "CRAM-MD5")) m = AuthMech::kCramMd5;
  if (m == AuthMech::kNone) {
    Respond(504, "5.5.4", "Unrecognized authentication type");
    return;
  }
  auth_mech_ = m;
  auth_step_ = 0;
  auth_login_user_.clear();
  if (c.has_initial_response) {
    // RFC 4954 §4: a mechanism without an initial client send gets 501.
    if (m == AuthMech::kCramMd5) {
      auth_mech_ = AuthMech::kNone;
      Respond(501, "5.5.4", "CRAM-MD5 takes no initial response");
      return;
    }
    std::optional<std::string> decoded = c.auth_initial_response == "="
                                             ? std::optional<std::string>(std::string())
                                             : sasl::Base64DecodeStrict(c.auth_initial_response);
    if (!decoded) {
      auth_mech_ = AuthMech::kNone;
      Respond(501, "5.5.2", "Invalid base64 data");
      return;
    }
    SetState(SessionState::kAuth, "AUTH");
    AuthStep(*decoded);
    return;
  }
  SetState(SessionState::kAuth, "AUTH");
  switch (m) {
    case AuthMech::kPlain:
      Continue("");
      break;
    case AuthMech::kLogin:
      Continue(sasl::Base64Encode("Username:"));
      break;
    case AuthMech::kCramMd5: {
      // RFC 2195 §2: msg-id form, unique per challenge.
      const auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
      auth_challenge_ =
          "<" + std::to_string(info_.id) + "." + std::to_string(ns) + "@" + config_.hostname + ">";
      Continue(sasl::Base64Encode(auth_challenge_));
      break;
    }
    case AuthMech::kNone:
      break;
  }
}

void Session::HandleAuthLine(std::string_view line) {
  if (line == "*") {  // RFC 4954 §4: the client cancels
    auth_mech_ = AuthMech::kNone;
    SetState(SessionState::kReady, "AUTH cancelled");
    Respond(501, "5.0.0", "Authentication cancelled");
    return;
  }
  std::optional<std::string> decoded = sasl::Base64DecodeStrict(line);
  if (!decoded) {
    auth_mech_ = AuthMech::kNone;
    SetState(SessionState::kReady, "AUTH aborted");
    Respond(501, "5.5.2", "Invalid base64 data");
    return;
  }
  AuthStep(*decoded);
}

void Session::AuthStep(std::string_view decoded) {
  ++auth_step_;
  switch (auth_mech_) {
    case AuthMech::kPlain: {
      const std::optional<sasl::PlainMessage> m = sasl::ParsePlainMessage(decoded);
      const bool ok = m && (m->authzid.empty() || m->authzid == m->authcid) &&
                      CheckPassword(m->authcid, m->passwd);
      AuthDone(ok, m ? m->authcid : "");
      return;
    }
    case AuthMech::kLogin:
      if (auth_step_ == 1) {
        auth_login_user_ = std::string(decoded);
        Continue(sasl::Base64Encode("Password:"));
        return;
      }
      AuthDone(CheckPassword(auth_login_user_, decoded), auth_login_user_);
      return;
    case AuthMech::kCramMd5: {
      // RFC 2195 §2: user SP digest, digest 32 lower-case hex digits.
      const std::optional<sasl::CramMd5Fields> r = sasl::ParseCramMd5Response(decoded);
      if (!r) {
        AuthDone(false, "");
        return;
      }
      bool ok = false;
      for (const auto& [u, p] : config_.credentials) {
        if (u == r->user && sasl::HmacMd5Hex(p, auth_challenge_) == r->digest) ok = true;
      }
      AuthDone(ok, r->user);
      return;
    }
    case AuthMech::kNone:
      AuthDone(false, "");
      return;
  }
}

bool Session::CheckPassword(std::string_view user, std::string_view password) const {
  for (const auto& [u, p] : config_.credentials) {
    if (u == user && p == password) return true;
  }
  return false;
}

void Session::AuthDone(bool ok, std::string_view user) {
  auth_mech_ = AuthMech::kNone;
  auth_login_user_.clear();
  auth_challenge_.clear();
  SetState(SessionState::kReady, ok ? "AUTH ok" : "AUTH failed");
  if (!ok) {
    Respond(535, "5.7.8", "Authentication credentials invalid");
    return;
  }
  authenticated_ = true;
  auth_user_ = std::string(user);
  Respond(235, "2.7.0", "Authentication successful");
}

}  // namespace smtp::server
