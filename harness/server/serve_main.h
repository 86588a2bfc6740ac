// The body of `smtp-harness serve`: a ServerConfig built from the command
// line, then a running server until SIGINT / SIGTERM. app/serve_cmd.cc
// declares the flags (their defaults are ServerConfig's), puts each value in
// its ServerConfig field — directly, or through the Parse*Flag function
// named after the flag when it needs parsing — checks the result with
// CheckServeConfig and calls RunServeMain. Nothing here parses argv.
//
// Every error names its flag: InvalidArgument "--FLAG: why".
#ifndef SMTP_HARNESS_SERVER_SERVE_MAIN_H_
#define SMTP_HARNESS_SERVER_SERVE_MAIN_H_

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "harness/server/config.h"

namespace smtp::server {

// --listen: HOST:PORT, [V6]:PORT, :PORT or PORT (the host stays
// listen_address), port 0 for an ephemeral one.
absl::Status ParseListenFlag(std::string_view spec, ServerConfig* config);
// --behavior: a ProfileName (the error says --profile, its former name).
absl::Status ParseBehaviorFlag(std::string_view name, ServerConfig* config);
// --sink: discard, maildir:DIR or jsonl:FILE (kind and path; not body_limit).
absl::Status ParseSinkFlag(std::string_view spec, ServerConfig* config);
// --fault_points: comma-separated greeting, helo, mail, rcpt, data,
// data_end, other; or "all".
absl::Status ParseFaultPointsFlag(std::string_view spec, ServerConfig* config);
// --users: USER:PASSWORD pairs (the password may contain ':'), appended to
// the credentials.
absl::Status ParseUsersFlag(const std::vector<std::string>& pairs, ServerConfig* config);
// --auth_advertise: always, tls or never.
absl::Status ParseAuthAdvertiseFlag(std::string_view name, ServerConfig* config);
// --early_data: profile (the profile's rule), reject or accept.
absl::Status ParseEarlyDataFlag(std::string_view name, ServerConfig* config);
// --disable_extensions: EHLO keywords, any case: PIPELINING, SIZE, 8BITMIME,
// ENHANCEDSTATUSCODES, SMTPUTF8, DSN, CHUNKING, BINARYMIME, STARTTLS.
absl::Status ParseDisableExtensionsFlag(const std::vector<std::string>& names,
                                        ServerConfig* config);
// --tls_cert_file and --tls_key_file: both or neither; the PEM files are
// read into config->tls.
absl::Status ParseTlsFileFlags(const std::string& cert_file, const std::string& key_file,
                               ServerConfig* config);

// The checks on the values the flags set directly: at least one connection;
// positive idle and DATA timeouts; no negative delays; fault rates in [0, 1]
// and adding up to at most 1; no empty local domain.
absl::Status CheckServeConfig(const ServerConfig& config);

// The flag forms of the defaults, each the inverse of its Parse*Flag:
// "discard", "maildir:DIR", "jsonl:FILE" ("memory" for kMemory, which no
// flag selects); "all" or the points in the order above; "always", "tls",
// "never"; "profile", "reject", "accept".
std::string SinkFlag(const SinkConfig& sink);
std::string FaultPointsFlag(std::uint32_t points);
std::string AuthAdvertiseFlag(AuthAdvertise advertise);
std::string EarlyDataFlag(std::optional<bool> reject_early_data);

// Writes `port` and a newline to `path`, aside and renamed, so that a
// reader never sees a partial number (--port_file of serve and record).
absl::Status WritePortFile(const std::string& path, std::uint16_t port);

struct ServeOptions {
  ServerConfig config;
  std::string port_file;  // once listening, write the bound port here (for port 0)
  bool verbose = false;   // log session state changes to `err`
};

// Checks options.config (CheckServeConfig), then runs the server until
// SIGINT / SIGTERM and stops gracefully. Prints "smtp-harness serve:
// listening on ADDR:PORT (profile P, sink S)" to `out` once bound. Returns
// the exit status: 0 after a clean stop, 2 for a bad configuration or an
// address that cannot be bound (in use, not local, not permitted): both are
// setup errors of the caller, never a server finding; 1 when the server
// fails after it started (message on `err`).
int RunServeMain(const ServeOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SERVE_MAIN_H_
