#include "fuzz/net/signature.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "fuzz/net/client_machine.h"
#include "fuzz/net/fuzz_run.h"
#include "parser/reply.h"

namespace smtp::fuzz {
namespace {

using internal::ForeignBucketOf;
using internal::KillingLine;
using internal::RouteOf;
using internal::SendsKillingLine;
using internal::WireLines;

TEST(NormalizeReplyText, MasksEchoedInputIdsAndNumbers) {
  // aiosmtpd echoes the command; the echo is masked, so every unknown
  // command is one refusal.
  EXPECT_EQ(NormalizeReplyText("Error: command \"XYZZY\" not recognized"),
            NormalizeReplyText("Error: command \"HELP\x01\" not recognized"));
  EXPECT_EQ(NormalizeReplyText("Error: command \"X\" not recognized"),
            "Error: command \"*\" not recognized");
  EXPECT_EQ(NormalizeReplyText("5.1.0 <a@b.example>: Sender address rejected"),
            "5.1.0 <*>: Sender address rejected");
  EXPECT_EQ(NormalizeReplyText("4.7.0 mail.example[127.0.0.1]: Error: too many errors"),
            "4.7.0 # Error: too many errors");
  EXPECT_EQ(NormalizeReplyText("2.0.0 Ok: queued as 4Q1xYz3kLmz"), "2.0.0 Ok: queued as #");
  EXPECT_EQ(NormalizeReplyText("Message size exceeds 10240000 bytes"),
            "Message size exceeds # bytes");
  EXPECT_EQ(NormalizeReplyText("Unsupported option: \x17"), "Unsupported option: ?");
  EXPECT_EQ(NormalizeReplyText("Unsupported option: FOO=bar"), "Unsupported option: #");
  EXPECT_EQ(NormalizeReplyText("  spaced   out  "), "spaced out");
  EXPECT_EQ(NormalizeReplyText("don't"), "don't");
}

TEST(NormalizeReplyText, DifferentCausesStayApart) {
  EXPECT_NE(NormalizeReplyText("5.5.1 Too many unrecognized commands, goodbye."),
            NormalizeReplyText("5.5.2 Error: command not recognized"));
  EXPECT_NE(ReplySignature(500, "Error: bad syntax"), ReplySignature(501, "Error: bad syntax"));
}

TEST(NormalizeReplyText, IsBounded) {
  EXPECT_LE(NormalizeReplyText(std::string(10000, 'a')).size(), 120u);
  EXPECT_LE(ReplySignature(500, std::string(10000, 'a')).size(), 80u);
}

TEST(ReplySignature, IsASafeName) {
  EXPECT_EQ(ReplySignature(502, "5.5.1 Too many unrecognized commands, goodbye."),
            "502-5.5.1-too-many-unrecognized-commands-goodbye");
  EXPECT_EQ(ReplySignature(421, "4.7.0 host[1.2.3.4]: Error: too many errors"),
            "421-4.7.0-#-error-too-many-errors");
  for (const char c : ReplySignature(500, "a/b\\c <x> \"y\" \x01\xff")) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '#' ||
                c == '?' || c == '*')
        << c;
  }
  EXPECT_EQ(ReplySignature(0, ""), "none");
}

// The machine against a scripted server: each read takes the next reply
// of `script` (a whole reply, CRLF included), std::nullopt a timeout; a
// reply marked "!" comes between groups, before our next write (as the
// network driver sees one that arrived with the last owed reply). The
// verdict when the session ends.
Verdict Scripted(const SessionInput& in, const std::vector<std::optional<std::string>>& script) {
  ClientMachine m(in);
  std::size_t next = 0;
  for (int i = 0; i < 100; ++i) {
    if (m.between_groups() && next < script.size() && script[next] &&
        script[next]->starts_with("!")) {
      m.OnReply(ParseReply(script[next++]->substr(1)).value());
      continue;
    }
    const Action a = m.Next();
    if (a.kind == ActionKind::kDone) break;
    if (a.kind == ActionKind::kStartTls) {
      m.OnTlsResult(false);
    } else if (a.kind == ActionKind::kRead) {
      if (next >= script.size()) {
        m.OnClosed();
      } else if (const std::optional<std::string>& reply = script[next++]; !reply) {
        m.OnTimeout();
      } else {
        m.OnReply(ParseReply(*reply).value());
      }
    }
  }
  return m.verdict();
}

