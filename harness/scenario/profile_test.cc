#include "harness/scenario/profile.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "harness/scenario/test_util.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

std::string Msg(const absl::Status& st) { return Message(st); }

EnvLookup FakeEnv(std::map<std::string, std::string> env) {
  return [env = std::move(env)](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

class ProfileTest : public testing::InTestdata {};

TEST_F(ProfileTest, LoadsFileWithEnvironmentValues) {
  auto p = LoadProfile("profiles/local.json",
                       FakeEnv({{"SMTP_PASSWORD", "hunter2"}, {"SMTP_PORT", "2525"}}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->host, "mx.test");
  EXPECT_EQ(p->port, 2525);
  EXPECT_EQ(p->tls, TlsMode::kImplicit);
  EXPECT_EQ(p->client_domain, "client.test");
  EXPECT_EQ(p->rcpt, "postmaster@mx.test");
  EXPECT_EQ(p->sender, "probe@client.test");
  EXPECT_EQ(p->user, "alice");
  EXPECT_EQ(p->password, "hunter2");
  EXPECT_EQ(p->vars, (std::map<std::string, std::string>{{"api_token", "tok-123"},
                                                         {"rcpt2", "bob@mx.test"}}));
  // port came from the environment with "secret": false; api_token defaulted.
  EXPECT_EQ(p->secret, (std::set<std::string>{"api_token", "password"}));
  EXPECT_EQ(p->ExtraNames(), (std::vector<std::string>{"api_token", "rcpt2"}));

  const Variables v = p->ToVariables();
  EXPECT_EQ(*v.Find("port"), "2525");
  EXPECT_EQ(*v.Find("tls"), "implicit");
  EXPECT_EQ(*v.Find("rcpt2"), "bob@mx.test");
  EXPECT_TRUE(v.IsSecret("password"));
  EXPECT_TRUE(v.IsSecret("api_token"));
  EXPECT_FALSE(v.IsSecret("port"));
  EXPECT_EQ(v.Redact("AUTH alice hunter2 tok-123 2525"), "AUTH alice *** *** 2525");
}

TEST(Profile, DefaultsAndAlwaysSecretPassword) {
  auto p = ParseProfile("p.json", R"({"password": "literal"})", FakeEnv({}));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->host, "127.0.0.1");
  EXPECT_EQ(p->port, 25);
  EXPECT_EQ(p->tls, TlsMode::kNone);
  const Variables v = p->ToVariables();
  EXPECT_EQ(v.Redact("pw=literal"), "pw=***");
  // Every standard name is a variable, so scenarios may use any of them.
  for (const std::string& name : ProfileVariableNames()) EXPECT_NE(v.Find(name), nullptr) << name;
  EXPECT_EQ(TargetProfile().ToVariables().Redact(""), "");
}

struct BadProfile {
  const char* text;
  const char* message;
};

TEST(Profile, Errors) {
  const BadProfile cases[] = {
      {R"({"hots": "x"})", "p.json:1:2: unknown key 'hots' (did you mean 'host'?)"},
      {R"({"port": 0})", "p.json:1:10: 'port' must be between 1 and 65535, got 0"},
      {R"({"port": {"env": "SMTP_PORT"}})",
       "p.json:1:18: port: environment variable SMTP_PORT "
       "is not set"},
      {R"({"port": {"env": "BAD_PORT"}})", "p.json:1:10: 'port' must be 1..65535, got 'x25'"},
      {R"({"tls": "starttls"})",
       "p.json:1:9: 'tls' must be \"none\" or \"implicit\", got 'starttls'"},
      {R"({"password": {"env": "SMTP_PASSWORD"}})",
       "p.json:1:22: password: environment variable SMTP_PASSWORD is not set"},
      {R"({"password": {"env": "X", "secrte": true}})",
       "p.json:1:27: password: unknown key 'secrte' (did you mean 'secret'?)"},
      {R"({"password": {"secret": true}})", "p.json:1:14: password: missing key 'env'"},
      {R"({"user": 7})", "p.json:1:10: 'user' must be a string, got integer"},
      {R"({"vars": {"host": "x"}})",
       "p.json:1:11: vars: 'host' is a standard profile key; set it at the top level"},
      {R"({"vars": {"a-b": "x"}})", "p.json:1:11: vars: bad variable name 'a-b'"},
      {R"({"vars": []})", "p.json:1:10: 'vars' must be an object, got array"},
      {R"([])", "p.json:1:1: the profile must be an object, got array"},
  };
  for (const BadProfile& c : cases) {
    auto p = ParseProfile("p.json", c.text, FakeEnv({{"BAD_PORT", "x25"}}));
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(Msg(p.status()), c.message) << c.text;
  }
}

}  // namespace
}  // namespace smtp::scenario
