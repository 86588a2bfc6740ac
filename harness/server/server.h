// The embedded reference SMTP / LMTP server: an Asio accept loop that runs
// one Session (session.h) per connection on one thread, with deadlines on
// every read, write and handshake, global and per-IP connection limits, and
// a graceful stop.
//
//   ServerConfig cfg;                     // 127.0.0.1, ephemeral port, strict
//   Server server(cfg);
//   absl::StatusOr<Endpoint> ep = server.Start();   // serves on its thread
//   ... connect to ep->port ...
//   server.Stop();                        // 421 to open sessions, then join
//
// Graceful stop: the listener closes at once; a session waiting for input
// gets "421 4.3.2 Service shutting down" and is closed; a session busy
// writing finishes that write first. A message whose 250 was queued is
// already committed to the sink (see sink.h), so nothing accepted is lost;
// a message still arriving is discarded (its client never got a 250).
// Sessions still open after ServerConfig::shutdown_grace are cut.
#ifndef SMTP_HARNESS_SERVER_SERVER_H_
#define SMTP_HARNESS_SERVER_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/server/config.h"
#include "harness/server/sink.h"

namespace smtp::server {

struct Endpoint {
  std::string address;  // numeric: "127.0.0.1", "::1"
  std::uint16_t port = 0;
  // "127.0.0.1:2525", "[::1]:2525".
  std::string ToString() const;
};

struct ServerStats {
  std::uint64_t connections_accepted = 0;  // sessions started
  std::uint64_t connections_rejected = 0;  // refused by a connection limit
  std::uint64_t active_connections = 0;
  std::uint64_t messages_accepted = 0;
  std::uint64_t timeouts = 0;        // sessions closed with 421 4.4.2
  std::uint64_t tls_handshakes = 0;  // successful
  std::uint64_t tls_failures = 0;
  // The most reply bytes any session had waiting at once: bounded by
  // Session::kOutputHighWater plus one batch of replies (backpressure).
  std::uint64_t peak_output_bytes = 0;
};

// A finished session, for debugging: its state log (session.h).
struct SessionRecord {
  std::uint64_t id = 0;
  std::string client;
  std::vector<std::string> state_log;
};

class Server {
 public:
  // Sessions kept by RecentSessions().
  static constexpr std::size_t kRecentSessions = 64;

  // `sink`: where accepted mail goes; nullptr: MakeSink(config.sink) at Bind.
  explicit Server(ServerConfig config, std::shared_ptr<MessageSink> sink = nullptr);
  // Stops (gracefully) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates the sink and the TLS context (generating a self-signed
  // certificate if none is configured), binds and listens. Returns the bound
  // endpoint (the real port when config.port is 0). Once only.
  absl::StatusOr<Endpoint> Bind();

  // Bind() if needed, then serves on a background thread.
  absl::StatusOr<Endpoint> Start();

  // Bind() if needed, then serves on the calling thread until Stop() or
  // RequestStop() (from another thread), or SIGINT / SIGTERM when
  // `stop_on_signals`. Returns after the graceful stop completed.
  absl::Status Run(bool stop_on_signals = false);

  // Starts a graceful stop and returns at once. Safe from any thread,
  // including the server's own (e.g. a log hook). Idempotent.
  void RequestStop();

  // RequestStop(), then waits until the server has stopped (joins the Start
  // thread). Must not be called from the server's own thread. Idempotent.
  void Stop();

  ServerStats stats() const;
  MessageSink* sink() const;
  const ServerConfig& config() const;
  // The last kRecentSessions finished sessions, oldest first.
  std::vector<SessionRecord> RecentSessions() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SERVER_H_
