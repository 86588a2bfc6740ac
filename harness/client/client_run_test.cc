#include "harness/client/client_run.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace smtp::client {
namespace {

using harness::Verdict;

TEST(CompareMessageTest, EqualAndTheAllowedDifferences) {
  EXPECT_FALSE(CompareMessage("a\r\n", "a\r\n"));
  std::string note;
  EXPECT_FALSE(CompareMessage("a\r\nb", "a\r\nb\r\n", &note));
  EXPECT_NE(note.find("4.1.1.4"), std::string::npos);
  EXPECT_FALSE(CompareMessage("S: x\r\n\r\nbody\r\n", "D: y\r\nS: x\r\n\r\nbody\r\n", &note));
  EXPECT_NE(note.find("header"), std::string::npos);
  // A lost leading dot: the classic missing un-stuffing / stuffing.
  std::optional<std::string> d = CompareMessage("S: x\r\n\r\n.a\r\n", "S: x\r\n\r\na\r\n");
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("differ at octet 8"), std::string::npos) << *d;
  // s-nail: quoted-printable chosen by the client, decoded it is the same.
  EXPECT_FALSE(CompareMessage("S: x\r\n\r\nlast=line",
                              "S: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                              "last=3Dline=\r\n",
                              &note));
  EXPECT_NE(note.find("quoted-printable"), std::string::npos);
  // ... but not when the file itself said quoted-printable.
  EXPECT_TRUE(CompareMessage("Content-Transfer-Encoding: quoted-printable\r\n\r\na=3D\r\n",
                             "Content-Transfer-Encoding: quoted-printable\r\n\r\na=\r\n"));
  // A header field lost is a difference even when the body is the same.
  EXPECT_TRUE(CompareMessage("S: x\r\nT: y\r\n\r\nb\r\n", "S: x\r\n\r\nb\r\n"));
}

ClientScenario Scenario() {
  ClientScenario s;
  s.id = "t";
  s.message = "S: x\r\n\r\nb\r\n";
  return s;
}

ProcessOutcome Exit(int code, int ms = 10) {
  ProcessOutcome o;
  o.exited = true;
  o.exit_code = code;
  o.duration = std::chrono::milliseconds(ms);
  return o;
}

TEST(JudgeClientTest, TheOrderOfChecks) {
  ClientScenario s = Scenario();
  SessionRecord r;
  r.messages.emplace_back();
  r.messages.back().body = s.message;
  r.messages.back().accepted = true;
  EXPECT_EQ(JudgeClient(s, Exit(0), r).verdict, Verdict::kPass);
  // Exit status.
  Judgement j = JudgeClient(s, Exit(1), r);
  EXPECT_EQ(j.verdict, Verdict::kFail);
  EXPECT_EQ(j.failure->expected, "exit 0");
  // A crash beats everything.
  ProcessOutcome crash;
  crash.signal = 11;
  EXPECT_NE(JudgeClient(s, crash, r).reason.find("crashed: killed by SIGSEGV"), std::string::npos);
  // A hang.
  ProcessOutcome hang;
  hang.timed_out = true;
  EXPECT_NE(JudgeClient(s, hang, r).reason.find("did not end"), std::string::npos);
  // A violation beats the message.
  r.violations.push_back({"line-end", "RFC 5321 §2.3.8", "bare LF"});
  EXPECT_TRUE(JudgeClient(s, Exit(0), r).reason.starts_with("line-end"));
  s.expect.allow = {"line-end"};
  EXPECT_EQ(JudgeClient(s, Exit(0), r).verdict, Verdict::kPass);
  // Message none, failure expected.
  s.expect.message = ClientExpect::Message::kNone;
  s.expect.exit = ClientExpect::Exit::kFailure;
  EXPECT_NE(JudgeClient(s, Exit(1), r).reason.find("sent the message"), std::string::npos);
  r.messages.clear();
  EXPECT_EQ(JudgeClient(s, Exit(1), r).verdict, Verdict::kPass);
  EXPECT_NE(JudgeClient(s, Exit(0), r).reason.find("reported success"), std::string::npos);
  // A premise the client never met: skipped, naming the command.
  s.expect.applies_if_sent = {"EHLO"};
  r.commands = {"HELO", "MAIL"};
  Judgement skip = JudgeClient(s, Exit(1), r);
  EXPECT_EQ(skip.verdict, Verdict::kSkip);
  EXPECT_EQ(skip.reason, "does not apply: the client never sent EHLO (commands: HELO MAIL)");
  s.expect.applies_if_sent.clear();
  // require_tls: never in plaintext, even where the message may be sent.
  s.mode = ClientMode::kRequireTls;
  s.expect.message = ClientExpect::Message::kAny;
  s.expect.exit = ClientExpect::Exit::kAny;
  r.message_bytes_plaintext = 10;
  EXPECT_NE(
      JudgeClient(s, Exit(0), r).reason.find("in plaintext although it was told to require TLS"),
      std::string::npos);
  r.message_bytes_plaintext = 0;
  s.mode = ClientMode::kPlain;
  s.expect.message = ClientExpect::Message::kNone;
  s.expect.exit = ClientExpect::Exit::kFailure;
  // Timing.
  s.expect.within = std::chrono::milliseconds(5);
  EXPECT_NE(JudgeClient(s, Exit(1), r).reason.find("more than 5 ms"), std::string::npos);
}

