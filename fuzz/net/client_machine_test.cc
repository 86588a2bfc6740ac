#include "fuzz/net/client_machine.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fuzz/net/embedded_driver.h"
#include "fuzz/net/embedded_server.h"
#include "fuzz/net/state_feedback.h"
#include "parser/reply.h"

namespace smtp::fuzz {
namespace {

SessionStep Cmd(std::string s, bool pipelined = false) {
  return {.kind = StepKind::kCommand, .bytes = std::move(s), .pipelined = pipelined};
}
SessionStep Data(std::string body) { return {.kind = StepKind::kData, .bytes = std::move(body)}; }
SessionStep Raw(std::string s) { return {.kind = StepKind::kRaw, .bytes = std::move(s)}; }

SessionInput Typical() {
  return {{Cmd("EHLO client.example"), Cmd("MAIL FROM:<a@example.com>"),
           Cmd("RCPT TO:<b@example.com>"), Data("Subject: t\r\n\r\nhello\r\n")}};
}

std::vector<std::uint16_t> Codes(const SessionResult& r) {
  std::vector<std::uint16_t> codes;
  for (const auto& e : r.replies) codes.push_back(e.code);
  return codes;
}

std::unique_ptr<smtp_netfuzz_embedded::Server> MakeServer(std::string profile = "strict") {
  std::string error;
  auto s = smtp_netfuzz_embedded::Server::Create({.profile = profile}, &error);
  EXPECT_NE(s, nullptr) << error;
  return s;
}

TEST(EmbeddedDriver, TypicalSessionReachesDataAndEndsWith221) {
  auto server = MakeServer();
  const SessionResult r = RunEmbedded(*server, Typical(), /*wire=*/true);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_EQ(Codes(r), (std::vector<std::uint16_t>{220, 250, 250, 250, 354, 250, 221}));
  EXPECT_EQ(r.depth, 3);
  EXPECT_TRUE(r.known);
  EXPECT_EQ(server->messages_accepted(), 1u);
  ASSERT_FALSE(r.wire.empty());
  EXPECT_FALSE(r.wire.front().from_client);
  EXPECT_EQ(r.wire.front().bytes.substr(0, 4), "220 ");
}

TEST(EmbeddedDriver, PipelinedGroupGetsOneReplyPerCommand) {
  auto server = MakeServer();
  SessionInput in{{Cmd("EHLO c"), Cmd("MAIL FROM:<a@example.com>"),
                   Cmd("RCPT TO:<b@example.com>", true), Cmd("RCPT TO:<c@example.com>", true),
                   Cmd("RSET", true)}};
  const SessionResult r = RunEmbedded(*server, in);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_EQ(Codes(r), (std::vector<std::uint16_t>{220, 250, 250, 250, 250, 250, 221}));
  EXPECT_EQ(r.depth, 2);
}

TEST(EmbeddedDriver, StartTlsStartsOverAndAuthIsReachable) {
  auto server = MakeServer();
  SessionInput in{{Cmd("EHLO c"),
                   {.kind = StepKind::kStartTls, .bytes = {}},
                   Cmd("EHLO c"),
                   Cmd("AUTH PLAIN AHRlc3QAc2VjcmV0")}};
  const SessionResult r = RunEmbedded(*server, in);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_EQ(Codes(r), (std::vector<std::uint16_t>{220, 250, 220, 250, 235, 221}));
}

TEST(EmbeddedDriver, RawStepMakesTheCountUnknownButNotAFinding) {
  auto server = MakeServer();
  SessionInput in{{Cmd("EHLO c"), Raw("NOOP\r\nNOOP\r\n"), Cmd("NOOP")}};
  const SessionResult r = RunEmbedded(*server, in);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_FALSE(r.known);
  // The raw NOOPs' replies arrive in front of the owed one, and after QUIT.
  EXPECT_EQ(Codes(r).back(), 221);
}

TEST(EmbeddedDriver, SmugglingIsADesyncOnlyWhereTheServerEndsDataAtBareLf) {
  SessionInput in = Typical();
  in.steps.back().bytes = "Subject: t\r\n\r\nhi\n.\nRSET\r\n";
  auto strict = MakeServer("strict");
  EXPECT_TRUE(RunEmbedded(*strict, in).verdict.ok());
  auto lenient = MakeServer("lenient");
  const SessionResult r = RunEmbedded(*lenient, in);
  EXPECT_EQ(r.verdict.kind, VerdictKind::kDesync) << r.verdict.detail;
}

// The reply to a smuggled command arrives before the client sends anything
// more: it is judged there, at the message, not later as a shifted reply
// (found by CI's fuzz run: a later STARTTLS read a stale reply, sent
// plaintext into the handshake and looked like a hang).
TEST(EmbeddedDriver, AReplyNobodyAskedForIsADesyncAtTheMessage) {
  auto lenient = MakeServer("lenient");
  SessionInput in = Typical();
  in.steps.back().bytes = "Subject: t\r\n\r\nhi\n.\nNOOP\r\n";
  in.steps.push_back({.kind = StepKind::kStartTls, .bytes = {}});
  in.steps.push_back(Cmd("NOOP"));
  const SessionResult r = RunEmbedded(*lenient, in);
  EXPECT_EQ(r.verdict.kind, VerdictKind::kDesync) << r.verdict.detail;
  EXPECT_EQ(r.verdict.step, 3u);
  EXPECT_EQ(r.verdict.verb, Verb::kData);
  EXPECT_NE(r.verdict.detail.find("before the next command was sent"), std::string::npos)
      << r.verdict.detail;
  // The strict server takes the same body as text: nothing unasked.
  auto strict = MakeServer("strict");
  EXPECT_TRUE(RunEmbedded(*strict, in).verdict.ok());
}

// Found by a 5-minute run: "STARTTLS" HTAB was not seen as STARTTLS, so the
// plaintext QUIT after the server's 220 looked like a hang.
TEST(EmbeddedDriver, StartTlsWithTrailingWhitespaceIsStartTls) {
  auto server = MakeServer();
  SessionInput in{{Cmd("EHLO c"), Cmd("STARTTLS\t")}};
  const SessionResult r = RunEmbedded(*server, in);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_EQ(Codes(r), (std::vector<std::uint16_t>{220, 250, 220, 221}));
}

// In process the server says why it aborted: one cause for one bug, however
// it was reached; the bucket key (verb, last code) differs by route.
TEST(EmbeddedDriver, AnAbortCarriesTheServersReason) {
  auto server = MakeServer("planted");
  const SessionResult direct = RunEmbedded(*server, {{Cmd("EHLO c"), Cmd("HELP %x")}});
  EXPECT_EQ(direct.verdict.kind, VerdictKind::kDropped) << direct.verdict.detail;
  EXPECT_EQ(direct.verdict.cause, "planted bug 1: HELP %x");
  EXPECT_EQ(direct.verdict.verb, Verb::kHelp);
  // "HELP %x" sent raw, its line end from the next step: dropped at that
  // step (here a RSET), with the same cause.
  const SessionResult raw = RunEmbedded(*server, {{Cmd("EHLO c"), Raw("HELP %x"), Cmd("RSET")}});
  EXPECT_EQ(raw.verdict.kind, VerdictKind::kDropped) << raw.verdict.detail;
  EXPECT_NE(raw.verdict.verb, Verb::kHelp);
  EXPECT_EQ(raw.verdict.cause, direct.verdict.cause);
  // A connection closed in order has no cause; nor has a finding of another
  // kind.
  EXPECT_TRUE(RunEmbedded(*server, Typical()).verdict.cause.empty());
  auto lenient = MakeServer("lenient");
  SessionInput smuggle = Typical();
  smuggle.steps.back().bytes = "Subject: t\r\n\r\nhi\n.\nRSET\r\n";
  const SessionResult desync = RunEmbedded(*lenient, smuggle);
  EXPECT_EQ(desync.verdict.kind, VerdictKind::kDesync);
  EXPECT_TRUE(desync.verdict.cause.empty());
}

TEST(EmbeddedDriver, UnknownProfileIsAnError) {
  std::string error;
  EXPECT_EQ(smtp_netfuzz_embedded::Server::Create({.profile = "nope"}, &error), nullptr);
  EXPECT_NE(error.find("nope"), std::string::npos);
}

// The machine alone, with a scripted server.
Reply R(std::uint16_t code) {
  const auto r = ParseReply(std::to_string(code) + " x\r\n");
  return r.value();
}

Reply RT(std::uint16_t code, const std::string& text) {
  return ParseReply(std::to_string(code) + " " + text + "\r\n").value();
}

// In their own namespace, the fixture takes the class's name, so that the
// tests keep their names (ClientMachine.X, as docs/netfuzz.md cites them);
// the machine itself is fuzz::ClientMachine here.
namespace machine_test {

class ClientMachine : public ::testing::Test {
 protected:
  // A machine for `input` that has read the server's greeting (220), as
  // every session starts. The fixture keeps the input and the machine (which
  // holds a reference to its input) for the whole test.
  fuzz::ClientMachine& Greeted(SessionInput input, bool lmtp = false) {
    inputs_.push_back(std::make_unique<SessionInput>(std::move(input)));
    machines_.push_back(std::make_unique<fuzz::ClientMachine>(*inputs_.back(), lmtp));
    fuzz::ClientMachine& m = *machines_.back();
    EXPECT_EQ(m.Next().kind, ActionKind::kRead);
    m.OnReply(R(220));
    return m;
  }

