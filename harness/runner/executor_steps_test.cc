// The executor's conditional and inspecting steps against fake servers on
// loopback: STARTTLS if offered and with injected plaintext (CVE-2011-0411),
// silence or close, expect_delivery.
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness/runner/executor_internal.h"
#include "harness/runner/executor_test_util.h"

namespace smtp::runner {
namespace {

using harness::Verdict;
using testing::Describe;
using testing::Encrypted;
using testing::FakeConnector;
using testing::FakeOptions;
using testing::kQuit;
using testing::Load;
using testing::Loopback;
using testing::RunIt;
using testing::RunTlsFake;

TEST(Executor, StartTlsIfOffered) {
  const std::string steps = R"([{"include": "greeting"}, {"include": "ehlo"},
      {"starttls": {"if_offered": true}}, {"include": "ehlo"},
      {"starttls": {"if_offered": true}}, )" +
                            kQuit + "]";
  FakeOptions offered;
  offered.extensions.push_back("STARTTLS");
  harness::ScenarioResult r = RunTlsFake(offered, steps);
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  EXPECT_TRUE(Encrypted(r));
  EXPECT_NE(Describe(r).find("already encrypted"), std::string::npos) << Describe(r);

  r = RunTlsFake(FakeOptions{}, steps);  // STARTTLS not in the EHLO reply
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  EXPECT_FALSE(Encrypted(r));
  for (const auto& e : r.transcript.entries()) {
    if (e.kind == harness::EntryKind::kClientToServer) {
      EXPECT_EQ(e.data.find("STARTTLS"), std::string::npos) << Describe(r);
    }
  }
}

TEST(Executor, StartTlsInjectDetectsCve2011_0411) {
  const std::string steps = R"([{"include": "greeting"}, {"include": "ehlo"},
      {"starttls": {"inject": "NOOP\\r\\n"}}, {"expect_silence": {"for_ms": 300}}])";
  FakeOptions fixed;
  harness::ScenarioResult r = RunTlsFake(fixed, steps);
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  EXPECT_TRUE(Encrypted(r));

  FakeOptions vulnerable;
  vulnerable.keep_plaintext_after_starttls = true;
  r = RunTlsFake(vulnerable, steps);
  EXPECT_EQ(r.verdict, Verdict::kFail) << Describe(r);
  ASSERT_TRUE(r.failure.has_value());
  EXPECT_EQ(r.failure->step_label, "step 4 (expect_silence)");
  EXPECT_EQ(r.failure->actual, "250 2.0.0 ok\\r\\n");

  // A refused STARTTLS (no certificate: 454) leaves plaintext, where the
  // NOOP's answer is right: not applicable, not a finding.
  asio::io_context io;
  const std::string refused = R"([{"include": "greeting"}, {"include": "ehlo"},
      {"starttls": {"inject": "NOOP\\r\\n", "expect": [220, "4xx"]}},
      {"expect_silence": {"for_ms": 300, "or_close": true}}])";
  r = RunIt(Load(refused), FakeConnector(io.get_executor(), {}), {}, io);
  EXPECT_EQ(r.verdict, Verdict::kSkip) << Describe(r);
  EXPECT_EQ(r.reason, "STARTTLS was refused (454): the injection check needs a TLS handshake");
}

TEST(Executor, FindHelloTakesTheLastHelloOfAWrite) {
  using internal::FindHello;
  using internal::HelloKind;
  EXPECT_EQ(FindHello("EHLO a.test\r\n"), HelloKind::kExtended);
  EXPECT_EQ(FindHello("lhlo a.test\r\n"), HelloKind::kExtended);
  EXPECT_EQ(FindHello("HELO a.test\r\n"), HelloKind::kBasic);
  EXPECT_EQ(FindHello("RSET\r\nEHLO a.test\r\nNOOP\r\n"), HelloKind::kExtended);
  EXPECT_EQ(FindHello("EHLO a.test\r\nHELO a.test\r\n"), HelloKind::kBasic);
  EXPECT_EQ(FindHello("EHLOX a\r\nMAIL FROM:<EHLO@x>\r\n"), HelloKind::kNone);
  EXPECT_EQ(FindHello("EHLO"), HelloKind::kExtended);
  EXPECT_EQ(FindHello(""), HelloKind::kNone);
}

