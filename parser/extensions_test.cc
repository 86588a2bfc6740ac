#include "parser/extensions.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtp {
namespace {

using Strings = std::vector<std::string>;

ExtensionSet Decode(std::string_view wire) {
  Result<Reply> r = ParseReply(wire);
  EXPECT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset;
  if (!r.ok()) return {};
  return DecodeEhlo(*r);
}

EhloExtension Ext(std::string keyword, Strings params = {}, bool malformed = false,
                  bool bad_params = false) {
  return EhloExtension{std::move(keyword), std::move(params), malformed, bad_params};
}

TEST(ExtensionsTest, PostfixEhlo) {
  const ExtensionSet s = Decode(
      "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
      "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
      "250 CHUNKING\r\n");
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.domain, "mail.example.com");
  EXPECT_EQ(s.greeting, "");
  EXPECT_FALSE(s.bad_greeting);
  EXPECT_TRUE(s.size_advertised);
  EXPECT_EQ(s.size, 10240000u);
  EXPECT_TRUE(s.pipelining);
  EXPECT_TRUE(s.starttls);
  EXPECT_TRUE(s.enhancedstatuscodes);
  EXPECT_TRUE(s.eightbitmime);
  EXPECT_TRUE(s.dsn);
  EXPECT_TRUE(s.smtputf8);
  EXPECT_TRUE(s.chunking);
  EXPECT_FALSE(s.binarymime);
  EXPECT_TRUE(s.auth.empty());
  EXPECT_EQ(s.others, (std::vector<EhloExtension>{Ext("VRFY"), Ext("ETRN")}));
  EXPECT_EQ(s.keywords,
            (Strings{"PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                     "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}));
  EXPECT_TRUE(s.duplicates.empty());
  EXPECT_TRUE(s.Has("vrfy"));
  EXPECT_TRUE(s.Has("Chunking"));
  EXPECT_FALSE(s.Has("AUTH"));
  EXPECT_FALSE(s.Has("BINARYMIME"));
}

TEST(ExtensionsTest, GmailLikeEhloWithAuth) {
  const ExtensionSet s = Decode(
      "250-smtp.gmail.com at your service, [192.0.2.1]\r\n250-SIZE 35882577\r\n"
      "250-8BITMIME\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n"
      "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n");
  EXPECT_EQ(s.domain, "smtp.gmail.com");
  EXPECT_EQ(s.greeting, "at your service, [192.0.2.1]");
  EXPECT_EQ(s.size, 35882577u);
  EXPECT_EQ(s.auth,
            (Strings{"LOGIN", "PLAIN", "XOAUTH2", "PLAIN-CLIENTTOKEN", "OAUTHBEARER", "XOAUTH"}));
  EXPECT_FALSE(s.auth_old_style);
  EXPECT_TRUE(s.others.empty());
  EXPECT_TRUE(s.Has("auth"));
  EXPECT_FALSE(s.starttls);  // already under TLS
}

TEST(ExtensionsTest, ExchangeLikeEhlo) {
  const ExtensionSet s = Decode(
      "250-mx.example.com Hello [192.0.2.1]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n"
      "250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-X-ANONYMOUSTLS\r\n"
      "250-AUTH NTLM\r\n250-X-EXPS GSSAPI NTLM\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
      "250-CHUNKING\r\n250 XRDST\r\n");
  EXPECT_EQ(s.domain, "mx.example.com");
  EXPECT_EQ(s.greeting, "Hello [192.0.2.1]");
  EXPECT_EQ(s.size, 37748736u);
  EXPECT_EQ(s.auth, Strings{"NTLM"});
  EXPECT_TRUE(s.binarymime);
  EXPECT_TRUE(s.chunking);
  EXPECT_EQ(s.others, (std::vector<EhloExtension>{
                          Ext("X-ANONYMOUSTLS"), Ext("X-EXPS", {"GSSAPI", "NTLM"}), Ext("XRDST")}));
  EXPECT_TRUE(s.Has("x-exps"));
}

TEST(ExtensionsTest, Rfc5321AppendixD1SizeWithoutNumber) {
  const ExtensionSet s =
      Decode("250-foo.com greets bar.com\r\n250-8BITMIME\r\n250-SIZE\r\n250-DSN\r\n250 HELP\r\n");
  EXPECT_EQ(s.domain, "foo.com");
  EXPECT_EQ(s.greeting, "greets bar.com");
  EXPECT_TRUE(s.size_advertised);
  EXPECT_FALSE(s.size.has_value());  // no limit declared
  EXPECT_TRUE(s.eightbitmime);
  EXPECT_TRUE(s.dsn);
  EXPECT_EQ(s.others, std::vector<EhloExtension>{Ext("HELP")});
}