TEST(SkipReasonTest, NamesTheMode) {
  ClientProfile p;
  p.name = "x";
  p.commands[0] = "true";
  ClientScenario s = Scenario();
  s.mode = ClientMode::kRequireTls;
  EXPECT_EQ(SkipReason(p, s), "the profile has no \"require_tls\" command (mode require_tls)");
  s.mode = ClientMode::kPlain;
  EXPECT_EQ(SkipReason(p, s), "");
}

// End to end with a real client: Python's smtplib, from this scenario's
// listener to the verdict.
class ClientRunEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("client_run_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    profile_.name = "smtplib-inline";
    profile_.timeout = std::chrono::milliseconds(15'000);
    profile_.commands[static_cast<int>(ClientMode::kPlain)] =
        "/usr/bin/python3 -c 'import smtplib,sys; s=smtplib.SMTP(sys.argv[1], int(sys.argv[2]), "
        "timeout=3); s.sendmail(sys.argv[3], [sys.argv[4]], open(sys.argv[5],\"rb\").read()); "
        "s.quit()' {host} {port} {from} {to} {message}";
    options_.work_dir = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  harness::RunResult Run(std::vector<ClientScenario> scenarios) {
    absl::StatusOr<harness::RunResult> r = RunClientSuite(profile_, scenarios, options_);
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }

  std::filesystem::path dir_;
  ClientProfile profile_;
  ClientRunOptions options_;
};

TEST_F(ClientRunEndToEndTest, SmtplibStuffsALeadingDot) {
  ClientScenario s = Scenario();
  s.message = "Subject: x\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n";
  harness::RunResult r = Run({s});
  ASSERT_EQ(r.scenarios.size(), 1u);
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kPass) << r.scenarios[0].reason;
  EXPECT_NE(r.scenarios[0]
                .transcript.SideBytes(harness::Direction::kClientToServer)
                .find("\r\n..leading dot\r\n...two\r\n..\r\nend\r\n.\r\n"),
            std::string::npos);
}

TEST_F(ClientRunEndToEndTest, A5xxAtRcptIsAFailureAndNoData) {
  ClientScenario s = Scenario();
  s.server.replies["RCPT"] = {ReplyBytes("550 5.1.1 no such user\r\n")};
  s.expect.exit = ClientExpect::Exit::kFailure;
  s.expect.message = ClientExpect::Message::kNone;
  s.expect.must_not_send = {"DATA"};
  ClientScenario wrong = s;  // the same, expecting success: must fail
  wrong.id = "wrong";
  wrong.expect.exit = ClientExpect::Exit::kSuccess;
  harness::RunResult r = Run({s, wrong});
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kPass) << r.scenarios[0].reason;
  EXPECT_EQ(r.scenarios[1].verdict, Verdict::kFail);
  EXPECT_NE(r.scenarios[1].reason.find("reported a failure: exit 1"), std::string::npos)
      << r.scenarios[1].reason;
}

