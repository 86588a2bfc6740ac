#include "harness/runner/deliveries.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::runner {
namespace {

std::string TempFile(const std::string& text) {
  char path[] = "/tmp/deliveries-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  std::FILE* f = fdopen(fd, "w");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return path;
}

// The JSONL records of `serve --sink jsonl:`, as written by the server, and
// the junk a file might hold: only well-formed records of the asked clients.
TEST(JsonlDeliveries, ReadsTheAskedClientsAndIgnoresJunk) {
  const std::string path = TempFile(
      R"({"id": "1", "envelope": {"client": "127.0.0.1:1000", "mail_from": "a@x.test",)"
      R"( "rcpt_to": ["b@y.test", "c@y.test"]}, "body_b64": "aGk=", "body_truncated": false})"
      "\n"
      "not json at all\n"
      R"({"envelope": "not an object"})"
      "\n"
      R"({"envelope": {"client": "127.0.0.1:2000", "rcpt_to": [1, "d@y.test"]},)"
      R"( "body_b64": "!!!", "body_truncated": "no"})"
      "\n"
      R"({"envelope": {"client": "127.0.0.1:1000", "mail_from": ""}})"
      "\n"
      R"({"envelope": {"client": "127.0.0.1:3000"}, "body_b64": "aGk="})"
      "\n");
  const JsonlDeliveries log(path);
  const std::vector<Delivery> one = log.From({"127.0.0.1:1000"});
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0].mail_from, "a@x.test");
  EXPECT_EQ(one[0].rcpt_to, (std::vector<std::string>{"b@y.test", "c@y.test"}));
  EXPECT_EQ(one[0].content, "hi");
  EXPECT_FALSE(one[0].truncated);
  EXPECT_TRUE(one[1].truncated);  // no body_b64: the server kept no body
  const std::vector<Delivery> two = log.From({"127.0.0.1:2000", "127.0.0.1:3000"});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].rcpt_to, (std::vector<std::string>{"d@y.test"}));  // non-strings dropped
  EXPECT_EQ(two[0].content, "");                                      // bad base64
  EXPECT_FALSE(two[0].truncated);  // a mistyped body_truncated is not an exception
  EXPECT_EQ(two[1].content, "hi");
  EXPECT_TRUE(log.From({"127.0.0.1:9"}).empty());
  EXPECT_TRUE(JsonlDeliveries("/nonexistent/file.jsonl").From({"127.0.0.1:1000"}).empty());
  std::remove(path.c_str());
}

TEST(JsonlDeliveries, SpecMustBeJsonl) {
  EXPECT_EQ(ParseDeliveriesSpec("jsonl:/tmp/x.jsonl").value(), "/tmp/x.jsonl");
  EXPECT_FALSE(ParseDeliveriesSpec("jsonl:").ok());
  EXPECT_FALSE(ParseDeliveriesSpec("maildir:/tmp/m").ok());
  EXPECT_FALSE(ParseDeliveriesSpec("").ok());
}

}  // namespace
}  // namespace smtp::runner