// STARTTLS if offered follows the last EHLO: after a HELO it is not offered.
TEST(Executor, StartTlsIfOfferedForgetsTheOfferAfterHelo) {
  FakeOptions offered;
  offered.extensions.push_back("STARTTLS");
  harness::ScenarioResult r = RunTlsFake(offered, R"([{"include": "greeting"}, {"include": "ehlo"},
          {"send": "HELO client.test"}, {"expect": 250},
          {"starttls": {"if_offered": true}}, {"send": "QUIT"}, {"expect": 221}])");
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  EXPECT_FALSE(Encrypted(r));
}

TEST(Executor, SilenceOrClose) {
  struct Case {
    const char* name;
    const char* steps;
    Verdict want;
  };
  const Case cases[] = {
      {"close passes with or_close",
       R"([{"include": "greeting"}, {"send": "QUIT"}, {"expect": 221},
           {"expect_silence": {"for_ms": 300, "or_close": true}}])",
       Verdict::kPass},
      {"close fails without or_close",
       R"([{"include": "greeting"}, {"send": "QUIT"}, {"expect": 221},
           {"expect_silence": {"for_ms": 300}}])",
       Verdict::kFail},
      {"silence passes with or_close",
       R"([{"include": "greeting"}, {"expect_silence": {"for_ms": 100, "or_close": true}}])",
       Verdict::kPass},
      {"bytes fail even with or_close",
       R"([{"include": "greeting"}, {"send": "NOOP"},
           {"expect_silence": {"for_ms": 300, "or_close": true}}])",
       Verdict::kFail},
  };
  for (const Case& c : cases) {
    asio::io_context io;
    harness::ScenarioResult r =
        RunIt(Load(c.steps), testing::FakeConnector(io.get_executor(), {}), {}, io);
    EXPECT_EQ(r.verdict, c.want) << c.name << ": " << Describe(r);
  }
}

// or_close and or_reply are allowed answers instead of silence: they pass,
// end the scenario there (the steps after them are for a silent server), and
// the or_note becomes the passed result's reason.
TEST(Executor, SilenceAlternativesEndTheScenario) {
  struct Case {
    const char* name;
    const char* steps;
    Verdict want;
    const char* reason;  // substring of the result's reason
  };
  const Case cases[] = {
      {"a refusal meets or_reply",
       R"([{"include": "greeting"}, {"send": "BOGUS"},
           {"expect_silence": {"for_ms": 300, "or_reply": "5xx", "or_note": "Refused, not run."}},
           {"expect": 554}])",
       Verdict::kPass,
       "the server replied 500 5.5.2 unknown command (an allowed answer; the scenario ends "
       "here). Refused, not run."},
      {"a reply not meeting or_reply fails",
       R"([{"include": "greeting"}, {"send": "NOOP"},
           {"expect_silence": {"for_ms": 300, "or_reply": ["4xx", "5xx"]}}])",
       Verdict::kFail, "a reply where silence was expected: "},
      {"a close with or_close ends the scenario with the note",
       R"([{"include": "greeting"}, {"send": "QUIT"}, {"expect": 221},
           {"expect_silence": {"for_ms": 300, "or_close": true, "or_note": "Closed: fine."}},
           {"send": "NOOP"}, {"expect": 250}])",
       Verdict::kPass,
       "the server closed the connection (an allowed answer; the scenario ends here). Closed: "
       "fine."},
      {"silence goes on to the next steps", R"([{"include": "greeting"},
           {"expect_silence": {"for_ms": 100, "or_reply": "5xx", "or_note": "x"}},
           {"send": "NOOP"}, {"expect": 554}])",
       Verdict::kFail, "expected code 554"},
      {"inside a repeat, the end ends the scenario", R"([{"include": "greeting"},
           {"repeat": {"times": 3, "steps": [{"send": "BOGUS"},
              {"expect_silence": {"for_ms": 300, "or_reply": "5xx"}}]}},
           {"expect": 554}])",
       Verdict::kPass, "(an allowed answer; the scenario ends here)"},
  };
  for (const Case& c : cases) {
    asio::io_context io;
    harness::ScenarioResult r =
        RunIt(Load(c.steps), testing::FakeConnector(io.get_executor(), {}), {}, io);
    EXPECT_EQ(r.verdict, c.want) << c.name << ": " << Describe(r);
    EXPECT_NE(r.reason.find(c.reason), std::string::npos) << c.name << ": " << r.reason;
  }
}