TEST_F(ClientRunEndToEndTest, AStalledServerAndTheClientsTimeout) {
  ClientScenario s = Scenario();
  s.server.replies["MAIL"] = {[] {
    ReplySpec r;
    r.stall = true;
    return r;
  }()};
  s.expect.exit = ClientExpect::Exit::kFailure;
  s.expect.message = ClientExpect::Message::kNone;
  s.expect.within = std::chrono::milliseconds(8000);
  const auto start = std::chrono::steady_clock::now();
  harness::RunResult r = Run({s});
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kPass) << r.scenarios[0].reason;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(9));
  // And a client that never gives up is killed at the profile's timeout.
  profile_.timeout = std::chrono::milliseconds(1000);
  profile_.commands[0] = "sleep 30";
  harness::RunResult hang = Run({s});
  EXPECT_EQ(hang.scenarios[0].verdict, Verdict::kFail);
  EXPECT_NE(hang.scenarios[0].reason.find("did not end within its timeout"), std::string::npos);
}

// A client that keeps what it read past the 220 to STARTTLS and takes it as
// the reply to its EHLO after the handshake (the 2021 study's bug): the
// delayed real reply shows its MAIL came too early.
TEST_F(ClientRunEndToEndTest, StartTlsInjectionIsSeen) {
  {
    std::ofstream py(dir_ / "vulnerable.py");
    py << "import socket, ssl, sys\n"
          "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)\n"
          "buf = b''\n"
          "def line():\n"
          "    global buf\n"
          "    while b'\\r\\n' not in buf:\n"
          "        buf += s.recv(4096)\n"
          "    l, buf = buf.split(b'\\r\\n', 1)\n"
          "    return l\n"
          "def reply():\n"
          "    while True:\n"
          "        l = line()\n"
          "        if l[3:4] != b'-': return l\n"
          "reply(); s.sendall(b'EHLO c\\r\\n'); reply()\n"
          "s.sendall(b'STARTTLS\\r\\n'); reply()\n"
          "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = "
          "ssl.CERT_NONE\n"
          "s = ctx.wrap_socket(s)\n"
          "s.sendall(b'EHLO c\\r\\n'); reply()  # the injected bytes still in buf\n"
          "s.sendall(b'MAIL FROM:<a@c>\\r\\n'); reply()\n"
          "s.sendall(b'QUIT\\r\\n')\n";
  }
  profile_.commands[static_cast<int>(ClientMode::kStarttls)] =
      "/usr/bin/python3 " + (dir_ / "vulnerable.py").string() + " {host} {port}";
  ClientScenario s = Scenario();
  s.mode = ClientMode::kStarttls;
  ReplySpec starttls;
  starttls.use_default = true;
  starttls.inject = "250 injected\r\n";
  ReplySpec delayed;
  delayed.use_default = true;
  delayed.delay = std::chrono::milliseconds(400);
  s.server.replies["STARTTLS"] = {starttls};
  s.server.replies["EHLO"] = {ReplySpec{}, delayed};
  s.server.replies["EHLO"][0].use_default = true;
  s.expect.exit = ClientExpect::Exit::kAny;
  s.expect.message = ClientExpect::Message::kAny;
  harness::RunResult r = Run({s});
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kFail) << r.scenarios[0].reason;
  EXPECT_NE(r.scenarios[0].reason.find("early-command"), std::string::npos)
      << r.scenarios[0].reason;
  // smtplib, which starts over after the handshake, is not fooled.
  profile_.commands[static_cast<int>(ClientMode::kStarttls)] =
      "/usr/bin/python3 -c 'import smtplib,ssl,sys; c=ssl.create_default_context(); "
      "c.check_hostname=False; c.verify_mode=ssl.CERT_NONE; s=smtplib.SMTP(sys.argv[1], "
      "int(sys.argv[2]), timeout=3); s.starttls(context=c); s.ehlo(); s.sendmail(sys.argv[3], "
      "[sys.argv[4]], open(sys.argv[5],\"rb\").read()); s.quit()' {host} {port} {from} {to} "
      "{message}";
  harness::RunResult ok = Run({s});
  EXPECT_EQ(ok.scenarios[0].verdict, Verdict::kPass) << ok.scenarios[0].reason;
}

TEST_F(ClientRunEndToEndTest, AMissingModeIsASkip) {
  ClientScenario s = Scenario();
  s.mode = ClientMode::kStarttls;
  harness::RunResult r = Run({s});
  EXPECT_EQ(r.scenarios[0].verdict, Verdict::kSkip);
  EXPECT_NE(r.scenarios[0].reason.find("starttls"), std::string::npos);
}

}  // namespace
}  // namespace smtp::client
