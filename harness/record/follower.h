// SessionFollower: follows an SMTP conversation from the side, as the
// recording proxy relays it or as a packet capture holds it (pcap import),
// to learn what the observer must act on: where the session switches to TLS
// (STARTTLS answered 2xx, or a client that starts with a TLS handshake),
// which client lines carry AUTH secrets (to redact them), and how many
// commands the client sent.
//
// Sans-I/O: the observer feeds each chunk in the order it relayed or
// captured them (FeedClient / FeedServer). That order is causal: a client
// that waits for a reply (354 before a DATA body, 334 before an AUTH
// response, 220 before the TLS handshake) sends only after that reply.
//
// Replies are matched to commands in order (the greeting first). When that
// alignment is unknown (a capture that started mid-session, or bytes lost:
// Options::midstream, Gap()), the follower is "unaligned": a 334 is taken as
// an AUTH challenge and a 354 as the start of a DATA body whatever they
// answer, and the first complete reply after a STARTTLS as its answer.
//
// Lenient on purpose (it observes, it does not judge): a bare LF ends a line
// on both sides; a DATA body ends at <CRLF>.<CRLF> (RFC 5321 §4.1.1.4, the
// strict end: a server with a more lenient end still replies, and the reply
// is matched all the same); BDAT chunks (RFC 3030) are skipped by their
// size; replies are matched to commands in order (RFC 2920 pipelining).
// Lines longer than Options::max_line are skipped (counted, not parsed),
// except that an AUTH response too long to capture is flagged
// (secret_lost()): the proxy must then not store the client's side.
#ifndef SMTP_HARNESS_RECORD_FOLLOWER_H_
#define SMTP_HARNESS_RECORD_FOLLOWER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "parser/line_reader.h"

namespace smtp::record {

struct FollowerOptions {
  std::size_t max_line = 16 * 1024;            // a line beyond it is skipped
  std::size_t max_secret_bytes = 1024 * 1024;  // all secrets together
  std::size_t max_pending = 4096;              // commands awaiting a reply
  // The start of the session was not seen: no greeting is expected, and
  // replies are not matched to commands by count (unaligned, see above).
  bool midstream = false;
  // A client whose first bytes, before any server byte, start a TLS record
  // (0x16, handshake: a ClientHello) is taken as implicit TLS (RFC 8314
  // §3.3, port 465) and followed no further. Off for the recording proxy: it
  // stores every byte it relays, so it must keep following them (a stray
  // 0x16 and then an AUTH would otherwise hide a secret); on for pcap
  // import, which stores nothing after the switch.
  bool detect_implicit_tls = false;
};

class SessionFollower {
 public:
  using Options = FollowerOptions;

  explicit SessionFollower(Options options = {});

  // A chunk the client sent. Returns `npos` while the session is SMTP in
  // the clear, or 0 once it is in TLS (accepted before, or this chunk starts
  // a TLS handshake with detect_implicit_tls).
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t FeedClient(std::string_view bytes);

  // A chunk the server sent. Returns the length of the prefix of `bytes`
  // that ends with the 2xx reply accepting a STARTTLS (RFC 3207 §4: TLS
  // starts right after it; 0 when already in TLS), or `npos` when this chunk
  // holds no such reply. After an acceptance the follower stops; the caller
  // either stops feeding (TLS not seen) or calls RestartAfterTls (TLS
  // intercepted).
  std::size_t FeedServer(std::string_view bytes);

  // Bytes of one side were lost (a capture gap): the lines in progress are
  // dropped, and from here on the follower is unaligned (see above). A
  // STARTTLS awaiting its reply gets the next complete reply.
  void Gap();

  // True once the session switched to TLS (until RestartAfterTls), and why:
  // "STARTTLS accepted (220): ..." or "implicit TLS: ...".
  bool in_tls() const { return tls_accepted_; }
  const std::string& why() const { return why_; }

  // True from a STARTTLS command until its reply.
  bool starttls_outstanding() const;

  // The session after a TLS handshake (RFC 3207 §4.2: no greeting, the
  // client starts over with EHLO): client and server state reset, counts
  // and secrets kept.
  void RestartAfterTls();

  // The base64 AUTH payloads the client sent, as on the wire (initial
  // responses and continuation lines; not "=" or the cancel "*"), and the
  // password decoded from them where the mechanism says where it is (PLAIN's
  // passwd, LOGIN's second message, XOAUTH2's token), so that a server that
  // echoes the decoded form leaks it no more than the encoded one.
  //
  // The SASL exchange is followed by its state, not by the replies alone: a
  // client that sends its responses before the 334 challenges they answer
  // (`AUTH PLAIN\r\n<response>\r\n` in one write, as some clients
  // pipeline it) has them taken as responses, up to as many as its
  // mechanism can send unprompted (PLAIN and XOAUTH2: one without an initial
  // response; LOGIN: two, or one after an initial response; any other
  // mechanism: one without an initial response). The lines after those are
  // commands again. A 334 answered in advance is not answered twice; when
  // the server ends the exchange with responses still unanswered, those were
  // read as commands by the server and get its replies (they stay secret).
  const std::vector<std::string>& secrets() const { return secrets_; }
  // True when an AUTH payload could not be captured (over-long, or past
  // max_secret_bytes): the client's stream may hold a secret not in secrets().
  bool secret_lost() const { return secret_lost_; }

  std::size_t commands() const { return commands_; }  // command lines
  std::size_t replies() const { return replies_; }    // complete replies, greeting included

 private:
  enum class Pending : std::uint8_t { kOther, kAuth, kData, kDataEnd, kStartTls };
  enum class ClientMode : std::uint8_t { kCommands, kBody, kChunk };

  void OnClientLine(std::string_view line, bool too_long);
  void OnReply(int code);
  void OnReplyUnaligned(int code);
  void AcceptTls(int code);
  void AddSecret(std::string_view token);
  // A client line that answers (or pre-empts) a 334: a SASL response.
  void OnSaslResponse(std::string_view line, bool too_long);
  // The AUTH exchange ended (its final reply, or the session restarted).
  void EndSasl();

  Options options_;
  LineReader client_lines_;
  LineReader server_lines_;
  ClientMode mode_ = ClientMode::kCommands;
  int body_match_ = 2;            // kBody: bytes of "\r\n.\r\n" matched (2: just after a CRLF)
  std::uint64_t chunk_left_ = 0;  // kChunk: BDAT bytes still to skip
  bool aligned_ = true;           // replies answer the pending commands in order
  bool seen_client_ = false;
  bool seen_server_ = false;
  bool greeted_ = false;
  bool auth_response_due_ = false;  // a 334 came: the next client line is an AUTH response
  // The AUTH exchange in progress (from the AUTH line to its final reply).
  bool sasl_active_ = false;
  int sasl_unprompted_ = 0;    // responses the client may still send before their 334
  int sasl_ahead_ = 0;         // responses sent before their 334, not yet matched to one
  int sasl_responses_ = 0;     // responses of this exchange so far (the initial one counts)
  int sasl_password_at_ = -1;  // which response holds the password, -1: none known
  enum class SaslMech : std::uint8_t { kOther, kPlain, kLogin, kXoauth2 };
  SaslMech sasl_mech_ = SaslMech::kOther;
  bool tls_accepted_ = false;
  std::string why_;
  std::deque<Pending> pending_;
  std::vector<std::string> secrets_;
  std::size_t secret_bytes_ = 0;
  bool secret_lost_ = false;
  std::size_t commands_ = 0;
  std::size_t replies_ = 0;
};

}  // namespace smtp::record

#endif  // SMTP_HARNESS_RECORD_FOLLOWER_H_
