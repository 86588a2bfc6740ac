// smtp-harness serve: the embedded reference SMTP/LMTP server.
//
// Abseil flags are global to the binary, so names that other subcommands
// also need (run's --profile, --tls) are spelt differently here:
// --behavior for the server profile, --starttls / --implicit_tls for TLS.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "app/subcommand.h"
#include "harness/server/serve_main.h"

namespace {
const smtp::server::ServeFlags kDefaults;
}

ABSL_FLAG(std::string, listen, kDefaults.listen,
          "serve: HOST:PORT, [V6]:PORT, :PORT or PORT to listen on (port 0: ephemeral)");
ABSL_FLAG(std::string, hostname, kDefaults.hostname, "serve: greeting/EHLO name, certificate CN");
ABSL_FLAG(std::string, behavior, kDefaults.profile,
          "serve: behaviour profile: strict (RFC reference), lenient (LF line ends, "
          "<LF>.<LF> ends DATA: smuggling-prone), slow (tarpit), faulty (injected 4xx/421/drops)");
ABSL_FLAG(bool, lmtp, kDefaults.lmtp, "serve: speak LMTP (LHLO, one reply per recipient)");
ABSL_FLAG(std::string, sink, kDefaults.sink,
          "serve: where accepted mail goes: discard, maildir:DIR or jsonl:FILE");
ABSL_FLAG(std::uint64_t, sink_body_limit, kDefaults.sink_body_limit,
          "serve: jsonl sink: include the body (base64) up to this many octets");
ABSL_FLAG(bool, refuse_sessions, kDefaults.refuse_sessions,
          "serve: greet with 554 and answer 503 to everything but QUIT (RFC 5321 §3.1)");
ABSL_FLAG(bool, trace_header, kDefaults.trace_header,
          "serve: prepend a Received: line to stored messages (RFC 5321 §4.4; off only to "
          "see the trace scenario fail)");
ABSL_FLAG(std::uint64_t, max_message_size, kDefaults.max_message_size,
          "serve: SIZE limit in octets");
ABSL_FLAG(std::uint64_t, max_recipients, kDefaults.max_recipients,
          "serve: recipients per transaction (RFC 5321 requires at least 100)");
ABSL_FLAG(std::uint64_t, max_errors, kDefaults.max_errors, "serve: errors before 421");
ABSL_FLAG(std::uint64_t, max_connections, kDefaults.max_connections,
          "serve: concurrent connections (over it: 421)");
ABSL_FLAG(std::uint64_t, max_connections_per_ip, kDefaults.max_connections_per_ip,
          "serve: concurrent connections per client address (0: no limit)");
ABSL_FLAG(std::int64_t, idle_timeout_ms, kDefaults.idle_timeout_ms,
          "serve: time allowed for a complete command line");
ABSL_FLAG(std::int64_t, data_timeout_ms, kDefaults.data_timeout_ms,
          "serve: time allowed for a whole DATA/BDAT body");
ABSL_FLAG(std::int64_t, shutdown_grace_ms, kDefaults.shutdown_grace_ms,
          "serve: on SIGINT/SIGTERM, time open sessions get before 421");
ABSL_FLAG(std::int64_t, slow_delay_ms, kDefaults.slow_delay_ms,
          "serve: --behavior slow: delay before each reply");
ABSL_FLAG(std::uint64_t, fault_seed, kDefaults.fault_seed, "serve: --behavior faulty: PRNG seed");
ABSL_FLAG(double, fault_temp_rate, kDefaults.fault_temp_rate,
          "serve: --behavior faulty: probability of a 4xx reply");
ABSL_FLAG(double, fault_421_rate, kDefaults.fault_421_rate,
          "serve: --behavior faulty: probability of 421 and close");
ABSL_FLAG(double, fault_disconnect_rate, kDefaults.fault_disconnect_rate,
          "serve: --behavior faulty: probability of a silent disconnect");
ABSL_FLAG(std::string, fault_points, kDefaults.fault_points,
          "serve: --behavior faulty: greeting,helo,mail,rcpt,data,data_end,other or all");
ABSL_FLAG(bool, starttls, kDefaults.tls, "serve: offer STARTTLS");
ABSL_FLAG(bool, implicit_tls, kDefaults.implicit_tls, "serve: TLS from the first byte (SMTPS)");
ABSL_FLAG(std::string, tls_cert_file, "", "serve: PEM certificate (default: self-signed)");
ABSL_FLAG(std::string, tls_key_file, "", "serve: PEM private key for --tls_cert_file");
ABSL_FLAG(std::vector<std::string>, users, {},
          "serve: AUTH credentials, comma-separated user:password pairs");