  // The machine writes its next step, reads, and gets `code` in reply.
  static void Answer(fuzz::ClientMachine& m, std::uint16_t code) {
    m.Next();
    m.Next();
    m.OnReply(R(code));
  }

 private:
  std::vector<std::unique_ptr<SessionInput>> inputs_;
  std::vector<std::unique_ptr<fuzz::ClientMachine>> machines_;
};

TEST_F(ClientMachine, CloseWithoutReplyIsDropped) {
  fuzz::ClientMachine& m = Greeted({{Cmd("EHLO c")}});
  const Action w = m.Next();
  ASSERT_EQ(w.kind, ActionKind::kWrite);
  EXPECT_EQ(w.bytes, "EHLO c\r\n");
  EXPECT_EQ(m.Next().kind, ActionKind::kRead);
  m.OnClosed();
  EXPECT_EQ(m.verdict().kind, VerdictKind::kDropped);
  EXPECT_EQ(m.verdict().verb, Verb::kEhlo);
  EXPECT_EQ(m.Next().kind, ActionKind::kDone);
}

TEST_F(ClientMachine, CloseAfterRefusalOr421IsADefenceNotAFinding) {
  for (const std::uint16_t code : {421, 554, 503}) {
    SessionInput in{{Cmd("MAIL FROM:<a@b>"), Cmd("RCPT TO:<c@d>", true)}};
    fuzz::ClientMachine& m = Greeted(in);
    Answer(m, code);
    m.Next();
    m.OnClosed();
    EXPECT_TRUE(m.verdict().ok()) << code;
    ASSERT_TRUE(m.defence().has_value()) << code;
    EXPECT_EQ(m.defence()->code, code);
    EXPECT_EQ(m.defence()->not_421, code / 100 == 5) << code;
  }
}

// aiosmtpd: "502 5.5.1 Too many unrecognized commands, goodbye." then the
// close; our next write met the reset. The goodbye announced it.
TEST_F(ClientMachine, CloseAfterAGoodbyeIsADefenceEvenAfterOurNextWrite) {
  SessionInput in{{Cmd("XYZ"), Cmd("NOOP")}};
  fuzz::ClientMachine& m = Greeted(in);
  EXPECT_EQ(m.Next().bytes, "XYZ\r\n");
  m.Next();
  m.OnReply(RT(502, "5.5.1 Too many unrecognized commands, goodbye."));
  EXPECT_EQ(m.Next().bytes, "NOOP\r\n");
  m.OnClosed();  // the write failed, nothing more to read
  EXPECT_TRUE(m.verdict().ok());
  ASSERT_TRUE(m.defence().has_value());
  EXPECT_EQ(m.defence()->text, "5.5.1 Too many unrecognized commands, goodbye.");
  EXPECT_EQ(m.defence()->verb, Verb::kNoop);
}

TEST_F(ClientMachine, CloseLongAfterAPlainRefusalIsStillADrop) {
  // A 500 answered our command; we wrote the next one and the server
  // vanished without a word: not announced.
  SessionInput in{{Cmd("XYZ"), Cmd("NOOP")}};
  fuzz::ClientMachine& m = Greeted(in);
  m.Next();
  m.Next();
  m.OnReply(RT(500, "Error: command not recognized"));
  m.Next();
  m.Next();
  m.OnClosed();
  EXPECT_EQ(m.verdict().kind, VerdictKind::kDropped);
  EXPECT_EQ(m.verdict().verb, Verb::kNoop);
  EXPECT_FALSE(m.defence().has_value());
}

TEST_F(ClientMachine, OurOwnQuitInARawStepEndsTheSession) {
  // The 221 to it ends the session, before the next step is written.
  {
    SessionInput in{{Raw("NOOP\r\nQUIT\r\n"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    EXPECT_EQ(m.Next().kind, ActionKind::kWrite);
    m.OnReply(R(250));  // read before the next write
    m.OnReply(R(221));
    EXPECT_EQ(m.Next().kind, ActionKind::kDone);
    EXPECT_TRUE(m.verdict().ok());
    EXPECT_FALSE(m.defence().has_value());
  }
  // Its 221 unread (the close came first): the close is the end.
  {
    SessionInput in{{Raw("quit\n"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.OnClosed();
    EXPECT_TRUE(m.verdict().ok());
    EXPECT_FALSE(m.defence().has_value());
  }
}

// A command step with a line end inside is several lines on the wire: a LF
// or a bare CR makes the count of replies unknown, and a QUIT line in it is
// ours.
TEST_F(ClientMachine, CommandStepsWithLineEndsInside) {
  {
    SessionInput in{{Cmd("NOOP\nQUIT"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    EXPECT_EQ(m.Next().bytes, "NOOP\nQUIT\r\n");
    m.OnReply(R(250));
    m.OnReply(R(221));
    EXPECT_EQ(m.Next().kind, ActionKind::kDone);
    EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  }
  {
    SessionInput in{{Cmd("NOOP\rNOOP"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    EXPECT_EQ(m.Next().bytes, "NOOP\rNOOP\r\n");
    m.OnReply(R(250));
    m.OnReply(R(250));  // a server that takes the bare CR as a line end
    EXPECT_EQ(m.Next().bytes, "RSET\r\n");
    m.OnReply(R(250));
    EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  }
}

// A mutated QUIT step with a bare CR in its argument: the test server of
// netfuzz_defence_cli answered "221 2.0.0 Bye" and closed, which was named
// a defence (CI, 2026-12-06). And a QUIT after a bare CR: a server that
// ends lines there reads it.
TEST_F(ClientMachine, AQuitStepWithALineEndInsideIsOurs) {
  for (const char* step : {"QUIT cl\r.\rt.example", "NOOP\rQUIT", "NOOP\nquit "}) {
    SessionInput in{{Cmd(step), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.OnReply(RT(221, "2.0.0 Bye"));
    m.OnClosed();
    EXPECT_TRUE(m.verdict().ok()) << step << ": " << m.verdict().detail;
    EXPECT_FALSE(m.defence().has_value()) << step;
  }
  // A raw "QUIT junk" line, to which a lenient server says 221 and closes
  // (seen in the same test). A strict server's 501 to it leaves the session
  // going, and a close then is not the end of the session.
  {
    SessionInput in{{Raw("STARTTLS\r\nQUIT junk\r\n"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.OnReply(RT(454, "4.7.0 TLS not available"));
    m.OnReply(RT(221, "2.0.0 Bye"));
    EXPECT_EQ(m.Next().kind, ActionKind::kDone);
    m.OnClosed();
    EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
    EXPECT_FALSE(m.defence().has_value());
  }
  {
    SessionInput in{{Raw("QUIT junk\r\n"), Cmd("RSET")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.OnReply(RT(501, "5.5.4 Syntax: QUIT"));
    m.OnClosed();
    EXPECT_TRUE(m.defence().has_value());  // a refusal, then the close
  }
  // A step that only mentions QUIT past its first word is not one.
  SessionInput in{{Cmd("NOOP QUIT\rX"), Cmd("RSET")}};
  fuzz::ClientMachine& m = Greeted(in);
  m.Next();
  m.OnReply(RT(221, "2.0.0 Bye"));
  m.OnClosed();
  EXPECT_TRUE(m.defence().has_value());
}

TEST_F(ClientMachine, OurOwnPipelinedQuitEndsTheSession) {
  SessionInput in{{Cmd("NOOP"), Cmd("QUIT", true), Cmd("RSET", true)}};
  fuzz::ClientMachine& m = Greeted(in);
  m.Next();
  m.OnReply(R(250));
  m.OnReply(R(221));
  EXPECT_EQ(m.Next().kind, ActionKind::kDone);
  m.OnClosed();
  EXPECT_TRUE(m.verdict().ok());
  EXPECT_FALSE(m.defence().has_value());
}

TEST_F(ClientMachine, A221NobodyAskedForThenACloseIsADefence) {
  // Postfix to smuggled lines: "221 2.7.0 Error: I can break rules, too.
  // Goodbye." The session was out of step already (a raw step).
  SessionInput in{{Raw("NOOP\n"), Cmd("RSET")}};
  fuzz::ClientMachine& m = Greeted(in);
  m.Next();
  m.OnReply(RT(221, "2.7.0 Error: I can break rules, too. Goodbye."));
  m.OnClosed();
  EXPECT_TRUE(m.verdict().ok());
  ASSERT_TRUE(m.defence().has_value());
  EXPECT_FALSE(m.defence()->not_421);
}

// Postfix 3.7, over TLS, answered a command with "221 2.7.0 Error: I can
// break rules, too. Goodbye." and closed; the close was not seen before our
// closing QUIT went out, which then met it. A 221 to anything but a QUIT
// announces the close whenever it is seen (a false "closed after QUIT
// without a 221" of a 10-minute run, 2026-12-06).
TEST_F(ClientMachine, A221ToAnotherCommandThenACloseAfterOurQuitIsADefence) {
  SessionInput in{{Cmd("og"), Cmd("*")}};
  fuzz::ClientMachine& m = Greeted(in);
  EXPECT_EQ(m.Next().bytes, "og\r\n");
  m.Next();
  m.OnReply(RT(502, "5.5.2 Error: command not recognized"));
  EXPECT_EQ(m.Next().bytes, "*\r\n");
  m.Next();
  m.OnReply(RT(221, "2.7.0 Error: I can break rules, too. Goodbye."));
  EXPECT_EQ(m.Next().bytes, "QUIT\r\n");
  m.Next();
  m.OnClosed();
  EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  ASSERT_TRUE(m.defence().has_value());
  EXPECT_EQ(m.defence()->code, 221);
}

// A STARTTLS sent raw and accepted: the server answers the plaintext that
// follows with a TLS alert, which is no SMTP reply to judge.
TEST_F(ClientMachine, ATlsAlertAfterARawStartTlsIsNoBadReply) {
  SessionInput in{{Cmd("EHLO t"), Raw("STARTTLS\r\n")}};
  fuzz::ClientMachine& m = Greeted(in);
  Answer(m, 250);
  EXPECT_EQ(m.Next().bytes, "STARTTLS\r\n");
  m.OnReply(RT(220, "TLS go ahead"));
  m.Next();  // QUIT, in plaintext
  m.Next();
  m.OnBadReply(0, "RFC 5321 §4.2 Reply-code");
  EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  EXPECT_EQ(m.Next().kind, ActionKind::kDone);
  // The same bytes for a reply while the count is known still are one.
  SessionInput plain{{Cmd("NOOP")}};
  fuzz::ClientMachine& p = Greeted(plain);
  p.Next();
  p.Next();
  p.OnBadReply(0, "RFC 5321 §4.2 Reply-code");
  EXPECT_EQ(p.verdict().kind, VerdictKind::kBadReply);
}

// Exim 4.96: "500-unrecognized command" / "500 Too many syntax or protocol
// errors", then the close, which our next write met: the reply's last line
// announced it (a false drop of a 3-minute run).
TEST_F(ClientMachine, AGoodbyeOnALaterLineOfTheReplyIsADefence) {
  SessionInput in{{Cmd("XYZ"), Cmd("NOOP")}};
  fuzz::ClientMachine& m = Greeted(in);
  m.Next();
  m.Next();
  m.OnReply(
      ParseReply("500-unrecognized command\r\n500 Too many syntax or protocol errors\r\n").value());
  EXPECT_EQ(m.Next().bytes, "NOOP\r\n");
  m.Next();
  m.OnClosed();
  EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  ASSERT_TRUE(m.defence().has_value());
  EXPECT_EQ(m.defence()->code, 500);
  // Named by the line that says why, not by the refused command's line.
  EXPECT_EQ(m.defence()->text, "Too many syntax or protocol errors");
}

TEST(TextSaysClosing, KnowsTheUsualWords) {
  EXPECT_TRUE(TextSaysClosing("5.5.1 Too many unrecognized commands, goodbye."));
  EXPECT_TRUE(TextSaysClosing("4.7.0 Error: too many errors"));
  EXPECT_TRUE(TextSaysClosing("Service not available, closing transmission channel"));
  EXPECT_FALSE(TextSaysClosing("5.5.2 Error: command not recognized"));
  // Any case; the first 512 octets only; octets above 0x7f are no letters.
  EXPECT_TRUE(TextSaysClosing("421 SHUTTING DOWN"));
  EXPECT_TRUE(TextSaysClosing("221 2.0.0 GoodBye"));
  EXPECT_FALSE(TextSaysClosing("\xc7\xcc\xd3\xc9\xce\xc7 250 ok"));
  EXPECT_TRUE(TextSaysClosing(std::string(504, 'x') + "closing"));
  EXPECT_FALSE(TextSaysClosing(std::string(506, 'x') + "closing"));
  EXPECT_FALSE(TextSaysClosing(""));
}

TEST_F(ClientMachine, CloseRightAfterAPositiveReplyIsDropped) {
  SessionInput in{{Cmd("MAIL FROM:<a@b>"), Cmd("RCPT TO:<c@d>", true)}};
  fuzz::ClientMachine& m = Greeted(in);
  Answer(m, 250);
  m.Next();
  m.OnClosed();
  EXPECT_EQ(m.verdict().kind, VerdictKind::kDropped);
  EXPECT_EQ(m.verdict().verb, Verb::kRcpt);
}

TEST_F(ClientMachine, TimeoutIsAHangOnlyWhenTheCountIsKnown) {
  {
    SessionInput in{{Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.Next();
    m.OnTimeout();
    EXPECT_EQ(m.verdict().kind, VerdictKind::kHang);
  }
  {
    SessionInput in{{Raw("DATA\r\n"), Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    EXPECT_EQ(m.Next().kind, ActionKind::kWrite);  // raw
    EXPECT_EQ(m.Next().kind, ActionKind::kRead);   // its line may get a reply
    m.OnReply(R(354));
    EXPECT_TRUE(m.server_waits_for_input());
    EXPECT_EQ(m.Next().kind, ActionKind::kWrite);  // NOOP
    m.Next();
    m.OnTimeout();
    EXPECT_TRUE(m.verdict().ok());
  }
}

TEST_F(ClientMachine, ReplyNobodyAskedForIsADesync) {
  SessionInput in{{Cmd("NOOP")}};
  fuzz::ClientMachine& m = Greeted(in);
  Answer(m, 250);
  EXPECT_EQ(m.Next().bytes, "QUIT\r\n");
  m.Next();
  m.OnReply(R(250));  // a second reply to NOOP
  EXPECT_EQ(m.verdict().kind, VerdictKind::kDesync);
  EXPECT_FALSE(m.replies().back().owed);
}

TEST_F(ClientMachine, BadReplyIsReported) {
  SessionInput in{};
  fuzz::ClientMachine m(in);
  m.Next();
  m.OnBadReply(3, "bad separator");
  EXPECT_EQ(m.verdict().kind, VerdictKind::kBadReply);
  EXPECT_NE(m.verdict().detail.find("octet 3"), std::string::npos);
}

TEST_F(ClientMachine, StepsPipelinedBehindDataMakeTheCountUnknown) {
  SessionInput in{{Data("x"), Cmd("NOOP", true)}};
  fuzz::ClientMachine& m = Greeted(in);
  EXPECT_EQ(m.Next().bytes, "DATA\r\nNOOP\r\n");
  EXPECT_FALSE(m.expectations_known());
}

// Found against a small C server without CHUNKING: it answers BDAT with 500
// and then reads the chunk as command lines, each with a reply of its own.
TEST_F(ClientMachine, BdatOrAuthUnknownToTheServerMakesTheCountUnknown) {
  for (const std::uint16_t code : {500, 502}) {
    SessionInput in{{{.kind = StepKind::kBdat, .bytes = "ab\r\n"}, Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    EXPECT_EQ(m.Next().bytes, "BDAT 4\r\nab\r\n");
    m.Next();
    m.OnReply(R(code));
    EXPECT_FALSE(m.expectations_known()) << code;
    EXPECT_TRUE(m.verdict().ok());
  }
  // A BDAT the server advertised and refuses (RFC 3030: it still reads
  // the chunk) keeps the count.
  {
    SessionInput in{{Cmd("EHLO c"), {.kind = StepKind::kBdat, .bytes = "ab"}, Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.Next();
    m.OnReply(ParseReply("250-mx\r\n250-PIPELINING\r\n250 chunking\r\n").value());
    Answer(m, 503);
    EXPECT_TRUE(m.expectations_known());
  }
  // Refused where CHUNKING was not advertised (no EHLO, or one without
  // it): the chunk is read as commands. Exim 4.96 answered "503 BDAT
  // command used when CHUNKING not advertised" and then "500 unrecognized
  // command" to the chunk's line, a false desync of a 3-minute run.
  for (const bool ehlo : {false, true}) {
    SessionInput in{{Cmd("EHLO c"), {.kind = StepKind::kBdat, .bytes = "\n"}, Cmd("NOOP")}};
    if (!ehlo) in.steps.erase(in.steps.begin());
    fuzz::ClientMachine& m = Greeted(in);
    if (ehlo) {
      m.Next();
      m.Next();
      m.OnReply(ParseReply("250-mx\r\n250 PIPELINING\r\n").value());
    }
    EXPECT_EQ(m.Next().kind, ActionKind::kWrite) << ehlo;  // BDAT 1 and its chunk
    m.Next();
    m.OnReply(RT(503, "BDAT command used when CHUNKING not advertised"));
    EXPECT_FALSE(m.expectations_known()) << ehlo;
    m.OnReply(RT(500, "unrecognized command"));  // the chunk's line, between groups
    EXPECT_TRUE(m.verdict().ok()) << ehlo << ": " << m.verdict().detail;
  }
}

// LMTP (RFC 2033): EHLO goes out as LHLO, and the end of the message gets
// one reply per accepted recipient (a refused one does not count).
TEST(EmbeddedDriver, LmtpGetsOneReplyPerRecipientAtTheEndOfTheMessage) {
  std::string error;
  auto server = smtp_netfuzz_embedded::Server::Create({.profile = "strict", .lmtp = true}, &error);
  ASSERT_NE(server, nullptr) << error;
  SessionInput in{{Cmd("EHLO client.example"), Cmd("MAIL FROM:<a@example.com>"),
                   Cmd("RCPT TO:<b@example.com>"), Cmd("RCPT TO:<bad>"),
                   Cmd("RCPT TO:<c@example.com>"), Data("Subject: t\r\n\r\nhello\r\n")}};
  const SessionResult r = RunEmbedded(*server, in, /*wire=*/true);
  EXPECT_TRUE(r.verdict.ok()) << r.verdict.detail;
  EXPECT_EQ(Codes(r),
            (std::vector<std::uint16_t>{220, 250, 250, 250, 501, 250, 354, 250, 250, 221}));
  ASSERT_GE(r.wire.size(), 2u);
  EXPECT_EQ(r.wire[1].bytes.substr(0, 5), "LHLO ");
  // BDAT ... LAST likewise.
  SessionInput bdat{{Cmd("EHLO c"),
                     Cmd("MAIL FROM:<a@example.com>"),
                     Cmd("RCPT TO:<b@example.com>"),
                     Cmd("RCPT TO:<c@example.com>"),
                     {.kind = StepKind::kBdat, .bytes = "hi\r\n", .last = true}}};
  const SessionResult rb = RunEmbedded(*server, bdat);
  EXPECT_TRUE(rb.verdict.ok()) << rb.verdict.detail;
  EXPECT_EQ(Codes(rb), (std::vector<std::uint16_t>{220, 250, 250, 250, 250, 250, 250, 221}));
}

// An LMTP server that answers the message once for two recipients owes a
// reply: a hang, not an ok session.
TEST_F(ClientMachine, LmtpMissingPerRecipientReplyIsAHang) {
  SessionInput in{{Cmd("LHLO c"), Cmd("MAIL FROM:<a@example.com>"), Cmd("RCPT TO:<b@example.com>"),
                   Cmd("RCPT TO:<c@example.com>"), Data("x\r\n")}};
  fuzz::ClientMachine& m = Greeted(in, /*lmtp=*/true);
  for (int i = 0; i < 4; ++i) {
    Answer(m, 250);
  }
  EXPECT_EQ(m.Next().bytes, "DATA\r\n");
  m.Next();
  m.OnReply(R(354));
  EXPECT_EQ(m.Next().kind, ActionKind::kWrite);  // the body
  m.Next();
  m.OnReply(R(250));
  EXPECT_EQ(m.Next().kind, ActionKind::kRead);  // the second recipient's reply
  m.OnTimeout();
  EXPECT_EQ(m.verdict().kind, VerdictKind::kHang);
  // The same as SMTP: one reply is all.
  fuzz::ClientMachine& smtp = Greeted(in);
  for (int i = 0; i < 4; ++i) {
    Answer(smtp, 250);
  }
  Answer(smtp, 354);
  Answer(smtp, 250);
  EXPECT_EQ(smtp.Next().bytes, "QUIT\r\n");
}

// Dovecot LMTP answers a BDAT LAST it refuses as a command ("503 5.5.0
// Previous data chunk failed, issue RSET first", after an earlier chunk was
// refused) once, though two recipients were accepted: no message was taken,
// so no per-recipient replies follow. The fuzzer waited for a second one and
// reported a hang (hang-503-5.5.0-previous-data-chunk-failed-..., 3/3).
TEST_F(ClientMachine, LmtpBdatLastRefusedAsACommandGetsOneReply) {
  const SessionStep bdat_last{.kind = StepKind::kBdat, .bytes = "x\r\n", .last = true};
  SessionInput in{{Cmd("LHLO c"), Cmd("MAIL FROM:<a@example.com>"), Cmd("RCPT TO:<b@example.com>"),
                   Cmd("RCPT TO:<c@example.com>"), bdat_last, Cmd("NOOP")}};
  fuzz::ClientMachine& m = Greeted(in, /*lmtp=*/true);
  m.Next();
  m.Next();
  m.OnReply(ParseReply("250-mx\r\n250 CHUNKING\r\n").value());
  for (int i = 0; i < 3; ++i) {
    m.Next();
    m.Next();
    m.OnReply(R(250));
  }
  EXPECT_EQ(m.Next().bytes, "BDAT 3 LAST\r\nx\r\n");
  m.Next();
  m.OnReply(RT(503, "5.5.0 Previous data chunk failed, issue RSET first"));
  EXPECT_EQ(m.Next().bytes, "NOOP\r\n");  // nothing more owed for the BDAT
  m.Next();
  m.OnReply(R(250));
  EXPECT_TRUE(m.verdict().ok()) << m.verdict().detail;
  // Accepted, the same BDAT LAST still gets one reply per recipient.
  fuzz::ClientMachine& ok = Greeted(in, /*lmtp=*/true);
  ok.Next();
  ok.Next();
  ok.OnReply(ParseReply("250-mx\r\n250 CHUNKING\r\n").value());
  for (int i = 0; i < 3; ++i) {
    ok.Next();
    ok.Next();
    ok.OnReply(R(250));
  }
  ok.Next();
  ok.Next();
  ok.OnReply(R(250));
  EXPECT_EQ(ok.Next().kind, ActionKind::kRead);  // the second recipient's reply
  ok.OnTimeout();
  EXPECT_EQ(ok.verdict().kind, VerdictKind::kHang);
}

// A 120-s run against Dovecot LMTP 2.3.19 reported hang-bdat-chunk: after a
// BDAT LAST without recipients failed, two RCPTs were accepted and the next
// BDAT LAST got "503 5.5.0 Previous data chunk failed, issue RSET first",
// one reply (by hand too). A refused command owes no per-recipient replies.
TEST_F(ClientMachine, LmtpRefusedEndOfMessageOwesOneReply) {
  SessionInput in{{Cmd("LHLO c"),
                   Cmd("MAIL FROM:<a@example.com>"),
                   Cmd("RCPT TO:<b@example.com>"),
                   Cmd("RCPT TO:<c@example.com>"),
                   {.kind = StepKind::kBdat, .bytes = "x\r\n", .last = true}}};
  for (const std::uint16_t code : {503, 550}) {
    fuzz::ClientMachine& m = Greeted(in, /*lmtp=*/true);
    for (int i = 0; i < 4; ++i) {
      m.Next();
      m.Next();
      m.OnReply(i == 0 ? ParseReply("250-mx\r\n250 CHUNKING\r\n").value() : R(250));
    }
    EXPECT_EQ(m.Next().bytes, "BDAT 3 LAST\r\nx\r\n");
    m.Next();
    m.OnReply(R(code));
    if (code == 503) {
      // The command refused: next is our QUIT.
      EXPECT_EQ(m.Next().bytes, "QUIT\r\n");
    } else {
      // A delivery failure for the first recipient: the second's is owed.
      EXPECT_EQ(m.Next().kind, ActionKind::kRead);
      m.OnTimeout();
      EXPECT_EQ(m.verdict().kind, VerdictKind::kHang);
    }
  }
}

TEST(VerbOfFirstWord, ReadsTheFirstWordCaseInsensitively) {
  EXPECT_EQ(VerbOfFirstWord("mail FROM:<a@b>"), Verb::kMail);
  EXPECT_EQ(VerbOfFirstWord("STARTTLS"), Verb::kStarttls);
  EXPECT_EQ(VerbOfFirstWord("STARTTLS\t"), Verb::kStarttls);  // trailing whitespace tolerated
  EXPECT_EQ(VerbOfFirstWord("data \t "), Verb::kData);
  EXPECT_EQ(VerbOfFirstWord("MAILX"), Verb::kUnknown);
  EXPECT_EQ(VerbOfFirstWord(""), Verb::kUnknown);
}

TEST(StateFeedback, DifferentAnswersGiveDifferentKeysAndCountersSaturate) {
  std::vector<ReplyEvent> a(2), b(2);
  a[0].code = b[0].code = 220;
  a[1].verb = b[1].verb = Verb::kMail;
  a[1].code = 250;
  b[1].code = 550;
  const auto ka = TransitionKeys(a), kb = TransitionKeys(b);
  ASSERT_EQ(ka.size(), 2u);
  EXPECT_EQ(ka[0], kb[0]);
  EXPECT_NE(ka[1], kb[1]);
  std::vector<std::uint8_t> counters(16);
  for (int i = 0; i < 300; ++i) AddTransitions(ka, counters);
  EXPECT_EQ(counters[ka[1] % 16], 255);
}

// A raw line that gets no reply is no finding, and the session goes on: the
// wait for a raw step's replies ends at the first deadline missed.
TEST_F(ClientMachine, ARawLineWithoutAReplyOnlyEndsTheWaitForItsGroup) {
  SessionInput in{{Raw("NOOP\r\nNOOP\r\n"), Cmd("RSET")}};
  fuzz::ClientMachine& m = Greeted(in);
  EXPECT_EQ(m.Next().kind, ActionKind::kWrite);
  EXPECT_EQ(m.Next().kind, ActionKind::kRead);
  m.OnReply(R(250));
  EXPECT_EQ(m.Next().kind, ActionKind::kRead);  // the second line's
  m.OnTimeout();
  EXPECT_TRUE(m.verdict().ok());
  const Action w = m.Next();
  ASSERT_EQ(w.kind, ActionKind::kWrite);
  EXPECT_EQ(w.bytes, "RSET\r\n");
}

// aiosmtpd, replies behind our writes (a raw step): its goodbye was lost to
// the reset our next line caused. A reset once the count is unknown ends
// the session unjudged; where the count is known it is a close as before.
TEST_F(ClientMachine, AResetIsJudgedOnlyWhereTheCountIsKnown) {
  {
    SessionInput in{{Raw("XA\nXB\n"), Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.Next();
    m.Next();
    EXPECT_FALSE(m.reset());
    m.OnReset();
    EXPECT_TRUE(m.verdict().ok());
    EXPECT_TRUE(m.reset());  // the caller waits for a spawned server's process
    EXPECT_EQ(m.Next().kind, ActionKind::kDone);
  }
  {
    SessionInput in{{Cmd("NOOP")}};
    fuzz::ClientMachine& m = Greeted(in);
    m.Next();
    m.Next();
    m.OnReset();
    EXPECT_EQ(m.verdict().kind, VerdictKind::kDropped);
  }
}

}  // namespace machine_test
}  // namespace
}  // namespace smtp::fuzz
