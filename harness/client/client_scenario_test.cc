#include "harness/client/client_scenario.h"

#include <gtest/gtest.h>

namespace smtp::client {
namespace {

constexpr const char* kScenario = R"({
  "role": "client", "id": "client.t", "title": "t", "level": "MUST",
  "rfc": {"document": "RFC 5321", "section": "4.5.2"}, "tags": ["dot-stuffing"],
  "mode": "starttls", "message": "a\r\n.b\r\n",
  "server": {"extensions": ["PIPELINING"], "reply_lines": 2,
             "replies": {"RCPT": [550, "250 ok"], "DATA_END": {"lines": ["250-a", "250 b"], "delay_ms": 5}}},
  "expect": {"exit": "failure", "message": "none", "must_not_send": ["DATA"], "within_ms": 100},
  "timeout_ms": 2000})";

TEST(ClientScenarioTest, ParsesEveryPart) {
  absl::StatusOr<ClientScenario> s = ParseClientScenario(kScenario, "a.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->id, "client.t");
  EXPECT_EQ(s->mode, ClientMode::kStarttls);
  EXPECT_EQ(s->message, "a\r\n.b\r\n");
  ASSERT_EQ(s->server.replies.at("RCPT").size(), 2u);
  EXPECT_EQ(s->server.replies.at("RCPT")[0].bytes, "550 harness reply\r\n");
  EXPECT_EQ(s->server.replies.at("RCPT")[1].bytes, "250 ok\r\n");
  EXPECT_EQ(s->server.replies.at("DATA_END")[0].bytes, "250-a\r\n250 b\r\n");
  EXPECT_EQ(s->server.replies.at("DATA_END")[0].delay.count(), 5);
  EXPECT_EQ(s->server.reply_lines, 2);
  EXPECT_EQ(s->expect.exit, ClientExpect::Exit::kFailure);
  EXPECT_EQ(s->expect.message, ClientExpect::Message::kNone);
  EXPECT_EQ(s->expect.within->count(), 100);
  EXPECT_EQ(s->timeout->count(), 2000);
}

TEST(ClientScenarioTest, ErrorsPointAtTheValue) {
  struct Case {
    std::string json, error;
  } cases[] = {
      {R"({"id": "x", "title": "t", "level": "MUST", "rfc": {"document": "a", "section": "1"}})",
       "a.json:1:1: \"role\": \"client\" is required"},
      {R"({"role": "client", "id": "x", "title": "t", "level": "MUST",
 "rfc": {"document": "a", "section": "1"}, "mode": "smtps"})",
       "a.json:2:52: plain, starttls"},
      {R"({"role": "client", "id": "x", "title": "t", "level": "MUST",
 "rfc": {"document": "a", "section": "1"}, "server": {"replies": {"XYZ": 250}}})",
       "unknown command 'XYZ'"},
      {R"({"role": "client", "id": "x", "title": "t", "level": "MUST",
 "rfc": {"document": "a", "section": "1"}, "server": {"replies": {"MAIL": {"count": 3}}}})",
       "need \"code\""},
      {R"({"role": "client", "id": "x", "title": "t", "level": "MUST",
 "rfc": {"document": "a", "section": "1"}, "message": "\\q"})",
       "bad byte escape"},
      {R"({"role": "client", "id": "x", "title": "t", "level": "MUST"})", "missing \"rfc\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ClientScenario> s = ParseClientScenario(c.json, "a.json");
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_NE(std::string(s.status().message()).find(c.error), std::string::npos)
        << s.status() << " wanted " << c.error;
  }
}

TEST(ClientScenarioTest, GeneratedReplies) {
  absl::StatusOr<ReplySpec> r =
      ParseReplySpec(R"({"code": 250, "count": 300, "line_length": 600, "chunk": 7})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->bytes.size(), 300u * 600u);
  EXPECT_EQ(r->code(), 250);
  EXPECT_EQ(r->chunk, 7u);
  EXPECT_TRUE(r->bytes.starts_with("250-generated line 1 xxx"));
  EXPECT_NE(r->bytes.find("\r\n250 generated line 300 "), std::string::npos);
  EXPECT_FALSE(ParseReplySpec(R"({"stall": true, "close": true})").ok());
  EXPECT_TRUE(ParseReplySpec(R"({"stall": true})")->stall);
}

TEST(ClientScenarioTest, TheShippedSuiteLoads) {
  absl::StatusOr<std::vector<ClientScenario>> suite =
      LoadClientSuite({std::string(SMTP_SOURCE_DIR) + "/scenarios/client"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_GE(suite->size(), 40u);
  for (const char* tag : {"dot-stuffing", "multiline", "reply-length", "starttls-injection",
                          "downgrade", "timeouts"}) {
    bool found = false;
    for (const ClientScenario& s : *suite) {
      for (const std::string& t : s.tags) found = found || t == tag;
    }
    EXPECT_TRUE(found) << tag;
  }
  for (const ClientScenario& s : *suite) {
    EXPECT_FALSE(s.rfc_section.empty()) << s.id;
    EXPECT_TRUE(s.file.ends_with(".json")) << s.file;
  }
}

}  // namespace
}  // namespace smtp::client
