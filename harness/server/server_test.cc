#include "harness/server/server.h"

#include <dirent.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/sasl.h"
#include "harness/server/test_client.h"
#include "harness/server/test_util.h"

namespace smtp::server {
namespace {

using testing::Describe;
using testing::Millis;
using testing::TestClient;
using Clock = std::chrono::steady_clock;

// The network tests' defaults, but: y.test is local (the tests mail
// b@y.test), and the greeting comes at once (the pre-greeting wait has its
// own tests in server_policy_test.cc).
ServerConfig TestConfig() {
  ServerConfig c = testing::NetworkTestConfig();
  c.credentials = {{"user", "secret"}};
  c.relay.local_domains.push_back("y.test");
  c.pregreet_delay = Millis(0);
  return c;
}

using Running = testing::TestServer;
using testing::CodeOf;
using testing::Connect;
using testing::OpenTransaction;
using testing::Start;

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "srvXXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

const std::string kWireBody = "Subject: t\r\n\r\n..dot\r\n.\r\n";  // as sent
const std::string kBody = "Subject: t\r\n\r\n.dot\r\n";            // as stored

void SendTransaction(TestClient& c) {
  EXPECT_EQ(CodeOf(c.Command("EHLO client.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<b@y.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
  ASSERT_TRUE(c.Send(kWireBody).ok());
  auto r = c.ReadReply();
  ASSERT_EQ(CodeOf(r), 250) << Describe(r);
  EXPECT_EQ(r->lines[0].substr(0, 20), "2.0.0 Ok: queued as ");
}

TEST(ServerTest, FullTransactionToJsonl) {
  const std::string path = TempDir() + "/mail.jsonl";
  ServerConfig cfg = TestConfig();
  cfg.sink.kind = SinkConfig::Kind::kJsonl;
  cfg.sink.path = path;
  Running s = Start(cfg, /*memory_sink=*/false);
  TestClient c = Connect(s.port);
  SendTransaction(c);
  EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
  bool closed = false;
  EXPECT_EQ(c.Drain(Millis(2000), &closed), "");
  EXPECT_TRUE(closed);
  s.server->Stop();

  std::ifstream in(path);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["size"], kBody.size());
  EXPECT_EQ(j["sha256"], Sha256Hex(kBody));
  EXPECT_EQ(j["envelope"]["mail_from"], "a@x.test");
  EXPECT_EQ(j["envelope"]["helo"], "client.test");
  EXPECT_FALSE(std::getline(in, line));
  EXPECT_EQ(s.server->stats().messages_accepted, 1u);
}

TEST(ServerTest, MaildirHoldsTheUnstuffedBody) {
  const std::string dir = TempDir() + "/Maildir";
  ServerConfig cfg = TestConfig();
  cfg.sink.kind = SinkConfig::Kind::kMaildir;
  cfg.sink.path = dir;
  Running s = Start(cfg, /*memory_sink=*/false);
  TestClient c = Connect(s.port);
  SendTransaction(c);
  s.server->Stop();
  std::vector<std::string> names;
  DIR* d = opendir((dir + "/new").c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  }
  closedir(d);
  ASSERT_EQ(names.size(), 1u);
  std::ifstream f(dir + "/new/" + names[0], std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), kBody);
}

// RFC 2920: everything in one write, the replies come back in order.
TEST(ServerTest, PipelinedCommandsAnsweredInOrder) {
  Running s = Start(TestConfig());
  TestClient c = Connect(s.port);
  ASSERT_TRUE(c.Send("EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"
                     "RCPT TO:<bad@@y>\r\nRCPT TO:<c@y.test>\r\nDATA\r\n")
                  .ok());
  std::vector<std::uint16_t> codes;
  for (int i = 0; i < 6; ++i) codes.push_back(CodeOf(c.ReadReply()));
  EXPECT_EQ(codes, (std::vector<std::uint16_t>{250, 250, 250, 501, 250, 354}));
  ASSERT_TRUE(c.Send("body\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n").ok());
  for (std::uint16_t want : {250, 250, 250, 221}) EXPECT_EQ(CodeOf(c.ReadReply()), want);
  const std::vector<StoredMessage> m = s.sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].info.envelope.rcpt_to, (std::vector<std::string>{"b@y.test", "c@y.test"}));
}

TEST(ServerTest, StarttlsUpgrade) {
  Running s = Start(TestConfig());
  TestClient c = Connect(s.port);
  auto ehlo = c.Command("EHLO c.test");
  ASSERT_EQ(CodeOf(ehlo), 250);
  EXPECT_NE(std::find(ehlo->lines.begin(), ehlo->lines.end(), "STARTTLS"), ehlo->lines.end());
  EXPECT_EQ(CodeOf(c.Command("STARTTLS")), 220);
  ASSERT_TRUE(c.StartTls().ok());
  ehlo = c.Command("EHLO c.test");
  ASSERT_EQ(CodeOf(ehlo), 250);
  EXPECT_EQ(std::find(ehlo->lines.begin(), ehlo->lines.end(), "STARTTLS"), ehlo->lines.end());
  EXPECT_EQ(CodeOf(c.Command("STARTTLS")), 503);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<b@y.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
  EXPECT_EQ(CodeOf(c.Command("secret\r\n.")), 250);
  EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
  const std::vector<StoredMessage> m = s.sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].info.envelope.tls);
  EXPECT_EQ(m[0].info.envelope.protocol, "ESMTPS");
  EXPECT_EQ(s.server->stats().tls_handshakes, 1u);
}

