#include "harness/server/serve_main.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "harness/server/test_client.h"

namespace smtp::server {
namespace {

TEST(ConfigFromFlagsTest, Defaults) {
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(ServeFlags{});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_EQ(c->port, 2525);
  EXPECT_EQ(c->profile, Profile::kStrict);
  EXPECT_EQ(c->sink.kind, SinkConfig::Kind::kDiscard);
  EXPECT_TRUE(c->tls.enabled);
  EXPECT_TRUE(c->credentials.empty());
  // The site policy of ServerConfig, unchanged by the flags' defaults.
  const ServerConfig defaults;
  EXPECT_EQ(c->auth_advertise, AuthAdvertise::kAfterTls);
  EXPECT_EQ(c->relay.local_domains, defaults.relay.local_domains);
  EXPECT_FALSE(c->relay.open_relay);
  EXPECT_EQ(c->pregreet_delay, defaults.pregreet_delay);
  EXPECT_FALSE(c->reject_early_data.has_value());
  // One client address cannot take every connection.
  EXPECT_EQ(c->max_connections_per_ip, 50u);
  EXPECT_EQ(c->max_connections, 1000u);
}

TEST(ConfigFromFlagsTest, Translates) {
  ServeFlags f;
  f.listen = "[::1]:0";
  f.profile = "faulty";
  f.sink = "jsonl:/tmp/x.jsonl";
  f.users = {"alice:pa:ss"};
  f.auth_advertise = "tls";
  f.fault_points = "mail,data_end";
  f.disable_extensions = {"chunking", "DSN"};
  f.idle_timeout_ms = 1500;
  f.local_domains = {"corp.example", "[192.0.2.7]"};
  f.open_relay = true;
  f.pregreet_delay_ms = 0;
  f.early_data = "accept";
  f.max_connections_per_ip = 0;
  absl::StatusOr<ServerConfig> c = ConfigFromFlags(f);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_address, "::1");
  EXPECT_EQ(c->port, 0);
  EXPECT_EQ(c->profile, Profile::kFaulty);
  EXPECT_EQ(c->sink.kind, SinkConfig::Kind::kJsonl);
  EXPECT_EQ(c->sink.path, "/tmp/x.jsonl");
  ASSERT_EQ(c->credentials.size(), 1u);
  EXPECT_EQ(c->credentials[0].first, "alice");
  EXPECT_EQ(c->credentials[0].second, "pa:ss");
  EXPECT_EQ(c->auth_advertise, AuthAdvertise::kAfterTls);
  EXPECT_EQ(c->faults.points, static_cast<std::uint32_t>(kFaultMail | kFaultDataEnd));
  EXPECT_FALSE(c->extensions.chunking);
  EXPECT_FALSE(c->extensions.dsn);
  EXPECT_TRUE(c->extensions.pipelining);
  EXPECT_EQ(c->idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c->relay.local_domains, (std::vector<std::string>{"corp.example", "[192.0.2.7]"}));
  EXPECT_TRUE(c->relay.open_relay);
  EXPECT_EQ(c->pregreet_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(c->reject_early_data, std::optional<bool>(false));
  EXPECT_EQ(c->max_connections_per_ip, 0u);  // no limit
  f.early_data = "reject";
  f.auth_advertise = "always";
  c = ConfigFromFlags(f);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->reject_early_data, std::optional<bool>(true));
  EXPECT_EQ(c->auth_advertise, AuthAdvertise::kAlways);
}

TEST(ConfigFromFlagsTest, ListenForms) {
  const struct {
    const char* spec;
    const char* host;
    int port;
  } kCases[] = {
      {"2526", "127.0.0.1", 2526}, {":25", "127.0.0.1", 25},        {"0.0.0.0:587", "0.0.0.0", 587},
      {"[::]:24", "::", 24},       {"localhost:0", "localhost", 0},
  };
  for (const auto& k : kCases) {
    ServeFlags f;
    f.listen = k.spec;
    absl::StatusOr<ServerConfig> c = ConfigFromFlags(f);
    ASSERT_TRUE(c.ok()) << k.spec << ": " << c.status();
    EXPECT_EQ(c->listen_address, k.host) << k.spec;
    EXPECT_EQ(c->port, k.port) << k.spec;
  }
}

TEST(ConfigFromFlagsTest, RejectsBadFlags) {
  const std::vector<std::function<void(ServeFlags&)>> bad = {
      [](ServeFlags& f) { f.listen = "::1:25"; },
      [](ServeFlags& f) { f.listen = "host:99999"; },
      [](ServeFlags& f) { f.listen = "host:"; },
      [](ServeFlags& f) { f.profile = "chaotic"; },
      [](ServeFlags& f) { f.sink = "mbox:/x"; },
      [](ServeFlags& f) { f.sink = "maildir:"; },
      [](ServeFlags& f) { f.users = {"nopassword"}; },
      [](ServeFlags& f) { f.auth_advertise = "sometimes"; },
      [](ServeFlags& f) { f.fault_points = "mail,bogus"; },
      [](ServeFlags& f) { f.fault_temp_rate = 0.8, f.fault_421_rate = 0.3; },
      [](ServeFlags& f) { f.disable_extensions = {"XCLIENT"}; },
      [](ServeFlags& f) { f.idle_timeout_ms = 0; },
      [](ServeFlags& f) { f.tls_cert_file = "/x.pem"; },
      [](ServeFlags& f) {
        f.local_domains = {"ok.example", ""};
      },
      [](ServeFlags& f) { f.pregreet_delay_ms = -1; },
      [](ServeFlags& f) { f.early_data = "maybe"; },
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    ServeFlags f;
    bad[i](f);
    absl::StatusOr<ServerConfig> c = ConfigFromFlags(f);
    EXPECT_FALSE(c.ok()) << "case " << i;
    if (!c.ok()) {
      EXPECT_EQ(c.status().message().substr(0, 2), "--") << c.status();
    }
  }
  ServeFlags f;
  f.profile = "chaotic";
  std::FILE* devnull = std::fopen("/dev/null", "w");
  EXPECT_EQ(RunServeMain(f, devnull, devnull), 2);
  std::fclose(devnull);
}

// The whole entry point: listen on an ephemeral port, report it in the port
// file, serve, and stop cleanly on SIGTERM.
TEST(RunServeMainTest, ServesUntilSigterm) {
  std::string dir = ::testing::TempDir() + "serveXXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ServeFlags f;
  f.listen = "127.0.0.1:0";
  f.port_file = dir + "/port";
  std::FILE* out = std::fopen((dir + "/out").c_str(), "w+");
  int status = -1;
  std::thread main([&] { status = RunServeMain(f, out, out); });
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream pf(f.port_file);
    pf >> port;
  }
  ASSERT_GT(port, 0);
  {
    testing::TestClient c;
    ASSERT_TRUE(c.Connect(static_cast<std::uint16_t>(port)).ok());
    auto greeting = c.ReadReply();  // the loop runs: SIGTERM is handled now
    ASSERT_TRUE(greeting.ok());
    EXPECT_EQ(greeting->code, 220);
    EXPECT_EQ(c.Command("QUIT")->code, 221);
  }
  kill(getpid(), SIGTERM);
  main.join();
  EXPECT_EQ(status, 0);
  std::rewind(out);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, out), nullptr);
  EXPECT_EQ(std::string(line).rfind("smtp-harness serve: listening on 127.0.0.1:", 0), 0u) << line;
  std::fclose(out);
}

}  // namespace
}  // namespace smtp::server
