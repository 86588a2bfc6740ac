#include "harness/runner/executor.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio/ip/tcp.hpp>

#include "harness/runner/executor_internal.h"
#include "harness/runner/executor_test_util.h"
#include "harness/runner/fake_server_test_util.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/scenario_loader.h"
#include "harness/socket_transport.h"
#include "harness/test_util.h"
#include "harness/tls_cert.h"

namespace smtp::runner {
namespace {

using namespace std::chrono_literals;
using harness::Verdict;
using testing::Describe;
using testing::FakeConnector;
using testing::FakeLog;
using testing::FakeOptions;
using testing::Hostile;
using testing::kQuit;
using testing::Load;
using testing::Loopback;
using testing::PlainBlob;
using testing::RunIt;
using testing::Xoauth2Blob;

struct Case {
  std::string name;
  std::string steps;
  Verdict want;
  std::string reason_has;  // substring of the reason ("" = any)
  FakeOptions server = {};
  std::chrono::milliseconds step_timeout = 2000ms;
  std::string extra = "";  // more top-level keys, e.g. "timeout_ms"
};

FakeOptions Hostile_(Hostile h) {
  FakeOptions o;
  o.hostile = h;
  return o;
}

// A greeting that makes backtracking regex engines take exponential time.
FakeOptions BacktrackBait() {
  FakeOptions o;
  o.greeting = "220 " + std::string(40, 'a') + "!\r\n";
  return o;
}

TEST(Executor, VerdictsAgainstAFakeServer) {
  const std::vector<Case> cases = {
      {"full transaction",
       R"([{"include": "transaction-prologue"}, {"data": {"body": "Subject: t\r\n\r\nhi"}}, )" +
           kQuit + "]",
       Verdict::kPass, ""},
      {"RCPT before MAIL is 503",
       R"([{"include": "greeting"}, {"include": "ehlo"},
        {"send": "RCPT TO:<${rcpt}>"}, {"expect": 503}, )" +
           kQuit + "]",
       Verdict::kPass, ""},
      {"wrong code is a failure", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"send": "RCPT TO:<${rcpt}>"}, {"expect": [250, 251]}])",
       Verdict::kFail, "got 503"},
      {"enhanced code mismatch", R"([{"include": "greeting"}, {"send": "NOOP"},
        {"expect": {"code": 250, "enhanced": "2.1.x"}}])",
       Verdict::kFail, "2.1.x"},
      {"text regex", R"([{"include": "greeting"}, {"send": "EHLO a"},
        {"expect": {"code": 250, "text": "^AUTH .*CRAM-MD5"}}])",
       Verdict::kPass, ""},
      {"pipeline",
       R"([{"include": "greeting"}, {"include": "ehlo"},
        {"pipeline": {"send": ["MAIL FROM:<a@b.c>", "RCPT TO:<nouser@fake.test>", "RCPT TO:<x@fake.test>"],
                      "expect": [250, 550, 250]}}, )" +
           kQuit + "]",
       Verdict::kPass, ""},
      {"pipeline mismatch names the reply", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"pipeline": {"send": ["MAIL FROM:<a@b.c>", "RCPT TO:<nouser@fake.test>"], "expect": [250, 250]}}])",
       Verdict::kFail, "pipeline reply 2/2"},
      {"DATA refused as expected skips the body", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"data": {"body": "x", "accept": [503, 554]}}, {"send": "NOOP"}, {"expect": 250}])",
       Verdict::kPass, ""},
      {"data_raw", R"([{"include": "transaction-prologue"},
        {"data_raw": {"bytes": "x\\r\\n.\\r\\n", "expect": 250}}])",
       Verdict::kPass, ""},
      {"bdat",
       R"([{"include": "transaction-prologue"}, {"bdat": {"chunks": ["abc", "de\\r\\n"]}}])",
       Verdict::kPass, ""},
      {"auth plain", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "PLAIN", "username": "${user}", "password": "${password}"}}])",
       Verdict::kPass, ""},
      {"auth login", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "LOGIN", "username": "${user}", "password": "${password}"}}])",
       Verdict::kPass, ""},
      {"auth cram-md5", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "CRAM-MD5", "username": "${user}", "password": "${password}"}}])",
       Verdict::kPass, ""},
      {"auth xoauth2", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "XOAUTH2", "username": "${user}", "password": "${password}"}}])",
       Verdict::kPass, ""},
      {"auth xoauth2 rejected after 334", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "XOAUTH2", "username": "${user}", "password": "nope", "expect": 535}}])",
       Verdict::kPass, ""},
      {"auth wrong password fails", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": "LOGIN", "username": "${user}", "password": "wrong"}}])",
       Verdict::kFail, "got 535"},
      {"capture feeds a later send",
       R"j([{"include": "greeting"}, {"send": "EHLO a"}, {"expect": 250},
        {"capture": {"regex": "^AUTH (\\S+)", "into": "first_mech"}},
        {"send": "NOOP ${first_mech}"}, {"expect": 250}])j",
       Verdict::kPass, ""},
      {"capture without a match fails",
       R"([{"include": "greeting"}, {"capture": {"regex": "^NOPE (.*)x", "into": "x"}}])",
       Verdict::kFail, "no line of the last reply"},
      {"repeat and sleep",
       R"([{"include": "greeting"}, {"repeat": {"times": 3, "steps": [
        {"send": "NOOP"}, {"expect": 250}, {"sleep": {"ms": 5}}]}}, )" +
           kQuit + "]",
       Verdict::kPass, ""},
      {"failure inside a repeat names the iteration",
       R"([{"include": "greeting"}, {"repeat": {"times": 3,
        "steps": [{"send": "NOOP"}, {"expect": 250}]}}, {"send": "FOO"}, {"expect": 250}])",
       Verdict::kFail, "got 500"},
      {"silence after a reply", R"([{"include": "greeting"}, {"send": "NOOP"}, {"expect": 250},
        {"expect_silence": {"for_ms": 100}}])",
       Verdict::kPass, ""},
      {"bytes where silence was expected", R"([{"include": "greeting"}, {"send": "NOOP"},
        {"expect_silence": {"for_ms": 500}}])",
       Verdict::kFail, "where silence was expected"},
      {"connection still open",
       R"([{"include": "greeting"}, {"expect_close": {"within_ms": 150}}])", Verdict::kFail,
       "did not close"},
      {"starttls refused with 454 fails the default expectation", R"([{"include": "greeting"},
        {"include": "ehlo"}, {"starttls": {}}])",
       Verdict::kFail, "got 454"},
      {"starttls refusal expected", R"([{"include": "greeting"}, {"include": "ehlo"},
        {"starttls": {"expect": 454}}, {"send": "NOOP"}, {"expect": 250}])",
       Verdict::kPass, ""},
      {"unknown variable is our error", R"([{"include": "greeting"}, {"send": "NOOP ${nope}"}])",
       Verdict::kError, "unknown variable"},
      // Hostile servers: each ends in a bounded time with the right verdict.
      {"no greeting at all", R"([{"include": "greeting"}])", Verdict::kFail,
       "no complete reply within", Hostile_(Hostile::kSilent), 200ms},
      {"endless line", R"([{"include": "greeting"}])", Verdict::kFail, "malformed reply",
       Hostile_(Hostile::kEndlessLine)},
      {"slow drip past the step deadline", R"([{"include": "greeting"}])", Verdict::kFail,
       "no complete reply within", Hostile_(Hostile::kSlowDrip), 300ms},
      {"garbage greeting", R"([{"include": "greeting"}])", Verdict::kFail, "malformed reply",
       Hostile_(Hostile::kGarbage)},
      {"early close, then a send", R"([{"include": "greeting"}, {"include": "ehlo"}])",
       Verdict::kFail, "connection lost while sending", Hostile_(Hostile::kEarlyClose)},
      {"early close, then a read", R"([{"include": "greeting"}, {"expect": 250}])", Verdict::kFail,
       "closed the connection instead of replying", Hostile_(Hostile::kEarlyClose)},
      {"reply flood",
       R"([{"include": "greeting"}, {"send": "NOOP"}, {"expect": 250}, )" + kQuit + "]",
       Verdict::kFail, "got 250", Hostile_(Hostile::kFlood)},
      {"scenario budget exhausted is an error", R"([{"include": "greeting"}])", Verdict::kError,
       "time budget of 300 ms exhausted", Hostile_(Hostile::kSilent), 10000ms,
       R"("timeout_ms": 300, )"},
      // Regexes run in linear time: a backtracking pattern against a hostile
      // reply gives its verdict at once (std::regex ran for minutes, past
      // every deadline, on these).
      {"backtracking text pattern",
       R"([{"connect": {}}, {"expect": {"code": 220, "text": "(a+)+$"}}])", Verdict::kFail,
       "expected text matching /(a+)+$/", BacktrackBait()},
      {"backtracking not_text pattern",
       R"([{"connect": {}}, {"expect": {"code": 220, "not_text": "(((a*)*)*)*b"}}])",
       Verdict::kPass, "", BacktrackBait()},
      {"backtracking capture pattern",
       R"j([{"connect": {}}, {"expect": 220}, {"capture": {"regex": "((((a*)*)*)*b)", "into": "x"}}])j",
       Verdict::kFail, "no line of the last reply matches", BacktrackBait()},
      {"silence longer than the budget is an error",
       R"([{"include": "greeting"},
        {"expect_silence": {"for_ms": 5000}}])",
       Verdict::kError,
       "does not fit",
       {},
       2000ms,
       R"("timeout_ms": 1000, )"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    asio::io_context io;
    ExecutorOptions opts;
    opts.step_timeout = c.step_timeout;
    const auto start = harness::Clock::now();
    harness::ScenarioResult r =
        RunIt(Load(c.steps, c.extra), FakeConnector(io.get_executor(), c.server), opts, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << Describe(r);
    if (r.verdict == Verdict::kFail) {
      ASSERT_TRUE(r.failure.has_value());
      EXPECT_FALSE(r.failure->step_label.empty());
      EXPECT_GE(r.failure->step, 0);
    }
    EXPECT_FALSE(r.transcript.empty());
    EXPECT_LT(harness::Clock::now() - start, 5s) << "verdict must come within the deadlines";
  }
}

