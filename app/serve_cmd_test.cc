#include "app/serve_cmd.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "results/absl_compat.h"

ABSL_DECLARE_FLAG(std::string, listen);
ABSL_DECLARE_FLAG(std::string, behavior);
ABSL_DECLARE_FLAG(std::string, sink);
ABSL_DECLARE_FLAG(std::uint64_t, sink_body_limit);
ABSL_DECLARE_FLAG(std::vector<std::string>, users);
ABSL_DECLARE_FLAG(std::string, auth_advertise);
ABSL_DECLARE_FLAG(std::string, fault_points);
ABSL_DECLARE_FLAG(double, fault_temp_rate);
ABSL_DECLARE_FLAG(double, fault_421_rate);
ABSL_DECLARE_FLAG(std::vector<std::string>, disable_extensions);
ABSL_DECLARE_FLAG(std::int64_t, idle_timeout_ms);
ABSL_DECLARE_FLAG(std::vector<std::string>, local_domains);
ABSL_DECLARE_FLAG(bool, open_relay);
ABSL_DECLARE_FLAG(std::int64_t, pregreet_delay_ms);
ABSL_DECLARE_FLAG(std::string, early_data);
ABSL_DECLARE_FLAG(std::uint64_t, max_connections);
ABSL_DECLARE_FLAG(std::uint64_t, max_connections_per_ip);
ABSL_DECLARE_FLAG(bool, starttls);
ABSL_DECLARE_FLAG(bool, implicit_tls);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, port_file);
ABSL_DECLARE_FLAG(bool, verbose);
ABSL_DECLARE_FLAG(bool, planted_abort);

