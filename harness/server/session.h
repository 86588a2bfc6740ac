// The server side of one SMTP / LMTP connection as a sans-I/O state machine:
// bytes in (Feed), reply bytes out (output), and an action for the driver
// (start TLS, close). No sockets, no clocks: server.cc drives it over Asio,
// and tests drive it directly.
//
// Shape (after OpenSMTPD's smtp_session.c): one table of verbs, each with a
// check (may the verb run now? else the refusal) and a proceed (do it), in
// session_verbs.cc; every state change goes through SetState, which keeps a
// bounded log of "OLD -> NEW (why)".
//
// Replies: every 2xx/4xx/5xx reply carries an RFC 3463 enhanced status code
// except those RFC 2034 §3 exempts (the 220 greeting and the 250 replies to
// EHLO / HELO / LHLO); 3xx replies (354, 334) cannot carry one.
//
// Decisions the RFCs leave open:
// - Sequence checks come before syntax: "MAIL FROM:<bad" before EHLO is 503.
// - Syntax errors: 500 5.5.2 when no verb can be read from the line (incl. a
//   bare CR / LF / NUL in strict mode), 500 5.5.6 for an over-long line, 501
//   5.1.7 / 5.1.3 for a bad reverse / forward path, 553 5.6.7 for a non-ASCII
//   address without SMTPUTF8, 555 5.5.4 for an unknown or disabled MAIL /
//   RCPT parameter, 501 5.5.4 for other argument errors. The text ends with
//   the parser's error name, e.g. "(bad_param_syntax)".
// - VRFY answers 252 2.1.5 to any argument, including a mailbox (RFC 5321
//   §3.5.1 allows one although the String ABNF does not). EXPN is not
//   implemented: 502 5.5.1 (RFC 5321 §4.5.1 does not require it; §7.3).
// - NOOP and HELP ignore their argument whatever its syntax (§4.1.1.9: "If a
//   parameter string is specified, servers SHOULD ignore it"; §4.1.1.8 HELP
//   "MAY take an argument"): 250 2.0.0 and 214 2.0.0. Only a line-level
//   error (bare CR / LF, NUL, over-long line) still gets 500.
// - Trailing SP / HTAB before CRLF is tolerated in every profile (§4.1.1:
//   receivers SHOULD tolerate it); kStrictCommandLeniencies.
// - RCPT: relaying is refused with 550 5.7.1 (§7.9), see RelayConfig.
// - Early talker (input before the greeting, seen by the driver): 554 5.5.0
//   instead of 220, then 503 5.5.1 to everything but QUIT (§3.1).
// - Input in the same read as an accepted DATA (sent before the 354):
//   554 5.5.0 and close, see ServerConfig::reject_early_data.
// - MAIL needs a prior EHLO / HELO (§4.1.4 lets servers insist). STARTTLS
//   and AUTH are refused during a mail transaction (503).
// - DATA with no accepted recipient is 503 5.5.1 (§3.3 allows 503 or 554).
// - A refused BDAT whose size could be parsed still has its chunk read and
//   discarded before the refusal is sent (RFC 3030 §2), so the stream stays
//   in sync. After a 552 for a BDAT chunk the transaction is reset.
// - A DATA body over max_message_size is read to its end and then refused
//   with 552 5.3.4; the excess is not stored. Text lines over the 1000
//   octet limit are accepted and counted (MessageInfo::long_lines).
// - An over-long command line is discarded up to its end (500 5.5.6); one
//   still without an end after ServerConfig::max_discarded_line octets gets
//   "421 4.5.6 Line too long" and the session closes.
// - Errors: every 4xx / 5xx reply except 421 counts; once there are more
//   than max_errors, "421 4.7.0 Too many errors" closes the session.
// - Backpressure: Feed stops consuming once kOutputHighWater reply bytes are
//   waiting; the driver writes them before it feeds (or reads) more.
#ifndef SMTP_HARNESS_SERVER_SESSION_H_
#define SMTP_HARNESS_SERVER_SESSION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/server/config.h"
#include "harness/server/planted.h"
#include "harness/server/profile.h"
#include "harness/server/sink.h"
#include "parser/bdat_reader.h"
#include "parser/command.h"
#include "parser/command_stream.h"
#include "parser/data_reader.h"
#include "parser/line_reader.h"
#include "parser/parse_error.h"