TEST(Executor, FailureLabelsStepAndIteration) {
  asio::io_context io;
  auto s = Load(R"([{"include": "greeting"}, {"repeat": {"times": 2, "steps": [
      {"send": "NOOP"}, {"expect": 250}, {"send": "FOO"}, {"expect": 250}]}}])");
  harness::ScenarioResult r = RunIt(s, FakeConnector(io.get_executor(), {}), {}, io);
  ASSERT_TRUE(r.failure.has_value()) << Describe(r);
  EXPECT_EQ(r.failure->step, 5);  // connect, expect, NOOP, expect, FOO, expect
  EXPECT_EQ(r.failure->step_label, "step 2.4 (expect), iteration 1/2") << Describe(r);
  EXPECT_EQ(r.failure->expected, "250");
  EXPECT_EQ(r.failure->actual, "500 5.5.2 unknown command");
}

TEST(Executor, ConnectionRefusedIsAnError) {
  asio::io_context io;
  harness::ScenarioResult r =
      RunIt(Load(R"([{"include": "greeting"}])"), testing::RefusingConnector(), {}, io);
  EXPECT_EQ(r.verdict, Verdict::kError) << Describe(r);
  EXPECT_NE(r.reason.find("connection refused"), std::string::npos);
}

TEST(Executor, DataIsDotStuffedAndTerminated) {
  asio::io_context io;
  FakeLog log;
  auto s = Load(R"([{"include": "transaction-prologue"},
      {"data": {"body": ".leading\r\nmiddle\r\n.\r\nend"}}])");
  harness::ScenarioResult r = RunIt(s, FakeConnector(io.get_executor(), {}, &log), {}, io);
  EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
  ASSERT_EQ(log.data_bodies.size(), 1u);
  EXPECT_EQ(log.data_bodies[0], "..leading\r\nmiddle\r\n..\r\nend\r\n.\r\n");
}

