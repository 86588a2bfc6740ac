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

TEST(ServeMainFlags, ListenForms) {
  const struct {
    const char* spec;
    const char* host;
    int port;
  } kCases[] = {
      {"2526", "127.0.0.1", 2526}, {":25", "127.0.0.1", 25},        {"0.0.0.0:587", "0.0.0.0", 587},
      {"[::]:24", "::", 24},       {"localhost:0", "localhost", 0}, {"[::1]:0", "::1", 0},
  };
  for (const auto& k : kCases) {
    ServerConfig c;
    absl::Status s = ParseListenFlag(k.spec, &c);
    ASSERT_TRUE(s.ok()) << k.spec << ": " << s;
    EXPECT_EQ(c.listen_address, k.host) << k.spec;
    EXPECT_EQ(c.port, k.port) << k.spec;
  }
}

TEST(ServeMainFlags, Translates) {
  ServerConfig c;
  ASSERT_TRUE(ParseBehaviorFlag("faulty", &c).ok());
  EXPECT_EQ(c.profile, Profile::kFaulty);
  ASSERT_TRUE(ParseSinkFlag("jsonl:/tmp/x.jsonl", &c).ok());
  EXPECT_EQ(c.sink.kind, SinkConfig::Kind::kJsonl);
  EXPECT_EQ(c.sink.path, "/tmp/x.jsonl");
  ASSERT_TRUE(ParseSinkFlag("maildir:/tmp/md", &c).ok());
  EXPECT_EQ(c.sink.kind, SinkConfig::Kind::kMaildir);
  EXPECT_EQ(c.sink.path, "/tmp/md");
  ASSERT_TRUE(ParseUsersFlag({"alice:pa:ss", "bob:"}, &c).ok());
  ASSERT_EQ(c.credentials.size(), 2u);
  EXPECT_EQ(c.credentials[0].first, "alice");
  EXPECT_EQ(c.credentials[0].second, "pa:ss");
  EXPECT_EQ(c.credentials[1].first, "bob");
  EXPECT_EQ(c.credentials[1].second, "");
  ASSERT_TRUE(ParseFaultPointsFlag("mail,data_end", &c).ok());
  EXPECT_EQ(c.faults.points, static_cast<std::uint32_t>(kFaultMail | kFaultDataEnd));
  ASSERT_TRUE(ParseDisableExtensionsFlag({"chunking", "DSN"}, &c).ok());
  EXPECT_FALSE(c.extensions.chunking);
  EXPECT_FALSE(c.extensions.dsn);
  EXPECT_TRUE(c.extensions.pipelining);
  ASSERT_TRUE(ParseEarlyDataFlag("accept", &c).ok());
  EXPECT_EQ(c.reject_early_data, std::optional<bool>(false));
  ASSERT_TRUE(ParseEarlyDataFlag("reject", &c).ok());
  EXPECT_EQ(c.reject_early_data, std::optional<bool>(true));
  ASSERT_TRUE(ParseEarlyDataFlag("profile", &c).ok());
  EXPECT_EQ(c.reject_early_data, std::nullopt);
  ASSERT_TRUE(ParseAuthAdvertiseFlag("always", &c).ok());
  EXPECT_EQ(c.auth_advertise, AuthAdvertise::kAlways);
  ASSERT_TRUE(ParseAuthAdvertiseFlag("never", &c).ok());
  EXPECT_EQ(c.auth_advertise, AuthAdvertise::kNever);
  ASSERT_TRUE(ParseTlsFileFlags("", "", &c).ok());
  EXPECT_TRUE(c.tls.cert_pem.empty());
}

TEST(ServeMainFlags, TlsFilesAreRead) {
  std::string dir = ::testing::TempDir() + "tlsfilesXXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::ofstream(dir + "/cert.pem") << "CERT";
  std::ofstream(dir + "/key.pem") << "KEY";
  ServerConfig c;
  ASSERT_TRUE(ParseTlsFileFlags(dir + "/cert.pem", dir + "/key.pem", &c).ok());
  EXPECT_EQ(c.tls.cert_pem, "CERT");
  EXPECT_EQ(c.tls.key_pem, "KEY");
  EXPECT_EQ(ParseTlsFileFlags(dir + "/cert.pem", dir + "/none.pem", &c).message(),
            "--tls_key_file: cannot read " + dir + "/none.pem");
}

