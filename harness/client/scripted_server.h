// ScriptedServer: the listener the harness owns for one client scenario
// (127.0.0.1, an ephemeral port), and the I/O that drives a ScriptedSession
// per accepted connection: replies written with their pauses and pieces,
// STARTTLS as the TLS server (a self-signed certificate), every byte of
// both sides in one Transcript (c2s: the client under test).
//
// Bounded: at most ServerScript::max_connections connections, one at a
// time; every read waits at most 50 ms before the stop conditions are
// checked; the whole of Run() ends at its deadline. Bytes the client sends
// while a reply is still being written (its pauses) are read at once and
// reported to the session (ScriptedSession::EarlyBytes) before they are
// fed, so a client that reads a multiline reply as one line is seen.
#ifndef SMTP_HARNESS_CLIENT_SCRIPTED_SERVER_H_
#define SMTP_HARNESS_CLIENT_SCRIPTED_SERVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "harness/client/script_session.h"
#include "harness/tls_cert.h"
#include "results/transcript.h"

namespace smtp::client {

struct ServerRunOptions {
  harness::CertAndKey cert;  // presented on STARTTLS
  // After the client process ended: how long its last connection may take
  // to close by itself before we close it.
  std::chrono::milliseconds grace{300};
  std::size_t max_read = 64 * 1024;  // bytes per read
};

class ScriptedServer {
 public:
  // Binds 127.0.0.1:0 and listens, so port() is known before the client
  // starts. The script must outlive the server.
  static absl::StatusOr<std::unique_ptr<ScriptedServer>> Open(const ServerScript& script,
                                                              SessionSettings settings,
                                                              ServerRunOptions options);
  ~ScriptedServer();

  std::uint16_t port() const;

  // Serves connections until the client ended (ClientEnded) and its
  // connection is gone, or `deadline`. Blocking: run it on its own thread.
  void Run(std::chrono::steady_clock::time_point deadline);
  // Thread-safe: the client process has ended.
  void ClientEnded();

  // After Run returned.
  const SessionRecord& record() const;
  harness::Transcript TakeTranscript();

 private:
  struct Impl;
  explicit ScriptedServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_SCRIPTED_SERVER_H_
