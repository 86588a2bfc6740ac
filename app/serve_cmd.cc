// smtp-harness serve: the embedded reference SMTP/LMTP server.
//
// Abseil flags are global to the binary, so names that other subcommands
// also need (run's --profile, --tls) are spelt differently here:
// --behavior for the server profile, --starttls / --implicit_tls for TLS.
#include "app/serve_cmd.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "app/subcommand.h"
#include "harness/server/config.h"
#include "results/absl_compat.h"

namespace {
// The flags' defaults are the server's (but for the port of --listen).
const smtp::server::ServerConfig kDefaults;
}  // namespace

ABSL_FLAG(std::string, listen, kDefaults.listen_address + ":2525",
          "serve, record: HOST:PORT, [V6]:PORT, :PORT or PORT to listen on (port 0: ephemeral)");
ABSL_FLAG(std::string, hostname, kDefaults.hostname, "serve: greeting/EHLO name, certificate CN");
ABSL_FLAG(std::string, behavior, std::string(smtp::server::ProfileName(kDefaults.profile)),
          "serve: behaviour profile: strict (RFC reference), lenient (LF line ends, "
          "<LF>.<LF> ends DATA: smuggling-prone), slow (tarpit), faulty (injected 4xx/421/drops), "
          "planted (two planted crash bugs for the fuzzer demonstration: HELP %x; EHLO, MAIL "
          "BODY=8BITMIME, RCPT NOTIFY=NEVER, RCPT, BDAT 0 LAST)");
ABSL_FLAG(bool, lmtp, kDefaults.lmtp, "serve: speak LMTP (LHLO, one reply per recipient)");
ABSL_FLAG(std::string, sink, smtp::server::SinkFlag(kDefaults.sink),
          "serve: where accepted mail goes: discard, maildir:DIR or jsonl:FILE");
ABSL_FLAG(std::uint64_t, sink_body_limit, kDefaults.sink.body_limit,
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
          "serve, record, report --serve: concurrent connections per client address, "
          "then refused (0: no limit)");
ABSL_FLAG(std::int64_t, idle_timeout_ms, kDefaults.idle_timeout.count(),
          "serve, record: how long a session may be idle (serve: to send a complete command "
          "line; record: with no byte either way)");
ABSL_FLAG(std::int64_t, data_timeout_ms, kDefaults.data_timeout.count(),
          "serve: time allowed for a whole DATA/BDAT body");
ABSL_FLAG(std::int64_t, shutdown_grace_ms, kDefaults.shutdown_grace.count(),
          "serve, record: on SIGINT/SIGTERM, time open sessions get to end (then serve sends "
          "421, record cuts them)");
ABSL_FLAG(std::int64_t, slow_delay_ms, kDefaults.slow.reply_delay.count(),
          "serve: --behavior slow: delay before each reply");
ABSL_FLAG(std::uint64_t, fault_seed, kDefaults.faults.seed, "serve: --behavior faulty: PRNG seed");
ABSL_FLAG(double, fault_temp_rate, kDefaults.faults.temp_fail_rate,
          "serve: --behavior faulty: probability of a 4xx reply");
ABSL_FLAG(double, fault_421_rate, kDefaults.faults.shutdown_rate,
          "serve: --behavior faulty: probability of 421 and close");
ABSL_FLAG(double, fault_disconnect_rate, kDefaults.faults.disconnect_rate,
          "serve: --behavior faulty: probability of a silent disconnect");
ABSL_FLAG(std::string, fault_points, smtp::server::FaultPointsFlag(kDefaults.faults.points),
          "serve: --behavior faulty: greeting,helo,mail,rcpt,data,data_end,other or all");
ABSL_FLAG(bool, planted_abort, kDefaults.planted_crash_aborts_process,
          "serve: --behavior planted: a planted bug calls abort() (the process dies by "
          "SIGABRT) instead of closing the connection without a reply");
ABSL_FLAG(bool, starttls, kDefaults.tls.enabled, "serve: offer STARTTLS");
ABSL_FLAG(bool, implicit_tls, kDefaults.tls.implicit, "serve: TLS from the first byte (SMTPS)");
ABSL_FLAG(std::string, tls_cert_file, "", "serve, record: PEM certificate (default: self-signed)");
ABSL_FLAG(std::string, tls_key_file, "", "serve, record: PEM private key for --tls_cert_file");
ABSL_FLAG(std::vector<std::string>, users, {},
          "serve: AUTH credentials, comma-separated user:password pairs");
ABSL_FLAG(std::string, auth_advertise, smtp::server::AuthAdvertiseFlag(kDefaults.auth_advertise),
          "serve: when AUTH is offered: always, tls or never");
ABSL_FLAG(bool, require_tls, kDefaults.require_tls, "serve: MAIL needs STARTTLS first (530)");
ABSL_FLAG(bool, require_auth, kDefaults.require_auth, "serve: MAIL needs AUTH first (530)");
ABSL_FLAG(std::vector<std::string>, disable_extensions, {},
          "serve: EHLO keywords to turn off, e.g. PIPELINING,CHUNKING");
