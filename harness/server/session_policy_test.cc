// The site policy of the reference server, at the Session level: no open
// relay, AUTH only after TLS, early talkers, message text sent before the
// 354, refusing all sessions, requiring TLS. (The protocol itself is in session_test.cc.)
#include "harness/server/session.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/server/session_test_util.h"

namespace smtp::server {
namespace {

using testing::B64;
using testing::BaseConfig;
using testing::Drive;
using testing::DriveOnce;
using testing::Outcome;
using testing::Summaries;
using Strings = std::vector<std::string>;

// The defaults of ServerConfig, as `smtp-harness serve` runs them.
ServerConfig Defaults() {
  ServerConfig c;
  c.hostname = "mx.test";
  c.credentials = {{"user", "secret"}};
  return c;
}

const std::string kEhlo = "EHLO client.test\r\n";
const std::string kMail = kEhlo + "MAIL FROM:<a@x.test>\r\n";

// --- relay (RFC 5321 §7.9) ------------------------------------------------------

struct RelayCase {
  const char* rcpt;  // the forward-path, brackets included
  bool accepted;     // 250 2.1.5, else 550 5.7.1
};

const RelayCase kRelay[] = {
    // Local: the hostname, the default local domains, case and source route
    // ignored, <Postmaster>, literals of the address the client reached.
    {"<u@mx.test>", true},
    {"<u@MX.Test>", true},
    {"<u@localhost>", true},
    {"<postmaster@example.com>", true},
    {"<u@example.org>", true},
    {"<u@example.test>", true},
    {"<Postmaster>", true},
    {"<POSTMASTER>", true},
    {"<@hosta.example,@hostb.example:u@mx.test>", true},
    {"<u@[127.0.0.1]>", true},
    {"<u@[IPv6:::ffff:127.0.0.1]>", true},
    {"<\"u v\"@mx.test>", true},
    // Foreign: another domain (the scenarios' example.net), a foreign
    // literal, a subdomain, a source route through us to elsewhere.
    {"<relay-probe@example.net>", false},
    {"<postmaster@example.net>", false},
    {"<u@sub.mx.test>", false},
    {"<u@[192.0.2.1]>", false},
    {"<u@[127.0.0.2]>", false},
    {"<u@[IPv6:2001:db8::1]>", false},
    {"<@mx.test:relay-probe@example.net>", false},
    // Local domain, but the local part routes on.
    {"<relay-probe%example.net@mx.test>", false},
    {"<example.net!relay-probe@mx.test>", false},
    {"<\"relay-probe@example.net\"@mx.test>", false},
    {"<\"relay-probe%example.net\"@[127.0.0.1]>", false},
};

TEST(RelayTest, OnlyLocalRecipientsWithoutAuth) {
  for (const RelayCase& c : kRelay) {
    SCOPED_TRACE(c.rcpt);
    for (const char* from : {"<a@x.test>", "<>"}) {
      const Outcome o = DriveOnce(
          Defaults(), kEhlo + "MAIL FROM:" + from + "\r\nRCPT TO:" + c.rcpt + "\r\nNOOP\r\n");
      const std::string want = c.accepted ? "250 2.1.5" : "550 5.7.1";
      EXPECT_EQ(Summaries(o), (Strings{"220", "250", "250 2.1.0", want, "250 2.0.0"})) << o.wire;
    }
  }
}

TEST(RelayTest, RefusedRecipientIsNotKept) {
  const Outcome o =
      DriveOnce(Defaults(), kMail + "RCPT TO:<u@example.net>\r\nRCPT TO:<u@mx.test>\r\n");
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "250 2.1.0", "550 5.7.1", "250 2.1.5"}));
  EXPECT_NE(o.replies[3].lines[0].find("Relay access denied"), std::string::npos);
  const Outcome none = DriveOnce(Defaults(), kMail + "RCPT TO:<u@example.net>\r\nDATA\r\n");
  EXPECT_EQ(Summaries(none), (Strings{"220", "250", "250 2.1.0", "550 5.7.1", "503 5.5.1"}));
}

TEST(RelayTest, AuthenticatedClientsMayRelay) {
  ServerConfig cfg = BaseConfig();  // plaintext AUTH
  const std::string auth = "AUTH PLAIN " + B64(std::string("\0user\0secret", 12)) + "\r\n";
  const Outcome o =
      DriveOnce(cfg, kEhlo + auth + "MAIL FROM:<a@x.test>\r\nRCPT TO:<u@example.net>\r\n");
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "235 2.7.0", "250 2.1.0", "250 2.1.5"}));
  cfg.relay.relay_when_authenticated = false;
  const Outcome no =
      DriveOnce(cfg, kEhlo + auth + "MAIL FROM:<a@x.test>\r\nRCPT TO:<u@example.net>\r\n");
  EXPECT_EQ(Summaries(no), (Strings{"220", "250", "235 2.7.0", "250 2.1.0", "550 5.7.1"}));
}

