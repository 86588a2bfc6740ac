// Configuration of the embedded reference SMTP/LMTP server: limits, timeouts,
// extensions, TLS, AUTH credentials, the sink, and the behaviour profile.
// Plain data; no I/O. Defaults give an RFC 5321 reference server on loopback.
#ifndef SMTP_HARNESS_SERVER_CONFIG_H_
#define SMTP_HARNESS_SERVER_CONFIG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parser/data_reader.h"
#include "parser/leniency.h"
#include "parser/limits.h"

namespace smtp::server {

// Behaviour profiles. Each one names exactly what it changes relative to
// `kStrict`; everything not listed behaves as in `kStrict`. The site policy
// of ServerConfig (relay, AUTH before TLS, early talkers) is the same in
// every profile unless noted there.
enum class Profile : std::uint8_t {
  // RFC reference behaviour (the default).
  // - Commands end only at CRLF; a bare LF, bare CR or NUL in a command line
  //   gets "500 5.5.2" (RFC 5321 §2.3.8). The only command leniency is
  //   kStrictCommandLeniencies: trailing SP / HTAB, which §4.1.1 says
  //   receivers SHOULD tolerate.
  // - DATA ends only at <CRLF>.<CRLF> (DataEndMode::kStrict); bare CR / LF
  //   in the body are content (§4.1.1.4).
  // - Message text sent in the same read as DATA, before the 354, closes the
  //   session with "554 5.5.0" (see ServerConfig::reject_early_data).
  kStrict,
  // Models the many real MTAs that are liberal in what they accept:
  // - LF alone ends a command line, and command parsing accepts
  //   kLenientCommandLeniencies (SP after "FROM:", trailing and doubled
  //   whitespace).
  // - DATA ends at <LF>.<LF>, <LF>.<CRLF> and <CRLF>.<LF> as well
  //   (DataEndMode::kBareLf), like Sendmail < 8.18 and Exim < 4.97.1.
  // - Data pipelined behind DATA before the 354 is taken as message text
  //   (no reject_early_data), so a smuggled second transaction really runs.
  // Security note: this is the receiving half of SMTP smuggling
  // (CVE-2023-51764/5/6); use it to demonstrate and test, never to relay.
  kLenient,
  // Tarpitting: the same protocol as kStrict, but the server waits
  // SlowOptions::reply_delay before the greeting and before each reply
  // (pipelined replies are delayed one by one).
  kSlow,
  // The protocol of kStrict, plus injected failures at the points in
  // FaultOptions::points: a temporary failure (451 4.3.0, or 421 at the
  // greeting), "421 4.3.0" and close, or a silent disconnect. The choice is
  // a pseudo-random function of FaultOptions::seed and the session number
  // (the order of accepted connections), so a run is reproducible.
  kFaulty,
  // A demonstration target for `smtp-harness fuzz`: the protocol of kStrict
  // with two planted, deterministic bugs (harness/server/planted.{h,cc}).
  // Each is a simulated crash: the connection is closed with no reply to the
  // triggering command (SessionAction::kAbort), as when a server process
  // dies; with ServerConfig::planted_crash_aborts_process the process
  // really dies (std::abort). Off by default; never serve mail with it.
  // - Shallow, one command: a HELP command line that begins "HELP %x" (the
  //   verb in any case, one SP, then "%x" exactly; anything may follow),
  //   wherever HELP would get its 214, e.g. right after the greeting:
  //   "HELP %x" CRLF.
  // - Deep, five commands: in one session, and in this order,
  //     EHLO <domain>                        (EHLO: not HELO, not LHLO)
  //     MAIL FROM:<...> BODY=8BITMIME        (accepted)
  //     RCPT TO:<...> NOTIFY=NEVER           (accepted)
  //     RCPT TO:<...>                        (accepted; any parameters)
  //     BDAT 0 LAST
  //   The BDAT gets no reply. Other parameters may be added to MAIL and
  //   RCPT, and other commands may come in between (refused ones, NOOP,
  //   HELP, VRFY, accepted RCPTs without NOTIFY=NEVER, BDAT chunks that are
  //   not the last); EHLO, HELO, RSET, STARTTLS and the end of a message
  //   (DATA, BDAT ... LAST) start the sequence over.
  kPlanted,
};

// "strict", "lenient", "slow", "faulty", "planted".
std::string_view ProfileName(Profile p);
// Inverse of ProfileName (case-sensitive); nullopt for an unknown name.
std::optional<Profile> ParseProfile(std::string_view name);

// The command-parser leniencies of kStrict (and kSlow, kFaulty, kPlanted): RFC 5321
// §4.1.1 "receivers SHOULD tolerate trailing white space before the
// terminating <CRLF>", so "QUIT " CRLF is QUIT. Not a deviation of the
// server: a SHOULD of the RFC itself.
inline constexpr Leniencies kStrictCommandLeniencies = kTrailingWhitespace;
// The command-parser leniencies of kLenient.
inline constexpr Leniencies kLenientCommandLeniencies =
    kBareLfLineEnd | kSpaceAfterColon | kTrailingWhitespace | kExtraWhitespace;

// Where the faulty profile may inject a fault (bit set).
enum FaultPoint : std::uint32_t {
  kFaultGreeting = 1u << 0,  // instead of the 220 greeting
  kFaultHelo = 1u << 1,      // EHLO / HELO / LHLO
  kFaultMail = 1u << 2,      // MAIL
  kFaultRcpt = 1u << 3,      // RCPT
  kFaultData = 1u << 4,      // DATA (instead of 354) and BDAT commands
  kFaultDataEnd = 1u << 5,   // end of message: the message is NOT accepted
  kFaultOther = 1u << 6,     // every other command except QUIT
  kAllFaultPoints = (1u << 7) - 1,
};

struct FaultOptions {
  std::uint64_t seed = 1;
  std::uint32_t points = kAllFaultPoints;
  // Probabilities per fault point reached, checked in this order; the rest
  // (1 - sum) behaves normally.
  double temp_fail_rate = 0.10;   // "451 4.3.0 Injected temporary failure"
  double shutdown_rate = 0.02;    // "421 4.3.0 Injected shutdown", then close
  double disconnect_rate = 0.02;  // close without a reply
};

struct SlowOptions {
  std::chrono::milliseconds reply_delay{1000};
};

// When AUTH is offered in the EHLO reply.
enum class AuthAdvertise : std::uint8_t {
  // Always, also in plaintext: lets clients be tested without TLS. RFC 4954
  // §9: "Server sites SHOULD NOT use any configuration which permits a
  // plaintext password mechanism without such a protection mechanism".
  kAlways,
  // Only once TLS is active (STARTTLS or implicit TLS); before that AUTH
  // gets "538 5.7.11" (RFC 4954 §6). The default.
  kAfterTls,
  // Never; AUTH gets "502 5.5.1".
  kNever,
};

// The extensions offered in the EHLO / LHLO reply. A disabled extension is
// not advertised and its command or parameter is refused (502 / 555).
struct ExtensionConfig {
  bool pipelining = true;           // RFC 2920
  bool size = true;                 // RFC 1870
  bool eightbitmime = true;         // RFC 6152
  bool enhancedstatuscodes = true;  // RFC 2034 (codes are always sent)
  bool smtputf8 = true;             // RFC 6531
  bool dsn = true;                  // RFC 3461
  bool chunking = true;             // RFC 3030 BDAT
  bool binarymime = true;           // RFC 3030 (needs chunking)
  bool starttls = true;             // RFC 3207 (needs TlsConfig::enabled)
};

struct TlsConfig {
  bool enabled = true;    // offer STARTTLS
  bool implicit = false;  // TLS from the first byte (SMTPS, RFC 8314); no STARTTLS
  // PEM certificate chain and key; both empty: a self-signed P-256
  // certificate for `hostname` is generated at Bind().
  std::string cert_pem;
  std::string key_pem;
};

struct SinkConfig {
  enum class Kind : std::uint8_t {
    kDiscard,  // count, keep nothing
    kMaildir,  // `path` is the maildir (tmp/ new/ cur/ created)
    kJsonl,    // `path` is a file: one JSON object per accepted message
    kMemory,   // keep the last messages in memory (tests, in-process runs)
  };
  Kind kind = Kind::kDiscard;
  std::string path;
  // kJsonl: include the body as base64 ("body_b64") up to this many octets
  // (0: never). kMemory: keep at most this many body octets per message.
  std::size_t body_limit = 0;
  // kMemory: messages kept (oldest dropped first).
  std::size_t max_messages = 1000;
};

// Which recipients the server takes from whom: no open relay (RFC 5321
// §7.9: "implementations SHOULD provide the capability to perform this type
// of filtering"; "a 550 code SHOULD be used"). A recipient is local when its
// domain is `ServerConfig::hostname` or one of `local_domains`, or it is an
// address literal of the address the client connected to, or <Postmaster>
// (§4.5.1). Everything else gets "550 5.7.1 Relay access denied", and so do
// local recipients whose local part routes on (the %-hack "u%foreign@local",
// the bang path "foreign!u@local", the quoted '"u@foreign"@local'). A
// source route is ignored (§4.1.1.3): the mailbox's domain decides.
struct RelayConfig {
  // Compared ASCII case-insensitively, one trailing dot ignored. Literals are
  // written as on the wire and compared as addresses: "[127.0.0.1]",
  // "[IPv6:::1]". Default: names the shipped profiles and scenarios use for
  // the server under test (example.net is deliberately absent: the relay
  // scenarios use it as the foreign domain).
  std::vector<std::string> local_domains = {"localhost", "example.com", "example.org",
                                            "example.test", "mx.test"};
  // Accept every recipient (the old behaviour). Never on a reachable host.
  bool open_relay = false;
  // An authenticated client (AUTH) may relay anywhere, as on a submission
  // server (RFC 6409 §4.3).
  bool relay_when_authenticated = true;
};

// One line of a session's debugging log (state changes, connect, close).
using LogHook = std::function<void(std::uint64_t session_id, std::string_view line)>;

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port (see Server::Bind)
  std::string hostname = "localhost";
  bool lmtp = false;  // RFC 2033: LHLO, one reply per recipient after DATA