// CVE-2011-0411: commands sent in plaintext after STARTTLS, in the same
// packet, must be discarded, not executed inside the TLS session.
TEST(ServerTest, StarttlsDropsInjectedPlaintext) {
  Running s = Start(TestConfig());
  TestClient c = Connect(s.port);
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  ASSERT_TRUE(c.Send("STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@x.test>\r\n").ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 220);
  ASSERT_TRUE(c.StartTls().ok());
  // Had the injected MAIL run, this RCPT would be accepted.
  auto r = c.Command("RCPT TO:<b@y.test>");
  EXPECT_EQ(CodeOf(r), 503) << Describe(r);
  EXPECT_EQ(CodeOf(c.Command("NOOP")), 250);
  EXPECT_EQ(c.Drain(Millis(200)), "");  // and nothing else was ever answered
}

TEST(ServerTest, ImplicitTls) {
  ServerConfig cfg = TestConfig();
  cfg.tls.implicit = true;
  Running s = Start(cfg);
  TestClient c;
  ASSERT_TRUE(c.Connect(s.port).ok());
  ASSERT_TRUE(c.StartTls().ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 220);
  auto ehlo = c.Command("EHLO c.test");
  ASSERT_EQ(CodeOf(ehlo), 250);
  EXPECT_EQ(std::find(ehlo->lines.begin(), ehlo->lines.end(), "STARTTLS"), ehlo->lines.end());
}

TEST(ServerTest, Auth) {
  ServerConfig cfg = TestConfig();
  cfg.auth_advertise = AuthAdvertise::kAlways;
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("AUTH LOGIN")), 334);
  EXPECT_EQ(CodeOf(c.Command(sasl::Base64Encode("user"))), 334);
  auto bad = c.Command(sasl::Base64Encode("wrong"));
  EXPECT_EQ(CodeOf(bad), 535);
  EXPECT_EQ(bad->lines[0].substr(0, 5), "5.7.8");
  EXPECT_EQ(
      CodeOf(c.Command("AUTH PLAIN " + sasl::Base64Encode(std::string("\0user\0secret", 12)))),
      235);
  EXPECT_EQ(CodeOf(c.Command("AUTH PLAIN")), 503);
}

TEST(ServerTest, LmtpRepliesPerRecipient) {
  ServerConfig cfg = TestConfig();
  cfg.lmtp = true;
  cfg.reject_recipients = {"nobody@y.test"};
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  OpenTransaction(c, "LHLO c.test");
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<nobody@y.test>")), 550);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<c@y.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
  ASSERT_TRUE(c.Send("hi\r\n.\r\n").ok());
  auto first = c.ReadReply();
  auto second = c.ReadReply();
  ASSERT_EQ(CodeOf(first), 250);
  ASSERT_EQ(CodeOf(second), 250);
  EXPECT_NE(first->lines[0].find("<b@y.test>"), std::string::npos);
  EXPECT_NE(second->lines[0].find("<c@y.test>"), std::string::npos);
  EXPECT_EQ(c.Drain(Millis(200)), "");  // exactly two
}

// SMTP smuggling over the wire: a strict server stores one message (or,
// since the whole attack came in one write, refuses the DATA with 554), a
// lenient one ends DATA at <LF>.<LF> and runs the smuggled transaction.
TEST(ServerTest, SmugglingStrictVersusLenient) {
  const std::string attack =
      "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n"
      "legit\n.\nMAIL FROM:<ceo@x.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\n"
      "smuggled\r\n.\r\nQUIT\r\n";
  struct Run {
    Profile profile;
    std::optional<bool> reject_early_data;
    std::size_t stored;
  };
  for (const Run& run : {Run{Profile::kStrict, std::nullopt, 0}, Run{Profile::kStrict, false, 1},
                         Run{Profile::kLenient, std::nullopt, 2}}) {
    ServerConfig cfg = TestConfig();
    cfg.profile = run.profile;
    cfg.reject_early_data = run.reject_early_data;
    Running s = Start(cfg);
    TestClient c = Connect(s.port);
    ASSERT_TRUE(c.Send(attack).ok());
    bool closed = false;
    const std::string out = c.Drain(Millis(3000), &closed);
    EXPECT_TRUE(closed);
    const std::vector<StoredMessage> m = s.sink->Messages();
    ASSERT_EQ(m.size(), run.stored) << out;
    if (run.stored == 0) {
      EXPECT_NE(out.find("\r\n554 5.5.0 "), std::string::npos) << out;
    } else if (run.stored == 1) {
      EXPECT_NE(m[0].body.find("MAIL FROM:<ceo@x.test>"), std::string::npos);
    } else {
      ASSERT_EQ(m.size(), 2u);
      EXPECT_EQ(m[1].info.envelope.mail_from, "ceo@x.test");
      EXPECT_EQ(m[1].info.envelope.rcpt_to, std::vector<std::string>{"victim@y.test"});
    }
  }
}

