#include "harness/replay/to_scenario.h"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gtest/gtest.h"
#include "harness/replay/test_util.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_loader.h"
#include "results/absl_compat.h"

namespace smtp::replay {
namespace {

using harness::EntryKind;
using testing::Record;

struct Loaded {
  ConvertedScenario converted;
  nlohmann::json json;
  scenario::Scenario scenario;
  std::string types;  // the loaded step types, "connect expect send ..."
};

// Converts, then loads the written text with the scenario loader: every
// scenario `convert` writes must load.
Loaded Convert(Record& r, std::string name = "rec/s1.json") {
  r.t.meta().source = "recorded";
  r.t.meta().client = "127.0.0.1:40000";
  r.t.meta().server = "127.0.0.1:2525";
  r.t.meta().started_at = "2026-12-03T22:40:00.000000Z";
  absl::StatusOr<ConvertedScenario> c = ToScenario({name, r.t});
  EXPECT_TRUE(c.ok()) << Message(c.status());
  if (!c.ok()) return {};
  Loaded out{*c, nlohmann::json::parse(c->json), {}, {}};
  absl::StatusOr<scenario::Scenario> s =
      scenario::LoadScenarioText("out/" + c->id + ".json", c->json);
  EXPECT_TRUE(s.ok()) << Message(s.status()) << "\n" << c->json;
  if (!s.ok()) return out;
  out.scenario = *s;
  for (const scenario::Step& step : s->steps) {
    if (!out.types.empty()) out.types += ' ';
    out.types += scenario::StepTypeName(step.action);
  }
  return out;
}

TEST(ToScenarioTest, MetadataSaysWhereTheSessionCameFrom) {
  Record r;
  r.S("220 mx ESMTP\r\n").C("EHLO client.example\r\n").S("250-mx\r\n250 SIZE\r\n");
  r.C("QUIT\r\n").S("221 2.0.0 Bye\r\n").Event(EntryKind::kPeerClosed);
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect send expect expect_close");
  EXPECT_TRUE(l.converted.id.starts_with("recorded.s1.")) << l.converted.id;
  EXPECT_EQ(l.scenario.id, l.converted.id);
  EXPECT_EQ(l.scenario.level, scenario::Level::kPolicy);
  EXPECT_EQ(l.scenario.tags, std::vector<std::string>{"recorded"});
  EXPECT_EQ(l.json["title"],
            "Recorded session s1 from 127.0.0.1:40000 to 127.0.0.1:2525 at "
            "2026-12-03T22:40:00.000000Z is answered as recorded");
  EXPECT_NE(l.scenario.description.find("from rec/s1.json"), std::string::npos);
  const nlohmann::json& steps = l.json["steps"];
  EXPECT_EQ(steps[1], nlohmann::json::parse(R"({"expect": 220})"));
  EXPECT_EQ(steps[2], nlohmann::json::parse(R"({"send": "EHLO client.example"})"));
  EXPECT_EQ(steps[5], nlohmann::json::parse(R"({"expect": {"code": 221, "enhanced": "2.0.0"}})"));
  EXPECT_EQ(l.converted.steps, 7u);
}

TEST(ToScenarioTest, ImplicitTlsAndLmtp) {
  Record r;
  r.Tls().S("220 mx LMTP\r\n").C("LHLO a\r\n").S("250 ok\r\n").C("MAIL FROM:<a@b>\r\n");
  r.S("250 ok\r\n").C("RCPT TO:<c@d>\r\n").S("250 ok\r\n").C("RCPT TO:<e@f>\r\n");
  r.S("250 ok\r\n").C("DATA\r\n").S("354 go\r\n").C("hi\r\n.\r\n");
  r.S("250 2.0.0 c@d ok\r\n452 4.2.2 e@f full\r\n");  // one reply per recipient
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect send expect send expect send expect data expect");
  EXPECT_EQ(l.json["steps"][0], nlohmann::json::parse(R"({"connect": {"tls": "implicit"}})"));
  EXPECT_EQ(l.json["steps"][11]["expect"],
            nlohmann::json::parse(R"({"code": 452, "enhanced": "4.2.2"})"));
  EXPECT_EQ(l.scenario.tags, (std::vector<std::string>{"recorded", "lmtp"}));
  // An LMTP server told EHLO: the greeting says LMTP.
  Record e;
  e.S("220 mx LMTP ready\r\n").C("EHLO a\r\n").S("500 5.5.1 use LHLO\r\n");
  EXPECT_EQ(Convert(e).scenario.tags, (std::vector<std::string>{"recorded", "lmtp"}));
  Record smtp;
  smtp.S("220 mx ESMTP LMTPish\r\n").C("EHLO a\r\n").S("250 ok\r\n");
  EXPECT_EQ(Convert(smtp).scenario.tags, std::vector<std::string>{"recorded"});
}

TEST(ToScenarioTest, IdFromAResultsJsonName) {
  Record r;
  r.S("220 mx\r\n").C("NOOP\r\n").S("250 ok\r\n");
  const Loaded l = Convert(r, "out/run/results.json#R5321-3.3-e");
  EXPECT_TRUE(l.converted.id.starts_with("recorded.R5321-3.3-e.")) << l.converted.id;
}

TEST(ToScenarioTest, PipelineDataAndDollars) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n");
  r.C("MAIL FROM:<${x}@b>\r\nRCPT TO:<c@d>\r\n").S("250 2.1.0 ok\r\n550 5.1.1 no\r\n");
  r.C("RCPT TO:<e@f>\r\n").S("250 ok\r\n").C("DATA\r\n").S("354 go\r\n");
  r.C("Cost: $5\r\n..x\r\n.\r\n").S("250 2.0.0 queued as 1\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect pipeline send expect data");
  const nlohmann::json& steps = l.json["steps"];
  EXPECT_EQ(steps[4], nlohmann::json::parse(R"({"pipeline": {
      "send": ["MAIL FROM:<$${x}@b>", "RCPT TO:<c@d>"],
      "expect": [{"code": 250, "enhanced": "2.1.0"}, {"code": 550, "enhanced": "5.1.1"}]}})"));
  EXPECT_EQ(steps[7], nlohmann::json::parse(R"({"data": {"body": "Cost: $$5\r\n.x\r\n",
      "accept": 354, "expect": {"code": 250, "enhanced": "2.0.0"}}})"));
}

