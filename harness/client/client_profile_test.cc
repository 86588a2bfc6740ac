#include "harness/client/client_profile.h"

#include <gtest/gtest.h>

namespace smtp::client {
namespace {

TEST(ClientProfileTest, ParsesTheIssueFormat) {
  absl::StatusOr<ClientProfile> p = ParseClientProfile(R"({"name": "swaks",
    "commands": {"plain": "swaks --server {host}:{port} --from {from} --to {to} --data {message}",
                 "auth": "swaks -a {user} {password}"},
    "timeout_ms": 30000, "env": {"A": "{port}"}})",
                                                       "p.json");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->name, "swaks");
  EXPECT_TRUE(p->has(ClientMode::kPlain));
  EXPECT_FALSE(p->has(ClientMode::kStarttls));
  EXPECT_TRUE(p->has(ClientMode::kAuth));
  EXPECT_EQ(p->timeout.count(), 30000);
  ASSERT_EQ(p->env.size(), 1u);
  EXPECT_EQ(p->env[0].first, "A");
  EXPECT_FALSE(p->allow_plaintext_auth);
}

TEST(ClientProfileTest, ErrorsNameTheKey) {
  struct Case {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"commands": {"plain": "x {port}"}})", "p.json:1:1: name: missing"},
      {R"({"name": "a", "commands": {"smtps": "x"}})",
       "p.json:1:37: commands: unknown mode 'smtps'"},
      {R"({"name": "a", "commands": {}})", "at least one mode"},
      {R"({"name": "a", "commands": {"plain": "x {port}"},
 "timeout_ms": 5})",
       "p.json:2:16: timeout_ms"},
      {R"({"name": "a", "commands": {"plain": "x {port}"}, "retries": 1})",
       "unknown key 'retries'"},
      {R"({"name": "a", "commands": {"plain": 3}})", "commands.plain"},
      // The harness listens on a fresh port: a command must be told it.
      {R"({"name": "a", "commands": {"plain": "x {port}", "auth": "swaks --server {host}"}})",
       "p.json:1:57: commands.auth: no {port} placeholder"},
      {R"([1])", "JSON object"},
      {R"({)", "p.json:1:2:"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ClientProfile> p = ParseClientProfile(c.json, "p.json");
    ASSERT_FALSE(p.ok()) << c.json;
    EXPECT_NE(std::string(p.status().message()).find(c.error), std::string::npos)
        << p.status() << " for " << c.json;
    EXPECT_TRUE(std::string(p.status().message()).starts_with("p.json:"));
  }
}

TEST(ClientProfileTest, PortMayComeFromEnv) {
  EXPECT_TRUE(
      ParseClientProfile(
          R"({"name": "a", "commands": {"plain": "client"}, "env": {"SMTP_PORT": "{port}"}})",
          "p.json")
          .ok());
}

TEST(ClientProfileTest, SubstitutesKnownPlaceholdersOnly) {
  Placeholders v;
  v.port = "2525";
  v.message = "/tmp/a b/m.eml";
  v.password = "it's";
  EXPECT_EQ(SubstitutePlaceholders("x {host}:{port} {message} ${HOME} {other} {password}", v),
            "x 127.0.0.1:2525 '/tmp/a b/m.eml' ${HOME} {other} 'it'\\''s'");
  EXPECT_EQ(SubstitutePlaceholders("{password}", v, /*for_shell=*/false), "it's");
  EXPECT_EQ(SubstitutePlaceholders("{unclosed", v), "{unclosed");
  EXPECT_EQ(ShellQuoteIfNeeded(""), "''");
  EXPECT_EQ(ShellQuoteIfNeeded("a@b.c"), "a@b.c");
}

TEST(ClientProfileTest, ModeNamesRoundTrip) {
  for (ClientMode m :
       {ClientMode::kPlain, ClientMode::kStarttls, ClientMode::kRequireTls, ClientMode::kAuth}) {
    EXPECT_EQ(ParseClientMode(ClientModeName(m)), m);
  }
  EXPECT_FALSE(ParseClientMode("tls").has_value());
}

}  // namespace
}  // namespace smtp::client
