// ScriptedSession: the server end of one connection with a client under
// test, sans I/O. Bytes from the client go in (Feed); what the server does
// comes out as actions (send these bytes after this pause, in these pieces;
// upgrade to TLS; close; stall). The defaults make a plain catch-all ESMTP
// server; the ServerScript overrides replies by command and occurrence.
//
// While it answers, it judges the client: each deviation is a Violation
// with a stable kind and the clause it breaks (see kViolationKinds), and
// what the client sent is kept in a SessionRecord shared by the connections
// of one scenario: the commands, each message as received after
// un-stuffing, AUTH and TLS use. The fuzzer (`fuzz --client`) drives the
// same class with mutated scripts.
#ifndef SMTP_HARNESS_CLIENT_SCRIPT_SESSION_H_
#define SMTP_HARNESS_CLIENT_SCRIPT_SESSION_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "harness/client/client_scenario.h"
#include "parser/data_reader.h"
#include "parser/line_reader.h"

namespace smtp::client {

// One thing the server does, in order.
struct ServerAction {
  enum class Kind : std::uint8_t {
    kSend,      // bytes, after `delay`, in pieces of `chunk` with `chunk_delay`
    kStartTls,  // the server end of a TLS handshake
    kClose,     // close the connection
    kStall,     // answer nothing more; keep reading until the client goes
  };
  Kind kind = Kind::kSend;
  std::string bytes;
  std::chrono::milliseconds delay{0};
  std::size_t chunk = 0;
  std::chrono::milliseconds chunk_delay{0};
  // The command this answers ("greeting", "EHLO", "DATA_END", ...): bytes
  // the client sends before it is fully sent are judged by EarlyBytes.
  std::string answers;
};

// A deviation of the client. Kinds (stable, append only):
//   line-end             a line not ended by CRLF (RFC 5321 §2.3.8)
//   command-line-length  a command line over 512 octets (§4.5.3.1.4)
//   text-line-length     a message line over 1000 octets (§4.5.3.1.6)
//   early-talker         bytes before the greeting was complete (§4.3.1, §4.2)
//   early-command        a command before the reply it had to wait for:
//                        without PIPELINING, or after EHLO/HELO/DATA/
//                        STARTTLS/AUTH/NOOP/VRFY/QUIT (RFC 2920 §3.1),
//                        or within a multiline reply (§4.2.1)
//   unknown-command      a line that is no command (a desynchronised client)
//   syntax               a MAIL/RCPT the strict parser refuses (§4.1.2)
//   unadvertised         an extension, parameter or AUTH mechanism not
//                        advertised in this session (§2.2.1, RFC 1870, 6152,
//                        6531, 3030, 4954)
//   size-exceeded        SIZE= or the message over the advertised SIZE
//                        (RFC 1870 §6)
//   8bit-data            octets over 127 without BODY=8BITMIME or
//                        SMTPUTF8 (RFC 6152 §3, RFC 5321 §2.4)
//   data-after-rejection DATA after every RCPT was refused (§3.3); judged
//                        without PIPELINING only (see Data())
//   after-starttls       bytes after STARTTLS before the handshake
//                        (RFC 3207 §4)
//   plaintext-auth       AUTH PLAIN or LOGIN without TLS (RFC 4954 §4,
//                        RFC 4616 §6) unless the profile allows it
//   after-quit           a command after QUIT (§4.1.1.10)
//   utf8-header          octets over 127 in the message's header without
//                        SMTPUTF8 in MAIL (RFC 6531 §3.2, RFC 6532 §3)
struct Violation {
  std::string kind;
  std::string clause;  // "RFC 5321 §2.3.8"
  std::string detail;  // one line, escaped
};

// A message as received (after un-stuffing / BDAT chunks joined).
struct ReceivedMessage {
  std::string body;
  bool accepted = false;  // our reply to its end was 2xx
  bool over_tls = false;
  bool bdat = false;
};

// What the client did over all connections of a scenario.
struct SessionRecord {
  std::vector<std::string> commands;  // verbs in order, "?" for no command
  std::vector<ReceivedMessage> messages;
  std::vector<Violation> violations;
  std::vector<std::string> auth_mechanisms;  // as used
  bool tls_established = false;
  bool plaintext_mail = false;  // a MAIL was sent without TLS
  int connections = 0;
  int tls_failures = 0;  // handshakes that failed (the client refused our certificate, ...)
  std::size_t message_bytes_plaintext = 0;  // body bytes received without TLS