  Profile profile = Profile::kStrict;
  SlowOptions slow;
  FaultOptions faults;
  // Profile::kPlanted: a triggered planted bug calls std::abort() instead of
  // closing the connection, so that a spawned server dies by a signal (for
  // the fuzzer's exit-by-signal oracle). Never in an in-process server.
  bool planted_crash_aborts_process = false;
  // Override of the profile's command leniencies / DATA end mode (nullopt:
  // the profile's own).
  std::optional<Leniencies> command_leniencies;
  std::optional<DataEndMode> data_end_mode;

  ExtensionConfig extensions;
  TlsConfig tls;

  // AUTH PLAIN / LOGIN / CRAM-MD5 test credentials (user, password). AUTH is
  // offered only when this is non-empty.
  std::vector<std::pair<std::string, std::string>> credentials;
  AuthAdvertise auth_advertise = AuthAdvertise::kAfterTls;
  bool require_tls = false;   // MAIL before STARTTLS: "530 5.7.0"
  bool require_auth = false;  // MAIL before AUTH: "530 5.7.0"
  // Recipients refused with "550 5.1.1" (compared case-insensitively with
  // the mailbox as written, without angle brackets).
  std::vector<std::string> reject_recipients;
  RelayConfig relay;

  // Early talkers. RFC 5321 §4.3.1: "The sender SHOULD wait for this
  // greeting message before sending any commands." The server listens this
  // long before it greets; a client that sends anything meanwhile gets
  // "554 5.5.0" instead of the 220 and, as §3.1 asks after a 554 greeting,
  // "503 5.5.1" to every command but QUIT (like Postfix postscreen's pregreet
  // test, Exim's smtp_enforce_sync, Sendmail's greet_pause). 0 (the
  // default): greet at once, so that load tests and suites pay no pause per
  // connection; `serve --pregreet_delay_ms 300` turns the check on. With
  // implicit TLS the wait starts after the handshake.
  std::chrono::milliseconds pregreet_delay{0};
  // Message text pipelined behind DATA: RFC 5321 §3.3 "message data MUST NOT
  // be sent unless a 354 reply is received"; RFC 2920 §3.1 DATA is the last
  // command of a group. When input follows DATA in the same read, i.e. before
  // the 354 was sent, DATA gets "554 5.5.0" and the session is closed, since
  // that input is mail text that must not run as commands (Postfix's
  // reject_unauth_pipelining, its SMTP smuggling workaround). nullopt: on in
  // every profile but kLenient.
  std::optional<bool> reject_early_data;