// or_malformed: a reply the strict reader rejects counts as the one reply.
// A server that echoes a bare CR of the command into its reply (aiosmtpd)
// breaks the reply syntax; that is not command smuggling. The shipped
// scenarios say so: smuggling.command.bare-cr passes, the reply-syntax
// scenario rfc5321.reply.no-bare-cr-in-text fails.
TEST(Executor, MalformedEchoIsAReplySyntaxFindingNotSmuggling) {
  FakeOptions echo;
  echo.echo_unknown = true;
  const std::string steps = R"([{"include": "greeting"}, {"send_raw": "RSET\rNOOP\r\n"},
      {"expect": ["2xx", "4xx", "5xx"]MALFORMED},
      {"expect_silence": {"for_ms": 300, "or_close": true}}, {"send": "NOOP"}, {"expect": 250}])";
  auto with = [&](const std::string& malformed) {
    std::string s = steps;
    s.replace(s.find("MALFORMED"), 9, malformed);
    return s;
  };
  {
    asio::io_context io;
    harness::ScenarioResult r = RunIt(Load(with(R"(, "or_malformed": "a test note")")),
                                      testing::FakeConnector(io.get_executor(), echo), {}, io);
    EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
    EXPECT_NE(r.transcript.DebugString().find("counts as the one reply here. a test note"),
              std::string::npos)
        << r.transcript.DebugString();
  }
  {
    asio::io_context io;
    harness::ScenarioResult r =
        RunIt(Load(with("")), testing::FakeConnector(io.get_executor(), echo), {}, io);
    EXPECT_EQ(r.verdict, Verdict::kFail) << Describe(r);
    EXPECT_NE(r.reason.find("malformed reply (bare_cr"), std::string::npos) << r.reason;
  }
  // The malformed reply's code is still judged: 500 where 250 is expected.
  {
    asio::io_context io;
    harness::ScenarioResult r =
        RunIt(Load(R"([{"include": "greeting"}, {"send_raw": "RSET\rNOOP\r\n"},
                       {"expect": 250, "or_malformed": "x"}])"),
              testing::FakeConnector(io.get_executor(), echo), {}, io);
    EXPECT_EQ(r.verdict, Verdict::kFail) << Describe(r);
    EXPECT_NE(r.reason.find("malformed reply's code: "), std::string::npos) << r.reason;
    EXPECT_NE(r.reason.find("got 500"), std::string::npos) << r.reason;
  }
  // A well-formed reply is judged as usual.
  {
    asio::io_context io;
    harness::ScenarioResult r = RunIt(Load(R"([{"include": "greeting"}, {"send": "NOOP"},
                       {"expect": 503, "or_malformed": "x"}])"),
                                      testing::FakeConnector(io.get_executor(), {}), {}, io);
    EXPECT_EQ(r.verdict, Verdict::kFail) << Describe(r);
  }
  // The shipped scenarios against the echoing server and a clean one.
  for (const bool echoes : {true, false}) {
    SCOPED_TRACE(echoes ? "echoing server" : "clean server");
    FakeOptions server;
    server.echo_unknown = echoes;
    for (const char* file : {"smuggling/smuggling.command.bare-cr.json",
                             "rfc5321/rfc5321.reply.no-bare-cr-in-text.json"}) {
      auto s = scenario::LoadScenarioFile(std::string(SMTP_SOURCE_DIR "/scenarios/") + file);
      ASSERT_TRUE(s.ok()) << s.status();
      asio::io_context io;
      harness::ScenarioResult r =
          RunIt(*s, testing::FakeConnector(io.get_executor(), server), {}, io);
      const bool reply_scenario = s->id == "rfc5321.reply.no-bare-cr-in-text";
      EXPECT_EQ(r.verdict, echoes && reply_scenario ? Verdict::kFail : Verdict::kPass)
          << file << ": " << Describe(r);
    }
  }
}

