#include "harness/client/script_session.h"

#include <gtest/gtest.h>

#include "harness/sasl.h"

namespace smtp::client {
namespace {

// Everything the session sends for `in`, fed in the given reads.
std::string Sent(const std::vector<ServerAction>& actions) {
  std::string s;
  for (const ServerAction& a : actions) s += a.bytes;
  return s;
}

std::vector<std::string> Kinds(const SessionRecord& r) {
  std::vector<std::string> k;
  for (const Violation& v : r.violations) k.push_back(v.kind);
  return k;
}

class ScriptSessionTest : public ::testing::Test {
 protected:
  ScriptedSession& Start(ClientMode mode = ClientMode::kPlain) {
    settings_.mode = mode;
    session_ = std::make_unique<ScriptedSession>(script_, settings_, &record_);
    greeting_ = Sent(session_->Greet());
    return *session_;
  }
  ServerScript script_;
  SessionSettings settings_;
  SessionRecord record_;
  std::unique_ptr<ScriptedSession> session_;
  std::string greeting_;
};

TEST_F(ScriptSessionTest, AWellBehavedClientDeliversTheUnstuffedMessage) {
  ScriptedSession& s = Start();
  EXPECT_EQ(greeting_, "220 harness.test ESMTP smtp-harness client test\r\n");
  EXPECT_EQ(Sent(s.Feed("EHLO c.test\r\n")),
            "250-harness.test greets the client\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
            "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n");
  EXPECT_EQ(Sent(s.Feed("MAIL FROM:<a@c.test> SIZE=20\r\n")), "250 2.1.0 Sender ok\r\n");
  EXPECT_EQ(Sent(s.Feed("RCPT TO:<b@s.test>\r\n")), "250 2.1.5 Recipient ok\r\n");
  EXPECT_EQ(Sent(s.Feed("DATA\r\n")), "354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(Sent(s.Feed("..dot\r\nx\r\n")), "");
  EXPECT_EQ(Sent(s.Feed(".\r\n")), "250 2.0.0 Ok: queued as HARNESS1\r\n");
  std::vector<ServerAction> quit = s.Feed("QUIT\r\n");
  ASSERT_EQ(quit.size(), 2u);
  EXPECT_EQ(quit[1].kind, ServerAction::Kind::kClose);
  EXPECT_TRUE(record_.violations.empty()) << record_.violations[0].detail;
  ASSERT_EQ(record_.messages.size(), 1u);
  EXPECT_EQ(record_.messages[0].body, ".dot\r\nx\r\n");
  EXPECT_TRUE(record_.messages[0].accepted);
  EXPECT_EQ(record_.message_bytes_plaintext, 9u);
}

TEST_F(ScriptSessionTest, PipeliningIsJudgedByRfc2920) {
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  // MAIL, RCPT, DATA in one group: allowed with PIPELINING.
  EXPECT_EQ(Sent(s.Feed("MAIL FROM:<a@c>\r\nRCPT TO:<b@s>\r\nDATA\r\n")),
            "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n354 End data with "
            "<CR><LF>.<CR><LF>\r\n");
  EXPECT_TRUE(record_.violations.empty());
  // The body before the 354: DATA ends a group.
  s.Feed(".\r\n");
  s.Feed("MAIL FROM:<a@c>\r\nRCPT TO:<b@s>\r\nDATA\r\nbody\r\n.\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"early-command"});
}

TEST_F(ScriptSessionTest, WithoutPipeliningEveryCommandWaits) {
  script_.extensions = std::vector<std::string>{"8BITMIME"};
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c>\r\nRCPT TO:<b@s>\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"early-command"});
}

TEST_F(ScriptSessionTest, DataAfterEveryRecipientWasRefused) {
  script_.replies["RCPT"] = {ReplyBytes("550 5.1.1 no\r\n")};
  script_.extensions = std::vector<std::string>{"8BITMIME"};
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c>\r\n");
  s.Feed("RCPT TO:<b@s>\r\n");
  EXPECT_EQ(Sent(s.Feed("DATA\r\n")), "554 5.5.1 no valid recipients\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"data-after-rejection"});
}

TEST_F(ScriptSessionTest, PipelinedDataAfterRefusedRecipientsIsAllowed) {
  script_.replies["RCPT"] = {ReplyBytes("550 5.1.1 no\r\n"), ReplyBytes("550 5.1.1 no\r\n")};
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c>\r\nRCPT TO:<b@s>\r\nDATA\r\n");
  EXPECT_TRUE(record_.violations.empty());
  EXPECT_TRUE(record_.messages.empty());
  // msmtp's way: RCPT and DATA in two writes, read apart (docs/clients.md).
  s.Feed("RSET\r\n");
  s.Feed("MAIL FROM:<a@c>\r\n");
  s.Feed("RCPT TO:<b@s>\r\n");
  EXPECT_EQ(Sent(s.Feed("DATA\r\n")), "554 5.5.1 no valid recipients\r\n");
  EXPECT_TRUE(record_.violations.empty()) << record_.violations[0].detail;
}

TEST_F(ScriptSessionTest, StartTlsWithoutAdvertisementIsRefusedNotJudged) {
  // nodemailer's requireTLS tries STARTTLS where it was not advertised.
  ScriptedSession& s = Start(ClientMode::kRequireTls);
  script_.extensions = std::vector<std::string>{"PIPELINING"};
  s.Feed("EHLO c\r\n");
  EXPECT_EQ(Sent(s.Feed("STARTTLS\r\n")), "502 5.5.1 STARTTLS not advertised\r\n");
  EXPECT_TRUE(record_.violations.empty());
}

TEST_F(ScriptSessionTest, UnadvertisedExtensionsAndSize) {
  script_.extensions = std::vector<std::string>{"SIZE 100"};
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c> SIZE=500 BODY=8BITMIME SMTPUTF8\r\n");
  EXPECT_EQ(Kinds(record_),
            (std::vector<std::string>{"size-exceeded", "unadvertised", "unadvertised"}));
}

TEST_F(ScriptSessionTest, HeloMeansNoExtensions) {
  ScriptedSession& s = Start();
  EXPECT_EQ(Sent(s.Feed("HELO c\r\n")), "250 harness.test\r\n");
  s.Feed("MAIL FROM:<a@c> SIZE=5\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"unadvertised"});
}

TEST_F(ScriptSessionTest, EightBitWithout8BitMime) {
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c>\r\n");
  s.Feed("RCPT TO:<b@c>\r\n");
  s.Feed("DATA\r\n");
  s.Feed("caf\xc3\xa9\r\n.\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"8bit-data"});
}

TEST_F(ScriptSessionTest, Utf8HeaderNeedsSmtputf8) {
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c> BODY=8BITMIME\r\n");
  s.Feed("RCPT TO:<b@c>\r\n");
  s.Feed("DATA\r\n");
  s.Feed("Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n.\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"utf8-header"});
  // With SMTPUTF8 (advertised by default), the same message is right.
  s.Feed("MAIL FROM:<a@c> BODY=8BITMIME SMTPUTF8\r\n");
  s.Feed("RCPT TO:<b@c>\r\n");
  s.Feed("DATA\r\n");
  s.Feed("Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n.\r\n");
  EXPECT_EQ(record_.violations.size(), 1u);
  EXPECT_EQ(record_.messages.size(), 2u);
}

TEST_F(ScriptSessionTest, BareLfAndLongLines) {
  ScriptedSession& s = Start();
  s.Feed("EHLO c\n");
  s.Feed("NOOP " + std::string(600, 'a') + "\r\n");
  s.Feed("MAIL FROM:<a@c>\r\n");
  s.Feed("RCPT TO:<b@c>\r\n");
  s.Feed("DATA\r\n");
  s.Feed(std::string(1200, 'x') + "\r\n.\r\n");
  EXPECT_EQ(Kinds(record_),
            (std::vector<std::string>{"line-end", "command-line-length", "text-line-length"}));
}

TEST_F(ScriptSessionTest, StartTlsDropsWhatFollowsAndForgetsTheExtensions) {
  ScriptedSession& s = Start(ClientMode::kStarttls);
  EXPECT_NE(Sent(s.Feed("EHLO c\r\n")).find("250 STARTTLS\r\n"), std::string::npos);
  std::vector<ServerAction> a = s.Feed("STARTTLS\r\nMAIL FROM:<a@c>\r\n");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].bytes, "220 2.0.0 Ready to start TLS\r\n");
  EXPECT_EQ(a[1].kind, ServerAction::Kind::kStartTls);
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"after-starttls"});
  s.TlsEstablished();
  EXPECT_TRUE(s.tls());
  EXPECT_EQ(Sent(s.Feed("EHLO c\r\n")).find("STARTTLS"), std::string::npos);
  EXPECT_TRUE(record_.tls_established);
}

TEST_F(ScriptSessionTest, InjectionIsSentWithThe220) {
  script_.replies["STARTTLS"] = {[] {
    ReplySpec r = ReplyBytes("220 go\r\n");
    r.inject = "250 injected\r\n";
    return r;
  }()};
  ScriptedSession& s = Start(ClientMode::kStarttls);
  s.Feed("EHLO c\r\n");
  std::vector<ServerAction> a = s.Feed("STARTTLS\r\n");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].bytes, "220 go\r\n250 injected\r\n");
}