namespace smtp::server {

enum class SessionState : std::uint8_t {
  kInit,    // greeted; no EHLO / HELO / LHLO yet (also right after STARTTLS)
  kReady,   // hello done, no transaction
  kMail,    // MAIL accepted
  kRcpt,    // at least one RCPT accepted
  kData,    // reading a DATA body
  kBdat,    // reading (or discarding) a BDAT chunk
  kAuth,    // reading a SASL response line
  kTls,     // STARTTLS accepted; waiting for the handshake
  kClosed,  // no more input is read
};

// "INIT", "READY", "MAIL", "RCPT", "DATA", "BDAT", "AUTH", "TLS", "CLOSED".
std::string_view SessionStateName(SessionState s);

// What the driver must do once it has written output().
enum class SessionAction : std::uint8_t {
  kNone,      // feed more input (read if none is left)
  kStartTls,  // discard every unconsumed input byte (CVE-2011-0411), do the
              // TLS handshake, then call OnTlsStarted() or OnTlsFailed()
  kClose,     // close the connection
  kAbort,     // close the connection; the session chose not to reply
};

struct SessionInfo {
  std::uint64_t id = 0;
  std::string client;          // "ip:port", for the envelope and logs
  bool tls_available = false;  // a certificate is ready: STARTTLS may be offered
  // The numeric address the client connected to ("127.0.0.1", "::1"): its
  // address literal is a local recipient domain. "" if unknown.
  std::string local_address;
};

class Session {
 public:
  // Reply bytes waiting beyond which Feed stops consuming input.
  static constexpr std::size_t kOutputHighWater = 64 * 1024;
  // State changes kept in the log (older ones are dropped).
  static constexpr std::size_t kStateLogSize = 32;

  // `config` and `sink` must outlive the session.
  Session(const ServerConfig& config, MessageSink* sink, SessionInfo info);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Queues the greeting (or, with the faulty profile, a fault).
  void Start();
  // Instead of Start(), for a client that sent input before the greeting
  // (ServerConfig::pregreet_delay; Start() itself with refuse_sessions):
  // queues "554 5.5.0 ... No SMTP service here: <why>"; from then on every
  // command but QUIT gets "503 5.5.1" (RFC 5321 §3.1). The early input is
  // then fed as usual.
  void StartRefused(std::string_view why);

  // Consumes a prefix of `in` and returns its length. Stops early when an
  // action other than kNone is due, the session closed, or the output
  // reached kOutputHighWater; the driver then writes and calls Feed again
  // with the rest (except after kStartTls, when the rest is discarded).
  std::size_t Feed(std::string_view in);

  // Events from the driver. Each queues its reply (if any) and sets the
  // action; a message being received is discarded (never accepted).
  void OnTimeout();     // 421 4.4.2, close
  void OnShutdown();    // 421 4.3.2, close
  void OnPeerClosed();  // no reply
  void OnTlsStarted();  // back to INIT with every piece of state forgotten
  void OnTlsFailed();   // abort

  // Reply bytes to send, and the end offset of each reply in them.
  const std::string& output() const { return out_; }
  std::span<const std::size_t> reply_ends() const { return reply_ends_; }
  void ClearOutput();

  SessionAction action() const { return action_; }
  SessionState state() const { return state_; }
  // In a DATA body or BDAT chunk (the driver's body deadline applies).
  bool in_body() const { return state_ == SessionState::kData || state_ == SessionState::kBdat; }
  // Completed input units (command / SASL lines, bodies, chunks); the driver
  // restarts its command deadline when this changes.
  std::uint64_t progress() const { return progress_; }
  std::uint64_t messages_accepted() const { return messages_accepted_; }
  std::size_t errors() const { return errors_; }
  bool tls_active() const { return tls_; }
  std::uint64_t id() const { return info_.id; }