// smuggling.data-end.*: a server that ends the session at a bare CR in DATA
// with 421 (Sendmail 8.17) refused the sequence; it did not take it for the
// end of the data. Any other reply in the quiet period still fails the MUST
// verdict (it cannot be told from an answer to a message ended early).
TEST(Executor, DataEndRefusedWith421IsNotAnEarlyEnd) {
  struct Case {
    const char* reply;
    Verdict want;
    const char* reason_has;
  };
  const Case cases[] = {
      {"421 4.5.0 Bare carriage return (CR) not allowed\r\n", Verdict::kPass, "Refused, not ended"},
      {"554 5.6.0 bare CR refused\r\n", Verdict::kFail, "a reply where silence was expected"},
  };
  auto s = scenario::LoadScenarioFile(SMTP_SOURCE_DIR
                                      "/scenarios/smuggling/smuggling.data-end.cr-dot-cr.json");
  ASSERT_TRUE(s.ok()) << s.status();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reply);
    FakeOptions server;
    server.bare_cr_in_data_reply = c.reply;
    asio::io_context io;
    harness::ScenarioResult r =
        RunIt(*s, testing::FakeConnector(io.get_executor(), server), {}, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << r.reason;
  }
}

// A DeliveryLog with canned deliveries, all from whichever client asks.
// The first call (at connect: what the log held before) gets `before`, later
// calls `canned`.
class CannedDeliveries : public DeliveryLog {
 public:
  explicit CannedDeliveries(std::vector<Delivery> canned, std::vector<Delivery> before = {})
      : canned_(std::move(canned)), before_(std::move(before)) {}
  std::vector<Delivery> From(const std::vector<std::string>& clients) const override {
    asked = clients;
    return ++calls == 1 ? before_ : canned_;
  }
  mutable std::vector<std::string> asked;
  mutable int calls = 0;

 private:
  std::vector<Delivery> canned_;
  std::vector<Delivery> before_;
};