TEST_F(ScriptSessionTest, AuthMechanisms) {
  ScriptedSession& s = Start(ClientMode::kAuth);
  s.Feed("EHLO c\r\n");
  const std::string plain = sasl::Base64Encode(std::string("\0harness-user\0harness-pass", 26));
  EXPECT_EQ(Sent(s.Feed("AUTH PLAIN " + plain + "\r\n")),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"plaintext-auth"});
  // CRAM-MD5: challenge, response checked.
  const std::string challenge = Sent(s.Feed("AUTH CRAM-MD5\r\n"));
  ASSERT_TRUE(challenge.starts_with("334 "));
  const std::optional<std::string> decoded =
      sasl::Base64DecodeStrict(challenge.substr(4, challenge.size() - 6));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(Sent(s.Feed(sasl::Base64Encode(
                            sasl::CramMd5Response("harness-user", "harness-pass", *decoded)) +
                        "\r\n")),
            "235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(Sent(s.Feed("AUTH LOGIN\r\n")), "334 VXNlcm5hbWU6\r\n");
  EXPECT_EQ(Sent(s.Feed(sasl::Base64Encode("harness-user") + "\r\n")), "334 UGFzc3dvcmQ6\r\n");
  EXPECT_EQ(Sent(s.Feed(sasl::Base64Encode("wrong") + "\r\n")),
            "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(record_.auth_mechanisms, (std::vector<std::string>{"PLAIN", "CRAM-MD5", "LOGIN"}));
}

TEST_F(ScriptSessionTest, RepliesByOccurrenceAndGeneratedMultiline) {
  script_.replies["RCPT"] = {ReplyBytes("451 4.3.0 later\r\n")};
  script_.reply_lines = 3;
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  EXPECT_EQ(Sent(s.Feed("MAIL FROM:<a@c>\r\n")),
            "250-2.1.0 Sender ok (line 1 of 3)\r\n250-2.1.0 Sender ok (line 2 of 3)\r\n"
            "250 2.1.0 Sender ok (line 3 of 3)\r\n");
  EXPECT_EQ(Sent(s.Feed("RCPT TO:<a@c>\r\n")), "451 4.3.0 later\r\n");
  EXPECT_EQ(Sent(s.Feed("RCPT TO:<b@c>\r\n")).substr(0, 4), "250-");
}

TEST_F(ScriptSessionTest, UnknownLinesAreADesync) {
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  EXPECT_EQ(Sent(s.Feed("Subject: hello\r\n")), "500 5.5.2 command unrecognized\r\n");
  EXPECT_EQ(Kinds(record_), std::vector<std::string>{"unknown-command"});
}

TEST_F(ScriptSessionTest, BdatChunksMakeOneMessage) {
  script_.extensions = std::vector<std::string>{"CHUNKING", "PIPELINING"};
  ScriptedSession& s = Start();
  s.Feed("EHLO c\r\n");
  s.Feed("MAIL FROM:<a@c>\r\n");
  s.Feed("RCPT TO:<b@c>\r\n");
  EXPECT_EQ(Sent(s.Feed("BDAT 3\r\nabc")), "250 2.0.0 chunk accepted\r\n");
  EXPECT_EQ(Sent(s.Feed("BDAT 2 LAST\r\nde")), "250 2.0.0 Ok: queued as HARNESS1\r\n");
  ASSERT_EQ(record_.messages.size(), 1u);
  EXPECT_EQ(record_.messages[0].body, "abcde");
  EXPECT_TRUE(record_.violations.empty());
}

}  // namespace
}  // namespace smtp::client