// Graceful stop: an accepted message survives; open sessions (idle or in
// the middle of DATA) get 421 4.3.2 and are closed; the partial message is
// not stored.
TEST(ServerTest, GracefulShutdown) {
  Running s = Start(TestConfig());
  TestClient idle = Connect(s.port);
  SendTransaction(idle);
  TestClient mid = Connect(s.port);
  OpenTransaction(mid);
  EXPECT_EQ(CodeOf(mid.Command("DATA")), 354);
  ASSERT_TRUE(mid.Send("partial body\r\n").ok());
  std::this_thread::sleep_for(Millis(100));

  const auto t0 = Clock::now();
  std::thread stopper([&] { s.server->Stop(); });
  for (TestClient* c : {&idle, &mid}) {
    auto r = c->ReadReply();
    ASSERT_EQ(CodeOf(r), 421) << Describe(r);
    EXPECT_EQ(r->lines[0], "4.3.2 Service shutting down");
    bool closed = false;
    c->Drain(Millis(2000), &closed);
    EXPECT_TRUE(closed);
  }
  stopper.join();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  const std::vector<StoredMessage> m = s.sink->Messages();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].body, kBody);
  TestClient late;
  EXPECT_FALSE(late.Connect(s.port).ok() && late.ReadReply(Millis(500)).ok());
}

TEST(ServerTest, SlowProfileDelaysEachReply) {
  ServerConfig cfg = TestConfig();
  cfg.profile = Profile::kSlow;
  cfg.slow.reply_delay = Millis(150);
  Running s = Start(cfg);
  const auto t0 = Clock::now();
  TestClient c = Connect(s.port);
  EXPECT_GE(Clock::now() - t0, Millis(140));
  const auto t1 = Clock::now();
  ASSERT_TRUE(c.Send("NOOP\r\nNOOP\r\n").ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  EXPECT_GE(Clock::now() - t1, Millis(290));
}

TEST(ServerTest, FaultyProfileDisconnects) {
  ServerConfig cfg = TestConfig();
  cfg.profile = Profile::kFaulty;
  cfg.faults.points = kFaultMail;
  cfg.faults.temp_fail_rate = 0;
  cfg.faults.disconnect_rate = 1.0;
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  ASSERT_TRUE(c.Send("MAIL FROM:<a@x.test>\r\n").ok());
  bool closed = false;
  EXPECT_EQ(c.Drain(Millis(2000), &closed), "");
  EXPECT_TRUE(closed);
}

TEST(ServerTest, ConnectionLimits) {
  for (const bool per_ip : {false, true}) {
    ServerConfig cfg = TestConfig();
    (per_ip ? cfg.max_connections_per_ip : cfg.max_connections) = 2;
    Running s = Start(cfg);
    TestClient a = Connect(s.port), b = Connect(s.port);
    TestClient over;
    ASSERT_TRUE(over.Connect(s.port).ok());
    auto r = over.ReadReply();
    ASSERT_EQ(CodeOf(r), 421) << Describe(r);
    EXPECT_EQ(r->lines[0], "4.7.0 Too many connections");
    bool closed = false;
    over.Drain(Millis(2000), &closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(s.server->stats().connections_rejected, 1u);
    // A slot that frees up can be used again.
    EXPECT_EQ(CodeOf(a.Command("QUIT")), 221);
    a.Drain(Millis(2000));
    a.Close();
    std::this_thread::sleep_for(Millis(100));
    TestClient again = Connect(s.port);
    EXPECT_EQ(CodeOf(again.Command("NOOP")), 250);
  }
}

TEST(ServerTest, RecentSessionsKeepStateLogs) {
  Running s = Start(TestConfig());
  {
    TestClient c = Connect(s.port);
    EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
    EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
    c.Drain(Millis(2000));
  }
  s.server->Stop();
  const std::vector<SessionRecord> r = s.server->RecentSessions();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].state_log,
            (std::vector<std::string>{"INIT -> READY (EHLO)", "READY -> CLOSED (QUIT)"}));
}

TEST(ServerTest, BindErrors) {
  ServerConfig cfg = TestConfig();
  cfg.listen_address = "not an address";
  Server bad(cfg);
  EXPECT_FALSE(bad.Start().ok());
  Running s = Start(TestConfig());
  ServerConfig same = TestConfig();
  same.port = s.port;
  Server busy(same);
  EXPECT_FALSE(busy.Start().ok());
}

}  // namespace
}  // namespace smtp::server
