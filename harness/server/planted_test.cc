#include "harness/server/planted.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "harness/server/serve_main.h"
#include "harness/server/session.h"
#include "harness/server/session_test_util.h"
#include "parser/grind_test_util.h"

namespace smtp::server {
namespace {

using testing::Drive;
using testing::Outcome;
using testing::Summaries;
using Strings = std::vector<std::string>;

// The server's defaults (which must advertise and accept 8BITMIME, DSN and
// CHUNKING) with the given profile.
ServerConfig Config(Profile p) {
  ServerConfig c;
  c.profile = p;
  return c;
}

// Each line its own feed, with its CRLF: a client that waits for each reply.
Outcome Send(const ServerConfig& c, const Strings& lines) {
  Strings wire;
  for (const std::string& l : lines) wire.push_back(l + "\r\n");
  const std::vector<std::string_view> chunks(wire.begin(), wire.end());
  return Drive(c, chunks);
}

// The documented sequences (config.h, planted.h, docs/fuzzing.md).
const Strings kShallow = {"HELP %x"};
const Strings kDeep = {
    "EHLO client.example.org",
    "MAIL FROM:<a@client.example.org> BODY=8BITMIME",
    "RCPT TO:<b@example.com> NOTIFY=NEVER",
    "RCPT TO:<c@example.com>",
    "BDAT 0 LAST",
};
// The replies before the deep bug's BDAT: greeting, EHLO, MAIL, RCPT, RCPT.
const Strings kDeepReplies = {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5"};

// A crash looks like a dead process: the replies to the commands before it,
// none to the trigger, and the connection aborted.
void ExpectCrash(const Outcome& o, const Strings& replies_before, std::string_view why) {
  EXPECT_EQ(Summaries(o), replies_before) << o.wire;
  EXPECT_EQ(o.replies.size(), replies_before.size());
  EXPECT_EQ(o.action, SessionAction::kAbort);
  EXPECT_EQ(o.state, SessionState::kClosed);
  ASSERT_FALSE(o.log.empty());
  EXPECT_NE(o.log.back().find(why), std::string::npos) << o.log.back();
}

TEST(PlantedProfileTest, NameRoundTripsAndServeAcceptsIt) {
  EXPECT_EQ(ProfileName(Profile::kPlanted), "planted");
  EXPECT_EQ(ParseProfile("planted"), Profile::kPlanted);
  ServerConfig c;
  ASSERT_TRUE(ParseBehaviorFlag("planted", &c).ok());
  EXPECT_EQ(c.profile, Profile::kPlanted);
  EXPECT_FALSE(c.planted_crash_aborts_process);  // off by default
  EXPECT_EQ(ServerConfig().profile, Profile::kStrict);
}

// The deep bug relies on extensions the default configuration offers.
TEST(PlantedProfileTest, DefaultsAdvertiseWhatTheDeepBugNeeds) {
  const Outcome o = Send(Config(Profile::kPlanted), {"EHLO client.example.org"});
  ASSERT_EQ(o.replies.size(), 2u);
  const Strings& ehlo = o.replies[1].lines;
  for (std::string_view kw : {"8BITMIME", "DSN", "CHUNKING"}) {
    EXPECT_NE(std::find(ehlo.begin(), ehlo.end(), kw), ehlo.end()) << kw;
  }
}

// --- the shallow bug -------------------------------------------------------

TEST(PlantedShallowTest, HelpPercentXRightAfterTheGreeting) {
  ExpectCrash(Send(Config(Profile::kPlanted), kShallow), {"220"}, "planted bug 1");
}

TEST(PlantedShallowTest, TriggersAnywhereHelpIsAnswered) {
  const struct {
    const char* name;
    Strings lines;
    Strings before;
  } kCases[] = {
      {"lower-case verb, longer argument", {"help %xyz"}, {"220"}},
      {"unparseable argument", {"HELP %x %n \"oops"}, {"220"}},
      {"after EHLO", {"EHLO a.test", "HELP %x"}, {"220", "250"}},
      {"in a transaction",
       {"EHLO a.test", "MAIL FROM:<a@a.test>", "HELP %x"},
       {"220", "250", "250 2.1.0"}},
  };
  for (const auto& k : kCases) {
    SCOPED_TRACE(k.name);
    ExpectCrash(Send(Config(Profile::kPlanted), k.lines), k.before, "planted bug 1");
  }
}

// Pipelined: the replies before the trigger go out, nothing after it is read.
TEST(PlantedShallowTest, PipelinedNothingAfterTheTrigger) {
  const Outcome o = Drive(Config(Profile::kPlanted), {"NOOP\r\nHELP %x\r\nNOOP\r\nQUIT\r\n"});
  ExpectCrash(o, {"220", "250 2.0.0"}, "planted bug 1");
}

TEST(PlantedShallowTest, NearMissesGetTheNormalReply) {
  const struct {
    const char* line;
    const char* reply;
  } kCases[] = {
      {"HELP", "214 2.0.0"},     {"HELP %", "214 2.0.0"},   {"HELP %X", "214 2.0.0"},
      {"HELP %y", "214 2.0.0"},  {"HELP x%x", "214 2.0.0"}, {"HELP  %x", "214 2.0.0"},
      {"HELP\t%x", "214 2.0.0"}, {"HELP %%x", "214 2.0.0"}, {"HELP MAIL", "214 2.0.0"},
      {"HELPS %x", "500 5.5.2"}, {"NOOP %x", "250 2.0.0"},  {"VRFY %x", "252 2.1.5"},
      {"%x", "500 5.5.2"},       {"EHLO %x", "501 5.5.4"},
  };
  for (const auto& k : kCases) {
    SCOPED_TRACE(k.line);
    const Strings expected = {"220", k.reply, "221 2.0.0"};
    const Outcome o = Send(Config(Profile::kPlanted), {k.line, "QUIT"});
    EXPECT_EQ(Summaries(o), expected) << o.wire;
    EXPECT_EQ(o.action, SessionAction::kClose);
    EXPECT_EQ(Summaries(Send(Config(Profile::kStrict), {k.line, "QUIT"})), expected);
  }
}

TEST(PlantedShallowTest, OtherProfilesAnswerHelp) {
  for (Profile p : {Profile::kStrict, Profile::kLenient, Profile::kFaulty, Profile::kSlow}) {
    SCOPED_TRACE(ProfileName(p));
    ServerConfig c = Config(p);
    c.faults.temp_fail_rate = 0;  // kFaulty: no injected failure either
    c.faults.shutdown_rate = 0;
    c.faults.disconnect_rate = 0;
    c.planted_crash_aborts_process = true;  // ignored outside kPlanted
    const Outcome o = Send(c, {"HELP %x", "QUIT"});
    EXPECT_EQ(Summaries(o), (Strings{"220", "214 2.0.0", "221 2.0.0"}));
    EXPECT_EQ(o.action, SessionAction::kClose);
  }
}

// --- the deep bug ----------------------------------------------------------

TEST(PlantedDeepTest, ExactSequenceCrashesAtBdat) {
  const Outcome o = Send(Config(Profile::kPlanted), kDeep);
  ExpectCrash(o, kDeepReplies, "planted bug 2");
  EXPECT_TRUE(o.messages.empty());
}

TEST(PlantedDeepTest, TriggersWithExtrasOnTheWay) {
  const struct {
    const char* name;
    Strings lines;
    Strings before;
  } kCases[] = {
      {"pipelining-style extras and more parameters",
       {"EHLO client.example.org", "NOOP", "MAIL FROM:<a@x.test> SIZE=10 BODY=8BITMIME",
        "RCPT TO:<b@example.com> NOTIFY=NEVER ORCPT=rfc822;b@example.com",
        "RCPT TO:<c@example.com> NOTIFY=SUCCESS", "BDAT 0 LAST"},
       {"220", "250", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.1.5"}},
      {"plain and refused recipients before NOTIFY=NEVER, a third after",
       {"EHLO a.test", "MAIL FROM:<> BODY=8BITMIME", "RCPT TO:<x@example.org>",
        "RCPT TO:<y@example.net> NOTIFY=NEVER", "RCPT TO:<b@example.com> NOTIFY=NEVER", "HELP",
        "RCPT TO:<c@example.com>", "RCPT TO:<d@example.com>", "BDAT 0 LAST"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "550 5.7.1", "250 2.1.5", "214 2.0.0", "250 2.1.5",
        "250 2.1.5"}},
      {"a chunk before the empty last one",
       {"EHLO a.test", "MAIL FROM:<a@a.test> BODY=8BITMIME", "RCPT TO:<b@example.com> NOTIFY=NEVER",
        "RCPT TO:<c@example.com>", "BDAT 0", "BDAT 0 LAST"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0"}},
      {"a second transaction after RSET",
       {"EHLO a.test", "MAIL FROM:<a@a.test>", "RSET", "MAIL FROM:<a@a.test> BODY=8BITMIME",
        "RCPT TO:<b@example.com> NOTIFY=NEVER", "RCPT TO:<b@example.com>", "BDAT 0 LAST"},
       {"220", "250", "250 2.1.0", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.1.5"}},
  };
  for (const auto& k : kCases) {
    SCOPED_TRACE(k.name);
    ExpectCrash(Send(Config(Profile::kPlanted), k.lines), k.before, "planted bug 2");
  }
}

// However the client's bytes are cut (pipelined in one write included).
TEST(PlantedDeepTest, TriggersInEveryFeedSplit) {
  std::string wire;
  for (const std::string& l : kDeep) wire += l + "\r\n";
  for (const ::smtp::testing::Split& s : ::smtp::testing::EverySplit(wire)) {
    SCOPED_TRACE(s.how);
    ExpectCrash(Drive(Config(Profile::kPlanted), s.chunks), kDeepReplies, "planted bug 2");
  }
}

// Each condition missing in turn: the session goes on as kStrict's would.
TEST(PlantedDeepTest, NearMissesGetNormalReplies) {
  const std::string kMail = "MAIL FROM:<a@client.example.org> BODY=8BITMIME";
  const std::string kRcpt1 = "RCPT TO:<b@example.com> NOTIFY=NEVER";
  const std::string kRcpt2 = "RCPT TO:<c@example.com>";
  const struct {
    const char* name;
    Strings lines;
    Strings replies;  // all of them, greeting to the end
  } kCases[] = {
      {"HELO instead of EHLO",
       {"HELO client.example.org", kMail, kRcpt1, kRcpt2, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"no BODY parameter",
       {"EHLO a.test", "MAIL FROM:<a@a.test>", kRcpt1, kRcpt2, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"BODY=7BIT",
       {"EHLO a.test", "MAIL FROM:<a@a.test> BODY=7BIT", kRcpt1, kRcpt2, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"no NOTIFY",
       {"EHLO a.test", kMail, "RCPT TO:<b@example.com>", kRcpt2, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"NOTIFY=SUCCESS,FAILURE",
       {"EHLO a.test", kMail, "RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE", kRcpt2,
        "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"NOTIFY=NEVER refused (relaying)",
       {"EHLO a.test", kMail, "RCPT TO:<b@example.net> NOTIFY=NEVER", kRcpt2, kRcpt2, "BDAT 0 LAST",
        "QUIT"},
       {"220", "250", "250 2.1.0", "550 5.7.1", "250 2.1.5", "250 2.1.5", "250 2.0.0",
        "221 2.0.0"}},
      {"NOTIFY=NEVER only on the last recipient",
       {"EHLO a.test", kMail, kRcpt2, kRcpt1, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"one recipient",
       {"EHLO a.test", kMail, kRcpt1, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"second recipient refused",
       {"EHLO a.test", kMail, kRcpt1, "RCPT TO:<c@example.net>", "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "550 5.7.1", "250 2.0.0", "221 2.0.0"}},
      {"BDAT 0 without LAST",
       {"EHLO a.test", kMail, kRcpt1, kRcpt2, "BDAT 0", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"DATA instead of BDAT",
       {"EHLO a.test", kMail, kRcpt1, kRcpt2, "DATA", "hi", ".", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"}},
      {"RSET before BDAT",
       {"EHLO a.test", kMail, kRcpt1, kRcpt2, "RSET", "MAIL FROM:<a@a.test>", kRcpt2, kRcpt2,
        "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "250 2.1.0", "250 2.1.5",
        "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"HELO again before MAIL",
       {"EHLO a.test", "HELO a.test", kMail, kRcpt1, kRcpt2, "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0", "221 2.0.0"}},
      {"the message ended: a second BDAT 0 LAST is refused",
       {"EHLO a.test", kMail, kRcpt1, kRcpt2, "DATA", ".", "BDAT 0 LAST", "QUIT"},
       {"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0", "503 5.5.1",
        "221 2.0.0"}},
  };
  for (const auto& k : kCases) {
    SCOPED_TRACE(k.name);
    const Outcome o = Send(Config(Profile::kPlanted), k.lines);
    EXPECT_EQ(Summaries(o), k.replies) << o.wire;
    EXPECT_EQ(o.action, SessionAction::kClose);
    // The same input gets the same replies from the strict profile.
    EXPECT_EQ(Summaries(Send(Config(Profile::kStrict), k.lines)), k.replies);
  }
  // A non-empty last chunk instead of BDAT 0 LAST.
  const Outcome o =
      Drive(Config(Profile::kPlanted), {"EHLO a.test\r\n", kMail + "\r\n", kRcpt1 + "\r\n",
                                        kRcpt2 + "\r\n", "BDAT 3 LAST\r\nhi\n", "QUIT\r\n"});
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5", "250 2.0.0",
                                   "221 2.0.0"}));
  ASSERT_EQ(o.messages.size(), 1u);
}

// STARTTLS forgets the EHLO (RFC 3207 §4.2): HELO after it is no EHLO, and
// the whole sequence after it triggers.
TEST(PlantedDeepTest, AfterStarttls) {
  const Outcome o =
      Send(Config(Profile::kPlanted),
           {"EHLO a.test", "STARTTLS", "HELO a.test", "MAIL FROM:<a@a.test> BODY=8BITMIME",
            "RCPT TO:<b@example.com> NOTIFY=NEVER", "RCPT TO:<c@example.com>", "BDAT 0 LAST"});
  EXPECT_EQ(Summaries(o), (Strings{"220", "250", "220 2.0.0", "250", "250 2.1.0", "250 2.1.5",
                                   "250 2.1.5", "250 2.0.0"}));
  EXPECT_EQ(o.action, SessionAction::kNone);
  const Outcome again = Send(Config(Profile::kPlanted), {"EHLO a.test", "STARTTLS", kDeep[0],
                                                         kDeep[1], kDeep[2], kDeep[3], kDeep[4]});
  ExpectCrash(again, {"220", "250", "220 2.0.0", "250", "250 2.1.0", "250 2.1.5", "250 2.1.5"},
              "planted bug 2");
}

TEST(PlantedDeepTest, StrictProfileAcceptsTheMessage) {
  const Outcome o = Send(Config(Profile::kStrict), kDeep);
  Strings replies = kDeepReplies;
  replies.push_back("250 2.0.0");
  EXPECT_EQ(Summaries(o), replies);
  EXPECT_EQ(o.action, SessionAction::kNone);
}

// The stage machine on its own: each fact advances it by exactly one step.
TEST(PlantedDeepBugTest, StagesAdvanceOneCondition) {
  using Stage = PlantedDeepBug::Stage;
  PlantedDeepBug b;
  EsmtpParams none;
  EsmtpParams eight;
  eight.body = BodyType::k8BitMime;
  EsmtpParams never;
  never.notify = kNotifyNever;
  Command bdat;
  bdat.verb = Verb::kBdat;
  bdat.bdat_last = true;
  EXPECT_EQ(b.stage(), Stage::kNone);
  b.OnMailAccepted(eight);
  EXPECT_EQ(b.stage(), Stage::kNone);  // no EHLO
  b.OnHello(Verb::kEhlo);
  EXPECT_EQ(b.stage(), Stage::kEhlo);
  b.OnMailAccepted(none);
  EXPECT_EQ(b.stage(), Stage::kEhlo);
  b.OnMailAccepted(eight);
  EXPECT_EQ(b.stage(), Stage::kMail8BitMime);
  b.OnRcptAccepted(none);
  EXPECT_EQ(b.stage(), Stage::kMail8BitMime);
  b.OnRcptAccepted(never);
  EXPECT_EQ(b.stage(), Stage::kRcptNotifyNever);
  EXPECT_FALSE(b.BdatCrashes(bdat));
  b.OnRcptAccepted(none);
  EXPECT_EQ(b.stage(), Stage::kArmed);
  EXPECT_TRUE(b.BdatCrashes(bdat));
  bdat.chunk_size = 1;
  EXPECT_FALSE(b.BdatCrashes(bdat));
  bdat.chunk_size = 0;
  bdat.bdat_last = false;
  EXPECT_FALSE(b.BdatCrashes(bdat));
  b.OnTransactionReset();
  EXPECT_EQ(b.stage(), Stage::kEhlo);
  b.OnHello(Verb::kHelo);
  EXPECT_EQ(b.stage(), Stage::kNone);
  b.OnTransactionReset();
  EXPECT_EQ(b.stage(), Stage::kNone);
}

TEST(PlantedHelpTest, ExactPrefix) {
  EXPECT_TRUE(PlantedHelpCrashes("HELP %x\r\n"));
  EXPECT_TRUE(PlantedHelpCrashes("hElP %x1\r\n"));
  EXPECT_FALSE(PlantedHelpCrashes("HELP %\r\n"));
  EXPECT_FALSE(PlantedHelpCrashes("HELP "));
  EXPECT_FALSE(PlantedHelpCrashes("NOOP %x\r\n"));
}

// --- a process that really dies ----------------------------------------------

TEST(PlantedDeathTest, AbortOptionKillsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ServerConfig c = Config(Profile::kPlanted);
  c.planted_crash_aborts_process = true;
  EXPECT_DEATH(Send(c, kShallow), "planted bug 1: HELP %x: abort\\(\\)");
  EXPECT_DEATH(Send(c, kDeep), "planted bug 2: BDAT 0 LAST: abort\\(\\)");
  // Only a trigger aborts: the near miss is answered.
  EXPECT_EQ(Summaries(Send(c, {"HELP %y"})), (Strings{"220", "214 2.0.0"}));
}

}  // namespace
}  // namespace smtp::server