  // Limits. 0 means "no limit" where noted.
  std::uint64_t max_message_size = 10 * 1024 * 1024;  // SIZE; 0: no limit
  // RFC 5321 §4.4: prepend a "Received:" trace line to every stored message
  // ("from <helo> (<client literal>) by <hostname> with <protocol> id <id>;
  // <date>"). MessageInfo::size and sha256 still describe the body as the
  // client sent it. Tests that compare stored bodies turn it off.
  bool trace_header = true;
  // RFC 5321 §3.1: greet with 554 and answer 503 to everything but QUIT (a
  // host that takes no mail from anyone).
  bool refuse_sessions = false;
  std::size_t max_recipients = kMinRecipients;  // then 452 4.5.3
  std::size_t max_errors = 20;                  // error replies before 421 (0: no limit)
  // Concurrent connections in all, then "421 4.7.0 Too many connections".
  std::size_t max_connections = 1000;
  // Concurrent connections from one client address (0: no limit), then the
  // same 421, so that one client cannot hold every slot for idle_timeout.
  // Postfix's smtpd_client_connection_count_limit is also 50. Programs that
  // open many connections from one address on purpose (load tests, `run
  // --jobs` against an in-process server) raise it or set 0.
  std::size_t max_connections_per_ip = 50;
  Limits limits;  // command line length, path sizes... (parser limits)
  // An over-long command line is read to its end and discarded, then gets
  // "500 5.5.6 Line too long" and the session goes on. Once more than this
  // many octets of one line have been read without its end, the server
  // stops reading: "421 4.5.6 Line too long" and close. Meaningful only
  // above the line limit (the larger of limits.command_line and
  // kMaxAuthLine).
  std::size_t max_discarded_line = 1024 * 1024;

  // Every command line must arrive within idle_timeout of the moment the
  // server starts waiting for it: a total deadline for the line, which
  // neither trickling bytes nor a client streaming without pause extend.
  // Every write and TLS handshake must finish within it. A DATA body or BDAT
  // chunk may take data_timeout in total (however fast it streams), with
  // idle_timeout between reads. Past a deadline: "421 4.4.2" and close.
  std::chrono::milliseconds idle_timeout{300'000};  // RFC 5321 §4.5.3.2.7
  std::chrono::milliseconds data_timeout{600'000};
  // Graceful stop: sessions get this long to finish before they are cut.
  std::chrono::milliseconds shutdown_grace{5'000};

  SinkConfig sink;
  LogHook log_hook;  // optional; called on the server's thread
};

// The effective command leniencies, DATA end mode and early-data rule of a
// configuration (the override if set, else the profile's).
Leniencies EffectiveCommandLeniencies(const ServerConfig& c);
DataEndMode EffectiveDataEndMode(const ServerConfig& c);
bool EffectiveRejectEarlyData(const ServerConfig& c);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_CONFIG_H_