SessionStep Cmd(std::string s, bool pipelined = false) {
  return {.kind = StepKind::kCommand, .bytes = std::move(s), .pipelined = pipelined};
}
SessionStep Data(std::string body) { return {.kind = StepKind::kData, .bytes = std::move(body)}; }
SessionStep Bdat(std::string chunk, bool pipelined = false) {
  return {.kind = StepKind::kBdat, .bytes = std::move(chunk), .pipelined = pipelined};
}

// Postfix 3.7 ends DATA at a bare-LF dot (SMTP smuggling). The smuggled
// command's reply is unasked: seen before our next command ("250 2.1.0
// Ok" to a smuggled MAIL) or after our QUIT ("250 2.0.0 Ok" to a smuggled
// NOOP). A 10-minute run reported them as desync-250-2.1.0-ok and
// desync-250-2.0.0-ok: one cause, two buckets. By cause they are one.
TEST(ForeignBucketOf, PostfixSmugglingRoutesAreOneFinding) {
  const SessionInput mail{{Cmd("EHLO c"), Cmd("MAIL FROM:<a@example.com>"),
                           Cmd("RCPT TO:<b@example.com>"),
                           Data("hi\n.\nMAIL FROM:<smuggled@example.com>\r\n"), Cmd("RSET")}};
  const Verdict a =
      Scripted(mail, {"220 mx\r\n", "250 mx\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n",
                      "354 go\r\n", "250 2.0.0 Ok: queued as 4Q1\r\n", "!250 2.1.0 Ok\r\n"});
  ASSERT_EQ(a.kind, VerdictKind::kDesync) << a.detail;
  EXPECT_EQ(a.culprit, "data-body-bare-lf");
  const SessionInput noop{{Cmd("EHLO c"), Cmd("MAIL FROM:<a@example.com>"),
                           Cmd("RCPT TO:<b@example.com>"), Data("x\r\n\n.\nNOOP\r\n")}};
  const Verdict b = Scripted(
      noop, {"220 mx\r\n", "250 mx\r\n", "250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 go\r\n",
             "250 2.0.0 Ok: queued as 4Q2\r\n", "250 2.0.0 Ok\r\n", "221 2.0.0 Bye\r\n"});
  ASSERT_EQ(b.kind, VerdictKind::kDesync) << b.detail;
  EXPECT_EQ(b.verb, Verb::kQuit);
  // The old names (the unasked reply) differ; the cause does not.
  EXPECT_NE(ReplySignature(a.reply_code, a.reply_text), ReplySignature(b.reply_code, b.reply_text));
  EXPECT_EQ(ForeignBucketOf(a), "desync-data-body-bare-lf");
  EXPECT_EQ(ForeignBucketOf(b), ForeignBucketOf(a));
  // The unasked reply stays, as a route.
  EXPECT_EQ(RouteOf(a, true), "DATA 250, unasked 250-2.1.0-ok");
  EXPECT_EQ(RouteOf(b, true), "QUIT 250, unasked 250-2.0.0-ok");
}

