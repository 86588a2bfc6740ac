#include "app/wire_json.h"

#include <gtest/gtest.h>

#include "parser/command.h"

namespace smtp::app {
namespace {

TEST(WireJson, MailCommandCarriesPathParamsAndDeviations) {
  CommandOptions opts;
  opts.leniencies = kSpaceAfterColon;
  std::string line = "MAIL FROM: <a@example.org> SIZE=1000 BODY=8BITMIME\r\n";
  auto r = ParseCommand(line, opts);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  nlohmann::json j = CommandJson(*r);
  EXPECT_EQ(j["verb"], "MAIL");
  EXPECT_EQ(j["path"]["local_part"], "a");
  EXPECT_EQ(j["path"]["domain"], "example.org");
  EXPECT_EQ(j["params"]["decoded"]["size"], 1000);
  EXPECT_EQ(j["params"]["decoded"]["body"], "8BITMIME");
  EXPECT_EQ(j["deviations"], nlohmann::json::array({"space_after_colon"}));
}

TEST(WireJson, ErrorNamesCodeOffsetAndReason) {
  auto r = ParseCommand("MAIL FROM:<a@@b>\r\n");
  ASSERT_FALSE(r.ok());
  nlohmann::json j = ErrorJson(r.error());
  EXPECT_EQ(j["code_num"], static_cast<int>(r.error().code));
  EXPECT_EQ(j["offset"], r.error().offset);
  EXPECT_FALSE(j["reason"].get<std::string>().empty());
  EXPECT_FALSE(j["code"].get<std::string>().empty());
}

TEST(WireJson, InvalidUtf8IsReplacedNotThrown) {
  nlohmann::json j = {{"s", std::string("a\xff\xfe"
                                        "b")}};
  std::string out;
  ASSERT_NO_THROW(out = DumpLine(j));
  EXPECT_NE(out.find("a\xEF\xBF\xBD"), std::string::npos);
}

TEST(WireJson, XtextParamsAreDecoded) {
  auto r = ParseCommand("MAIL FROM:<> ENVID=a+2Bb RET=HDRS\r\n");
  ASSERT_TRUE(r.ok()) << r.error().reason;
  nlohmann::json j = CommandJson(*r);
  EXPECT_EQ(j["params"]["decoded"]["envid"], "a+b");
  EXPECT_EQ(j["params"]["decoded"]["ret"], "HDRS");
  EXPECT_EQ(j["path"]["null"], true);
}

}  // namespace
}  // namespace smtp::app
