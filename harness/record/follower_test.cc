#include "harness/record/follower.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::record {
namespace {

// One step of a conversation: who speaks and the bytes.
struct Step {
  bool client;
  std::string bytes;
};

struct Outcome {
  std::size_t commands = 0;
  std::vector<std::string> secrets;
  // The step index and offset at which STARTTLS was accepted; -1: never.
  int tls_step = -1;
  std::size_t tls_at = 0;
  bool secret_lost = false;
};

// Feeds the steps, each also split at every byte when `bytewise`.
Outcome Follow(const std::vector<Step>& steps, bool bytewise) {
  SessionFollower f;
  Outcome out;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::string& b = steps[i].bytes;
    const std::size_t piece = bytewise ? 1 : b.size();
    for (std::size_t off = 0; off < b.size(); off += piece) {
      const std::string_view chunk = std::string_view(b).substr(off, piece);
      if (steps[i].client) {
        f.FeedClient(chunk);
      } else if (const std::size_t at = f.FeedServer(chunk); at != SessionFollower::npos) {
        out.tls_step = static_cast<int>(i);
        out.tls_at = off + at;
        break;
      }
    }
    if (out.tls_step >= 0) break;
  }
  out.commands = f.commands();
  out.secrets = f.secrets();
  out.secret_lost = f.secret_lost();
  return out;
}

