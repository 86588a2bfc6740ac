// Client scenarios (scenarios/client/*.json, docs/clients.md): the harness
// is the server, scripted by the scenario; the client under test is started
// with the profile's command for the scenario's mode and judged by what it
// sent and how it ended.
//
// A file:
//   {"role": "client", "id": "client.dot-stuffing.leading-dot", "title": "...",
//    "description": "...", "rfc": {"document": "RFC 5321", "section": "4.5.2", "url": "..."},
//    "level": "MUST", "tags": ["dot-stuffing"], "mode": "plain",
//    "message": "Subject: t\r\n\r\n.hidden\r\n",          // the {message} file; default below
//    "server": {...ServerScript...}, "expect": {...ClientExpect...}, "timeout_ms": 20000}
// "role": "client" is required: it keeps the file apart from the server
// scenarios (whose loader skips scenarios/client/).
#ifndef SMTP_HARNESS_CLIENT_CLIENT_SCENARIO_H_
#define SMTP_HARNESS_CLIENT_CLIENT_SCENARIO_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/client/client_profile.h"

namespace smtp::client {

using std::chrono::milliseconds;

// What the server sends for one turn. JSON: a number (the code with a
// default text), a string (one reply line; "\n" separates lines; CRLF is
// added to each), an array of lines, or an object:
//   {"lines": [...] | "text": "...", "raw": "escaped bytes, nothing added",
//    "code": 250, "count": N, "line_length": N,     // generated: N lines of that length
//    "delay_ms": N, "chunk": N, "chunk_delay_ms": N, // timing: pause, then pieces
//    "close": true,                                  // close after sending
//    "stall": true,                                  // then answer nothing more
//    "inject": "escaped bytes",                      // STARTTLS: sent with the 220
//    "tls": "fail"}                                  // STARTTLS: no handshake
// An object with none of lines, text, raw and code keeps the default
// reply's bytes ({"delay_ms": 500} delays the default; {} is the default).
struct ReplySpec {
  std::string bytes;
  milliseconds delay{0};
  std::size_t chunk = 0;  // 0: one write
  milliseconds chunk_delay{0};
  bool close = false;
  bool stall = false;
  std::string inject;
  bool tls_fail = false;
  // An object without lines, text, raw or code: the default reply's bytes
  // with this object's timing, injection or close ({} is the default).
  bool use_default = false;
  // The reply code of `bytes` (its first three digits), 0 when none.
  int code() const;
};

// A reply of these bytes, sent at once (then closing the connection).
inline ReplySpec ReplyBytes(std::string bytes, bool close = false) {
  ReplySpec r;
  r.bytes = std::move(bytes);
  r.close = close;
  return r;
}

// How the server behaves. Defaults make a plain catch-all ESMTP server;
// the scenario overrides what it tests.
struct ServerScript {
  std::string domain = "harness.test";
  std::optional<ReplySpec> greeting;
  // EHLO keywords with their parameters ("SIZE 1000"), before and after
  // TLS; unset: the mode's defaults (DefaultExtensions).
  std::optional<std::vector<std::string>> extensions;
  std::optional<std::vector<std::string>> extensions_tls;
  // Replies by occurrence on a connection: replies["RCPT"][1] answers the
  // second RCPT; past the end of the list, the default. Keys: EHLO, HELO,
  // MAIL, RCPT, DATA, DATA_END (after the message), BDAT, STARTTLS, AUTH
  // (the final reply), RSET, NOOP, QUIT, VRFY.
  std::map<std::string, std::vector<ReplySpec>, std::less<>> replies;
  // Default replies with this many lines (the texts differ line to line)
  // and, when > 0, every line padded to this many octets (CRLF included).
  int reply_lines = 1;
  std::size_t reply_line_length = 0;
  // Connections served, one after the other (a client that retries, or
  // falls back on a new connection); more are not accepted.
  int max_connections = 4;
};

// EHLO keywords the default server advertises in `mode`, before or after
// TLS: PIPELINING, SIZE 10485760, 8BITMIME, ENHANCEDSTATUSCODES, SMTPUTF8,
// then STARTTLS (not after TLS) in the TLS modes and auth, and AUTH PLAIN
// LOGIN CRAM-MD5 in auth mode.
std::vector<std::string> DefaultExtensions(ClientMode mode, bool tls);

struct ClientExpect {
  enum class Exit : std::uint8_t { kAny, kSuccess, kFailure };
  enum class Message : std::uint8_t { kAny, kEqual, kNone };
  Exit exit = Exit::kSuccess;
  Message message = Message::kEqual;
  std::vector<std::string> must_send;      // verbs, e.g. "HELO"
  std::vector<std::string> must_not_send;  // verbs, e.g. "DATA"
  std::optional<milliseconds> within;      // the client ends within this
  std::vector<std::string> allow;          // violation kinds tolerated
  // Commands the scenario's premise needs the client to have sent (a SIZE
  // limit is only known to a client that sent EHLO); when one is missing
  // the scenario is skipped, naming it.
  std::vector<std::string> applies_if_sent;
};

struct ClientScenario {
  std::string id, title, description;
  std::string file;  // relative to the suite root
  std::string rfc_document, rfc_section, rfc_url;
  std::string level;  // MUST, SHOULD, MAY, policy, security
  std::vector<std::string> tags;
  ClientMode mode = ClientMode::kPlain;
  std::string message;  // bytes of the {message} file
  ServerScript server;
  ClientExpect expect;
  std::optional<milliseconds> timeout;  // caps the profile's timeout_ms
};

// The message sent when a scenario gives none.
std::string_view DefaultMessage();

// Parses one scenario; errors read "FILE:LINE:COL: what".
absl::StatusOr<ClientScenario> ParseClientScenario(std::string_view text, const std::string& path);
// Parses one ReplySpec from JSON text (the fuzzer builds scripts too).
absl::StatusOr<ReplySpec> ParseReplySpec(std::string_view json_text);

// Loads every *.json under each path (a file or a directory, recursively,
// sorted), except schema.json; ids must be unique. Errors list every file
// that failed.
absl::StatusOr<std::vector<ClientScenario>> LoadClientSuite(const std::vector<std::string>& paths);

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_CLIENT_SCENARIO_H_