TEST(Executor, ExpectDelivery) {
  const Delivery one{"",
                     "probe@client.test",
                     {"MiXeD@fake.test", "b@fake.test"},
                     "Received: from client.test\r\n\tby fake.test\r\nSubject: t\r\n\r\n"
                     ".dot\r\ncaf\xc3\xa9\r\n",
                     false};
  struct Case {
    const char* name;
    const char* check;
    std::vector<Delivery> delivered;
    Verdict want;
    const char* reason_has;
    std::vector<Delivery> before = {};
  };
  const Case cases[] = {
      {"all checks pass",
       R"({"first_line": "^Received: from ", "line": "^\\.dot$", "not_line": "^\\.\\.",
           "contains": "caf\\xc3\\xa9\\r\\n", "mail_from": "^probe@", "rcpt": "^MiXeD@",
           "rcpt_count": 2})",
       {one},
       Verdict::kPass,
       ""},
      {"nothing delivered, none expected", R"({"count": 0})", {}, Verdict::kPass, ""},
      {"one delivered, none expected",
       R"({"count": 0})",
       {one},
       Verdict::kFail,
       "delivered 1 message(s) from this scenario, expected 0"},
      {"none delivered, one expected",
       R"({})",
       {},
       Verdict::kFail,
       "delivered 0 message(s) from this scenario, expected 1"},
      {"first line",
       R"({"first_line": "^Subject"})",
       {one},
       Verdict::kFail,
       "the first line of the delivered message is"},
      {"some line",
       R"({"line": "^\\.\\.dot$"})",
       {one},
       Verdict::kFail,
       "no line of the delivered message matches"},
      {"no line",
       R"({"not_line": "^Subject"})",
       {one},
       Verdict::kFail,
       "the delivered message has the line"},
      {"contains bytes", R"({"contains": "caf\\xe9"})", {one}, Verdict::kFail, "does not contain"},
      {"reverse path",
       R"({"mail_from": "^$"})",
       {one},
       Verdict::kFail,
       "delivered with reverse-path <probe@client.test>"},
      {"local-part case",
       R"({"rcpt": "^mixed@"})",
       {one},
       Verdict::kFail,
       "no delivered recipient matches"},
      {"recipient count",
       R"({"rcpt_count": 3})",
       {one},
       Verdict::kFail,
       "delivered to 2 recipients, not 3"},
      // A backtracking pattern over a hostile delivered line: a verdict at
      // once (std::regex ran for minutes on it).
      {"backtracking line pattern",
       R"({"line": "(a+)+$"})",
       {Delivery{"", "", {"x@fake.test"}, std::string(40, 'a') + "!\r\n", false}},
       Verdict::kFail,
       "no line of the delivered message matches /(a+)+$/"},
      {"backtracking not_line pattern",
       R"({"not_line": "(((a*)*)*)*b", "mail_from": "(a|aa)+$"})",
       {Delivery{
           "", std::string(40, 'a') + "!", {"x@fake.test"}, std::string(40, 'a') + "!\r\n", false}},
       Verdict::kFail,
       "delivered with reverse-path <"},
      {"each of two is checked",
       R"({"count": 2, "rcpt_count": 2})",
       {one, Delivery{"", "", {"x@fake.test"}, "x", false}},
       Verdict::kFail,
       "delivery 2/2: delivered to 1 recipients, not 2"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context io;
    Loopback lo(io);
    lo.ServeOnce(io, FakeOptions());
    CannedDeliveries log(c.delivered, c.before);
    ExecutorOptions o;
    o.deliveries = &log;
    harness::ScenarioResult r =
        RunIt(Load(std::string(R"([{"include": "greeting"}, {"expect_delivery": )") + c.check +
                   "}, " + kQuit + "]"),
              TargetConnector(lo.target()), o, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << Describe(r);
    ASSERT_EQ(log.asked.size(), 1u);
    EXPECT_EQ(log.asked[0].rfind("127.0.0.1:", 0), 0u) << log.asked[0];
  }
  // Without a DeliveryLog the step is an error (the runner skips such scenarios).
  asio::io_context io;
  Loopback lo(io);
  lo.ServeOnce(io, FakeOptions());
  harness::ScenarioResult r = RunIt(Load(R"([{"include": "greeting"}, {"expect_delivery": {}}])"),
                                    TargetConnector(lo.target()), {}, io);
  EXPECT_EQ(r.verdict, Verdict::kError) << Describe(r);
}

// --no_deliver: a data or bdat step that may deliver sends RSET (250)
// instead, so no DATA and no message goes out; a DATA the step expects
// refused is sent as written.
TEST(Executor, NoDeliverSendsRsetInsteadOfTheMessage) {
  const std::string steps = R"([{"include": "transaction-prologue"},
      {"data": {"body": "Subject: x\r\n\r\nbody\r\n"}},
      {"send": "MAIL FROM:<a@fake.test>"}, {"expect": 250},
      {"send": "RCPT TO:<b@fake.test>"}, {"expect": 250},
      {"bdat": {"chunks": ["ab"]}},
      {"send": "RCPT TO:<c@fake.test>"}, {"expect": 503},
      {"data": {"body": "x", "accept": 503}}, )" +
                            kQuit + "]";
  asio::io_context io;
  Loopback lo(io);
  FakeOptions fake;
  fake.extensions.push_back("CHUNKING");
  lo.ServeOnce(io, fake);
  ExecutorOptions o;
  o.no_deliver = true;
  harness::ScenarioResult r = RunIt(Load(steps), TargetConnector(lo.target()), o, io);
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  std::string sent;
  for (const auto& e : r.transcript.entries()) {
    if (e.kind == harness::EntryKind::kClientToServer) sent += e.data;
  }
  EXPECT_EQ(sent.find("BDAT"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("body"), std::string::npos) << sent;
  // Two RSETs instead of the messages, and the refused DATA as written.
  EXPECT_NE(sent.find("RSET\r\nMAIL FROM:<a@fake.test>"), std::string::npos) << sent;
  EXPECT_NE(sent.find("RSET\r\nRCPT TO:<c@fake.test>\r\nDATA\r\n"), std::string::npos) << sent;
  EXPECT_NE(Describe(r).find("--no_deliver: RSET instead of the message"), std::string::npos)
      << Describe(r);
}

}  // namespace
}  // namespace smtp::runner