  bool Sent(std::string_view verb) const;
};

struct SessionSettings {
  ClientMode mode = ClientMode::kPlain;
  std::string user = "harness-user";
  std::string password = "harness-pass";
  bool allow_plaintext_auth = false;
  // Bounds: the bytes of one message kept (beyond, counted and compared
  // as different), and the violations kept per kind.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
  std::size_t max_violations_per_kind = 5;
};

class ScriptedSession {
 public:
  ScriptedSession(const ServerScript& script, SessionSettings settings, SessionRecord* record);

  // The greeting (or what the script does instead).
  std::vector<ServerAction> Greet();
  // Consumes all of `in`; returns what to do, in order. After a kClose or
  // kStall the rest is recorded only.
  std::vector<ServerAction> Feed(std::string_view in);
  // The TLS handshake that a kStartTls asked for succeeded.
  void TlsEstablished();
  // Bytes arrived while the reply to `answers` was not fully sent yet.
  void EarlyBytes(std::string_view answers);

  bool tls() const { return tls_; }
  bool closed() const { return closed_; }
  bool stalled() const { return stalled_; }

 private:
  enum class State : std::uint8_t { kCommand, kData, kBdat, kAuth, kDone };

  void Violate(std::string_view kind, std::string_view clause, std::string detail);
  // The reply for `key`'s next occurrence: the script's, or `fallback`.
  ReplySpec Reply(std::string_view key, std::string fallback);
  // A default reply: `code` with `text`, in reply_lines lines of
  // reply_line_length octets.
  std::string Default(int code, std::string_view text) const;
  void Emit(std::vector<ServerAction>* out, const ReplySpec& r, std::string_view answers);
  void Command(std::string_view line, LineTerminator term, bool too_long,
               std::vector<ServerAction>* out);
  void Ehlo(bool ehlo, std::vector<ServerAction>* out);
  void Mail(std::string_view line, std::vector<ServerAction>* out);
  void Rcpt(std::string_view line, std::vector<ServerAction>* out);
  void Data(std::vector<ServerAction>* out);
  void Auth(std::string_view argument, std::vector<ServerAction>* out);
  void AuthStep(std::string_view line, std::vector<ServerAction>* out);
  void EndOfMessage(std::vector<ServerAction>* out);
  void BodyBytes(std::string_view piece);
  bool Advertised(std::string_view keyword) const;
  void ResetTransaction();

  const ServerScript& script_;
  SessionSettings settings_;
  SessionRecord* record_;
  State state_ = State::kCommand;
  LineReader lines_;
  DataReader data_;
  std::map<std::string, int, std::less<>> occurrences_;
  // EHLO keywords (upper case) -> parameter text, of the last EHLO reply;
  // empty after HELO or before any.
  std::map<std::string, std::string, std::less<>> advertised_;
  bool ehlo_done_ = false;
  bool tls_ = false;
  bool closed_ = false;
  bool stalled_ = false;
  bool quit_ = false;
  // The unit being read arrived before the reply to the previous one was
  // sent (it came in the same read).
  bool unit_early_ = false;
  // Transaction.
  bool mail_ok_ = false;
  bool body_8bit_ok_ = false;
  bool smtputf8_ = false;  // MAIL ... SMTPUTF8
  int rcpt_total_ = 0, rcpt_ok_ = 0;
  std::optional<std::uint64_t> size_limit_;
  ReceivedMessage current_;
  std::size_t body_seen_ = 0;
  bool body_8bit_ = false;
  std::uint64_t bdat_left_ = 0;
  bool bdat_last_ = false;
  // AUTH in progress: mechanism and step.
  std::string auth_mech_;
  int auth_step_ = 0;
  std::string auth_user_;
  std::string cram_challenge_;
  std::map<std::string, std::size_t, std::less<>> violation_counts_;
};

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_SCRIPT_SESSION_H_