// smtp-sink answers pipelined commands only once its input ends at a
// command: a BDAT it does not know leaves it reading the chunk as commands
// (in the middle of a line, or of message text after a DATA in it), and
// the replies it owes never come. A 3-minute run named four buckets by
// the reply before the silence (hang-250-2.1.0-ok, hang-503-..., ...).
TEST(ForeignBucketOf, SmtpSinkHangsOnABdatChunkAreOneFinding) {
  using std::nullopt;
  const std::string chunk = "Subject: x\n.\r\nMAIL FROM:<s@e>\r\nRCPT TO:<v@e>\r\nDATA\r\nhi\r\n";
  // The chunk pipelined behind a MAIL: its reply does not come.
  const Verdict a = Scripted({{Cmd("MAIL FROM:<a@b>"), Cmd("MAIL FROM:<c@d>"), Bdat(chunk, true)}},
                             {"220 mx\r\n", "250 2.1.0 Ok\r\n", nullopt});
  // The BDAT alone, after a refusal: its reply does not come.
  const Verdict b = Scripted(
      {{Cmd("MAIL FROM:<a@b>"), Cmd("MAIL FROM:<c@d>"), Bdat(chunk)}},
      {"220 mx\r\n", "250 2.1.0 Ok\r\n", "503 5.5.1 Error: nested MAIL command\r\n", nullopt});
  // Behind STARTTLS, a chunk ending in the middle of a line.
  const Verdict c = Scripted({{Cmd("AUTH CRAM-MD5"), Cmd("starttls"), Bdat("bbbb\r\ncc", true)}},
                             {"220 mx\r\n", "250 2.0.0 Ok\r\n", nullopt});
  for (const Verdict* v : {&a, &b, &c}) {
    ASSERT_EQ(v->kind, VerdictKind::kHang) << v->detail;
    EXPECT_EQ(ForeignBucketOf(*v), "hang-bdat-chunk");
  }
  EXPECT_EQ(a.verb, Verb::kMail);
  EXPECT_EQ(b.verb, Verb::kBdat);
  EXPECT_EQ(RouteOf(a, true), "MAIL after 250-2.1.0-ok");
  EXPECT_EQ(RouteOf(b, true), "BDAT after 503-5.5.1-error-nested-mail-command");
}

// Different causes stay apart: a hang on a plain command is named by its
// verb, one on the greeting or a message body by that; a command answered
// twice is not smuggling.
TEST(ForeignBucketOf, DifferentCausesStayApart) {
  using std::nullopt;
  const Verdict vrfy =
      Scripted({{Cmd("EHLO c"), Cmd("VRFY x")}}, {"220 mx\r\n", "250 mx\r\n", nullopt});
  const Verdict noop =
      Scripted({{Cmd("EHLO c"), Cmd("NOOP")}}, {"220 mx\r\n", "250 mx\r\n", nullopt});
  const Verdict greeting = Scripted({{Cmd("EHLO c")}}, {nullopt});
  const Verdict body = Scripted({{Cmd("MAIL FROM:<a@b>"), Cmd("RCPT TO:<c@d>"), Data("hi\r\n")}},
                                {"220 mx\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", nullopt});
  EXPECT_EQ(ForeignBucketOf(vrfy), "hang-command-vrfy");
  EXPECT_EQ(ForeignBucketOf(noop), "hang-command-noop");
  EXPECT_EQ(ForeignBucketOf(greeting), "hang-greeting");
  EXPECT_EQ(ForeignBucketOf(body), "hang-data-body");
  // A BDAT answered long before is not blamed for a later silence.
  const Verdict later =
      Scripted({{Cmd("EHLO c"), Bdat("x"), Cmd("NOOP")}},
               {"220 mx\r\n", "250-mx\r\n250 CHUNKING\r\n", "250 ok\r\n", nullopt});
  EXPECT_EQ(ForeignBucketOf(later), "hang-command-noop");
  // EHLO answered twice, nothing odd sent: named by the unasked reply.
  const Verdict twice =
      Scripted({{Cmd("EHLO c")}}, {"220 mx\r\n", "250 mx\r\n", "250 2.0.0 again\r\n"});
  ASSERT_EQ(twice.kind, VerdictKind::kDesync) << twice.detail;
  EXPECT_EQ(twice.culprit, "");
  EXPECT_EQ(ForeignBucketOf(twice), "desync-250-2.0.0-again");
  // Other oracles keep the reply's name.
  Verdict dropped;
  dropped.kind = VerdictKind::kDropped;
  dropped.reply_code = 250;
  dropped.reply_text = "2.1.5 Ok";
  EXPECT_EQ(ForeignBucketOf(dropped), "dropped-250-2.1.5-ok");
}