ABSL_FLAG(std::vector<std::string>, local_domains, kDefaults.relay.local_domains,
          "serve: domains accepted as RCPT destinations; anything else is relaying (550 5.7.1)");
ABSL_FLAG(bool, open_relay, kDefaults.relay.open_relay,
          "serve: accept any recipient domain (an open relay: for relay-test demos only)");
ABSL_FLAG(std::int64_t, pregreet_delay_ms, kDefaults.pregreet_delay.count(),
          "serve: wait this long before the greeting; a client that talks first gets 554 "
          "(0: greet at once; e.g. 300 to refuse early talkers as Postfix postscreen does)");
ABSL_FLAG(std::string, early_data, smtp::server::EarlyDataFlag(kDefaults.reject_early_data),
          "serve: message bytes pipelined before the 354: profile, reject or accept");
ABSL_FLAG(std::string, port_file, "", "serve, record: write the bound port to this file");
ABSL_FLAG(bool, verbose, false, "serve: log session state changes to stderr");

namespace smtp::app {

absl::StatusOr<server::ServeOptions> ConfigFromFlags() {
  using std::chrono::milliseconds;
  server::ServeOptions o;
  server::ServerConfig& c = o.config;
  // Flags that are a field as they are.
  c.hostname = absl::GetFlag(FLAGS_hostname);
  c.lmtp = absl::GetFlag(FLAGS_lmtp);
  c.sink.body_limit = absl::GetFlag(FLAGS_sink_body_limit);
  c.refuse_sessions = absl::GetFlag(FLAGS_refuse_sessions);
  c.trace_header = absl::GetFlag(FLAGS_trace_header);
  c.max_message_size = absl::GetFlag(FLAGS_max_message_size);
  c.max_recipients = absl::GetFlag(FLAGS_max_recipients);
  c.max_errors = absl::GetFlag(FLAGS_max_errors);
  c.max_connections = absl::GetFlag(FLAGS_max_connections);
  c.max_connections_per_ip = absl::GetFlag(FLAGS_max_connections_per_ip);
  c.idle_timeout = milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  c.data_timeout = milliseconds(absl::GetFlag(FLAGS_data_timeout_ms));
  c.shutdown_grace = milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms));
  c.slow.reply_delay = milliseconds(absl::GetFlag(FLAGS_slow_delay_ms));
  c.faults.seed = absl::GetFlag(FLAGS_fault_seed);
  c.faults.temp_fail_rate = absl::GetFlag(FLAGS_fault_temp_rate);
  c.faults.shutdown_rate = absl::GetFlag(FLAGS_fault_421_rate);
  c.faults.disconnect_rate = absl::GetFlag(FLAGS_fault_disconnect_rate);
  c.planted_crash_aborts_process = absl::GetFlag(FLAGS_planted_abort);
  c.tls.enabled = absl::GetFlag(FLAGS_starttls) || absl::GetFlag(FLAGS_implicit_tls);
  c.tls.implicit = absl::GetFlag(FLAGS_implicit_tls);
  c.require_tls = absl::GetFlag(FLAGS_require_tls);
  c.require_auth = absl::GetFlag(FLAGS_require_auth);
  c.relay.local_domains = absl::GetFlag(FLAGS_local_domains);
  c.relay.open_relay = absl::GetFlag(FLAGS_open_relay);
  c.pregreet_delay = milliseconds(absl::GetFlag(FLAGS_pregreet_delay_ms));
  o.port_file = absl::GetFlag(FLAGS_port_file);
  o.verbose = absl::GetFlag(FLAGS_verbose);
  // Flags that need parsing, then the checks; the first error is returned.
  for (const absl::Status& s : {
           server::ParseListenFlag(absl::GetFlag(FLAGS_listen), &c),
           server::ParseBehaviorFlag(absl::GetFlag(FLAGS_behavior), &c),
           server::ParseSinkFlag(absl::GetFlag(FLAGS_sink), &c),
           server::ParseFaultPointsFlag(absl::GetFlag(FLAGS_fault_points), &c),
           server::ParseTlsFileFlags(absl::GetFlag(FLAGS_tls_cert_file),
                                     absl::GetFlag(FLAGS_tls_key_file), &c),
           server::ParseUsersFlag(absl::GetFlag(FLAGS_users), &c),
           server::ParseAuthAdvertiseFlag(absl::GetFlag(FLAGS_auth_advertise), &c),
           server::ParseEarlyDataFlag(absl::GetFlag(FLAGS_early_data), &c),
           server::ParseDisableExtensionsFlag(absl::GetFlag(FLAGS_disable_extensions), &c),
           server::CheckServeConfig(c),
       }) {
    if (!s.ok()) return s;
  }
  return o;
}

int RunServe(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "serve: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  absl::StatusOr<server::ServeOptions> options = ConfigFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "smtp-harness serve: %s\n", Message(options.status()).c_str());
    return 2;
  }
  return server::RunServeMain(*options);
}

}  // namespace smtp::app