// Each flag form of a default parses back to it.
TEST(ServeMainFlags, FlagFormsRoundTrip) {
  for (const SinkConfig::Kind kind :
       {SinkConfig::Kind::kDiscard, SinkConfig::Kind::kMaildir, SinkConfig::Kind::kJsonl}) {
    ServerConfig want;
    want.sink.kind = kind;
    if (kind != SinkConfig::Kind::kDiscard) want.sink.path = "/var/x";
    ServerConfig got;
    ASSERT_TRUE(ParseSinkFlag(SinkFlag(want.sink), &got).ok()) << SinkFlag(want.sink);
    EXPECT_EQ(got.sink.kind, want.sink.kind);
    EXPECT_EQ(got.sink.path, want.sink.path);
  }
  EXPECT_EQ(SinkFlag(SinkConfig{}), "discard");
  for (const std::uint32_t points :
       {static_cast<std::uint32_t>(kAllFaultPoints), static_cast<std::uint32_t>(kFaultGreeting),
        static_cast<std::uint32_t>(kFaultMail | kFaultOther)}) {
    ServerConfig got;
    ASSERT_TRUE(ParseFaultPointsFlag(FaultPointsFlag(points), &got).ok());
    EXPECT_EQ(got.faults.points, points) << FaultPointsFlag(points);
  }
  EXPECT_EQ(FaultPointsFlag(kAllFaultPoints), "all");
  EXPECT_EQ(FaultPointsFlag(kFaultMail | kFaultOther), "mail,other");
  for (const AuthAdvertise a :
       {AuthAdvertise::kAlways, AuthAdvertise::kAfterTls, AuthAdvertise::kNever}) {
    ServerConfig got;
    ASSERT_TRUE(ParseAuthAdvertiseFlag(AuthAdvertiseFlag(a), &got).ok());
    EXPECT_EQ(got.auth_advertise, a);
  }
  EXPECT_EQ(AuthAdvertiseFlag(AuthAdvertise::kAfterTls), "tls");
  for (const std::optional<bool> e :
       {std::optional<bool>(), std::optional<bool>(true), std::optional<bool>(false)}) {
    ServerConfig got;
    got.reject_early_data = !e.value_or(false);  // not already the answer
    ASSERT_TRUE(ParseEarlyDataFlag(EarlyDataFlag(e), &got).ok());
    EXPECT_EQ(got.reject_early_data, e);
  }
  EXPECT_EQ(EarlyDataFlag(std::nullopt), "profile");
}

TEST(ServeMainFlags, RejectsBadValuesNamingTheFlag) {
  const struct {
    std::function<absl::Status(ServerConfig&)> parse;
    const char* message;
  } kCases[] = {
      {[](ServerConfig& c) { return ParseListenFlag("::1:25", &c); },
       "--listen: IPv6 addresses need brackets"},
      {[](ServerConfig& c) { return ParseListenFlag("host:99999", &c); },
       "--listen: bad port '99999'"},
      {[](ServerConfig& c) { return ParseListenFlag("host:", &c); }, "--listen: bad port ''"},
      {[](ServerConfig& c) { return ParseListenFlag("[::1]25", &c); },
       "--listen: expected [ADDRESS]:PORT"},
      {[](ServerConfig& c) { return ParseBehaviorFlag("chaotic", &c); },
       "--behavior: expected strict, lenient, slow, faulty or planted"},
      {[](ServerConfig& c) { return ParseSinkFlag("mbox:/x", &c); },
       "--sink: expected discard, maildir:DIR or jsonl:FILE"},
      {[](ServerConfig& c) { return ParseSinkFlag("maildir:", &c); },
       "--sink: expected discard, maildir:DIR or jsonl:FILE"},
      {[](ServerConfig& c) { return ParseUsersFlag({"nopassword"}, &c); },
       "--users: expected USER:PASSWORD"},
      {[](ServerConfig& c) { return ParseUsersFlag({":pw"}, &c); },
       "--users: expected USER:PASSWORD"},
      {[](ServerConfig& c) { return ParseAuthAdvertiseFlag("sometimes", &c); },
       "--auth_advertise: expected always, tls or never"},
      {[](ServerConfig& c) { return ParseFaultPointsFlag("mail,bogus", &c); },
       "--fault_points: unknown point 'bogus'"},
      {[](ServerConfig& c) { return ParseFaultPointsFlag("", &c); },
       "--fault_points: unknown point ''"},
      {[](ServerConfig& c) { return ParseDisableExtensionsFlag({"XCLIENT"}, &c); },
       "--disable_extensions: unknown extension 'XCLIENT'"},
      {[](ServerConfig& c) { return ParseTlsFileFlags("/x.pem", "", &c); },
       "--tls_cert_file: --tls_cert_file and --tls_key_file go together"},
      {[](ServerConfig& c) { return ParseTlsFileFlags("/nonexistent.pem", "/k.pem", &c); },
       "--tls_cert_file: cannot read /nonexistent.pem"},
      {[](ServerConfig& c) { return ParseEarlyDataFlag("maybe", &c); },
       "--early_data: expected profile, reject or accept"},
  };
  for (const auto& k : kCases) {
    ServerConfig c;
    EXPECT_EQ(k.parse(c).message(), k.message);
  }
}