  // The last kStateLogSize state changes, oldest first: "INIT -> READY (EHLO)".
  std::vector<std::string> StateLog() const;
  // After an abort (action() == kAbort), why, e.g. "planted bug 1: HELP %x",
  // "injected disconnect"; empty otherwise.
  std::string_view abort_reason() const;

 private:
  // A refusal by a check (or an injected temporary failure).
  struct Refusal {
    std::uint16_t code;
    std::string_view enhanced;
    std::string_view text;
    bool counts = true;  // counts towards max_errors
  };
  // RFC 3207 §4: 530 for `v` when TLS is required and not up yet.
  std::optional<Refusal> CheckTlsRequired(Verb v) const;
  struct VerbHandler;  // session_verbs.cc
  static const VerbHandler* FindHandler(Verb v);

  struct Transaction {
    std::string mail_from;
    std::string mail_params;
    std::vector<std::string> rcpts;
    std::vector<std::string> rcpt_params;
    BodyType body = BodyType::kNone;
    bool smtputf8 = false;
    bool bdat_used = false;
  };

  struct LogEntry {
    SessionState from;
    SessionState to;
    std::string_view why;  // static storage only
  };

  enum class AuthMech : std::uint8_t { kNone, kPlain, kLogin, kCramMd5 };

  // --- session.cc: input framing, replies, bodies -------------------------
  void SetState(SessionState to, std::string_view why);
  void Respond(std::uint16_t code, std::string_view enhanced, std::string_view text,
               bool counts = true);
  void RespondLines(std::uint16_t code, std::string_view enhanced,
                    const std::vector<std::string>& lines);
  void Respond(const Refusal& r) { Respond(r.code, r.enhanced, r.text, r.counts); }
  // A 334 continuation (RFC 4954 §4: "334" SP [base64] CRLF).
  void Continue(std::string_view base64);
  void Close421(std::string_view enhanced, std::string_view text, std::string_view why);
  bool CanConsume() const;
  void HandleLine();
  // A command line (`line`: with its terminator; `content`: without) that
  // was parsed into cmd_ with result `e`.
  void HandleCommand(std::string_view line, std::string_view content, const ParseError& e);
  void HandleParseError(Verb verb, const ParseError& e);
  // A refused line whose verb ignores a bad argument (VRFY / EXPN String,
  // NOOP / HELP anything): runs the verb without its argument; else false.
  bool DispatchIgnoringArgument(Verb verb, std::string_view content, const ParseError& e);
  void Dispatch(const Command& c);
  std::size_t FeedData(std::string_view in);
  std::size_t FeedBdat(std::string_view in);
  bool OpenBody();  // false when the sink cannot take a message
  void AppendBody(std::string_view piece);
  void FinishChunk();
  void FinishMessage(std::string_view why);
  // One reply, or (LMTP) one per accepted recipient.
  void RespondPerRecipient(std::uint16_t code, std::string_view enhanced, std::string_view text);
  void StartBdatDiscard(std::uint64_t size, const Refusal& r);
  void ResetTransaction();
  // Rolls the faulty profile's dice at `point`. Closes the session itself
  // for a 421 or a disconnect (then returns true with no refusal); returns a
  // refusal for a temporary failure; false when nothing is injected.
  bool InjectFault(FaultPoint point, std::optional<Refusal>* refusal);
  std::string Protocol() const;
  // Profile::kPlanted (planted.h): whether it is on, and its simulated crash
  // (no reply, kAbort; or std::abort() with planted_crash_aborts_process).
  // `why` must have static storage (the state log keeps it).
  bool Planted() const { return config_.profile == Profile::kPlanted; }
  void PlantedCrash(std::string_view why);  // planted.cc
  // The RFC 5321 §4.4 "Received:" line prepended to stored messages.
  std::string TraceLine() const;

