// smtp-harness record: the recording proxy (harness/record/proxy.h). Flags
// that serve and run also take (--listen, --out, --port_file, --tls_*_file,
// --idle_timeout_ms, --shutdown_grace_ms) are theirs, declared here.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "app/subcommand.h"
#include "harness/record/proxy.h"
#include "harness/server/serve_main.h"
#include "harness/server/server.h"
#include "results/absl_compat.h"

namespace {
const smtp::record::RecordOptions kDefaults;
}  // namespace

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::int64_t, idle_timeout_ms);
ABSL_DECLARE_FLAG(std::int64_t, shutdown_grace_ms);
ABSL_DECLARE_FLAG(std::uint64_t, max_connections_per_ip);  // app/serve_cmd.cc

ABSL_FLAG(std::string, upstream, "",
          "record: the server to relay to: HOST:PORT or tls:HOST:PORT (implicit TLS)");
ABSL_FLAG(bool, intercept_tls, kDefaults.intercept_tls,
          "record: complete STARTTLS with the client (our certificate) and the server, and "
          "record the plaintext; without it a STARTTLS session is recorded up to the upgrade");
ABSL_FLAG(bool, keep_secrets, kDefaults.keep_secrets,
          "record, import-pcap: keep AUTH responses in the session files (redacted by "
          "default)");
ABSL_FLAG(std::uint64_t, max_sessions, kDefaults.max_sessions,
          "record: sessions relayed at once (more wait in the listen backlog)");
ABSL_FLAG(std::uint64_t, max_session_bytes, kDefaults.transcript.max_stored_bytes,
          "record: data bytes stored per session (the relay goes on beyond it)");
ABSL_FLAG(std::uint64_t, max_out_bytes, kDefaults.max_out_bytes,
          "record: bytes written to --out in total (then sessions are relayed, not saved)");
ABSL_FLAG(std::int64_t, session_timeout_ms, kDefaults.session_timeout.count(),
          "record: a session is cut after this long; replay: the time budget of each replayed "
          "session (each read has --timeout_ms)");
ABSL_FLAG(std::int64_t, connect_timeout_ms, kDefaults.connect_timeout.count(),
          "record: time to connect to the upstream (and for each TLS handshake)");

namespace smtp::app {
namespace {

absl::StatusOr<record::RecordOptions> RecordOptionsFromFlags() {
  using std::chrono::milliseconds;
  record::RecordOptions o;
  // --listen and the certificate files are read as serve reads them.
  server::ServerConfig listen;
  listen.listen_address = o.listen_address;
  if (absl::Status s = server::ParseListenFlag(absl::GetFlag(FLAGS_listen), &listen); !s.ok()) {
    return s;
  }
  if (absl::Status s = server::ParseTlsFileFlags(absl::GetFlag(FLAGS_tls_cert_file),
                                                 absl::GetFlag(FLAGS_tls_key_file), &listen);
      !s.ok()) {
    return s;
  }
  o.listen_address = listen.listen_address;
  o.port = listen.port;
  o.cert_pem = listen.tls.cert_pem;
  o.key_pem = listen.tls.key_pem;
  const std::string upstream = absl::GetFlag(FLAGS_upstream);
  if (upstream.empty()) return absl::InvalidArgumentError("--upstream: required");
  absl::StatusOr<harness::Target> target = harness::ParseTarget(upstream);
  if (!target.ok()) {
    return absl::InvalidArgumentError("--upstream: " + Message(target.status()));
  }
  o.upstream = *std::move(target);
  o.out_dir = absl::GetFlag(FLAGS_out);
  o.intercept_tls = absl::GetFlag(FLAGS_intercept_tls);
  o.keep_secrets = absl::GetFlag(FLAGS_keep_secrets);
  o.max_sessions = absl::GetFlag(FLAGS_max_sessions);
  o.max_sessions_per_client = absl::GetFlag(FLAGS_max_connections_per_ip);
  o.transcript.max_stored_bytes = absl::GetFlag(FLAGS_max_session_bytes);
  o.max_out_bytes = absl::GetFlag(FLAGS_max_out_bytes);
  o.idle_timeout = milliseconds(absl::GetFlag(FLAGS_idle_timeout_ms));
  o.session_timeout = milliseconds(absl::GetFlag(FLAGS_session_timeout_ms));
  o.connect_timeout = milliseconds(absl::GetFlag(FLAGS_connect_timeout_ms));
  o.shutdown_grace = milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms));
  if (absl::Status s = record::CheckRecordOptions(o); !s.ok()) return s;
  return o;
}

}  // namespace

int RunRecord(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "record: unexpected argument '%s'\n", args[0].c_str());
    return 2;
  }
  absl::StatusOr<record::RecordOptions> options = RecordOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "smtp-harness record: %s\n", Message(options.status()).c_str());
    return 2;
  }
  options->on_session = [](const record::SessionSummary& s) {
    std::printf("%s\n", record::FormatSummary(s).c_str());
    std::fflush(stdout);
  };
  const std::string listen_host = options->listen_address;
  const std::string banner = "upstream " + options->upstream.ToString() + ", writing to " +
                             options->out_dir +
                             (options->intercept_tls ? ", intercepting STARTTLS" : "");
  record::RecordProxy proxy(*std::move(options));
  absl::StatusOr<std::uint16_t> port = proxy.Bind();
  if (!port.ok()) {
    std::fprintf(stderr, "smtp-harness record: %s\n", Message(port.status()).c_str());
    return 2;  // a usage error: the address or directory given cannot be used
  }
  std::printf("smtp-harness record: listening on %s (%s)\n",
              server::Endpoint{listen_host, *port}.ToString().c_str(), banner.c_str());
  std::fflush(stdout);
  if (const std::string pf = absl::GetFlag(FLAGS_port_file); !pf.empty()) {
    if (absl::Status s = server::WritePortFile(pf, *port); !s.ok()) {
      std::fprintf(stderr, "smtp-harness record: %s\n", Message(s).c_str());
      return 1;
    }
  }
  if (absl::Status s = proxy.Run(/*stop_on_signals=*/true); !s.ok()) {
    std::fprintf(stderr, "smtp-harness record: %s\n", Message(s).c_str());
    return 1;
  }
  const record::RecordStats st = proxy.stats();
  std::printf("smtp-harness record: stopped after %llu sessions, %llu saved (%llu bytes)\n",
              static_cast<unsigned long long>(st.sessions),
              static_cast<unsigned long long>(st.saved),
              static_cast<unsigned long long>(st.out_bytes));
  return 0;
}

}  // namespace smtp::app