TEST(ServeMainCheck, CheckServeConfig) {
  EXPECT_TRUE(CheckServeConfig(ServerConfig{}).ok());
  const struct {
    std::function<void(ServerConfig&)> change;
    const char* message;  // "" for accepted
  } kCases[] = {
      {[](ServerConfig& c) { c.max_connections = 0; }, "--max_connections: must be at least 1"},
      {[](ServerConfig& c) { c.max_connections_per_ip = 0; }, ""},  // no limit
      {[](ServerConfig& c) { c.idle_timeout = std::chrono::milliseconds(0); },
       "--idle_timeout_ms: must be positive"},
      {[](ServerConfig& c) { c.data_timeout = std::chrono::milliseconds(-1); },
       "--data_timeout_ms: must be positive"},
      {[](ServerConfig& c) { c.shutdown_grace = std::chrono::milliseconds(-1); },
       "--shutdown_grace_ms: must not be negative"},
      {[](ServerConfig& c) { c.shutdown_grace = std::chrono::milliseconds(0); }, ""},
      {[](ServerConfig& c) { c.slow.reply_delay = std::chrono::milliseconds(-1); },
       "--slow_delay_ms: must not be negative"},
      {[](ServerConfig& c) { c.faults.temp_fail_rate = 1.5; },
       "--fault_*_rate: rates are in [0, 1]"},
      {[](ServerConfig& c) { c.faults.disconnect_rate = -0.1; },
       "--fault_*_rate: rates are in [0, 1]"},
      {[](ServerConfig& c) { c.faults.temp_fail_rate = 0.8, c.faults.shutdown_rate = 0.3; },
       "--fault_*_rate: rates add up to more than 1"},
      {[](ServerConfig& c) {
         c.relay.local_domains = {"ok.example", ""};
       },
       "--local_domains: empty domain"},
      {[](ServerConfig& c) { c.pregreet_delay = std::chrono::milliseconds(-1); },
       "--pregreet_delay_ms: must not be negative"},
      {[](ServerConfig& c) { c.pregreet_delay = std::chrono::milliseconds(0); }, ""},
  };
  for (const auto& k : kCases) {
    ServerConfig c;
    k.change(c);
    EXPECT_EQ(CheckServeConfig(c).message(), k.message);
  }
}

TEST(RunServeMainTest, BadConfigurationIsExitStatus2) {
  ServeOptions o;
  o.config.max_connections = 0;
  std::FILE* devnull = std::fopen("/dev/null", "w");
  EXPECT_EQ(RunServeMain(o, devnull, devnull), 2);
  std::fclose(devnull);
}

// The whole entry point: listen on an ephemeral port, report it in the port
// file, serve, and stop cleanly on SIGTERM.
TEST(RunServeMainTest, ServesUntilSigterm) {
  std::string dir = ::testing::TempDir() + "serveXXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ServeOptions o;
  o.config.port = 0;
  o.port_file = dir + "/port";
  std::FILE* out = std::fopen((dir + "/out").c_str(), "w+");
  int status = -1;
  std::thread main([&] { status = RunServeMain(o, out, out); });
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream pf(o.port_file);
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
  EXPECT_NE(std::string(line).find(" (profile strict, sink discard)"), std::string::npos) << line;
  std::fclose(out);
}

}  // namespace
}  // namespace smtp::server