// require: a reply that decides whether the requirement applies at all.
TEST(Executor, RequireSkipsWhenTheReplyDoesNotMatch) {
  struct Case {
    const char* steps;
    Verdict want;
    const char* reason_has;
  };
  const Case cases[] = {
      {R"([{"connect": {}}, {"require": 220}, {"send": "NOOP"}, {"expect": 250}])", Verdict::kPass,
       ""},
      {R"([{"connect": {}}, {"require": 554}, {"send": "NOOP"}, {"expect": 503}])", Verdict::kSkip,
       "not applicable to this server: expected code 554, got 220"},
      {R"([{"include": "greeting"}, {"send": "MAIL FROM:<a@b.test>"}, {"require": 530}])",
       Verdict::kSkip, "got 503"},
      // A later failure still fails: require only decides applicability.
      {R"([{"connect": {}}, {"require": "2xx"}, {"send": "NOOP"}, {"expect": 503}])",
       Verdict::kFail, "expected code 503, got 250"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.steps);
    asio::io_context io;
    harness::ScenarioResult r = RunIt(Load(c.steps), FakeConnector(io.get_executor(), {}), {}, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << r.reason;
    EXPECT_FALSE(r.transcript.entries().empty());
  }
}

// expect with "inconclusive": a reply that decides nothing either way (a 4xx
// to VRFY) skips the scenario as inconclusive; any other reply is judged.
TEST(Executor, ExpectInconclusiveSkipsOnlyOnItsReplies) {
  struct Case {
    const char* steps;
    Verdict want;
    const char* reason_has;
  };
  const Case cases[] = {
      {R"([{"include": "greeting"}, {"send": "MAIL FROM:<a@b.test>"},
           {"expect": 250, "inconclusive": {"on": "5xx", "because": "says nothing"}},
           {"send": "NOOP"}, {"expect": 503}])",
       Verdict::kSkip, "inconclusive: got 503"},
      {R"([{"include": "greeting"}, {"send": "NOOP"},
           {"expect": 250, "inconclusive": {"on": "4xx", "because": "says nothing"}}])",
       Verdict::kPass, ""},
      {R"([{"include": "greeting"}, {"send": "NOOP"},
           {"expect": 503, "inconclusive": {"on": "4xx", "because": "says nothing"}}])",
       Verdict::kFail, "expected code 503, got 250"},
      // The "on" reply is checked first, even where "expect" would match too.
      {R"([{"include": "greeting"}, {"send": "NOOP"},
           {"expect": "2xx", "inconclusive": {"on": 250, "because": "a test reason"}}])",
       Verdict::kSkip, "a test reason"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.steps);
    asio::io_context io;
    harness::ScenarioResult r = RunIt(Load(c.steps), FakeConnector(io.get_executor(), {}), {}, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << r.reason;
  }
}