TEST(ToScenarioTest, OddBytesGoRaw) {
  Record r;
  r.S("220 mx\r\n").C("NOOP\n").S("250 ok\r\n").C("NOOP \xff\r\n").S("250 ok\r\n");
  r.C("DATA\r\n").S("354 go\r\n").C("a\x01\r\n.\r\n").S("250 ok\r\n");
  r.C("BDAT 3 LAST\r\nabc").S("250 ok\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send_raw expect send_raw expect data_raw send_raw expect");
  const nlohmann::json& steps = l.json["steps"];
  EXPECT_EQ(steps[2]["send_raw"], "NOOP\\n");
  EXPECT_EQ(steps[4]["send_raw"], "NOOP \\xff\\r\\n");
  EXPECT_EQ(steps[6]["data_raw"]["bytes"], "a\\x01\\r\\n.\\r\\n");
  EXPECT_EQ(steps[7]["send_raw"], "BDAT 3 LAST\\r\\nabc");
}

TEST(ToScenarioTest, BodyTheServerEndedEarlyIsSentRaw) {
  Record r;
  r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n").C("a\n.\nNOOP\r\n");
  r.S("250 2.0.0 queued\r\n250 2.0.0 ok\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect send_raw expect expect");
  EXPECT_EQ(l.json["steps"][4]["send_raw"], "a\\n.\\nNOOP\\r\\n");
}

TEST(ToScenarioTest, StartTlsSeenAndOpaque) {
  {
    Record r;
    r.S("220 mx\r\n").C("STARTTLS\r\n").S("220 2.0.0 go\r\n").Tls().C("EHLO a\r\n");
    r.S("250 ok\r\n");
    const Loaded l = Convert(r);
    EXPECT_EQ(l.types, "connect expect starttls send expect");
  }
  {
    Record r;
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("STARTTLS\r\n").S("220 go\r\n");
    r.Event(EntryKind::kTlsOpaque).C("\x16\x03\x01").S("\x16\x03\x03");
    const Loaded l = Convert(r);
    EXPECT_EQ(l.types, "connect expect send expect starttls");
    EXPECT_NE(l.scenario.description.find("TLS that the record did not see"), std::string::npos)
        << l.scenario.description;
  }
}

TEST(ToScenarioTest, RedactedAuthUsesTheProfileCredentials) {
  Record r;
  r.S("220 mx\r\n").C("AUTH LOGIN\r\n").S("334 VXNlcm5hbWU6\r\n").C("***\r\n");
  r.S("334 UGFzc3dvcmQ6\r\n").C("***\r\n").S("235 2.7.0 ok\r\n").C("NOOP\r\n").S("250 ok\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect auth send expect");
  EXPECT_EQ(l.json["steps"][2], nlohmann::json::parse(R"({"auth": {"mechanism": "LOGIN",
      "username": "${user}", "password": "${password}",
      "expect": {"code": 235, "enhanced": "2.7.0"}}})"));
  EXPECT_NE(l.scenario.description.find("${password}"), std::string::npos);
}

