// The body of `smtp-harness serve`: flags in, a running server until SIGINT /
// SIGTERM. app/ declares the command-line flags, fills ServeFlags and calls
// RunServeMain; nothing here parses argv.
#ifndef SMTP_HARNESS_SERVER_SERVE_MAIN_H_
#define SMTP_HARNESS_SERVER_SERVE_MAIN_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/server/config.h"

namespace smtp::server {

// One field per command-line flag; defaults are the flag defaults.
struct ServeFlags {
  std::string listen = "127.0.0.1:2525";  // HOST:PORT, [V6]:PORT, :PORT or PORT (0: ephemeral)
  std::string hostname = "localhost";     // greeting / EHLO name, certificate CN
  std::string profile = "strict";         // strict | lenient | slow | faulty
  bool lmtp = false;
  std::string sink = "discard";       // discard | maildir:DIR | jsonl:FILE
  std::uint64_t sink_body_limit = 0;  // jsonl: base64 body up to this many octets

  std::uint64_t max_message_size = 10 * 1024 * 1024;
  bool trace_header = true;      // RFC 5321 §4.4 Received: line on stored messages
  bool refuse_sessions = false;  // RFC 5321 §3.1: 554 greeting, 503 until QUIT
  std::uint64_t max_recipients = 100;
  std::uint64_t max_errors = 20;
  std::uint64_t max_connections = 1000;
  // Per client address; 0: no limit (ServerConfig::max_connections_per_ip).
  std::uint64_t max_connections_per_ip = ServerConfig{}.max_connections_per_ip;
  std::int64_t idle_timeout_ms = 300'000;
  std::int64_t data_timeout_ms = 600'000;
  std::int64_t shutdown_grace_ms = 5'000;

  std::int64_t slow_delay_ms = 1000;  // profile slow
  std::uint64_t fault_seed = 1;       // profile faulty
  double fault_temp_rate = 0.10;
  double fault_421_rate = 0.02;
  double fault_disconnect_rate = 0.02;
  // Comma-separated: greeting,helo,mail,rcpt,data,data_end,other, or "all".
  std::string fault_points = "all";

  bool tls = true;            // offer STARTTLS
  bool implicit_tls = false;  // SMTPS: TLS from the first byte
  std::string tls_cert_file;  // PEM; with tls_key_file. Empty: self-signed
  std::string tls_key_file;

  std::vector<std::string> users;      // "user:password" for AUTH
  std::string auth_advertise = "tls";  // always | tls | never (ServerConfig::auth_advertise)
  bool require_tls = false;
  bool require_auth = false;
  // EHLO keywords to turn off: PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
  // SMTPUTF8, DSN, CHUNKING, BINARYMIME, STARTTLS (case-insensitive).
  std::vector<std::string> disable_extensions;

  // Site policy (config.h): RelayConfig, pregreet_delay, reject_early_data.
  std::vector<std::string> local_domains = RelayConfig{}.local_domains;
  bool open_relay = false;
  std::int64_t pregreet_delay_ms = 300;  // 0: greet at once
  std::string early_data = "profile";    // profile | reject | accept

  std::string port_file;  // once listening, write the bound port here (for port 0)
  bool verbose = false;   // log session state changes to stderr
};

// Builds the configuration; InvalidArgument names the bad flag.
absl::StatusOr<ServerConfig> ConfigFromFlags(const ServeFlags& flags);

// Runs the server until SIGINT / SIGTERM, then stops gracefully. Prints
// "smtp-harness serve: listening on ADDR:PORT (profile P, sink S)" to `out`
// once bound. Returns the exit status: 0 after a clean stop, 1 when the
// server cannot start, 2 for bad flags (message on `err`).
int RunServeMain(const ServeFlags& flags, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SERVE_MAIN_H_