// data with pad_to: a body over the limit, or a skip where no limit applies.
TEST(Executor, DataPaddedToACapturedLimit) {
  struct Case {
    const char* pad_to;
    Verdict want;
    const char* reason_has;
  };
  const Case cases[] = {
      {"1000", Verdict::kPass, ""},
      {"", Verdict::kSkip, "pad_to is empty: the server states no size limit"},
      {"0", Verdict::kSkip, "pad_to is 0"},
      {"1x", Verdict::kError, "pad_to '1x' is not a decimal octet count"},
      {"99999999999999", Verdict::kSkip, "is over the 256 MiB the runner sends"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pad_to);
    asio::io_context io;
    FakeLog log;
    auto s = Load(std::string(R"([{"include": "transaction-prologue"},
        {"data": {"body": "Subject: big", "pad_to": ")") +
                  c.pad_to + R"(", "pad_extra": 24}}, {"send": "NOOP"}, {"expect": 250}])");
    harness::ScenarioResult r = RunIt(s, FakeConnector(io.get_executor(), {}, &log), {}, io);
    EXPECT_EQ(r.verdict, c.want) << Describe(r);
    EXPECT_NE(r.reason.find(c.reason_has), std::string::npos) << r.reason;
    if (c.want != Verdict::kPass) {
      EXPECT_TRUE(log.data_bodies.empty());
      if (c.want == Verdict::kSkip) {
        EXPECT_FALSE(r.failure.has_value());
      }
      continue;
    }
    ASSERT_EQ(log.data_bodies.size(), 1u);
    const std::string& body = log.data_bodies[0];
    EXPECT_EQ(body.rfind("Subject: big\r\nsmtp-harness filler ", 0), 0u);
    const std::size_t unstuffed = body.size() - 3;  // without ".\r\n"; no line starts with "."
    EXPECT_GT(unstuffed, 1024u);
    EXPECT_LE(unstuffed, 1024u + 80u);
  }
}

