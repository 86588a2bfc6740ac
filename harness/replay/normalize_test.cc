#include "harness/replay/normalize.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace smtp::replay {
namespace {

TEST(Normalizer, BuiltinRulesHideWhatDiffersBetweenSessions) {
  const Normalizer n;
  EXPECT_EQ(n.Apply("2.0.0 Ok: queued as 4Rq1Tq6Bf2z9vJ"), "2.0.0 Ok: queued as <queue-id>");
  EXPECT_EQ(n.Apply("mx ESMTP ready Thu, 3 Dec 2026 22:40:05 +0000 (UTC)"),
            "mx ESMTP ready <date>");
  EXPECT_EQ(n.Apply("at 2026-12-03T22:40:05.123Z now"), "at <date> now");
  EXPECT_EQ(n.Apply("Hello [127.0.0.1] and [IPv6:::1]"), "Hello <ip> and <ip>");
  EXPECT_EQ(n.Apply("2.0.0 a1b2c3d4e5 Message accepted"), "2.0.0 <id> Message accepted");
  EXPECT_EQ(n.Apply("session dGhpcyBpcyBhIHNlc3Npb24gaWQ="), "session <id>");
  // What must still differ does.
  EXPECT_EQ(n.Apply("5.1.1 <nobody@example.org>: Recipient address rejected"),
            "5.1.1 <nobody@example.org>: Recipient address rejected");
  EXPECT_EQ(n.Apply("SIZE 10240000"), "SIZE 10240000");
}

TEST(Normalizer, NamesAreReplacedBeforeTheRules) {
  const Normalizer n;
  EXPECT_EQ(n.Apply("mx1.example.org ESMTP Postfix", {{"mx1.example.org", "<server-host>"}}),
            "<server-host> ESMTP Postfix");
}

class RulesFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = (std::filesystem::path(::testing::TempDir()) / "rules.json").string();
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(RulesFileTest, UserRulesExtendOrReplaceTheBuiltinOnes) {
  auto extended = Normalizer::FromFile(
      Write(R"({"rules": [{"name": "pid", "pattern": "\\[([0-9]+)\\]", "replace": "[<pid>]"}]})"));
  ASSERT_TRUE(extended.ok()) << extended.status();
  EXPECT_EQ(extended->rules().size(), BuiltinRules().size() + 1);
  EXPECT_EQ(extended->Apply("smtpd[4242] queued as ABCDEF1234"),
            "smtpd[<pid>] queued as <queue-id>");
  auto only = Normalizer::FromFile(
      Write(R"({"builtin": false, "rules": [{"pattern": "x+", "replace": "x"}]})"));
  ASSERT_TRUE(only.ok()) << only.status();
  EXPECT_EQ(only->Apply("xxx queued as ABCDEF1234"), "x queued as ABCDEF1234");
}

TEST_F(RulesFileTest, BadFilesSayWhereAndWhy) {
  auto bad_regex = Normalizer::FromFile(Write(
      R"j({"rules": [{"name": "ok", "pattern": "a"}, {"name": "br", "pattern": "(a\\1)"}]})j"));
  ASSERT_FALSE(bad_regex.ok());
  EXPECT_NE(bad_regex.status().message().find("rules.json: rules[1] (\"br\"): bad regex"),
            std::string::npos)
      << bad_regex.status();
  auto bad_group =
      Normalizer::FromFile(Write(R"({"rules": [{"pattern": "a", "replace": "\\2"}]})"));
  ASSERT_FALSE(bad_group.ok());
  EXPECT_NE(bad_group.status().message().find("names group \\2"), std::string::npos)
      << bad_group.status();
  auto syntax = Normalizer::FromFile(Write("{\"rules\": [\n  {\"pattern\": }]}"));
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("parse error at line 2"), std::string::npos)
      << syntax.status();
  auto unknown = Normalizer::FromFile(Write(R"({"rulez": []})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown key \"rulez\""), std::string::npos);
  EXPECT_FALSE(Normalizer::FromFile("/nonexistent/rules.json").ok());
}

}  // namespace
}  // namespace smtp::replay