TEST(RelayTest, ConfigurableDomainsAndOpenRelay) {
  ServerConfig cfg = Defaults();
  cfg.relay.local_domains = {"corp.example", "[192.0.2.7]", "trailing.example."};
  const std::string input = kMail +
                            "RCPT TO:<u@CORP.example>\r\nRCPT TO:<u@[192.0.2.7]>\r\n"
                            "RCPT TO:<u@trailing.example>\r\nRCPT TO:<u@localhost>\r\n"
                            "RCPT TO:<u@mx.test>\r\n";
  EXPECT_EQ(Summaries(DriveOnce(cfg, input)),
            (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.1.5", "550 5.7.1",
                     "250 2.1.5"}));
  cfg.relay.open_relay = true;
  EXPECT_EQ(Summaries(DriveOnce(cfg, kMail + "RCPT TO:<\"x@y\"@example.net>\r\n")),
            (Strings{"220", "250", "250 2.1.0", "250 2.1.5"}));
}

// --- AUTH only after TLS (RFC 4954 §9, §6) ----------------------------------------

TEST(AuthPolicyTest, NotOfferedNorAcceptedBeforeTls) {
  const std::string plain = "AUTH PLAIN " + B64(std::string("\0user\0secret", 12)) + "\r\n";
  const Outcome o =
      Drive(Defaults(), {kEhlo + "AUTH LOGIN\r\n" + plain + "STARTTLS\r\n", kEhlo + plain});
  EXPECT_EQ(Summaries(o),
            (Strings{"220", "250", "538 5.7.11", "538 5.7.11", "220 2.0.0", "250", "235 2.7.0"}));
  auto offers_auth = [](const Reply& ehlo) {
    for (const std::string& l : ehlo.lines) {
      if (l.rfind("AUTH ", 0) == 0) return true;
    }
    return false;
  };
  EXPECT_FALSE(offers_auth(o.replies[1]));
  EXPECT_TRUE(offers_auth(o.replies[5]));
}

// RFC 4954 §4: continue-req = "334" SP [base64] CRLF; the empty PLAIN
// challenge is "334 " CRLF, which the strict reply reader of Drive takes.
TEST(AuthPolicyTest, EmptyChallengeKeepsItsSpace) {
  const Outcome o = DriveOnce(BaseConfig(), kEhlo + "AUTH PLAIN\r\n*\r\n");
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "334", "501 5.0.0"}));
  EXPECT_NE(o.wire.find("\r\n334 \r\n"), std::string::npos) << o.wire;
}

// --- early talker (RFC 5321 §4.3.1, §3.1) -------------------------------------------

TEST(EarlyTalkerTest, RefusedThenOnlyQuit) {
  const Outcome o = Drive(Defaults(), {kEhlo + "MAIL FROM:<a@x.test>\r\nNOOP\r\n", "QUIT\r\n"},
                          /*early_talker=*/true);
  EXPECT_EQ(Summaries(o),
            (Strings{"554 5.5.0", "503 5.5.1", "503 5.5.1", "503 5.5.1", "221 2.0.0"}));
  EXPECT_EQ(o.action, SessionAction::kClose);
  EXPECT_EQ(o.replies[0].lines[0].substr(0, 14), "5.5.0 mx.test ");
}

TEST(EarlyTalkerTest, ErrorLimitStillCloses) {
  ServerConfig cfg = Defaults();
  cfg.max_errors = 2;
  const Outcome o = Drive(cfg, {"EHLO a\r\nEHLO b\r\nEHLO c\r\nEHLO d\r\n"}, true);
  EXPECT_EQ(Summaries(o),
            (Strings{"554 5.5.0", "503 5.5.1", "503 5.5.1", "503 5.5.1", "421 4.7.0"}));
  EXPECT_EQ(o.state, SessionState::kClosed);
}

// --- message text before the 354 (RFC 5321 §3.3, RFC 2920 §3.1) ---------------------

const std::string kRcpt = kMail + "RCPT TO:<u@mx.test>\r\n";
const std::string kBodyAndMore = "Subject: early\r\n\r\nhi\r\n.\r\nMAIL FROM:<evil@x.test>\r\n";

TEST(EarlyDataTest, TextBehindDataInOneReadIsRefused) {
  const Outcome o = DriveOnce(Defaults(), kRcpt + "DATA\r\n" + kBodyAndMore);
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "554 5.5.0"}));
  EXPECT_EQ(o.action, SessionAction::kClose);
  EXPECT_TRUE(o.messages.empty());
  EXPECT_EQ(o.log.back(), "RCPT -> CLOSED (data before 354)");
}

TEST(EarlyDataTest, TextAfterTheReplyIsMail) {
  const Outcome o = Drive(Defaults(), {kRcpt + "DATA\r\n", kBodyAndMore});
  EXPECT_EQ(Summaries(o),
            (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "250 2.1.0"}));
  ASSERT_EQ(o.messages.size(), 1u);
}

