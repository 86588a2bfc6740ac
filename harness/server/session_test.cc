#include "harness/server/session.h"

#include <algorithm>
#include <ostream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/sasl.h"
#include "harness/server/session_test_util.h"
#include "parser/grind_test_util.h"
#include "parser/reply.h"

namespace smtp::server {
namespace {

using testing::B64;
using testing::BaseConfig;
using testing::Drive;
using testing::DriveOnce;
using testing::Outcome;
using testing::Summaries;

enum class Cfg { kStrict, kLenient, kLmtp, kSmallSize, kNoDsn, kAuthAfterTls, kFaultMail };

ServerConfig Make(Cfg c) {
  ServerConfig cfg = BaseConfig();
  switch (c) {
    case Cfg::kStrict:
      break;
    case Cfg::kLenient:
      cfg.profile = Profile::kLenient;
      break;
    case Cfg::kLmtp:
      cfg.lmtp = true;
      break;
    case Cfg::kSmallSize:
      cfg.max_message_size = 100;
      break;
    case Cfg::kNoDsn:
      cfg.extensions.dsn = false;
      break;
    case Cfg::kAuthAfterTls:
      cfg.auth_advertise = AuthAdvertise::kAfterTls;
      break;
    case Cfg::kFaultMail:
      cfg.profile = Profile::kFaulty;
      cfg.faults.points = kFaultMail;
      cfg.faults.temp_fail_rate = 1.0;
      break;
  }
  return cfg;
}

struct Case {
  const char* name;
  Cfg cfg;
  std::string input;
  std::vector<std::string> expected;  // reply summaries, greeting included
  bool split = true;                  // re-feed split at every byte (not with STARTTLS)
};

const std::string kEhlo = "EHLO client.test\r\n";
const std::string kTxn = kEhlo + "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n";

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // RFC 5321 §4.1.1 / D.1: a whole transaction.
      {"full_transaction",
       Cfg::kStrict,
       kTxn + "DATA\r\nSubject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"}},
      {"helo",
       Cfg::kStrict,
       "HELO client.test\r\nMAIL FROM:<a@x.test>\r\n",
       {"220", "250", "250 2.1.0"}},
      {"null_reverse_path_and_postmaster",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<postmaster>\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5"}},
      // Sequencing (RFC 5321 §4.1.4, 503 5.5.1).
      {"mail_before_ehlo", Cfg::kStrict, "MAIL FROM:<a@x.test>\r\n", {"220", "503 5.5.1"}},
      {"rcpt_before_mail",
       Cfg::kStrict,
       kEhlo + "RCPT TO:<b@y.test>\r\n",
       {"220", "250", "503 5.5.1"}},
      {"data_before_mail", Cfg::kStrict, kEhlo + "DATA\r\n", {"220", "250", "503 5.5.1"}},
      {"data_before_rcpt",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test>\r\nDATA\r\n",
       {"220", "250", "250 2.1.0", "503 5.5.1"}},
      {"nested_mail",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test>\r\nMAIL FROM:<a@x.test>\r\n",
       {"220", "250", "250 2.1.0", "503 5.5.1"}},
      {"rset_clears_transaction",
       Cfg::kStrict,
       kTxn + "RSET\r\nRCPT TO:<b@y.test>\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1"}},
      {"ehlo_clears_transaction",
       Cfg::kStrict,
       kTxn + kEhlo + "RCPT TO:<b@y.test>\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250", "503 5.5.1"}},
      {"sequence_checked_before_syntax", Cfg::kStrict, "MAIL FROM:<bad\r\n", {"220", "503 5.5.1"}},
      // Informational commands.
      {"noop_vrfy_expn_help",
       Cfg::kStrict,
       "NOOP\r\nVRFY user\r\nVRFY user@x.test\r\nEXPN list\r\nHELP\r\nRSET\r\n",
       {"220", "250 2.0.0", "252 2.1.5", "252 2.1.5", "502 5.5.1", "214 2.0.0", "250 2.0.0"}},
      // RFC 5321 §4.1.1.9: NOOP ignores any parameter string; HELP's
      // argument is a hint (§4.1.1.8). Broken lines are still refused.
      {"noop_ignores_argument",
       Cfg::kStrict,
       "NOOP any text here\r\nNOOP \"open\r\nNOOP caf\xc3\xa9\r\nNOOP\tx\x01\r\n",
       {"220", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0"}},
      {"help_ignores_argument",
       Cfg::kStrict,
       "HELP MAIL\r\nHELP me, please!\r\n",
       {"220", "214 2.0.0", "214 2.0.0"}},
      {"noop_broken_line_refused",
       Cfg::kStrict,
       std::string("NOOP a\0b\r\n", 10) + "NOOP a\rb\r\nNOOP a\nb\r\n",
       {"220", "500 5.5.2", "500 5.5.2", "500 5.5.2"}},
      // §4.1.1: receivers SHOULD tolerate trailing white space, in every
      // profile; arguments where the verb takes none are still 501.
      {"trailing_whitespace_tolerated",
       Cfg::kStrict,
       "NOOP \r\nRSET\t\r\nEHLO client.test \r\nMAIL FROM:<a@x.test>  \r\nQUIT \r\n",
       {"220", "250 2.0.0", "250 2.0.0", "250", "250 2.1.0", "221 2.0.0"}},
      {"argument_still_refused",
       Cfg::kStrict,
       kTxn + "RSET extra\r\nQUIT extra\r\nDATA extra \r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "501 5.5.4", "501 5.5.4", "501 5.5.4"}},
      {"etrn_not_implemented", Cfg::kStrict, "ETRN example.com\r\n", {"220", "502 5.5.1"}},
      // Syntax.
      {"unknown_verb", Cfg::kStrict, "FOO bar\r\n\r\n", {"220", "500 5.5.2", "500 5.5.2"}},
      {"vrfy_without_argument", Cfg::kStrict, "VRFY\r\n", {"220", "501 5.5.4"}},
      {"bad_reverse_path",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@@x>\r\n",
       {"220", "250", "501 5.1.7"}},
      {"bad_forward_path",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<>\r\nRCPT TO:<>\r\n",
       {"220", "250", "250 2.1.0", "501 5.1.3"}},
      {"unknown_parameter",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test> FOO=bar\r\n",
       {"220", "250", "555 5.5.4"}},
      {"bad_size_value",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test> SIZE=abc\r\n",
       {"220", "250", "501 5.5.4"}},
      {"notify_on_mail",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test> NOTIFY=NEVER\r\n",
       {"220", "250", "555 5.5.4"}},
      {"data_with_argument",
       Cfg::kStrict,
       kTxn + "DATA now\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "501 5.5.4"}},
      {"bad_ehlo_domain",
       Cfg::kStrict,
       "EHLO -bad-\r\nEHLO\r\n",
       {"220", "501 5.5.4", "501 5.5.4"}},
      {"line_too_long",
       Cfg::kStrict,
       "NOOP " + std::string(600, 'a') + "\r\nNOOP\r\n",
       {"220", "500 5.5.6", "250 2.0.0"}},
      {"auth_line_may_be_long",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN " + B64(std::string(1, '\0') + std::string(500, 'u') + '\0' + "pw") +
           "\r\n",
       {"220", "250", "535 5.7.8"}},
      // RFC 5321 §2.3.8: strict rejects a bare LF, lenient ends the line there.
      {"strict_bare_lf_in_command", Cfg::kStrict, "NOOP\nNOOP\r\n", {"220", "500 5.5.2"}},
      {"lenient_bare_lf_in_command",
       Cfg::kLenient,
       "NOOP\nNOOP\r\n",
       {"220", "250 2.0.0", "250 2.0.0"}},
      {"lenient_space_after_colon",
       Cfg::kLenient,
       "EHLO c.test\nMAIL FROM: <a@x.test>\n",
       {"220", "250", "250 2.1.0"}},
      {"strict_space_after_colon",
       Cfg::kStrict,
       kEhlo + "MAIL FROM: <a@x.test>\r\n",
       {"220", "250", "501 5.5.4"}},
      {"nul_in_command", Cfg::kStrict, std::string("NO\0OP\r\n", 7), {"220", "500 5.5.2"}},
      // SIZE (RFC 1870).
      {"size_param_over_limit",
       Cfg::kSmallSize,
       kEhlo + "MAIL FROM:<a@x.test> SIZE=101\r\n",
       {"220", "250", "552 5.3.4"}},
      {"size_param_at_limit",
       Cfg::kSmallSize,
       kEhlo + "MAIL FROM:<a@x.test> SIZE=100\r\n",
       {"220", "250", "250 2.1.0"}},
      {"body_over_limit",
       Cfg::kSmallSize,
       kTxn + "DATA\r\n" + std::string(150, 'x') + "\r\n.\r\nRCPT TO:<c@y.test>\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "354", "552 5.3.4", "503 5.5.1"}},
      // SMTPUTF8 (RFC 6531).
      {"utf8_address_without_smtputf8",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<j\xc3\xb6@x.test>\r\n",
       {"220", "250", "553 5.6.7"}},
      {"utf8_address_with_smtputf8",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<j\xc3\xb6@x.test> SMTPUTF8\r\nRCPT TO:<m\xc3\xbc@y.test>\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5"}},
      // DSN (RFC 3461).
      {"dsn_parameters",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test> RET=HDRS ENVID=abc\r\n"
               "RCPT TO:<b@y.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@y.test\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5"}},
      {"dsn_disabled",
       Cfg::kNoDsn,
       kEhlo + "MAIL FROM:<a@x.test> RET=HDRS\r\n",
       {"220", "250", "555 5.5.4"}},
      // CHUNKING / BINARYMIME (RFC 3030).
      {"bdat",
       Cfg::kStrict,
       kTxn + "BDAT 5\r\nhelloBDAT 7 LAST\r\n world\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"}},
      {"bdat_0_last",
       Cfg::kStrict,
       kTxn + "BDAT 3\r\nabcBDAT 0 LAST\r\nNOOP\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0", "250 2.0.0"}},
      {"data_after_bdat",
       Cfg::kStrict,
       kTxn + "BDAT 3\r\nabcDATA\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1"}},
      {"bdat_without_mail_skips_chunk",
       Cfg::kStrict,
       kEhlo + "BDAT 6\r\nNOOP\r\nNOOP\r\n",
       {"220", "250", "503 5.5.1", "250 2.0.0"}},
      {"binarymime_needs_bdat",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test> BODY=BINARYMIME\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" +
           std::string("BDAT 2 LAST\r\n\x00\xff", 15),
       {"220", "250", "250 2.1.0", "250 2.1.5", "503 5.5.1", "250 2.0.0"}},
      {"bdat_over_size",
       Cfg::kSmallSize,
       kTxn + "BDAT 101\r\n" + std::string(101, 'z') + "BDAT 1 LAST\r\nz",
       {"220", "250", "250 2.1.0", "250 2.1.5", "552 5.3.4", "503 5.5.1"}},
      // STARTTLS (RFC 3207): the state is reset, and the plaintext pipelined
      // after STARTTLS is never answered.
      {"starttls_with_argument",
       Cfg::kStrict,
       kEhlo + "STARTTLS now\r\n",
       {"220", "250", "501 5.5.4"}},
      {"starttls_resets_and_drops_injection",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test>\r\nRSET\r\nSTARTTLS\r\nEHLO evil\r\nMAIL FROM:<e@x>\r\n",
       {"220", "250", "250 2.1.0", "250 2.0.0", "220 2.0.0"},
       false},
      {"starttls_in_transaction",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test>\r\nSTARTTLS\r\n",
       {"220", "250", "250 2.1.0", "503 5.5.1"}},
      // AUTH (RFC 4954).
      {"auth_plain_initial_response",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN " + B64(std::string("\0user\0secret", 12)) + "\r\n",
       {"220", "250", "235 2.7.0"}},
      {"auth_plain_challenge",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN\r\n" + B64(std::string("\0user\0secret", 12)) + "\r\n",
       {"220", "250", "334", "235 2.7.0"}},
      {"auth_plain_wrong_password",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN " + B64(std::string("\0user\0nope", 10)) + "\r\n",
       {"220", "250", "535 5.7.8"}},
      {"auth_login",
       Cfg::kStrict,
       kEhlo + "AUTH LOGIN\r\n" + B64("user") + "\r\n" + B64("secret") + "\r\n",
       {"220", "250", "334", "334", "235 2.7.0"}},
      {"auth_login_initial_user",
       Cfg::kStrict,
       kEhlo + "AUTH LOGIN " + B64("user") + "\r\n" + B64("bad") + "\r\n",
       {"220", "250", "334", "535 5.7.8"}},
      {"auth_cancel",
       Cfg::kStrict,
       kEhlo + "AUTH LOGIN\r\n*\r\nNOOP\r\n",
       {"220", "250", "334", "501 5.0.0", "250 2.0.0"}},
      {"auth_bad_base64",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN\r\n!!!!\r\n",
       {"220", "250", "334", "501 5.5.2"}},
      {"auth_twice",
       Cfg::kStrict,
       kEhlo + "AUTH PLAIN " + B64(std::string("\0user\0secret", 12)) + "\r\nAUTH LOGIN\r\n",
       {"220", "250", "235 2.7.0", "503 5.5.1"}},
      {"auth_in_transaction",
       Cfg::kStrict,
       kEhlo + "MAIL FROM:<a@x.test>\r\nAUTH LOGIN\r\n",
       {"220", "250", "250 2.1.0", "503 5.5.1"}},
      {"auth_before_ehlo", Cfg::kStrict, "AUTH LOGIN\r\n", {"220", "503 5.5.1"}},
      {"auth_unknown_mechanism",
       Cfg::kStrict,
       kEhlo + "AUTH GSSAPI\r\n",
       {"220", "250", "504 5.5.4"}},
      {"auth_cram_md5_initial_response",
       Cfg::kStrict,
       kEhlo + "AUTH CRAM-MD5 " + B64("x") + "\r\n",
       {"220", "250", "501 5.5.4"}},
      {"auth_requires_tls",
       Cfg::kAuthAfterTls,
       kEhlo + "AUTH LOGIN\r\n",
       {"220", "250", "538 5.7.11"}},
      // LMTP (RFC 2033): one reply per accepted recipient after DATA.
      {"lmtp_per_recipient",
       Cfg::kLmtp,
       "LHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\n"
       "DATA\r\nhi\r\n.\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0", "250 2.0.0"}},
      {"lmtp_bdat_per_recipient",
       Cfg::kLmtp,
       "LHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nRCPT TO:<c@y.test>\r\n"
       "BDAT 2\r\nhiBDAT 0 LAST\r\n",
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "250 2.0.0",
        "250 2.0.0"}},
      {"lmtp_refuses_ehlo",
       Cfg::kLmtp,
       "EHLO c.test\r\nHELO c.test\r\n",
       {"220", "500 5.5.1", "500 5.5.1"}},
      {"smtp_refuses_lhlo", Cfg::kStrict, "LHLO c.test\r\n", {"220", "500 5.5.2"}},
      // Faulty profile, deterministic: every MAIL gets an injected 451.
      {"fault_mail_temp_fail",
       Cfg::kFaultMail,
       kEhlo + "MAIL FROM:<a@x.test>\r\nNOOP\r\n",
       {"220", "250", "451 4.3.0", "250 2.0.0"}},
  };
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// The wire with message ids ("queued as <id>") blanked, plus the stored
// bodies: what must not depend on how the input was split.
std::string Observable(const Outcome& o) {
  std::string s = o.wire;
  for (std::size_t at = s.find("queued as "); at != std::string::npos;
       at = s.find("queued as ", at + 1)) {
    const std::size_t start = at + 10;
    s.replace(start, s.find("\r\n", start) - start, "ID");
  }
  for (const StoredMessage& m : o.messages) s += "\n[body] " + m.body;
  return s;
}