TEST(StepCause, NamesTheOddOctetsFirstOfAll) {
  EXPECT_EQ(StepCause(Data("a\nb\rc")), "data-body-bare-lf");
  EXPECT_EQ(StepCause(Data("a\r\nb\rc")), "data-body-bare-cr");
  EXPECT_EQ(StepCause(Data(std::string("a\0b", 3))), "data-body-nul");
  EXPECT_EQ(StepCause(Data(std::string(999, 'a'))), "data-body-long-line");
  EXPECT_EQ(StepCause(Data(std::string(998, 'a') + "\r\nb")), "data-body");
  EXPECT_EQ(StepCause(Cmd(std::string("DATA\0x", 6))), "command-nul");
  EXPECT_EQ(StepCause(Cmd("NOOP " + std::string(506, 'a'))), "command-long-line");
  EXPECT_EQ(StepCause(Cmd("rcpt TO:<a@b>")), "command-rcpt");
  EXPECT_EQ(StepCause(Cmd("XYZZY")), "command");
  EXPECT_EQ(StepCause(Bdat("x")), "bdat-chunk");
  EXPECT_TRUE(MayReadOtherwise(Bdat("x")));
  EXPECT_FALSE(MayReadOtherwise(Cmd("NOOP")));
  EXPECT_FALSE(MayReadOtherwise(Data("a\r\n.b\r\n")));
}

SessionStep Raw(std::string s) { return {.kind = StepKind::kRaw, .bytes = std::move(s)}; }

// A crash without a core file is named by its trigger. Against the AFL++
// test server, a route that sent "HELP %n%n" behind a BDAT line, raw
// steps and a dozen commands reproduced 1 of 3 times, was kept as found,
// and named the planted abort "crashed-SIGABRT-RCPT-after-500" beside
// "crashed-SIGABRT-HELP-after-220". Its session sends the line that alone
// kills the server, so it is that crash.
TEST(KillingLine, OnlyAOneLineCrashNamesALineThatKills) {
  EXPECT_EQ(KillingLine({{Cmd("HELP %")}}), "HELP %");
  EXPECT_EQ(KillingLine({{Raw("HELP %"), Cmd("x")}}), "HELP %x");  // as the server reads it
  EXPECT_EQ(KillingLine({{Raw("HELP %\n")}}), "HELP %");
  EXPECT_EQ(KillingLine({{Cmd("EHLO c"), Cmd("HELP %")}}), "");
  EXPECT_EQ(KillingLine({{Data("x")}}), "");
  EXPECT_EQ(WireLines({{Cmd("EHLO c"), Data("a\r\n.b\n"), Raw("x\r\ny")}}),
            (std::vector<std::string>{"EHLO c", "DATA", "a", "..b", "", ".", "x", "y"}));
}

TEST(KillingLine, ASessionThatSendsItIsThatCrash) {
  const SessionInput flaky{{Cmd("EHLO [IPv6:::40372]"), Cmd("MAIL FROM:<s@example.org>"),
                            Cmd("BDAT 27 LAST"), Raw("Subject: t\r\n\r\nHello.\r\n"),
                            Cmd("HELP %n%n"), Cmd("RCPT TO:<r@example.org>")}};
  EXPECT_TRUE(SendsKillingLine(flaky, "HELP %"));
  // Sent raw and completed by the next step's line end.
  EXPECT_TRUE(SendsKillingLine({{Raw("x\r\nHELP %"), Cmd("MAIL FROM:<>")}}, "HELP %"));
  // Another abort's line is another crash.
  EXPECT_FALSE(SendsKillingLine({{Cmd("VRFY %x")}}, "HELP %"));
  EXPECT_FALSE(SendsKillingLine({{Cmd("XHELP %x")}}, "HELP %"));
  EXPECT_FALSE(SendsKillingLine(flaky, ""));
}

}  // namespace
}  // namespace smtp::fuzz