TEST(EarlyDataTest, OnlyAnAcceptedDataCounts) {
  // A refused DATA leaves the next line a command (RFC 2920 §3.1 allows
  // commands after a DATA that fails); only the 354 matters.
  const Outcome o = DriveOnce(Defaults(), kMail + "DATA\r\nNOOP\r\n");
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "250 2.1.0", "503 5.5.1", "250 2.0.0"}));
  // BDAT chunks follow their command by design (RFC 3030 §4.2).
  const Outcome b = DriveOnce(Defaults(), kRcpt + "BDAT 2 LAST\r\nhiNOOP\r\n");
  EXPECT_EQ(Summaries(b),
            (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0"}));
}

TEST(EarlyDataTest, LenientAndOverride) {
  ServerConfig lenient = Defaults();
  lenient.profile = Profile::kLenient;
  EXPECT_FALSE(EffectiveRejectEarlyData(lenient));
  const Outcome o = DriveOnce(lenient, kRcpt + "DATA\r\n" + kBodyAndMore);
  EXPECT_EQ(Summaries(o),
            (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "354", "250 2.0.0", "250 2.1.0"}));
  lenient.reject_early_data = true;
  EXPECT_TRUE(EffectiveRejectEarlyData(lenient));
  for (Profile p : {Profile::kStrict, Profile::kSlow, Profile::kFaulty}) {
    ServerConfig c = Defaults();
    c.profile = p;
    EXPECT_TRUE(EffectiveRejectEarlyData(c)) << ProfileName(p);
  }
}

// --- defaults ------------------------------------------------------------------------

TEST(PolicyDefaultsTest, AsDocumented) {
  const ServerConfig c;
  EXPECT_EQ(c.auth_advertise, AuthAdvertise::kAfterTls);
  EXPECT_EQ(c.pregreet_delay, std::chrono::milliseconds(0));
  EXPECT_FALSE(c.relay.open_relay);
  EXPECT_TRUE(c.relay.relay_when_authenticated);
  EXPECT_EQ(c.relay.local_domains,
            (Strings{"localhost", "example.com", "example.org", "example.test", "mx.test"}));
  EXPECT_EQ(EffectiveCommandLeniencies(c), kStrictCommandLeniencies);
  EXPECT_EQ(kStrictCommandLeniencies, static_cast<Leniencies>(kTrailingWhitespace));
}

// RFC 5321 §3.1: a server configured to take no mail greets 554, answers
// 503 until QUIT, and closes only after the 221.
TEST(SessionTest, RefuseSessionsGreets554And503sUntilQuit) {
  ServerConfig cfg = BaseConfig();
  cfg.refuse_sessions = true;
  const Outcome o = DriveOnce(cfg, kMail + "RCPT TO:<b@y.test>\r\nDATA\r\nNOOP\r\nQUIT\r\n");
  EXPECT_EQ(Summaries(o),
            (std::vector<std::string>{"554 5.5.0", "503 5.5.1", "503 5.5.1", "503 5.5.1",
                                      "503 5.5.1", "503 5.5.1", "221 2.0.0"}))
      << o.wire;
  EXPECT_NE(o.wire.find("No SMTP service here: configured to accept no mail"), std::string::npos);
  EXPECT_TRUE(o.messages.empty());
}

// RFC 3207 §4: a server that requires TLS answers 530 5.7.0 to everything but
// NOOP, EHLO, STARTTLS and QUIT until TLS is up.
TEST(SessionTest, RequireTlsRefusesAllButNoopEhloStarttlsQuit) {
  ServerConfig cfg = BaseConfig();
  cfg.require_tls = true;
  const Outcome o = DriveOnce(
      cfg, kMail + "RCPT TO:<b@y.test>\r\n" + "DATA\r\nVRFY b\r\nHELP\r\nHELO c.test\r\n" +
               "AUTH PLAIN AHVzZXIAc2VjcmV0\r\nBDAT 6 LAST\r\nNOOP\r\nRSET\r\n" +
               "NOOP\r\nQUIT\r\n");
  const std::vector<std::string> got = Summaries(o);
  // RSET keeps its 250 (RFC 5321 §4.1.1.5 MUST); a refused BDAT chunk
  // ("NOOP\r\n") is read as data, not as a command.
  ASSERT_EQ(got.size(), 13u) << o.wire;
  EXPECT_EQ(got[0], "220");
  EXPECT_EQ(got[1], "250");
  for (std::size_t i = 2; i < 10; ++i) EXPECT_EQ(got[i], "530 5.7.0") << i << "\n" << o.wire;
  EXPECT_EQ(got[10], "250 2.0.0");  // RSET
  EXPECT_EQ(got[11], "250 2.0.0");  // NOOP
  EXPECT_EQ(got[12], "221 2.0.0");
}

}  // namespace
}  // namespace smtp::server