struct Case {
  const char* name;
  std::vector<Step> steps;
  std::size_t commands;
  std::vector<std::string> secrets;
  int tls_step;
  std::size_t tls_at;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"plain transaction: the body is not counted as commands",
       {{false, "220 mx ESMTP\r\n"},
        {true, "EHLO c\r\n"},
        {false, "250-mx\r\n250 PIPELINING\r\n"},
        {true, "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n"},
        {false, "250 ok\r\n250 ok\r\n354 go\r\n"},
        {true, "STARTTLS\r\nQUIT\r\n.\r\n"},  // body lines, not commands
        {false, "250 queued\r\n"},
        {true, "QUIT\r\n"},
        {false, "221 bye\r\n"}},
       5,
       {},
       -1,
       0},
      {"STARTTLS accepted: TLS starts right after the 220",
       {{false, "220 mx\r\n"},
        {true, "EHLO c\r\n"},
        {false, "250 STARTTLS\r\n"},
        {true, "STARTTLS\r\n"},
        {false, "220 2.0.0 go ahead\r\n\x16\x03"}},
       2,
       {},
       4,
       20},
      {"STARTTLS refused: no TLS",
       {{false, "220 mx\r\n"},
        {true, "STARTTLS\r\n"},
        {false, "454 4.7.0 not now\r\n"},
        {true, "QUIT\r\n"},
        {false, "221 bye\r\n"}},
       2,
       {},
       -1,
       0},
      {"a 220 to a pipelined command before STARTTLS is not the acceptance",
       {{false, "220 mx\r\n"},
        {true, "NOOP\r\nSTARTTLS\r\n"},
        {false, "220 not really\r\n"},
        {false, "220 now\r\n"}},
       2,
       {},
       3,
       9},
      {"AUTH PLAIN with an initial response; LOGIN with two answers; a cancel",
       {{false, "220 mx\r\n"},
        {true, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"},
        {false, "535 no\r\n"},
        {true, "auth login\r\n"},
        {false, "334 VXNlcm5hbWU6\r\n"},
        {true, "YWxpY2U=\r\n"},
        {false, "334 UGFzc3dvcmQ6\r\n"},
        {true, "c2VjcmV0\r\n"},
        {false, "235 ok\r\n"},
        {true, "AUTH PLAIN\r\n"},
        {false, "334 \r\n"},
        {true, "*\r\n"},
        {false, "501 cancelled\r\n"},
        {true, "AUTH PLAIN =\r\n"}},
       4,
       {"AGFsaWNlAHNlY3JldA==", "secret", "YWxpY2U=", "c2VjcmV0", "secret"},
       -1,
       0},
      {"AUTH PLAIN and its response in one write: the MAIL after them is a command",
       {{false, "220 mx\r\n"},
        {true, "AUTH PLAIN\r\nAGFsaWNlAHMzY3JldFBX\r\nMAIL FROM:<a@x>\r\n"},
        {false, "334 \r\n235 ok\r\n250 ok\r\n"},
        {true, "STARTTLS\r\n"},
        {false, "220 go\r\n"}},
       3,
       {"AGFsaWNlAHMzY3JldFBX", "s3cretPW"},
       4,
       8},
      {"AUTH LOGIN with both responses pipelined, QUIT after them",
       {{false, "220 mx\r\n"},
        {true, "AUTH LOGIN\r\nYWxpY2U=\r\nczNjcmV0UFc=\r\nQUIT\r\n"},
        {false, "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n221 bye\r\n"}},
       2,
       {"YWxpY2U=", "czNjcmV0UFc=", "s3cretPW"},
       -1,
       0},
      {"AUTH LOGIN with the user name as initial response, the password sent ahead",
       {{false, "220 mx\r\n"},
        {true, "AUTH LOGIN YWxpY2U=\r\nczNjcmV0UFc=\r\nNOOP\r\n"},
        {false, "334 UGFzc3dvcmQ6\r\n235 ok\r\n250 ok\r\n"},
        {true, "STARTTLS\r\n"},
        {false, "220 go\r\n"}},
       3,
       {"YWxpY2U=", "czNjcmV0UFc=", "s3cretPW"},
       4,
       8},
      {"a response answered in turn, then a pipelined command before the 235",
       {{false, "220 mx\r\n"},
        {true, "AUTH PLAIN\r\n"},
        {false, "334 \r\n"},
        {true, "AGFsaWNlAHMzY3JldFBX\r\nMAIL FROM:<a@x>\r\n"},
        {false, "235 ok\r\n250 ok\r\n"},
        {true, "STARTTLS\r\n"},
        {false, "220 go\r\n"}},
       3,
       {"AGFsaWNlAHMzY3JldFBX", "s3cretPW"},
       6,
       8},
      {"CRAM-MD5: the response to the challenge; nothing decoded (the digest is no password)",
       {{false, "220 mx\r\n"},
        {true, "AUTH CRAM-MD5\r\n"},
        {false, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n"},
        {true, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\nQUIT\r\n"},
        {false, "235 ok\r\n221 bye\r\n"}},
       2,
       {"dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw"},
       -1,
       0},
      {"XOAUTH2 initial response: the bearer token is a secret too",
       {{false, "220 mx\r\n"},
        {true, "AUTH XOAUTH2 dXNlcj1hAWF1dGg9QmVhcmVyIHRvazEyMwEB\r\nQUIT\r\n"},
        {false, "235 ok\r\n221 bye\r\n"}},
       2,
       {"dXNlcj1hAWF1dGg9QmVhcmVyIHRvazEyMwEB", "tok123"},
       -1,
       0},
      {"a refused AUTH with a response sent ahead: the server reads it as a command",
       {{false, "220 mx\r\n"},
        {true, "AUTH PLAIN\r\nAGFsaWNlAHMzY3JldFBX\r\nSTARTTLS\r\n"},
        {false, "504 unknown mechanism\r\n500 unknown command\r\n"},
        {false, "220 go\r\n"}},
       2,
       {"AGFsaWNlAHMzY3JldFBX", "s3cretPW"},
       3,
       8},
      {"BDAT chunks are skipped by size, even when they look like commands",
       {{false, "220 mx\r\n"},
        {true, "BDAT 10\r\nSTARTTLS\r\nBDAT 0 LAST\r\n"},
        {false, "250 a\r\n250 b\r\n"},
        {true, "QUIT\r\n"}},
       3,
       {},
       -1,
       0},
      {"bare LF line ends and a multiline greeting",
       {{false, "220-mx\n220 mx\n"}, {true, "STARTTLS\n"}, {false, "220 go\n"}},
       1,
       {},
       2,
       7},
      {"a body split so that <CRLF>.<CRLF> spans chunks, with a false start",
       {{false, "220 mx\r\n"},
        {true, "DATA\r\n"},
        {false, "354 go\r\n"},
        {true, "a\r\n.x\r\n\r"},
        {true, "\r\n.\r"},
        {true, "\nSTARTTLS\r\n"},
        {false, "250 ok\r\n220 go\r\n"}},
       2,
       {},
       6,
       16},
  };
  return cases;
}

TEST(SessionFollowerTest, Table) {
  for (const Case& c : Cases()) {
    for (bool bytewise : {false, true}) {
      SCOPED_TRACE(std::string(c.name) + (bytewise ? " (byte by byte)" : ""));
      const Outcome o = Follow(c.steps, bytewise);
      EXPECT_EQ(o.commands, c.commands);
      EXPECT_EQ(o.secrets, c.secrets);
      EXPECT_EQ(o.tls_step, c.tls_step);
      if (c.tls_step >= 0) {
        EXPECT_EQ(o.tls_at, c.tls_at);
      }
      EXPECT_FALSE(o.secret_lost);
    }
  }
}

TEST(SessionFollowerTest, StartTlsOutstandingUntilTheReply) {
  SessionFollower f;
  f.FeedServer("220 mx\r\n");
  EXPECT_FALSE(f.starttls_outstanding());
  f.FeedClient("STARTTLS\r\n");
  EXPECT_TRUE(f.starttls_outstanding());
  EXPECT_EQ(f.FeedServer("220 go\r\n"), 8u);
  EXPECT_FALSE(f.starttls_outstanding());
  // After the handshake: no greeting; EHLO again; counts kept.
  f.RestartAfterTls();
  f.FeedClient("EHLO c\r\nAUTH PLAIN AHUAcA==\r\n");
  EXPECT_EQ(f.FeedServer("250 mx\r\n235 ok\r\n"), SessionFollower::npos);
  EXPECT_EQ(f.commands(), 3u);
  EXPECT_EQ(f.secrets(), std::vector<std::string>{"AHUAcA=="});
}

TEST(SessionFollowerTest, OverlongAuthResponseIsFlaggedAsLost) {
  SessionFollower::Options o;
  o.max_line = 64;
  SessionFollower f(o);
  f.FeedServer("220 mx\r\n");
  f.FeedClient("AUTH LOGIN\r\n");
  f.FeedServer("334 VXNlcm5hbWU6\r\n");
  f.FeedClient(std::string(100, 'A') + "\r\n");
  EXPECT_TRUE(f.secret_lost());
  EXPECT_TRUE(f.secrets().empty());
}

TEST(SessionFollowerTest, SecretBytesAreBounded) {
  SessionFollower::Options o;
  o.max_secret_bytes = 10;
  SessionFollower f(o);
  f.FeedServer("220 mx\r\n");
  f.FeedClient("AUTH PLAIN AAAAAAAA\r\n");
  EXPECT_FALSE(f.secret_lost());
  f.FeedServer("535 no\r\n");
  f.FeedClient("AUTH PLAIN BBBBBBBB\r\n");
  EXPECT_TRUE(f.secret_lost());
  EXPECT_EQ(f.secrets(), std::vector<std::string>{"AAAAAAAA"});
}

// --- where a session stops being readable (as pcap import follows it) -------

// A conversation: "C:" / "S:" chunks in capture order. `plain`: the bytes
// kept before the switch (concatenated over both sides), `tls`: whether it
// switched.
struct TlsCase {
  const char* name;
  std::vector<std::string> chunks;
  bool midstream;
  std::string plain;
  bool tls;
};

// Feeds `chunks` ("C:"/"S:" prefixed; "gap" for lost bytes) to a follower
// set up as pcap import sets it up; returns the clear bytes kept.
std::string FeedCapture(SessionFollower& f, const std::vector<std::string>& chunks) {
  std::string plain;
  for (const std::string& chunk : chunks) {
    if (chunk == "gap") {
      f.Gap();
      continue;
    }
    const std::string_view data = std::string_view(chunk).substr(2);
    const std::size_t n = chunk[0] == 'C' ? f.FeedClient(data) : f.FeedServer(data);
    plain += data.substr(0, n);  // npos: all of it
  }
  return plain;
}

SessionFollower::Options CaptureOptions(bool midstream) {
  SessionFollower::Options o;
  o.midstream = midstream;
  o.detect_implicit_tls = true;
  return o;
}

class FollowerTlsTable : public ::testing::TestWithParam<TlsCase> {};

TEST_P(FollowerTlsTable, FindsTheSwitch) {
  const TlsCase& c = GetParam();
  SessionFollower f(CaptureOptions(c.midstream));
  EXPECT_EQ(FeedCapture(f, c.chunks), c.plain);
  EXPECT_EQ(f.in_tls(), c.tls);
  EXPECT_EQ(f.why().empty(), !c.tls);
}

INSTANTIATE_TEST_SUITE_P(
    Sessions, FollowerTlsTable,
    ::testing::Values(
        TlsCase{"Accepted",
                {"S:220 mx\r\n", "C:EHLO a\r\n", "S:250 STARTTLS\r\n", "C:STARTTLS\r\n",
                 "S:220 go\r\n\x16", "C:\x16\x03"},
                false,
                "220 mx\r\nEHLO a\r\n250 STARTTLS\r\nSTARTTLS\r\n220 go\r\n",
                true},
        TlsCase{"Refused",
                {"S:220 mx\r\n", "C:starttls\r\n", "S:454 no\r\n", "C:QUIT\r\n", "S:220 odd\r\n"},
                false,
                "220 mx\r\nstarttls\r\n454 no\r\nQUIT\r\n220 odd\r\n",
                false},
        TlsCase{
            "PipelinedBefore",
            {"S:220 mx\r\n", "C:RSET\r\nSTARTTLS\r\n", "S:250 ok\r\n", "S:220 go\r\n", "C:\x16"},
            false,
            "220 mx\r\nRSET\r\nSTARTTLS\r\n250 ok\r\n220 go\r\n",
            true},
        TlsCase{"SplitLines",
                {"S:22", "S:0 mx\r", "S:\n", "C:STAR", "C:TTLS\r\n", "S:220-a\r\n22", "S:0 b\r\nX"},
                false,
                "220 mx\r\nSTARTTLS\r\n220-a\r\n220 b\r\n",
                true},
        TlsCase{"InADataBody",
                {"S:220 mx\r\n", "C:DATA\r\n", "S:354 go\r\n", "C:STARTTLS\r\n.\r\n",
                 "S:250 queued\r\n", "C:QUIT\r\n", "S:221 bye\r\n"},
                false,
                "220 mx\r\nDATA\r\n354 go\r\nSTARTTLS\r\n.\r\n250 queued\r\nQUIT\r\n221 bye\r\n",
                false},
        TlsCase{"InABdatChunk",
                {"S:220 mx\r\n", "C:BDAT 10 LAST\r\nSTARTTLS\r\n", "S:250 ok\r\n", "S:220 x\r\n"},
                false,
                "220 mx\r\nBDAT 10 LAST\r\nSTARTTLS\r\n250 ok\r\n220 x\r\n",
                false},
        TlsCase{"MidStream",
                {"C:STARTTLS\r\n", "S:220 go\r\n", "C:\x16"},
                true,
                "STARTTLS\r\n220 go\r\n",
                true},
        TlsCase{"ImplicitTls", {"C:\x16\x03\x01", "S:\x16\x03\x03"}, false, "", true},
        TlsCase{
            "GreetingFirst", {"S:220 mx\r\n", "C:\x16\x03"}, false, "220 mx\r\n\x16\x03", false},
        // The server's 250 to RSET was lost: without the gap the 220 would
        // answer RSET; after it, the next reply answers the STARTTLS.
        TlsCase{"GapBeforeTheAnswer",
                {"S:220 mx\r\n", "C:RSET\r\nSTARTTLS\r\n", "gap", "S:220 go\r\n", "C:\x16"},
                false,
                "220 mx\r\nRSET\r\nSTARTTLS\r\n220 go\r\n",
                true},
        TlsCase{"NoGapBeforeTheAnswer",
                {"S:220 mx\r\n", "C:RSET\r\nSTARTTLS\r\n", "S:220 go\r\n"},
                false,
                "220 mx\r\nRSET\r\nSTARTTLS\r\n220 go\r\n",
                false},
        // A gap drops the line in progress: "STAR" + lost bytes + "TLS" is
        // not a STARTTLS.
        TlsCase{"GapInALine",
                {"S:220 mx\r\n", "C:STAR", "gap", "C:TTLS\r\n", "S:220 go\r\n"},
                false,
                "220 mx\r\nSTARTTLS\r\n220 go\r\n",
                false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SessionFollowerTest, WhyNamesTheSwitch) {
  SessionFollower f(CaptureOptions(false));
  FeedCapture(f, {"S:220 mx\r\n", "C:STARTTLS\r\n", "S:220 go\r\n"});
  EXPECT_EQ(f.why(), "STARTTLS accepted (220): the rest of the session is encrypted");
  SessionFollower implicit(CaptureOptions(false));
  FeedCapture(implicit, {"C:\x16\x03\x01"});
  EXPECT_EQ(implicit.why(),
            "implicit TLS: the client began with a TLS handshake, not after a greeting");
  EXPECT_EQ(implicit.FeedClient("EHLO x\r\n"), 0u);  // followed no further
  EXPECT_EQ(implicit.commands(), 0u);
}

TEST(SessionFollowerTest, ImplicitTlsIsOptIn) {
  // As the recording proxy follows: a leading 0x16 is a (garbage) line, and
  // the AUTH after it is still found.
  SessionFollower f;
  EXPECT_EQ(f.FeedClient("\x16\x03\r\n"), SessionFollower::npos);
  f.FeedServer("220 mx\r\n500 what\r\n");
  f.FeedClient("AUTH PLAIN AHUAcA==\r\n");
  EXPECT_FALSE(f.in_tls());
  EXPECT_EQ(f.secrets(), std::vector<std::string>{"AHUAcA=="});
}

TEST(SessionFollowerTest, UnalignedFindsAuthSecretsAndBodies) {
  // Mid-stream, replies to commands sent before the capture come first; a
  // 334 still announces an AUTH answer and a 354 a body.
  SessionFollower f(CaptureOptions(true));
  FeedCapture(f, {"C:AUTH LOGIN\r\n", "S:250 ok\r\n250 ok\r\n334 VXNlcm5hbWU6\r\n",
                  "C:YWxpY2U=\r\n", "S:334 UGFzc3dvcmQ6\r\n", "C:c2VjcmV0\r\n", "S:235 ok\r\n",
                  "C:DATA\r\n", "S:354 go\r\n", "C:AUTH PLAIN xx\r\n.\r\n", "S:250 ok\r\n"});
  EXPECT_EQ(f.secrets(), (std::vector<std::string>{"YWxpY2U=", "c2VjcmV0"}));
  EXPECT_EQ(f.commands(), 2u);  // AUTH, DATA; the body is not a command
  EXPECT_FALSE(f.in_tls());
}

}  // namespace
}  // namespace smtp::record
