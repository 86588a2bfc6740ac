// The site policy of the reference server over real sockets: the
// pre-greeting wait (early talkers), message text sent before the 354, the
// relay check with the server's own address, AUTH only after TLS.
#include "harness/server/server.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "harness/sasl.h"
#include "harness/server/test_client.h"
#include "harness/server/test_util.h"

namespace smtp::server {
namespace {

using testing::CodeOf;
using testing::Connect;
using testing::Describe;
using testing::Millis;
using testing::Start;
using testing::TestClient;
using Running = testing::TestServer;
using Clock = std::chrono::steady_clock;

constexpr Millis kPregreet{250};

// The network tests' defaults, with a shorter pre-greeting wait.
ServerConfig PolicyConfig() {
  ServerConfig c = testing::NetworkTestConfig();
  c.credentials = {{"user", "secret"}};
  c.pregreet_delay = kPregreet;
  return c;
}

// A client that waits is greeted once the delay passed, and served.
TEST(PregreetTest, PatientClientIsGreetedAfterTheDelay) {
  Running s = Start(PolicyConfig());
  const auto t0 = Clock::now();
  TestClient c = Connect(s.port);  // reads the 220
  EXPECT_GE(Clock::now() - t0, kPregreet - Millis(10));
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
}

// RFC 5321 §4.3.1 / §3.1: the early EHLO gets no 250; 554 replaces the
// greeting, 503 answers the EHLO, QUIT still works.
TEST(PregreetTest, EarlyTalkerGets554Then503) {
  Running s = Start(PolicyConfig());
  TestClient c;
  ASSERT_TRUE(c.Connect(s.port).ok());
  ASSERT_TRUE(c.Send("EHLO c.test\r\n").ok());
  auto greeting = c.ReadReply();
  ASSERT_EQ(CodeOf(greeting), 554) << Describe(greeting);
  EXPECT_EQ(greeting->lines[0].substr(0, 14), "5.5.0 mx.test ");
  EXPECT_EQ(CodeOf(c.ReadReply()), 503);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 503);
  EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
  bool closed = false;
  c.Drain(Millis(2000), &closed);
  EXPECT_TRUE(closed);
}

// With implicit TLS the wait starts after the handshake; a cancelled TLS
// read leaves the stream usable for a patient client.
TEST(PregreetTest, ImplicitTls) {
  ServerConfig cfg = PolicyConfig();
  cfg.tls.implicit = true;
  Running s = Start(cfg);
  TestClient patient;
  ASSERT_TRUE(patient.Connect(s.port).ok());
  ASSERT_TRUE(patient.StartTls().ok());
  EXPECT_EQ(CodeOf(patient.ReadReply()), 220);
  EXPECT_EQ(CodeOf(patient.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(patient.Command("NOOP")), 250);

  TestClient early;
  ASSERT_TRUE(early.Connect(s.port).ok());
  ASSERT_TRUE(early.StartTls().ok());
  ASSERT_TRUE(early.Send("EHLO c.test\r\n").ok());
  EXPECT_EQ(CodeOf(early.ReadReply()), 554);
  EXPECT_EQ(CodeOf(early.ReadReply()), 503);
}

TEST(PregreetTest, ZeroDelayGreetsAtOnce) {
  ServerConfig cfg = PolicyConfig();
  cfg.pregreet_delay = Millis(0);
  Running s = Start(cfg);
  TestClient c;
  ASSERT_TRUE(c.Connect(s.port).ok());
  ASSERT_TRUE(c.Send("EHLO c.test\r\n").ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 220);
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
}

// A stop during the wait: 421 instead of the greeting (RFC 5321 §3.1).
TEST(PregreetTest, ShutdownDuringTheWait) {
  ServerConfig cfg = PolicyConfig();
  cfg.pregreet_delay = std::chrono::seconds(30);
  Running s = Start(cfg);
  TestClient c;
  ASSERT_TRUE(c.Connect(s.port).ok());
  // Registered means waiting: the session starts its read in the same step.
  for (int i = 0; i < 200 && s.server->stats().active_connections == 0; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  ASSERT_EQ(s.server->stats().active_connections, 1u);
  const auto t0 = Clock::now();
  std::thread stopper([&] { s.server->Stop(); });
  auto r = c.ReadReply();
  stopper.join();
  EXPECT_EQ(CodeOf(r), 421) << Describe(r);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
}

// Postfix-style reject_unauth_pipelining: DATA and the text in one write.
TEST(EarlyDataTest, TextInTheDataWriteIs554AndClose) {
  Running s = Start(PolicyConfig());
  TestClient c = Connect(s.port);
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<postmaster@mx.test>")), 250);
  ASSERT_TRUE(c.Send("DATA\r\nSubject: early\r\n\r\nhello\r\n.\r\nQUIT\r\n").ok());
  auto r = c.ReadReply();
  ASSERT_EQ(CodeOf(r), 554) << Describe(r);
  EXPECT_EQ(r->lines[0].substr(0, 5), "5.5.0");
  bool closed = false;
  EXPECT_EQ(c.Drain(Millis(2000), &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_TRUE(s.sink->Messages().empty());
}

// The literal of the address the client connected to is local; others are
// relaying.
TEST(RelayTest, OwnAddressLiteralIsLocal) {
  Running s = Start(PolicyConfig());
  TestClient c = Connect(s.port);
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<postmaster@[127.0.0.1]>")), 250);
  auto foreign = c.Command("RCPT TO:<relay-probe@[192.0.2.1]>");
  EXPECT_EQ(CodeOf(foreign), 550) << Describe(foreign);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<relay-probe@example.net>")), 550);
}

// RFC 4954 §9: AUTH is neither offered nor taken in plaintext; after
// STARTTLS it is, and an authenticated client may relay.
TEST(AuthPolicyTest, AuthAfterStarttls) {
  Running s = Start(PolicyConfig());
  TestClient c = Connect(s.port);
  auto ehlo = c.Command("EHLO c.test");
  ASSERT_EQ(CodeOf(ehlo), 250);
  for (const std::string& l : ehlo->lines) EXPECT_NE(l.substr(0, 5), "AUTH ");
  const std::string plain = "AUTH PLAIN " + sasl::Base64Encode(std::string("\0user\0secret", 12));
  auto refused = c.Command(plain);
  EXPECT_EQ(CodeOf(refused), 538) << Describe(refused);
  EXPECT_EQ(CodeOf(c.Command("AUTH LOGIN")), 538);
  EXPECT_EQ(CodeOf(c.Command("STARTTLS")), 220);
  ASSERT_TRUE(c.StartTls().ok());
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command(plain)), 235);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<anyone@example.net>")), 250);
}

}  // namespace
}  // namespace smtp::server