ABSL_FLAG(std::string, auth_advertise, kDefaults.auth_advertise,
          "serve: when AUTH is offered: always, tls or never");
ABSL_FLAG(bool, require_tls, false, "serve: MAIL needs STARTTLS first (530)");
ABSL_FLAG(bool, require_auth, false, "serve: MAIL needs AUTH first (530)");
ABSL_FLAG(std::vector<std::string>, disable_extensions, {},
          "serve: EHLO keywords to turn off, e.g. PIPELINING,CHUNKING");
ABSL_FLAG(std::vector<std::string>, local_domains, kDefaults.local_domains,
          "serve: domains accepted as RCPT destinations; anything else is relaying (550 5.7.1)");
ABSL_FLAG(bool, open_relay, kDefaults.open_relay,
          "serve: accept any recipient domain (an open relay: for relay-test demos only)");
ABSL_FLAG(std::int64_t, pregreet_delay_ms, kDefaults.pregreet_delay_ms,
          "serve: wait this long before the greeting; a client that talks first gets 554 "
          "(0: greet at once, e.g. for load tests)");
ABSL_FLAG(std::string, early_data, kDefaults.early_data,
          "serve: message bytes pipelined before the 354: profile, reject or accept");
ABSL_FLAG(std::string, port_file, "", "serve: write the bound port to this file");
ABSL_FLAG(bool, verbose, false, "serve: log session state changes to stderr");

namespace smtp::app {

int RunServe(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "serve: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  server::ServeFlags f;
  f.listen = absl::GetFlag(FLAGS_listen);
  f.hostname = absl::GetFlag(FLAGS_hostname);
  f.profile = absl::GetFlag(FLAGS_behavior);
  f.lmtp = absl::GetFlag(FLAGS_lmtp);
  f.sink = absl::GetFlag(FLAGS_sink);
  f.sink_body_limit = absl::GetFlag(FLAGS_sink_body_limit);
  f.max_message_size = absl::GetFlag(FLAGS_max_message_size);
  f.trace_header = absl::GetFlag(FLAGS_trace_header);
  f.refuse_sessions = absl::GetFlag(FLAGS_refuse_sessions);
  f.max_recipients = absl::GetFlag(FLAGS_max_recipients);
  f.max_errors = absl::GetFlag(FLAGS_max_errors);
  f.max_connections = absl::GetFlag(FLAGS_max_connections);
  f.max_connections_per_ip = absl::GetFlag(FLAGS_max_connections_per_ip);
  f.idle_timeout_ms = absl::GetFlag(FLAGS_idle_timeout_ms);
  f.data_timeout_ms = absl::GetFlag(FLAGS_data_timeout_ms);
  f.shutdown_grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  f.slow_delay_ms = absl::GetFlag(FLAGS_slow_delay_ms);
  f.fault_seed = absl::GetFlag(FLAGS_fault_seed);
  f.fault_temp_rate = absl::GetFlag(FLAGS_fault_temp_rate);
  f.fault_421_rate = absl::GetFlag(FLAGS_fault_421_rate);
  f.fault_disconnect_rate = absl::GetFlag(FLAGS_fault_disconnect_rate);
  f.fault_points = absl::GetFlag(FLAGS_fault_points);
  f.tls = absl::GetFlag(FLAGS_starttls);
  f.implicit_tls = absl::GetFlag(FLAGS_implicit_tls);
  f.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  f.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  f.users = absl::GetFlag(FLAGS_users);
  f.auth_advertise = absl::GetFlag(FLAGS_auth_advertise);
  f.require_tls = absl::GetFlag(FLAGS_require_tls);
  f.require_auth = absl::GetFlag(FLAGS_require_auth);
  f.disable_extensions = absl::GetFlag(FLAGS_disable_extensions);
  f.local_domains = absl::GetFlag(FLAGS_local_domains);
  f.open_relay = absl::GetFlag(FLAGS_open_relay);
  f.pregreet_delay_ms = absl::GetFlag(FLAGS_pregreet_delay_ms);
  f.early_data = absl::GetFlag(FLAGS_early_data);
  f.port_file = absl::GetFlag(FLAGS_port_file);
  f.verbose = absl::GetFlag(FLAGS_verbose);
  return server::RunServeMain(f);
}

}  // namespace smtp::app
