#include "harness/run/embedded_target.h"

#include <string>

#include <gtest/gtest.h>

#include "harness/sasl.h"
#include "harness/server/test_client.h"

namespace smtp::run {
namespace {

using server::testing::ConnectAndGreet;
using server::testing::Describe;
using server::testing::TestClient;

// EHLO, STARTTLS, EHLO again, then AUTH PLAIN: the reply code of the AUTH.
int AuthPlain(std::uint16_t port, std::string_view user, std::string_view password) {
  absl::StatusOr<TestClient> c = ConnectAndGreet(port);
  if (!c.ok()) return -1;
  EXPECT_EQ(c->Command("EHLO client.example")->code, 250);
  auto starttls = c->Command("STARTTLS");
  EXPECT_EQ(starttls->code, 220) << Describe(starttls);
  if (!c->StartTls().ok()) return -2;
  auto ehlo = c->Command("EHLO client.example");
  EXPECT_EQ(ehlo->code, 250) << Describe(ehlo);
  bool offers_auth = false;
  for (const std::string& line : ehlo->lines) offers_auth |= line.rfind("AUTH ", 0) == 0;
  EXPECT_TRUE(offers_auth) << Describe(ehlo);
  auto auth = c->Command("AUTH PLAIN " + sasl::Base64Encode(sasl::SerializePlainMessage(
                                             {.authcid = user, .passwd = password})));
  return auth.ok() ? auth->code : -3;
}

TEST(EmbeddedTarget, StartsOnAnEphemeralLoopbackPortAndStops) {
  absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->endpoint.address, "127.0.0.1");
  ASSERT_NE(t->endpoint.port, 0);
  EXPECT_EQ(t->Label(), "embedded:strict@127.0.0.1:" + std::to_string(t->endpoint.port));
  EXPECT_EQ(t->user, "test");
  EXPECT_EQ(t->password, "secret");
  ASSERT_NE(t->deliveries, nullptr);
  {
    absl::StatusOr<TestClient> c = ConnectAndGreet(t->endpoint.port);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->Command("QUIT")->code, 221);
  }
  t->Stop();
  TestClient after;
  EXPECT_FALSE(after.Connect(t->endpoint.port).ok()) << "still listening after Stop()";
  t->Stop();  // idempotent
}

// The main listener greets at once: an EHLO sent right after connect gets
// the 220 and then its 250. The early-talker listener pauses first, so the
// same EHLO is seen early and refused (554), as the early-talker scenarios
// need.
TEST(EmbeddedTarget, GreetsAtOnceAndHasAnEarlyTalkerListener) {
  absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_NE(t->early_talker_server, nullptr);
  ASSERT_NE(t->early_talker_endpoint.port, 0);
  EXPECT_NE(t->early_talker_endpoint.port, t->endpoint.port);
  {
    TestClient c;
    ASSERT_TRUE(c.Connect(t->endpoint.port).ok());
    auto greeting = c.Command("EHLO early.example");
    ASSERT_TRUE(greeting.ok()) << greeting.status();
    EXPECT_EQ(greeting->code, 220) << Describe(greeting);
    auto ehlo = c.ReadReply();
    ASSERT_TRUE(ehlo.ok()) << ehlo.status();
    EXPECT_EQ(ehlo->code, 250) << Describe(ehlo);
  }
  {
    TestClient c;
    ASSERT_TRUE(c.Connect(t->early_talker_endpoint.port).ok());
    auto refused = c.Command("EHLO early.example");
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_EQ(refused->code, 554) << Describe(refused);
  }
  t->Stop();
  TestClient after;
  EXPECT_FALSE(after.Connect(t->early_talker_endpoint.port).ok()) << "still listening after Stop()";
}

TEST(EmbeddedTarget, ServesAuthWithItsCredentials) {
  EmbeddedTargetOptions options;
  options.user = "alice";
  options.password = "s3cret";
  absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget(options);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->password, "s3cret");
  EXPECT_EQ(AuthPlain(t->endpoint.port, "alice", "s3cret"), 235);
  EXPECT_EQ(AuthPlain(t->endpoint.port, "alice", "wrong"), 535);
  EXPECT_EQ(AuthPlain(t->endpoint.port, "test", "secret"), 535);
}

TEST(EmbeddedTarget, DefaultCredentialsAreAccepted) {
  absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(AuthPlain(t->endpoint.port, t->user, t->password), 235);
}

// Every --jobs the runner allows gets a connection: no per-address limit
// (all come from 127.0.0.1), and more than the server's default of 50.
TEST(EmbeddedTarget, TakesManyConnectionsFromOneAddress) {
  absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<TestClient> clients(80);
  for (TestClient& c : clients) ASSERT_TRUE(c.Connect(t->endpoint.port).ok());
  // Greetings come after the pre-greeting delay, all at once.
  for (std::size_t i = 0; i < clients.size(); ++i) {
    auto greeting = clients[i].ReadReply();
    EXPECT_EQ(greeting.ok() ? greeting->code : 0, 220)
        << "connection " << i << ": " << Describe(greeting);
  }
}

}  // namespace
}  // namespace smtp::run