namespace smtp::app {
namespace {

using server::AuthAdvertise;
using server::Profile;
using server::ServerConfig;
using server::SinkConfig;

// The defaults of the flags are the server's own, but for the port.
TEST(ConfigFromFlagsTest, Defaults) {
  absl::FlagSaver saver;
  absl::StatusOr<server::ServeOptions> o = ConfigFromFlags();
  ASSERT_TRUE(o.ok()) << o.status();
  const ServerConfig& c = o->config;
  const ServerConfig d;
  EXPECT_EQ(c.listen_address, "127.0.0.1");
  EXPECT_EQ(c.port, 2525);
  EXPECT_EQ(c.hostname, d.hostname);
  EXPECT_EQ(c.profile, Profile::kStrict);
  EXPECT_FALSE(c.lmtp);
  EXPECT_EQ(c.sink.kind, SinkConfig::Kind::kDiscard);
  EXPECT_EQ(c.sink.body_limit, d.sink.body_limit);
  EXPECT_TRUE(c.tls.enabled);
  EXPECT_FALSE(c.tls.implicit);
  EXPECT_TRUE(c.tls.cert_pem.empty());
  EXPECT_TRUE(c.credentials.empty());
  EXPECT_EQ(c.auth_advertise, AuthAdvertise::kAfterTls);
  EXPECT_FALSE(c.require_tls);
  EXPECT_FALSE(c.require_auth);
  EXPECT_EQ(c.relay.local_domains, d.relay.local_domains);
  EXPECT_FALSE(c.relay.open_relay);
  EXPECT_EQ(c.pregreet_delay, d.pregreet_delay);
  EXPECT_FALSE(c.reject_early_data.has_value());
  EXPECT_TRUE(c.trace_header);
  EXPECT_FALSE(c.refuse_sessions);
  EXPECT_EQ(c.max_message_size, 10u * 1024 * 1024);
  EXPECT_EQ(c.max_recipients, 100u);
  EXPECT_EQ(c.max_errors, 20u);
  // One client address cannot take every connection.
  EXPECT_EQ(c.max_connections_per_ip, 50u);
  EXPECT_EQ(c.max_connections, 1000u);
  EXPECT_EQ(c.idle_timeout, std::chrono::milliseconds(300'000));
  EXPECT_EQ(c.data_timeout, std::chrono::milliseconds(600'000));
  EXPECT_EQ(c.shutdown_grace, std::chrono::milliseconds(5'000));
  EXPECT_EQ(c.slow.reply_delay, std::chrono::milliseconds(1'000));
  EXPECT_EQ(c.faults.seed, d.faults.seed);
  EXPECT_EQ(c.faults.points, static_cast<std::uint32_t>(server::kAllFaultPoints));
  EXPECT_EQ(c.faults.temp_fail_rate, 0.10);
  EXPECT_EQ(c.faults.shutdown_rate, 0.02);
  EXPECT_EQ(c.faults.disconnect_rate, 0.02);
  EXPECT_TRUE(c.extensions.pipelining);
  EXPECT_TRUE(c.extensions.starttls);
  EXPECT_FALSE(c.planted_crash_aborts_process);
  EXPECT_FALSE(c.log_hook);
  EXPECT_EQ(o->port_file, "");
  EXPECT_FALSE(o->verbose);
}

TEST(ConfigFromFlagsTest, Translates) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_listen, "[::1]:0");
  absl::SetFlag(&FLAGS_behavior, "faulty");
  absl::SetFlag(&FLAGS_sink, "jsonl:/tmp/x.jsonl");
  absl::SetFlag(&FLAGS_sink_body_limit, 4096);
  absl::SetFlag(&FLAGS_users, std::vector<std::string>{"alice:pa:ss"});
  absl::SetFlag(&FLAGS_auth_advertise, "always");
  absl::SetFlag(&FLAGS_fault_points, "mail,data_end");
  absl::SetFlag(&FLAGS_disable_extensions, std::vector<std::string>{"chunking", "DSN"});
  absl::SetFlag(&FLAGS_idle_timeout_ms, 1500);
  absl::SetFlag(&FLAGS_local_domains, std::vector<std::string>{"corp.example", "[192.0.2.7]"});
  absl::SetFlag(&FLAGS_open_relay, true);
  absl::SetFlag(&FLAGS_pregreet_delay_ms, 0);
  absl::SetFlag(&FLAGS_early_data, "accept");
  absl::SetFlag(&FLAGS_max_connections_per_ip, 0);
  absl::SetFlag(&FLAGS_starttls, false);
  absl::SetFlag(&FLAGS_implicit_tls, true);
  absl::SetFlag(&FLAGS_port_file, "/tmp/port");
  absl::SetFlag(&FLAGS_verbose, true);
  absl::StatusOr<server::ServeOptions> o = ConfigFromFlags();
  ASSERT_TRUE(o.ok()) << o.status();
  const ServerConfig& c = o->config;
  EXPECT_EQ(c.listen_address, "::1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.profile, Profile::kFaulty);
  EXPECT_EQ(c.sink.kind, SinkConfig::Kind::kJsonl);
  EXPECT_EQ(c.sink.path, "/tmp/x.jsonl");
  EXPECT_EQ(c.sink.body_limit, 4096u);
  ASSERT_EQ(c.credentials.size(), 1u);
  EXPECT_EQ(c.credentials[0].first, "alice");
  EXPECT_EQ(c.credentials[0].second, "pa:ss");
  EXPECT_EQ(c.auth_advertise, AuthAdvertise::kAlways);
  EXPECT_EQ(c.faults.points,
            static_cast<std::uint32_t>(server::kFaultMail | server::kFaultDataEnd));
  EXPECT_FALSE(c.extensions.chunking);
  EXPECT_FALSE(c.extensions.dsn);
  EXPECT_TRUE(c.extensions.pipelining);
  EXPECT_EQ(c.idle_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.relay.local_domains, (std::vector<std::string>{"corp.example", "[192.0.2.7]"}));
  EXPECT_TRUE(c.relay.open_relay);
  EXPECT_EQ(c.pregreet_delay, std::chrono::milliseconds(0));
  EXPECT_EQ(c.reject_early_data, std::optional<bool>(false));
  EXPECT_EQ(c.max_connections_per_ip, 0u);  // no limit
  EXPECT_TRUE(c.tls.enabled);               // implicit TLS is TLS
  EXPECT_TRUE(c.tls.implicit);
  EXPECT_EQ(o->port_file, "/tmp/port");
  EXPECT_TRUE(o->verbose);
}

// The fuzzer's demonstration target: --behavior planted, and --planted_abort
// for a spawned server that must die by a signal.
TEST(ConfigFromFlagsTest, Planted) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_behavior, "planted");
  absl::SetFlag(&FLAGS_planted_abort, true);
  absl::StatusOr<server::ServeOptions> o = ConfigFromFlags();
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->config.profile, Profile::kPlanted);
  EXPECT_TRUE(o->config.planted_crash_aborts_process);
}

TEST(ConfigFromFlagsTest, RejectsBadFlags) {
  const std::vector<std::pair<std::function<void()>, std::string>> bad = {
      {[] { absl::SetFlag(&FLAGS_listen, "::1:25"); }, "--listen: "},
      {[] { absl::SetFlag(&FLAGS_listen, "host:99999"); }, "--listen: "},
      {[] { absl::SetFlag(&FLAGS_behavior, "chaotic"); }, "--behavior: "},
      {[] { absl::SetFlag(&FLAGS_sink, "maildir:"); }, "--sink: "},
      {[] { absl::SetFlag(&FLAGS_users, std::vector<std::string>{"nopassword"}); }, "--users: "},
      {[] { absl::SetFlag(&FLAGS_auth_advertise, "sometimes"); }, "--auth_advertise: "},
      {[] { absl::SetFlag(&FLAGS_fault_points, "mail,bogus"); }, "--fault_points: "},
      {[] {
         absl::SetFlag(&FLAGS_fault_temp_rate, 0.8), absl::SetFlag(&FLAGS_fault_421_rate, 0.3);
       },
       "--fault_*_rate: "},
      {[] { absl::SetFlag(&FLAGS_disable_extensions, std::vector<std::string>{"XCLIENT"}); },
       "--disable_extensions: "},
      {[] { absl::SetFlag(&FLAGS_idle_timeout_ms, 0); }, "--idle_timeout_ms: "},
      {[] { absl::SetFlag(&FLAGS_max_connections, 0); }, "--max_connections: "},
      {[] { absl::SetFlag(&FLAGS_tls_cert_file, "/x.pem"); }, "--tls_cert_file: "},
      {[] {
         absl::SetFlag(&FLAGS_local_domains, std::vector<std::string>{"ok.example", ""});
       },
       "--local_domains: "},
      {[] { absl::SetFlag(&FLAGS_pregreet_delay_ms, -1); }, "--pregreet_delay_ms: "},
      {[] { absl::SetFlag(&FLAGS_early_data, "maybe"); }, "--early_data: "},
  };
  for (const auto& [set, prefix] : bad) {
    absl::FlagSaver saver;
    set();
    absl::StatusOr<server::ServeOptions> o = ConfigFromFlags();
    ASSERT_FALSE(o.ok()) << prefix;
    EXPECT_EQ(Message(o.status()).substr(0, prefix.size()), prefix) << o.status();
  }
}

}  // namespace
}  // namespace smtp::app