TEST(ToScenarioTest, AuthShownIsSentLiterally) {
  Record r;
  r.S("220 mx\r\n").C("AUTH PLAIN AGEAYg==\r\n").S("235 ok\r\n");
  EXPECT_EQ(Convert(r).types, "connect expect send expect");
}

TEST(ToScenarioTest, RedactedAuthOfAnUnknownMechanismStops) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("AUTH GSSAPI ***\r\n").S("235 ok\r\n");
  r.C("QUIT\r\n").S("221 bye\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect");
  EXPECT_NE(l.scenario.description.find("AUTH GSSAPI with redacted secrets"), std::string::npos);
}

TEST(ToScenarioTest, FailedRedactedAuthStops) {
  // The record's credentials failed; the profile's would not fail alike.
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("AUTH PLAIN ***\r\n");
  r.S("535 5.7.8 bad\r\n").C("QUIT\r\n").S("221 bye\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect");
  EXPECT_NE(l.scenario.description.find("failed in the record (535)"), std::string::npos);
}

TEST(ToScenarioTest, StopsBeforeAReplyTheRunnerCannotRead) {
  {
    // A bare LF reply, while the greeting and EHLO reply were strict.
    Record r;
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("NOOP\r\n").S("250 ok\n");
    const Loaded l = Convert(r);
    EXPECT_EQ(l.types, "connect expect send expect");
    EXPECT_NE(l.scenario.description.find("not strict RFC 5321 syntax"), std::string::npos);
  }
  {
    // The same quirk in the EHLO reply: the runner reads the run with it.
    Record r;
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\n").C("NOOP\r\n").S("250 ok\n");
    EXPECT_EQ(Convert(r).types, "connect expect send expect send expect");
  }
  {
    // A body whose reply is not strict: DATA is written, the body is not.
    Record r;
    r.S("220 mx\r\n").C("DATA\r\n").S("354 go\r\n").C("a\r\n.\r\n").S("250 ok\n");
    const Loaded l = Convert(r);
    EXPECT_EQ(l.types, "connect expect send expect");
    EXPECT_NE(l.scenario.description.find("reply at exchange 2 is not strict"), std::string::npos);
  }
  {
    // Bytes that are no reply at all.
    Record r;
    r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("NOOP\r\n").S("junk\r\n250 ok\r\n");
    const Loaded l = Convert(r);
    EXPECT_EQ(l.types, "connect expect send expect");
    EXPECT_NE(l.scenario.description.find("bytes that are not a reply at exchange 2"),
              std::string::npos);
  }
}

TEST(ToScenarioTest, StopsWhereTheRecordDoes) {
  Record r;
  r.S("220 mx\r\n").C("EHLO a\r\n").S("250 ok\r\n").C("NOOP\r\n");
  const Loaded l = Convert(r);
  EXPECT_EQ(l.types, "connect expect send expect");
  EXPECT_NE(l.scenario.description.find("did not answer"), std::string::npos);
}

TEST(ToScenarioTest, UnaskedReplyIsExpected) {
  Record r;
  r.S("220 mx\r\n").C("NOOP\r\n").S("250 ok\r\n421 4.4.2 idle\r\n");
  EXPECT_EQ(Convert(r).types, "connect expect send expect expect");
}

TEST(ToScenarioTest, NothingToConvert) {
  const struct {
    const char* name;
    Record r;
    const char* why;
  } cases[] = {
      {"empty", Record{}, "nothing to convert: the record has no greeting"},
      {"garbage greeting", Record{}.S("HELLO\r\n220 mx\r\n").C("NOOP\r\n").S("250 ok\r\n"),
       "nothing to convert: the server sent bytes that are not a reply with or right after its "
       "greeting"},
      {"greeting only", Record{}.S("220 mx\r\n"),
       "nothing to convert: no command the server answered"},
      {"unanswered", Record{}.S("220 mx\r\n").C("EHLO a\r\n"),
       "nothing to convert: no command the server answered (the server did not answer exchange "
       "1 in the record; the scenario stops before it)"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ConvertedScenario> s = ToScenario({"x.json", c.r.t});
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << c.name;
    EXPECT_EQ(Message(s.status()), c.why) << c.name;
  }
}

}  // namespace
}  // namespace smtp::replay
