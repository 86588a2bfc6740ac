// Test-only helpers of the executor tests (executor_test.cc,
// executor_steps_test.cc): inline scenarios, running one against a fake
// server, and a loopback listener for the steps that need a real socket
// (STARTTLS, client addresses).
#ifndef SMTP_HARNESS_RUNNER_EXECUTOR_TEST_UTIL_H_
#define SMTP_HARNESS_RUNNER_EXECUTOR_TEST_UTIL_H_

#include <stdexcept>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "harness/runner/executor.h"
#include "harness/runner/fake_server_test_util.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/scenario_loader.h"
#include "harness/socket_transport.h"
#include "harness/test_util.h"
#include "harness/tls_cert.h"
#include "results/absl_compat.h"

namespace smtp::runner::testing {

// Loads a scenario whose "steps" are `steps` (JSON). The path puts it under
// scenarios/ so the shipped fragments resolve.
inline scenario::Scenario Load(const std::string& steps, const std::string& extra = "") {
  const std::string text = R"({"id": "t", "title": "t", "rfc": {"document": "RFC 5321",
    "section": "4.1.1.1"}, "level": "MUST", )" +
                           extra + R"("steps": )" + steps + "}";
  scenario::LoadOptions lo;
  lo.allow_unknown_variables = true;
  auto s = scenario::LoadScenarioText(SMTP_SOURCE_DIR "/scenarios/test/inline.json", text, lo);
  if (!s.ok()) throw std::runtime_error(Message(s.status()));
  return *std::move(s);
}

inline scenario::Variables Vars() {
  scenario::TargetProfile p;
  p.user = "alice";
  p.password = "s3cret-pw";
  p.rcpt = "postmaster@fake.test";
  return p.ToVariables();
}

inline harness::ScenarioResult RunIt(const scenario::Scenario& s, const Connector& connector,
                                     ExecutorOptions options, asio::io_context& io) {
  return harness::testing::RunSync(io, [&]() -> asio::awaitable<harness::ScenarioResult> {
    harness::ScenarioResult r = co_await RunScenario(s, Vars(), connector, options);
    co_return r;
  });
}

inline std::string Describe(const harness::ScenarioResult& r) {
  std::string s = std::string(VerdictName(r.verdict)) + ": " + r.reason;
  if (r.failure)
    s += " [" + r.failure->step_label + "] expected=" + r.failure->expected +
         " actual=" + r.failure->actual;
  return s + "\n" + r.transcript.DebugString();
}

inline const std::string kQuit =
    R"({"send": "QUIT"}, {"expect": 221}, {"expect_close": {"within_ms": 2000}})";

// STARTTLS over a loopback socket (memory transports have no TLS).
struct Loopback {
  explicit Loopback(asio::io_context& io)
      : acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  harness::Target target() const {
    harness::Target t;
    t.host = "127.0.0.1";
    t.port = acceptor.local_endpoint().port();
    return t;
  }
  // Serves the next connection with ServeFake(options), in the background
  // on the acceptor's io_context.
  void ServeOnce(asio::io_context& io, FakeOptions options) {
    harness::testing::Spawn(io, [this, options]() { return AcceptAndServe(acceptor, options); });
  }
  asio::ip::tcp::acceptor acceptor;

 private:
  // `options` by value: the coroutine frame owns its copy.
  static asio::awaitable<void> AcceptAndServe(asio::ip::tcp::acceptor& a, FakeOptions options) {
    asio::ip::tcp::socket sock = co_await a.async_accept(asio::use_awaitable);
    co_await ServeFake(harness::WrapTcpSocket(std::move(sock)), options, nullptr);
  }
};

// One fake server with a certificate on loopback, for the STARTTLS variants.
inline harness::ScenarioResult RunTlsFake(FakeOptions o, const std::string& steps) {
  auto cert = harness::MakeSelfSignedCert("fake.test");
  EXPECT_TRUE(cert.ok());
  asio::io_context io;
  Loopback lo(io);
  o.tls.role = harness::TlsOptions::Role::kServer;
  o.tls.cert_pem = cert->cert_pem;
  o.tls.key_pem = cert->key_pem;
  lo.ServeOnce(io, o);
  return RunIt(Load(steps), TargetConnector(lo.target()), {}, io);
}

inline bool Encrypted(const harness::ScenarioResult& r) {
  for (const auto& e : r.transcript.entries()) {
    if (e.kind == harness::EntryKind::kTlsEstablished) return true;
  }
  return false;
}

}  // namespace smtp::runner::testing

#endif  // SMTP_HARNESS_RUNNER_EXECUTOR_TEST_UTIL_H_