class SessionCaseTest : public ::testing::TestWithParam<Case> {};
class SessionSplitTest : public ::testing::TestWithParam<Case> {};

TEST_P(SessionCaseTest, Replies) {
  const Case& c = GetParam();
  const Outcome o = DriveOnce(Make(c.cfg), c.input);
  EXPECT_EQ(Summaries(o), c.expected) << o.wire;
}

// The cases whose outcome must not depend on how the input is split: all but
// those with STARTTLS, which drops the rest of a read by design (RFC 3207 §4.2).
std::vector<Case> SplittableCases() {
  std::vector<Case> out;
  for (const Case& c : Cases()) {
    if (c.split) out.push_back(c);
  }
  return out;
}

// Feeding split at every byte, and byte by byte, gives the same bytes out.
TEST_P(SessionSplitTest, SplitFeedingGivesSameReplies) {
  const Case& c = GetParam();
  const ServerConfig cfg = Make(c.cfg);
  const std::string whole = Observable(DriveOnce(cfg, c.input));
  const auto drive = [&](const auto& chunks) { return Observable(Drive(cfg, chunks)); };
  for (const auto& [how, observed] : smtp::testing::Grind(c.input, drive)) {
    ASSERT_EQ(observed, whole) << how;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, SessionCaseTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(Table, SessionSplitTest, ::testing::ValuesIn(SplittableCases()),
                         [](const auto& info) { return std::string(info.param.name); });

// --- bodies in the sink -----------------------------------------------------

// RFC 5321 §4.4: a Received: line starts every stored message, by DATA and
// by BDAT; size and digest still describe the body as sent.
TEST(SessionTest, TraceLineIsPrependedToStoredMessages) {
  ServerConfig cfg = BaseConfig();
  cfg.trace_header = true;
  const Outcome o =
      DriveOnce(cfg, kTxn + "DATA\r\nSubject: t\r\n\r\nhi\r\n.\r\n" +
                         "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n" + "BDAT 4 LAST\r\nbody");
  ASSERT_EQ(o.messages.size(), 2u) << o.wire;
  const std::regex trace(
      "^Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\)\r\n"
      "\tby mx\\.test with ESMTP id 7\\.([12]); "
      "[A-Z][a-z]{2}, \\d{2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000\r\n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(o.messages[0].body, m, trace)) << o.messages[0].body;
  EXPECT_EQ(m[1], "1");
  EXPECT_EQ(o.messages[0].body.substr(m.length(0)), "Subject: t\r\n\r\nhi\r\n");
  EXPECT_EQ(o.messages[0].info.size, std::string("Subject: t\r\n\r\nhi\r\n").size());
  ASSERT_TRUE(std::regex_search(o.messages[1].body, m, trace)) << o.messages[1].body;
  EXPECT_EQ(m[1], "2");
  EXPECT_EQ(o.messages[1].body.substr(m.length(0)), "body");
}

TEST(SessionTest, DotUnstuffingReachesTheSink) {
  const Outcome o =
      DriveOnce(BaseConfig(), kTxn + "DATA\r\n..leading dot\r\n...\r\nmid.dle\r\n.\r\nQUIT\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  const StoredMessage& m = o.messages[0];
  EXPECT_EQ(m.body, ".leading dot\r\n..\r\nmid.dle\r\n");
  EXPECT_EQ(m.info.size, m.body.size());
  EXPECT_EQ(m.info.sha256, Sha256Hex(m.body));
  EXPECT_EQ(m.info.data_end, "crlf.crlf");
  EXPECT_EQ(m.info.envelope.mail_from, "a@x.test");
  EXPECT_EQ(m.info.envelope.rcpt_to, std::vector<std::string>{"b@y.test"});
  EXPECT_EQ(m.info.envelope.helo, "client.test");
  EXPECT_EQ(m.info.envelope.protocol, "ESMTP");
  EXPECT_EQ(m.info.envelope.transfer, "DATA");
}

// A sink that does not want the digest gets none (the session skips hashing).
TEST(SessionTest, NoDigestForASinkThatDoesNotWantIt) {
  struct NoDigestSink : MemorySink {
    bool wants_sha256() const override { return false; }
  } sink;
  const ServerConfig cfg = BaseConfig();
  Session s(cfg, &sink, SessionInfo{1, "c", false, ""});
  s.Start();
  s.Feed(kTxn + "DATA\r\nbody\r\n.\r\n");
  const std::vector<StoredMessage> m = sink.Messages();
  ASSERT_EQ(m.size(), 1u) << s.output();
  EXPECT_EQ(m[0].body, "body\r\n");
  EXPECT_EQ(m[0].info.sha256, "");
}

TEST(SessionTest, BdatBodyIsVerbatim) {
  // BDAT has no dot-stuffing: ".\r\n" inside a chunk is content.
  const Outcome o = DriveOnce(BaseConfig(), kTxn + "BDAT 5\r\n.\r\n..BDAT 0 LAST\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].body, ".\r\n..");
  EXPECT_EQ(o.messages[0].info.envelope.transfer, "BDAT");
  EXPECT_EQ(o.messages[0].info.data_end, "");
}

// SMTP smuggling (CVE-2023-51764/5/6): the same bytes are one message to the
// strict profile and a message plus a smuggled transaction to the lenient one.
TEST(SessionTest, LenientEndsDataAtBareLfDotBareLf) {
  const std::string input = kTxn +
                            "DATA\r\nfirst\n.\nMAIL FROM:<evil@x.test>\r\n"
                            "RCPT TO:<victim@y.test>\r\nDATA\r\nsmuggled\r\n.\r\n";
  const Outcome strict = DriveOnce(BaseConfig(), input);
  ASSERT_EQ(strict.messages.size(), 1u);
  EXPECT_EQ(strict.messages[0].body,
            "first\n.\nMAIL FROM:<evil@x.test>\r\nRCPT TO:<victim@y.test>\r\nDATA\r\nsmuggled\r\n");
  EXPECT_EQ(strict.messages[0].info.bare_lf, 2u);

  ServerConfig lenient_cfg = BaseConfig();
  lenient_cfg.profile = Profile::kLenient;
  const Outcome lenient = DriveOnce(lenient_cfg, input);
  ASSERT_EQ(lenient.messages.size(), 2u);
  EXPECT_EQ(lenient.messages[0].body, "first\n");
  EXPECT_EQ(lenient.messages[0].info.data_end, "lf.lf");
  EXPECT_EQ(lenient.messages[1].info.envelope.mail_from, "evil@x.test");
  EXPECT_EQ(lenient.messages[1].body, "smuggled\r\n");
}

TEST(SessionTest, BodyOverLimitIsNotStored) {
  ServerConfig cfg = BaseConfig();
  cfg.max_message_size = 10;
  const Outcome o = DriveOnce(cfg, kTxn + "DATA\r\n0123456789abc\r\n.\r\n" +
                                       kTxn.substr(kEhlo.size()) + "DATA\r\nshort\r\n.\r\n");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].body, "short\r\n");
}

// --- limits -------------------------------------------------------------------

TEST(SessionTest, HundredRecipientsThen452) {
  std::string input = kEhlo + "MAIL FROM:<a@x.test>\r\n";
  for (int i = 0; i < 105; ++i) input += "RCPT TO:<r" + std::to_string(i) + "@y.test>\r\n";
  input += "DATA\r\nx\r\n.\r\n";
  const Outcome o = DriveOnce(BaseConfig(), input);
  const std::vector<std::string> s = Summaries(o);
  ASSERT_EQ(s.size(), 2u + 1 + 105 + 2);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(s[3 + i], "250 2.1.5") << i;
  for (int i = 100; i < 105; ++i) EXPECT_EQ(s[3 + i], "452 4.5.3") << i;
  EXPECT_EQ(s.back(), "250 2.0.0");
  ASSERT_EQ(o.messages.size(), 1u);
  EXPECT_EQ(o.messages[0].info.envelope.rcpt_to.size(), 100u);
  EXPECT_EQ(o.action, SessionAction::kNone);  // 452 does not count as an error
}

TEST(SessionTest, TooManyErrorsCloses) {
  ServerConfig cfg = BaseConfig();
  cfg.max_errors = 3;
  const Outcome o = DriveOnce(cfg, "FOO\r\nFOO\r\nFOO\r\nFOO\r\nNOOP\r\n");
  EXPECT_EQ(Summaries(o), (std::vector<std::string>{"220", "500 5.5.2", "500 5.5.2", "500 5.5.2",
                                                    "500 5.5.2", "421 4.7.0"}));
  EXPECT_EQ(o.action, SessionAction::kClose);
  EXPECT_EQ(o.state, SessionState::kClosed);
}

// An over-long line is discarded up to its end and answered 500; one that
// has no end after max_discarded_line octets closes the session instead,
// whether it comes in one piece or in reads of 16 KiB.
TEST(SessionTest, DiscardedLineIsBounded) {
  ServerConfig cfg = BaseConfig();
  cfg.max_discarded_line = 64 * 1024;
  const std::string within(cfg.max_discarded_line - 2, 'A');
  EXPECT_EQ(Summaries(Drive(cfg, {within, "\r\nNOOP\r\n"})),
            (std::vector<std::string>{"220", "500 5.5.6", "250 2.0.0"}));
  const std::string over(cfg.max_discarded_line + 1, 'A');
  std::vector<std::string_view> reads;
  for (std::size_t at = 0; at < over.size(); at += 16 * 1024) {
    reads.push_back(std::string_view(over).substr(at, 16 * 1024));
  }
  for (const auto& chunks : {std::vector<std::string_view>{over}, reads}) {
    std::vector<std::string_view> in = chunks;
    in.push_back("\r\nNOOP\r\n");
    const Outcome o = Drive(cfg, in);
    EXPECT_EQ(Summaries(o), (std::vector<std::string>{"220", "421 4.5.6"}));
    EXPECT_EQ(o.action, SessionAction::kClose);
    EXPECT_EQ(o.log.back(), "INIT -> CLOSED (line discard limit)");
  }
}

// Backpressure: Feed stops once kOutputHighWater reply bytes wait.
TEST(SessionTest, FeedStopsAtOutputHighWater) {
  MemorySink sink;
  ServerConfig cfg = BaseConfig();
  Session s(cfg, &sink, SessionInfo{1, "c", false, ""});
  s.Start();
  s.ClearOutput();
  std::string flood;
  for (int i = 0; i < 10000; ++i) flood += "NOOP\r\n";
  std::string_view in = flood;
  std::size_t replies = 0, peak = 0, feeds = 0;
  while (!in.empty()) {
    in.remove_prefix(s.Feed(in));
    ++feeds;
    peak = std::max(peak, s.output().size());
    replies += s.reply_ends().size();
    s.ClearOutput();
  }
  EXPECT_EQ(replies, 10000u);
  EXPECT_GT(feeds, 1u);
  EXPECT_LT(peak, Session::kOutputHighWater + 64);
}

// --- state log, TLS, CRAM-MD5 ---------------------------------------------------

TEST(SessionTest, StateLogRecordsOldToNew) {
  const Outcome o = DriveOnce(BaseConfig(), kTxn + "DATA\r\nx\r\n.\r\nQUIT\r\n");
  EXPECT_EQ(o.log,
            (std::vector<std::string>{"INIT -> READY (EHLO)", "READY -> MAIL (MAIL)",
                                      "MAIL -> RCPT (RCPT)", "RCPT -> DATA (DATA)",
                                      "DATA -> READY (end of data)", "READY -> CLOSED (QUIT)"}));
}

TEST(SessionTest, EhloAdvertisesExtensions) {
  const Outcome o = DriveOnce(BaseConfig(), kEhlo);
  ASSERT_EQ(o.replies.size(), 2u);
  EXPECT_EQ(
      o.replies[1].lines,
      (std::vector<std::string>{"mx.test greets client.test", "PIPELINING", "SIZE 10485760",
                                "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "DSN", "CHUNKING",
                                "BINARYMIME", "STARTTLS", "AUTH PLAIN LOGIN CRAM-MD5", "HELP"}));
}

// Reply text is printable ASCII (RFC 5321 §4.2): a UTF-8 EHLO name is not
// echoed. Found by `smtp-harness fuzz` (bad_reply-EHLO).
TEST(SessionTest, EhloEchoesOnlyAPrintableName) {
  // A UTF-8 name is taken in a transaction that announced SMTPUTF8.
  const Outcome o = DriveOnce(BaseConfig(),
                              "EHLO a.test\r\nMAIL FROM:<a@example.com> SMTPUTF8\r\n"
                              "EHLO \xc3\xbc.test\r\n");
  ASSERT_EQ(o.replies.size(), 4u);  // the harness reads them strictly
  EXPECT_EQ(o.replies[1].lines[0], "mx.test greets a.test");
  EXPECT_EQ(o.replies[3].code, 250);
  EXPECT_EQ(o.replies[3].lines[0], "mx.test");
}

TEST(SessionTest, StarttlsForgetsEverythingAndIsNotOfferedTwice) {
  ServerConfig cfg = BaseConfig();
  const Outcome o = Drive(cfg, {kEhlo + "STARTTLS\r\nMAIL FROM:<injected@x>\r\n",
                                "RCPT TO:<b@y.test>\r\nEHLO c\r\nSTARTTLS\r\n"});
  EXPECT_EQ(Summaries(o),
            (std::vector<std::string>{"220", "250", "220 2.0.0", "503 5.5.1", "250", "503 5.5.1"}));
  const Reply& ehlo = o.replies[4];
  EXPECT_EQ(std::count(ehlo.lines.begin(), ehlo.lines.end(), "STARTTLS"), 0);
}

TEST(SessionTest, CramMd5) {
  for (const bool good : {true, false}) {
    MemorySink sink;
    ServerConfig cfg = BaseConfig();
    Session s(cfg, &sink, SessionInfo{1, "c", false, ""});
    s.Start();
    s.Feed(kEhlo + "AUTH CRAM-MD5\r\n");
    std::string out = s.output();
    s.ClearOutput();
    const std::size_t at = out.rfind("334 ");
    ASSERT_NE(at, std::string::npos) << out;
    const std::string b64 = out.substr(at + 4, out.size() - at - 6);
    const std::optional<std::string> challenge = sasl::Base64DecodeStrict(b64);
    ASSERT_TRUE(challenge.has_value()) << b64;
    EXPECT_EQ(challenge->front(), '<');
    const std::string response =
        sasl::CramMd5Response("user", good ? "secret" : "wrong", *challenge);
    s.Feed(B64(response) + "\r\n");
    EXPECT_EQ(s.output().substr(0, 3), good ? "235" : "535") << s.output();
  }
}

TEST(SessionTest, TimeoutAndShutdownReplies) {
  MemorySink sink;
  ServerConfig cfg = BaseConfig();
  Session a(cfg, &sink, SessionInfo{1, "c", false, ""});
  a.Start();
  a.ClearOutput();
  a.Feed(kTxn + "DATA\r\npartial body");
  a.ClearOutput();
  a.OnShutdown();
  EXPECT_EQ(a.output(), "421 4.3.2 Service shutting down\r\n");
  EXPECT_EQ(a.action(), SessionAction::kClose);
  EXPECT_EQ(sink.committed(), 0u);  // never accepted, never stored

  Session b(cfg, &sink, SessionInfo{2, "c", false, ""});
  b.Start();
  b.ClearOutput();
  b.OnTimeout();
  EXPECT_EQ(b.output().substr(0, 10), "421 4.4.2 ");
}

TEST(SessionTest, FaultsAreDeterministicPerSeed) {
  ServerConfig cfg = BaseConfig();
  cfg.profile = Profile::kFaulty;
  cfg.faults.temp_fail_rate = 0.3;
  cfg.faults.shutdown_rate = 0.0;
  cfg.faults.disconnect_rate = 0.0;
  cfg.faults.points = kFaultOther;
  std::string input = kEhlo;
  for (int i = 0; i < 30; ++i) input += "NOOP\r\n";
  const std::string first = DriveOnce(cfg, input).wire;
  EXPECT_EQ(DriveOnce(cfg, input).wire, first);
  EXPECT_NE(first.find("451 4.3.0"), std::string::npos);
  cfg.faults.seed = 2;
  EXPECT_NE(DriveOnce(cfg, input).wire, first);
}

TEST(SessionTest, FaultDisconnectAtGreeting) {
  ServerConfig cfg = BaseConfig();
  cfg.profile = Profile::kFaulty;
  cfg.faults.points = kFaultGreeting;
  cfg.faults.temp_fail_rate = 0;
  cfg.faults.disconnect_rate = 1.0;
  const Outcome o = DriveOnce(cfg, "EHLO x\r\n");
  EXPECT_TRUE(o.wire.empty());
  EXPECT_EQ(o.action, SessionAction::kAbort);
}

}  // namespace
}  // namespace smtp::server
