#include "harness/scenario/delivery.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/scenario/scenario_loader.h"
#include "harness/scenario/suite.h"
#include "harness/scenario/test_util.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

Variables Vars() {
  Variables v;
  v.Set("sender", "me@example.test");
  v.Set("rcpt", "user@example.test");
  v.Set("client_domain", "client.example.test");
  return v;
}

Scenario Load(const std::string& extra_keys, const std::string& steps) {
  LoadOptions options;
  options.fragment_dirs = {testing::SourceDir() + "/scenarios/fragments"};
  const std::string text = R"js({"id": "d", "title": "t", "level": "MUST", )js" + extra_keys +
                           R"js("rfc": {"document": "RFC 5321", "section": "3"}, "steps": )js" +
                           steps + "}";
  absl::StatusOr<Scenario> s = LoadScenarioText("d.json", text, options);
  EXPECT_TRUE(s.ok()) << Message(s.status()) << "\n" << text;
  return s.ok() ? *std::move(s) : Scenario{};
}

constexpr const char* kPrologue = R"js({"include": "transaction-prologue"}, )js";

struct Row {
  const char* what;
  std::string keys;
  std::string steps;
  int messages;
  std::vector<std::string> recipients;
  NoDeliveryPlan plan;
};

TEST(EstimateDeliveries, Table) {
  const std::string p = kPrologue;
  const Row rows[] = {
      {"no transaction",
       "",
       R"js([{"connect": {}}, {"expect": 220}])js",
       0,
       {},
       NoDeliveryPlan::kUnchanged},
      {"a data step after the prologue",
       "",
       "[" + p + R"js({"data": {"body": "x"}}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"the same, incidental",
       R"js("delivery": "incidental", )js",
       "[" + p + R"js({"data": {"body": "x"}}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kRset},
      {"a refused DATA delivers nothing",
       "",
       "[" + p + R"js({"data": {"body": "x", "accept": 554}}])js",
       0,
       {},
       NoDeliveryPlan::kUnchanged},
      {"BDAT LAST",
       "",
       "[" + p + R"js({"bdat": {"chunks": ["ab", "cd"]}}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"BDAT without LAST",
       "",
       "[" + p + R"js({"bdat": {"chunks": ["ab"], "last": false}}])js",
       0,
       {},
       NoDeliveryPlan::kUnchanged},
      {"a data-end probe: the fake end ends one message, the real dot is a command then",
       "",
       "[" + p +
           R"js({"data_raw": {"bytes": "Subject: x\r\n\r\nline1\n.\nNOOP\r\n"}},
             {"expect_silence": {"for_ms": 10}}, {"send_raw": ".\r\n"}, {"expect": 250}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"a second-message probe: the smuggled transaction counts",
       "",
       "[" + p +
           R"js({"data_raw": {"bytes": "x\r\n.\nMAIL FROM:<s@x>\r\nRCPT TO:<other@x>\r\nDATA\r\nsmuggled\r\n.\r\n"}},
             {"expect": 250}])js",
       2,
       {"user@example.test", "other@x"},
       NoDeliveryPlan::kSkip},
      {"NULs around the dot end it too",
       "",
       "[" + p + R"js({"data_raw": {"bytes": "x\r\n\\x00.\r\n"}}, {"expect": 250}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"a dot-stuffed line does not end it; a close mid-data discards it",
       "",
       "[" + p +
           R"js({"data_raw": {"bytes": "x\r\n..\r\nmore\r\n"}}, {"connect": {}}, {"expect": 220}])js",
       0,
       {},
       NoDeliveryPlan::kUnchanged},
      {"DATA and the body by send and send_raw",
       R"js("delivery": "incidental", )js",
       "[" + p +
           R"js({"send": "DATA"}, {"expect": 354}, {"send_raw": "x\r\n.\r\n"}, {"expect": 250}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"a pipelined transaction",
       "",
       R"js([{"include": "greeting"}, {"include": "ehlo"}, {"pipeline": {"send": ["MAIL FROM:<a@x>", "RCPT TO:<${rcpt}>", "DATA"], "expect": [250, 250, 354]}},
             {"send_raw": "x\r\n.\r\n"}, {"expect": 250}])js",
       1,
       {"user@example.test"},
       NoDeliveryPlan::kSkip},
      {"DATA without a recipient starts no message",
       "",
       R"js([{"connect": {}}, {"expect": 220}, {"send": "MAIL FROM:<a@x>"}, {"expect": 250},
             {"send": "DATA"}, {"expect": 503}, {"send_raw": ".\r\n"}, {"expect": 500}])js",
       0,
       {},
       NoDeliveryPlan::kUnchanged},
      {"a repeated transaction",
       "",
       "[" + p +
           R"js({"repeat": {"times": 3, "steps": [{"data": {"body": "x"}}, {"send": "MAIL FROM:<a@x>"}, {"expect": 250}, {"send": "RCPT TO:<b@x>"}, {"expect": 250}]}}])js",
       3,
       {"user@example.test", "b@x"},
       NoDeliveryPlan::kSkip},
  };
  const Variables vars = Vars();
  for (const Row& r : rows) {
    const Scenario s = Load(r.keys, r.steps);
    const DeliveryEstimate e = EstimateDeliveries(s, vars);
    EXPECT_EQ(e.messages, r.messages) << r.what;
    EXPECT_EQ(e.recipients, r.recipients) << r.what;
    EXPECT_EQ(PlanWithoutDelivery(s, e), r.plan) << r.what;
  }
}

