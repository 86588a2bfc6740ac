// A small blocking SMTP client for the server's tests: every call has a
// timeout (Asio operations run on a private io_context with run_for), so a
// misbehaving server fails a test instead of hanging it. Not for production.
#ifndef SMTP_HARNESS_SERVER_TEST_CLIENT_H_
#define SMTP_HARNESS_SERVER_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "harness/server/server.h"
#include "harness/server/sink.h"
#include "parser/reply.h"

namespace smtp::server::testing {

using Millis = std::chrono::milliseconds;
inline constexpr Millis kDefaultTimeout{5000};

struct ClientOptions {
  std::string host = "127.0.0.1";
  // Local address to bind before connecting ("": the system's choice), e.g.
  // "127.0.0.2" to connect as another client (all of 127/8 is loopback).
  std::string source;
  // Socket buffer sizes set before connecting (0: system default).
  int rcvbuf = 0;
  int sndbuf = 0;
  Millis connect_timeout = kDefaultTimeout;
};

class TestClient {
 public:
  TestClient();
  ~TestClient();
  TestClient(TestClient&&) noexcept;
  TestClient& operator=(TestClient&&) noexcept;

  absl::Status Connect(std::uint16_t port, const ClientOptions& options = {});

  // Writes all of `bytes` (over TLS once StartTls succeeded). A timeout is
  // DeadlineExceeded; `written` gets the bytes the kernel took.
  absl::Status Send(std::string_view bytes, Millis timeout = kDefaultTimeout,
                    std::size_t* written = nullptr);

  // The next complete reply. DeadlineExceeded on timeout, Unavailable when
  // the server closed first, DataLoss when the bytes are not a reply.
  absl::StatusOr<Reply> ReadReply(Millis timeout = kDefaultTimeout);

  // Send(line + "\r\n"), then ReadReply().
  absl::StatusOr<Reply> Command(std::string_view line, Millis timeout = kDefaultTimeout);

  // Reads whatever arrives for `timeout` or until the server closes; returns
  // the bytes (including any not yet taken as replies). *closed: EOF seen.
  std::string Drain(Millis timeout, bool* closed = nullptr);

  // TLS client handshake over the connection (no verification).
  absl::Status StartTls(Millis timeout = kDefaultTimeout);

  void Close();
  bool is_open() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reply codes as text for failure messages: "250 2.0.0 Ok".
std::string Describe(const absl::StatusOr<Reply>& r);

// Connects and reads the greeting; an error unless it is a 220.
absl::StatusOr<TestClient> ConnectAndGreet(std::uint16_t port, const ClientOptions& options = {});

// A server running on its own thread, on 127.0.0.1 and an ephemeral port
// (config.port is ignored). `sink` is the MemorySink it stores into, unless
// the server was started with its own sink (memory_sink = false).
struct TestServer {
  std::shared_ptr<MemorySink> sink;
  std::unique_ptr<Server> server;
  std::uint16_t port = 0;
};
absl::StatusOr<TestServer> StartTestServer(ServerConfig config, bool memory_sink = true);

}  // namespace smtp::server::testing

#endif  // SMTP_HARNESS_SERVER_TEST_CLIENT_H_
