// What the server's network tests share: the configuration they start from
// and gtest wrappers that start a server and connect to it (header-only: the
// test client library itself does not depend on gtest).
#ifndef SMTP_HARNESS_SERVER_TEST_UTIL_H_
#define SMTP_HARNESS_SERVER_TEST_UTIL_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "harness/server/config.h"
#include "harness/server/test_client.h"

namespace smtp::server::testing {

// The defaults (as `smtp-harness serve` runs them: the pre-greeting wait,
// AUTH only after TLS, no relay), named mx.test, with deadlines short enough
// that a stuck test fails in seconds: a 10 s idle timeout and a 3 s shutdown
// grace. Each test file adds what it tests.
inline ServerConfig NetworkTestConfig() {
  ServerConfig c;
  c.hostname = "mx.test";
  c.idle_timeout = std::chrono::seconds(10);
  c.shutdown_grace = std::chrono::seconds(3);
  c.trace_header = false;  // tests compare stored bodies with what they sent
  return c;
}

// StartTestServer, failing the test on error.
inline TestServer Start(ServerConfig cfg, bool memory_sink = true) {
  absl::StatusOr<TestServer> r = StartTestServer(std::move(cfg), memory_sink);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? std::move(*r) : TestServer{};
}

// ConnectAndGreet, failing the test on error.
inline TestClient Connect(std::uint16_t port, const ClientOptions& o = {}) {
  absl::StatusOr<TestClient> c = ConnectAndGreet(port, o);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : TestClient();
}

// The reply code, 0 for an error.
inline std::uint16_t CodeOf(const absl::StatusOr<Reply>& r) { return r.ok() ? r->code : 0; }

// `hello` ("EHLO c.test", or LHLO), MAIL FROM:<a@x.test> and RCPT
// TO:<b@y.test>, each expected to succeed: a transaction ready for DATA or
// BDAT.
inline void OpenTransaction(TestClient& c, const std::string& hello = "EHLO c.test") {
  EXPECT_EQ(CodeOf(c.Command(hello)), 250);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<b@y.test>")), 250);
}

}  // namespace smtp::server::testing

#endif  // SMTP_HARNESS_SERVER_TEST_UTIL_H_