TEST(NoDeliverySkipReason, SaysWhyAndToWhom) {
  Scenario s = Load("", std::string("[") + kPrologue + R"js({"data": {"body": "x"}}])js");
  const Variables vars = Vars();
  EXPECT_EQ(NoDeliverySkipReason(s, EstimateDeliveries(s, vars)),
            "needs a delivery (--no_deliver): it checks the end of a message or what follows, and "
            "the server may deliver that message (up to 1 message to user@example.test); run it "
            "against a test server");
  Scenario probe = Load(
      "",
      std::string("[") + kPrologue +
          R"js({"data_raw": {"bytes": "x\n.\nMAIL FROM:<s@x>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\ny\r\n.\r\n"}}])js");
  probe.tags = {"smuggling"};
  const std::string reason = NoDeliverySkipReason(probe, EstimateDeliveries(probe, vars));
  EXPECT_EQ(reason,
            "needs a delivery (--no_deliver): a smuggling probe must send an end of data, and a "
            "server that ends the message there delivers it (up to 2 messages, the smuggled one "
            "included, to user@example.test); its verdict is unknown: run it against a test "
            "server");
  EXPECT_LT(reason.size(), 300u);  // what a report row shows
}

// The shipped suite: every smuggling probe that ends data is skipped saying
// so, and exactly the scenarios marked incidental end with RSET.
TEST(EstimateDeliveries, ShippedSuite) {
  LoadOptions options;
  options.allow_unknown_variables = true;
  absl::StatusOr<Suite> suite = LoadSuite({testing::SourceDir() + "/scenarios"}, {}, options);
  ASSERT_TRUE(suite.ok()) << Message(suite.status());
  const Variables vars = Vars();
  int delivering = 0, rset = 0, total = 0;
  for (const Scenario& s : suite->scenarios) {
    const DeliveryEstimate e = EstimateDeliveries(s, vars);
    const NoDeliveryPlan plan = PlanWithoutDelivery(s, e);
    total += e.messages;
    if (e.messages > 0) ++delivering;
    if (plan == NoDeliveryPlan::kRset) ++rset;
    EXPECT_EQ(plan == NoDeliveryPlan::kRset, s.delivery_incidental) << s.id;
    if (s.id.starts_with("smuggling.data-end") || s.id.starts_with("smuggling.second-message")) {
      EXPECT_EQ(plan, NoDeliveryPlan::kSkip) << s.id;
      EXPECT_NE(NoDeliverySkipReason(s, e).find("smuggling probe"), std::string::npos) << s.id;
    }
    if (s.id.starts_with("smuggling.second-message")) {
      EXPECT_EQ(e.messages, 2) << s.id;
    }
    if (s.id.starts_with("smuggling.command.")) {
      EXPECT_EQ(e.messages, 0) << s.id;
    }
  }
  EXPECT_EQ(rset, 5);
  EXPECT_GT(delivering, 60);
  EXPECT_GT(total, delivering);
}

}  // namespace
}  // namespace smtp::scenario
