// Client profiles: how to make one SMTP client send one message
// (`run --client PROFILE`, docs/clients.md). The format is issue 26's:
//
//   {"name": "swaks",
//    "commands": {"plain": "swaks --server {host}:{port} --from {from} --to {to} --data {message}",
//                 "starttls": "...", "require_tls": "...", "auth": "... {user} {password} ..."},
//    "timeout_ms": 30000, "env": {}}
//
// Two optional keys extend it without changing it: "allow_plaintext_auth"
// (true: the client is meant to send AUTH PLAIN/LOGIN without TLS, so the
// scenarios that forbid it are skipped) and "description".
//
// Placeholders in commands and env values: {host}, {port}, {from}, {to},
// {message} (a file holding the RFC 5322 message, CRLF line ends), {user},
// {password}, and {cafile} (a PEM file with the certificate the harness
// presents on STARTTLS, for clients told to verify it). Other braces are
// left alone, so shell text such as ${HOME} passes through. A value made of
// characters other than [A-Za-z0-9@%+=:,./_-] is single-quoted for
// /bin/sh.
#ifndef SMTP_HARNESS_CLIENT_CLIENT_PROFILE_H_
#define SMTP_HARNESS_CLIENT_CLIENT_PROFILE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::client {

// The keys of "commands": what the client is asked to do.
enum class ClientMode : std::uint8_t {
  kPlain,       // send without TLS
  kStarttls,    // opportunistic STARTTLS: use it when offered
  kRequireTls,  // refuse to send without TLS
  kAuth,        // authenticate with {user} {password}, then send
};
inline constexpr std::size_t kClientModes = 4;
// "plain", "starttls", "require_tls", "auth".
std::string_view ClientModeName(ClientMode mode);
std::optional<ClientMode> ParseClientMode(std::string_view name);

struct ClientProfile {
  std::string name;
  std::string description;
  // Indexed by ClientMode; "" when the profile lacks the mode.
  std::array<std::string, kClientModes> commands;
  std::chrono::milliseconds timeout{30'000};
  std::vector<std::pair<std::string, std::string>> env;  // in file order
  bool allow_plaintext_auth = false;
  // The directory of the profile file: commands run there, so a script
  // beside the profile can be named by a relative path.
  std::string dir;

  const std::string& command(ClientMode mode) const {
    return commands[static_cast<std::size_t>(mode)];
  }
  bool has(ClientMode mode) const { return !command(mode).empty(); }
};

// Parses a profile; errors name the file and the position of the value
// ("p.json:3:23: commands.plain: a non-empty string"). Unknown keys, an
// empty or missing "commands", a command without {port} (unless an env
// value has it), a timeout_ms outside 100..3600000 are errors.
absl::StatusOr<ClientProfile> ParseClientProfile(std::string_view text, std::string_view path);
// Reads and parses a file (at most 1 MiB); sets `dir`.
absl::StatusOr<ClientProfile> LoadClientProfile(const std::string& path);

// The values of the placeholders for one run of the client.
struct Placeholders {
  std::string host = "127.0.0.1";
  std::string port;
  std::string from = "sender@client.test";
  std::string to = "rcpt@server.test";
  std::string message;  // path of the message file
  std::string user = "harness-user";
  std::string password = "harness-pass";
  std::string cafile;  // path of the server certificate (PEM)
};

// `text` with each known {name} replaced by its value, shell-quoted where
// needed (see the file comment) when `for_shell` (commands); as is for
// environment values.
std::string SubstitutePlaceholders(std::string_view text, const Placeholders& values,
                                   bool for_shell = true);

// The value quoted for /bin/sh when it holds anything outside the safe set.
std::string ShellQuoteIfNeeded(std::string_view value);

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_CLIENT_PROFILE_H_