TEST(Executor, SecretsAreRedactedEverywhere) {
  for (const char* mech : {"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}) {
    SCOPED_TRACE(mech);
    asio::io_context io;
    auto s = Load(std::string(R"([{"include": "greeting"}, {"include": "ehlo"},
        {"auth": {"mechanism": ")") +
                  mech + R"(", "username": "${user}", "password": "${password}"}},
        {"send": "NOOP ${password}"}, {"expect": 599}])");
    harness::ScenarioResult r = RunIt(s, FakeConnector(io.get_executor(), {}), {}, io);
    const std::string all = harness::ToJson(r).dump();
    EXPECT_EQ(all.find("s3cret-pw"), std::string::npos) << all;
    EXPECT_EQ(all.find(PlainBlob("alice", "s3cret-pw")), std::string::npos);
    EXPECT_EQ(all.find(sasl::Base64Encode("s3cret-pw")), std::string::npos);
    EXPECT_EQ(all.find(Xoauth2Blob("alice", "s3cret-pw")), std::string::npos);
    EXPECT_NE(all.find("NOOP ***"), std::string::npos) << all;
    // The wire totals still count the real bytes.
    EXPECT_GT(r.transcript.total_bytes(harness::Direction::kClientToServer),
              r.transcript.SideBytes(harness::Direction::kClientToServer).size());
  }
}

TEST(Executor, StartTlsAndResponseInjection) {
  auto cert = harness::MakeSelfSignedCert("fake.test");
  ASSERT_TRUE(cert.ok());
  for (const std::string inject : {"", "250 injected\r\n"}) {
    SCOPED_TRACE(inject);
    asio::io_context io;
    Loopback lo(io);
    FakeOptions o;
    o.inject_after_starttls = inject;
    o.tls.role = harness::TlsOptions::Role::kServer;
    o.tls.cert_pem = cert->cert_pem;
    o.tls.key_pem = cert->key_pem;
    lo.ServeOnce(io, o);
    auto s = Load(R"([{"include": "greeting"}, {"include": "ehlo"}, {"starttls": {}},
        {"include": "ehlo"}, )" +
                  kQuit + "]");
    harness::ScenarioResult r = RunIt(s, TargetConnector(lo.target()), {}, io);
    if (inject.empty()) {
      EXPECT_EQ(r.verdict, Verdict::kPass) << Describe(r);
      bool tls = false;
      for (const auto& e : r.transcript.entries())
        tls |= e.kind == harness::EntryKind::kTlsEstablished;
      EXPECT_TRUE(tls);
    } else {
      EXPECT_EQ(r.verdict, Verdict::kFail) << Describe(r);
      EXPECT_NE(r.reason.find("plaintext bytes after its 220"), std::string::npos) << Describe(r);
      EXPECT_EQ(r.failure->actual, "250 injected\\r\\n");
    }
  }
}