TEST(ExtensionsTest, OldStyleAuthLinesMerge) {
  const ExtensionSet s = Decode(
      "250-mail.example.org\r\n250-AUTH LOGIN PLAIN CRAM-MD5\r\n"
      "250-AUTH=LOGIN PLAIN DIGEST-MD5\r\n250 HELP\r\n");
  EXPECT_EQ(s.auth, (Strings{"LOGIN", "PLAIN", "CRAM-MD5", "DIGEST-MD5"}));
  EXPECT_TRUE(s.auth_old_style);
  EXPECT_TRUE(s.duplicates.empty()) << "AUTH next to AUTH= is usual, not a duplicate";
  EXPECT_EQ(s.keywords, (Strings{"AUTH", "HELP"}));

  const ExtensionSet only_old = Decode("250-x\r\n250 AUTH=PLAIN\r\n");
  EXPECT_EQ(only_old.auth, Strings{"PLAIN"});
  EXPECT_TRUE(only_old.Has("AUTH"));
  EXPECT_TRUE(only_old.others.empty());

  const ExtensionSet empty_old = Decode("250-x\r\n250 AUTH=\r\n");
  EXPECT_TRUE(empty_old.auth.empty());
  EXPECT_EQ(empty_old.others, std::vector<EhloExtension>{Ext("AUTH=", {}, false, true)});
}

TEST(ExtensionsTest, KeywordsAreCaseInsensitive) {
  const ExtensionSet s =
      Decode("250-x\r\n250-pipelining\r\n250-Size 1000\r\n250-8bitmime\r\n250 starttls\r\n");
  EXPECT_TRUE(s.pipelining);
  EXPECT_EQ(s.size, 1000u);
  EXPECT_TRUE(s.eightbitmime);
  EXPECT_TRUE(s.starttls);
  EXPECT_EQ(s.keywords, (Strings{"PIPELINING", "SIZE", "8BITMIME", "STARTTLS"}));
}

TEST(ExtensionsTest, DuplicatesAreNotedAndLaterLinesOverride) {
  const ExtensionSet s = Decode(
      "250-x\r\n250-SIZE 1000\r\n250-size 2000\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n"
      "250-AUTH LOGIN plain\r\n250-PIPELINING\r\n250 PIPELINING\r\n");
  EXPECT_EQ(s.duplicates, (Strings{"SIZE", "AUTH", "PIPELINING"}));
  EXPECT_EQ(s.size, 2000u);
  EXPECT_EQ(s.auth, (Strings{"PLAIN", "LOGIN"}));  // "plain" is the same mechanism
  const ExtensionSet reset = Decode("250-x\r\n250-SIZE 1000\r\n250 SIZE\r\n");
  EXPECT_FALSE(reset.size.has_value());
}

TEST(ExtensionsTest, MalformedLinesAreKeptAndTheRestStillDecodes) {
  const ExtensionSet s = Decode(
      "250-x\r\n250-SIZE  1000\r\n250-PIPE_LINING\r\n250-\r\n250-AUTH\r\n250-SIZE abc\r\n"
      "250-8BITMIME now\r\n250-X\tY\r\n250--DASH\r\n250-XA =\r\n250-ETRN \r\n250 DSN\r\n");
  EXPECT_EQ(s.others, (std::vector<EhloExtension>{
                          Ext("SIZE", {"1000"}, true),        // doubled SP
                          Ext("PIPE_LINING", {}, true),       // "_" not in ehlo-keyword
                          Ext("", {}, true),                  // empty line
                          Ext("AUTH", {}, false, true),       // no mechanism
                          Ext("SIZE", {"abc"}, false, true),  // not a number
                          Ext("8BITMIME", {"now"}, false, true), Ext("X", {"Y"}, true),  // HT
                          Ext("-DASH", {}, true),          // starts with "-"
                          Ext("XA", {"="}, false, false),  // "=" is a valid ehlo-param
                          Ext("ETRN", {}, true),           // trailing SP
                      }));
  EXPECT_TRUE(s.dsn) << "lines after malformed ones still decode";
  EXPECT_TRUE(s.size_advertised);  // from "SIZE abc"
  EXPECT_FALSE(s.size.has_value());
  EXPECT_TRUE(s.eightbitmime);
  EXPECT_TRUE(s.Has("AUTH"));
  EXPECT_TRUE(s.auth.empty());
  EXPECT_FALSE(s.Has("PIPE_LINING"));
  EXPECT_FALSE(s.Has("ETRN"));
  EXPECT_FALSE(s.pipelining);
  EXPECT_TRUE(s.duplicates.empty()) << "the malformed SIZE line is not counted";
}

