// RecordProxy: the recording proxy behind `smtp-harness record`. A
// transparent TCP relay between SMTP clients and one upstream server that
// writes each session it relays as a session file (results/session_file.h):
// DIR/session-NNNNNN.json, numbered in accept order, written when the
// session ends.
//
//   RecordOptions o;  o.upstream = ...;  o.out_dir = "rec";
//   RecordProxy proxy(o);
//   absl::StatusOr<std::uint16_t> port = proxy.Bind();
//   proxy.Run(/*stop_on_signals=*/true);   // until SIGINT / SIGTERM
//
// What a session file holds (Transcript, source "recorded"): a connect event
// naming the upstream, every chunk exactly as relayed in each direction with
// its time, TLS marks, how the session ended (peer_close "client" or
// "server", timeout, error, local_close "shutdown"), and meta: client and
// server addresses, started_at, ended_at.
//
// The relayed bytes are never altered: recording, redaction and the caps act
// on the copy only.
//
// STARTTLS (RFC 3207). Without intercept_tls, once the client sent STARTTLS
// and the server answered 2xx the bytes are relayed blindly and no longer
// recorded: a tls_opaque entry marks the place. With intercept_tls the proxy
// completes TLS with the client itself (its own certificate: cert_pem /
// key_pem, by default a fresh self-signed one) and with the server, and
// records the plaintext of both sides after a tls entry (the server's
// TlsInfo).
//
// Implicit TLS upstream (upstream.kind == kTls): the proxy speaks TLS to the
// server from the first byte. The client side is plain, or, with
// intercept_tls, implicit TLS with the proxy's certificate (what a client of
// an SMTPS port expects). A tls entry after the connect event gives the
// server's TlsInfo.
//
// AUTH secrets (RFC 4954: initial responses and the answers to 334) are
// redacted in what is written (Transcript::RedactStreams) unless
// keep_secrets.
//
// Bounds: each read takes at most kRelayChunk bytes and has a deadline (the
// idle timeout, capped by the session's end); each session is cut at
// session_timeout; at most max_sessions are relayed at once (the others wait
// in the listen backlog), and at most max_sessions_per_client from one
// client address (net/connection_limiter.h, as `serve`'s limit: the others
// get "421 4.7.0 Too many connections" at once, and no file), so that one
// client cannot hold every slot; a session stores at most
// transcript.max_stored_bytes (the relay goes on); and at most max_out_bytes
// are written to out_dir in total (after that, sessions are still relayed
// but not saved, and their summary says so).
//
// A client that closes without having sent a byte (a connection that died
// in the listen backlog, a port probe) frees its slot at once, and its
// session gets no file unless it ended in an error. After any other client
// closed, the server's last bytes and close are awaited close_linger when a
// reply is owed (the client's last line came after the server's last
// bytes: QUIT and its 221), else 100 ms. When a
// write to the server fails (the server answered "421 4.5.6 Line too long"
// and closed), the server's last bytes are still relayed and recorded
// before the failure is noted.
//
// Stop (RequestStop, or SIGINT / SIGTERM with Run(true)): the listener
// closes at once, open sessions get shutdown_grace to end by themselves,
// then are cut; every session's file is written before Run returns.
#ifndef SMTP_HARNESS_RECORD_PROXY_H_
#define SMTP_HARNESS_RECORD_PROXY_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/transport.h"
#include "results/transcript.h"

namespace smtp::record {

// Bytes taken by one read.
inline constexpr std::size_t kRelayChunk = 64 * 1024;

// What `record` prints for each finished session.
struct SessionSummary {
  std::uint64_t number = 0;  // accept order, from 1 (the file's NNNNNN)
  std::string client;        // "127.0.0.1:40000"
  std::chrono::microseconds duration{0};
  std::size_t commands = 0;  // client command lines seen in what was recorded
  std::size_t c2s_bytes = 0;
  std::size_t s2c_bytes = 0;
  std::string file;                // the session file; "" when not saved
  std::string not_saved_reason;    // why not, when file is ""
  std::vector<std::string> notes;  // "tls_opaque", "tls", "redacted", "truncated", "timeout",
                                   // "shutdown", "error"
};

// One line: "#3 127.0.0.1:40000 0.012s 6 commands c2s 120 B s2c 340 B ->
// DIR/session-000003.json [tls_opaque redacted]" (or "not saved: REASON").
std::string FormatSummary(const SessionSummary& s);

struct RecordOptions {
  RecordOptions() = default;  // not an aggregate: see harness::TlsOptions
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 0;    // 0: ephemeral (Bind returns the real one)
  harness::Target upstream;  // kTcp or kTls
  std::string out_dir;       // created if missing

  bool intercept_tls = false;
  std::string cert_pem;  // the proxy's certificate towards clients; "": self-signed
  std::string key_pem;
  bool keep_secrets = false;

  harness::TranscriptOptions transcript;              // per-session storage caps
  std::chrono::milliseconds connect_timeout{10'000};  // to the upstream, TLS included
  std::chrono::milliseconds idle_timeout{300'000};    // no byte either way for this long
  std::chrono::milliseconds session_timeout{3'600'000};
  std::chrono::milliseconds shutdown_grace{2'000};
  // After the client closed, how long the server's last bytes are awaited.
  std::chrono::milliseconds close_linger{2'000};
  std::size_t max_sessions = 256;            // at once
  std::size_t max_sessions_per_client = 50;  // at once from one client address (0: no limit)
  std::uint64_t max_out_bytes = std::uint64_t{1} << 30;  // written to out_dir in total

  // Called for each session once its file is written (or not: see
  // SessionSummary::not_saved_reason), in that order, on the thread that
  // writes the files (session_writer.h).
  std::function<void(const SessionSummary&)> on_session;
};

// The checks on the options: an upstream of kind kTcp or kTls, an output
// directory, positive timeouts and limits, cert and key both or neither.
// InvalidArgument "--FLAG: why", named after `record`'s flags.
absl::Status CheckRecordOptions(const RecordOptions& options);

struct RecordStats {
  std::uint64_t sessions = 0;  // ended
  std::uint64_t saved = 0;
  std::uint64_t out_bytes = 0;  // written to out_dir
  std::uint64_t refused = 0;    // connections over max_sessions_per_client
};

class RecordProxy {
 public:
  explicit RecordProxy(RecordOptions options);
  ~RecordProxy();  // Stop()s first
  RecordProxy(const RecordProxy&) = delete;
  RecordProxy& operator=(const RecordProxy&) = delete;

  // Checks the options, creates out_dir, prepares the certificate, binds
  // and listens. Returns the bound port. Numbering continues after the
  // highest session-NNNNNN.json already in out_dir. Once only.
  absl::StatusOr<std::uint16_t> Bind();

  // Relays on the calling thread until RequestStop() (or SIGINT / SIGTERM
  // when `stop_on_signals`), then stops as the file comment says.
  absl::Status Run(bool stop_on_signals = false);

  // Bind() if needed, then Run() on a thread of its own (for tests).
  absl::StatusOr<std::uint16_t> Start();

  // Starts the stop; safe from any thread. Idempotent.
  void RequestStop();
  // RequestStop(), then waits for the Start() thread. Idempotent.
  void Stop();

  RecordStats stats() const;  // safe from any thread

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtp::record

#endif  // SMTP_HARNESS_RECORD_PROXY_H_