TEST(Executor, DescribeScenarioGroupsBySecondLevelSection) {
  auto s = Load(R"([{"include": "greeting"}])");
  harness::ScenarioResult r = DescribeScenario(s);
  EXPECT_EQ(r.group, "RFC 5321 §4.1");
  EXPECT_EQ(r.level, "MUST");
  EXPECT_EQ(r.rfc_section, "4.1.1.1");
}

TEST(Executor, DescribeScenarioNamesTheFileRelativeToItsSuite) {
  auto s = Load(R"([{"include": "greeting"}])");
  s.file = "/src/scenarios/core/x.json";
  EXPECT_EQ(DescribeScenario(s).file, "/src/scenarios/core/x.json");
  s.suite_file = "core/x.json";
  EXPECT_EQ(DescribeScenario(s).file, "core/x.json");
}

TEST(RedactResult, ReplacesSecretsAndKeepsWireTotals) {
  scenario::Variables vars;
  vars.Set("password", "ab", /*secret=*/true);  // shorter than "***"
  vars.AddSecretValue("YWI=");
  harness::ScenarioResult r;
  r.reason = "expected 235, got 535 ab";
  harness::Failure f;
  f.actual = "535 ab";
  r.failure = f;
  r.transcript.AddData(harness::Direction::kClientToServer, "AUTH PLAIN YWI=\r\n");
  r.transcript.AddData(harness::Direction::kServerToClient, "535 no ab\r\n");
  r.transcript.AddNote("sent ab");
  const std::size_t c2s = r.transcript.total_bytes(harness::Direction::kClientToServer);
  RedactResult(vars, &r);
  EXPECT_EQ(r.reason, "expected 235, got 535 ***");
  EXPECT_EQ(r.failure->actual, "535 ***");
  ASSERT_EQ(r.transcript.entries().size(), 3u);
  EXPECT_EQ(r.transcript.entries()[0].data, "AUTH PLAIN ***\r\n");
  EXPECT_EQ(r.transcript.entries()[1].data, "535 no ***\r\n");
  EXPECT_EQ(r.transcript.entries()[2].text, "sent ***");
  EXPECT_EQ(r.transcript.total_bytes(harness::Direction::kClientToServer), c2s);
}

// A server that echoes the AUTH line one byte per write: the transcript is
// redacted as a stream, the texts in their quoted (escaped, cut) forms too.
TEST(RedactResult, EchoInOneByteChunksAndQuotedTexts) {
  scenario::Variables vars;
  vars.Set("password", "pa\\ss-word", /*secret=*/true);
  const std::string blob = PlainBlob("alice", "pa\\ss-word");
  vars.AddSecretValue(blob);
  harness::ScenarioResult r;
  const std::string echo = "535 5.7.8 bad credentials: AUTH PLAIN " + blob + "\r\n";
  for (char c : echo) r.transcript.AddData(harness::Direction::kServerToClient, std::string(1, c));
  harness::Failure f;
  f.actual = internal::Quote("500 " + std::string(internal::kMaxQuotedBytes - 12, 'x') + blob);
  f.message = "got " + internal::Quote("535 pa\\ss-word\r\n");
  r.failure = f;
  RedactResult(vars, &r);
  EXPECT_EQ(r.transcript.SideBytes(harness::Direction::kServerToClient),
            "535 5.7.8 bad credentials: AUTH PLAIN ***\r\n");
  EXPECT_EQ(r.transcript.entries().size(), echo.size());
  EXPECT_EQ(r.failure->actual.find(blob.substr(0, 4)), std::string::npos) << r.failure->actual;
  EXPECT_NE(r.failure->actual.find("xx***... ("), std::string::npos) << r.failure->actual;
  EXPECT_EQ(r.failure->message, "got 535 ***\\r\\n");
}

}  // namespace
}  // namespace smtp::runner