TEST(ExtensionsTest, SizeValues) {
  struct Case {
    std::string_view line;
    std::optional<std::uint64_t> size;
    bool bad;
  };
  const Case cases[] = {
      {"SIZE 0", 0u, false},  // RFC 1870 §4: 0 = no fixed maximum
      {"SIZE 52428800", 52428800u, false},
      {"SIZE 18446744073709551615", UINT64_MAX, false},
      {"SIZE 18446744073709551616", std::nullopt, true},
      {"SIZE 000000000000000000001", std::nullopt, true},  // longer than 20 digits
      {"SIZE -1", std::nullopt, true},
      {"SIZE 10M", std::nullopt, true},
      {"SIZE 1 2", std::nullopt, true},
  };
  for (const Case& c : cases) {
    const ExtensionSet s = Decode("250-x\r\n250 " + std::string(c.line) + "\r\n");
    EXPECT_TRUE(s.size_advertised) << c.line;
    EXPECT_EQ(s.size, c.size) << c.line;
    EXPECT_EQ(!s.others.empty() && s.others[0].bad_params, c.bad) << c.line;
  }
}

TEST(ExtensionsTest, AuthMechanismSyntaxIsChecked) {
  const ExtensionSet s = Decode("250-x\r\n250 AUTH login PLAIN\r\n");
  EXPECT_EQ(s.auth, (Strings{"login", "PLAIN"}));  // kept, but flagged
  EXPECT_EQ(s.others, std::vector<EhloExtension>{Ext("AUTH", {"login", "PLAIN"}, false, true)});
  const ExtensionSet long_mech = Decode("250-x\r\n250 AUTH ABCDEFGHIJKLMNOPQRSTU\r\n");
  EXPECT_EQ(long_mech.others.size(), 1u);  // 21 characters > 20
}

TEST(ExtensionsTest, OtherExtensionsKeepTheirParams) {
  const ExtensionSet s = Decode(
      "250-x\r\n250-DELIVERBY 300\r\n250-XCLIENT NAME ADDR PROTO HELO\r\n"
      "250-LIMITS RCPTMAX=100 MAILMAX=1000\r\n250 ETRN\r\n");
  EXPECT_EQ(s.others, (std::vector<EhloExtension>{
                          Ext("DELIVERBY", {"300"}),
                          Ext("XCLIENT", {"NAME", "ADDR", "PROTO", "HELO"}),
                          Ext("LIMITS", {"RCPTMAX=100", "MAILMAX=1000"}),
                          Ext("ETRN"),
                      }));
}

TEST(ExtensionsTest, GreetingLine) {
  struct Case {
    std::string_view wire;
    std::string_view domain, greeting;
    bool bad;
  };
  const Case cases[] = {
      {"250 mail.example.com\r\n", "mail.example.com", "", false},
      {"250 mail.example.com Hello client.example.org [192.0.2.7]\r\n", "mail.example.com",
       "Hello client.example.org [192.0.2.7]", false},
      {"250 [192.0.2.1] hi\r\n", "[192.0.2.1]", "hi", false},
      {"250-\r\n250 PIPELINING\r\n", "", "", true},
      {"250- greeting only\r\n250 PIPELINING\r\n", "", "greeting only", true},
  };
  for (const Case& c : cases) {
    const ExtensionSet s = Decode(c.wire);
    EXPECT_TRUE(s.ok);
    EXPECT_EQ(s.domain, c.domain) << c.wire;
    EXPECT_EQ(s.greeting, c.greeting) << c.wire;
    EXPECT_EQ(s.bad_greeting, c.bad) << c.wire;
  }
  EXPECT_TRUE(Decode("250-x\r\n250 PIPELINING\r\n").pipelining);
  EXPECT_FALSE(Decode("250 x PIPELINING\r\n").pipelining) << "single line: greeting only";
}

TEST(ExtensionsTest, NonOkReplyDecodesToNothing) {
  for (std::string_view wire : {"502 5.5.1 Unrecognized command\r\n",
                                "421-4.7.0 busy\r\n421 PIPELINING\r\n", "550 x\r\n"}) {
    const ExtensionSet s = Decode(wire);
    EXPECT_EQ(s, ExtensionSet{}) << wire;
  }
  EXPECT_EQ(DecodeEhlo(Reply{}), ExtensionSet{});
}

}  // namespace
}  // namespace smtp