  // --- session_verbs.cc: the checks and proceeds -------------------------
  std::optional<Refusal> CheckHello() const;
  std::optional<Refusal> CheckLhlo() const;
  std::optional<Refusal> CheckMail() const;
  std::optional<Refusal> CheckRcpt() const;
  std::optional<Refusal> CheckData() const;
  std::optional<Refusal> CheckBdat() const;
  std::optional<Refusal> CheckStarttls() const;
  std::optional<Refusal> CheckAuth() const;
  std::optional<Refusal> CheckNotImplemented() const;
  // The check of `v`'s table entry (nullopt if it has none or it passes).
  std::optional<Refusal> RunCheck(Verb v) const;
  void DoEhlo(const Command& c);
  void DoHelo(const Command& c);
  void DoMail(const Command& c);
  void DoRcpt(const Command& c);
  void DoData(const Command& c);
  void DoBdat(const Command& c);
  void DoRset(const Command& c);
  void DoNoop(const Command& c);
  void DoVrfy(const Command& c);
  void DoHelp(const Command& c);
  void DoQuit(const Command& c);
  void DoStarttls(const Command& c);
  void DoAuth(const Command& c);
  void HandleAuthLine(std::string_view line);
  void AuthStep(std::string_view decoded);
  void AuthDone(bool ok, std::string_view user);
  bool CheckPassword(std::string_view user, std::string_view password) const;
  std::optional<Refusal> CheckMailParams(const EsmtpParams& p) const;
  bool StarttlsOffered() const;
  bool AuthOffered() const;
  // The relay refusal for a forward-path, if any (RelayConfig).
  std::optional<Refusal> CheckRelay(const Path& rcpt) const;
  bool InTransaction() const {
    return state_ == SessionState::kMail || state_ == SessionState::kRcpt;
  }

  const ServerConfig& config_;
  MessageSink* sink_;
  SessionInfo info_;
  CommandOptions cmd_opts_;
  FaultInjector faults_;
  PlantedDeepBug planted_deep_;  // used only when Planted()

  SessionState state_ = SessionState::kInit;
  SessionAction action_ = SessionAction::kNone;
  std::string out_;
  std::vector<std::size_t> reply_ends_;

  // Command lines: whole lines in one Feed are framed and parsed in one pass
  // (ParseNextCommand) from the caller's bytes; a line split across Feed
  // calls, and AUTH responses, go through lines_ and line_buf_.
  LineReader lines_;
  std::string line_buf_;  // the current command line, terminator included
  Command cmd_;           // the current command, reused from line to line
  // The current command line with its terminator, while it is handled: in
  // line_buf_ or in the bytes given to Feed.
  std::string_view line_;
  // Octets of the current Feed call after the line being handled: input the
  // client sent before it saw our reply to that line.
  std::size_t input_after_line_ = 0;
  bool refused_ = false;  // early talker: only QUIT is served
  DataReader data_;
  BdatReader bdat_;
  bool bdat_last_ = false;
  std::optional<Refusal> bdat_refusal_;  // chunk being discarded: reply after it
  SessionState bdat_return_ = SessionState::kInit;

  // Session facts (forgotten at STARTTLS).
  std::string helo_;
  bool esmtp_ = false;
  bool tls_ = false;
  bool authenticated_ = false;
  std::string auth_user_;
  AuthMech auth_mech_ = AuthMech::kNone;
  int auth_step_ = 0;            // responses taken so far
  std::string auth_login_user_;  // LOGIN: the user name given
  std::string auth_challenge_;   // CRAM-MD5: the challenge sent

  Transaction txn_;
  std::unique_ptr<BodyWriter> writer_;
  Sha256 sha_;
  bool hash_body_ = false;  // the sink wants the body's SHA-256
  std::uint64_t body_size_ = 0;
  bool body_open_ = false;
  bool overflow_ = false;    // body over max_message_size
  bool sink_error_ = false;  // the writer failed

  std::uint64_t progress_ = 0;
  std::uint64_t messages_accepted_ = 0;
  std::size_t errors_ = 0;

  std::array<LogEntry, kStateLogSize> log_{};
  std::size_t log_count_ = 0;  // entries ever written
};

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SESSION_H_
