#include "harness/replay/replay.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "harness/sasl.h"
#include "harness/server/test_util.h"
#include "harness/session.h"
#include "harness/test_util.h"

namespace smtp::replay {
namespace {

using harness::Direction;
using harness::EntryKind;
using harness::Transcript;
using harness::Verdict;
using Kind = PlanStep::Kind;

std::vector<Kind> Kinds(const Plan& p) {
  std::vector<Kind> out;
  for (const PlanStep& s : p.steps) out.push_back(s.kind);
  return out;
}

Transcript Conversation() {
  Transcript t;
  t.AddDataAt(1, Direction::kServerToClient, "220 mx.test ESMTP\r\n");
  t.AddDataAt(2, Direction::kClientToServer, "EHLO c.test\r\n");
  t.AddDataAt(3, Direction::kServerToClient, "250-mx.test\r\n250-PIPEL");
  t.AddDataAt(4, Direction::kServerToClient, "INING\r\n250 8BITMIME\r\n");
  // A pipelined group in two chunks, its replies in three.
  t.AddDataAt(5, Direction::kClientToServer, "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n");
  t.AddDataAt(6, Direction::kClientToServer, "DATA\r\n");
  t.AddDataAt(7, Direction::kServerToClient, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r");
  t.AddDataAt(8, Direction::kServerToClient, "\n354 go\r\n");
  t.AddDataAt(9, Direction::kClientToServer, "Subject: x\r\n\r\nhi\r\n.\r\n");
  t.AddDataAt(10, Direction::kServerToClient, "250 2.0.0 Ok: queued as ABC123\r\n");
  t.AddDataAt(11, Direction::kClientToServer, "QUIT\r\n");
  t.AddDataAt(12, Direction::kServerToClient, "221 2.0.0 Bye\r\n");
  t.AddEventAt(13, EntryKind::kPeerClosed);
  return t;
}

TEST(BuildPlan, GroupsSendsBetweenRepliesAndCountsWholeReplies) {
  const Plan p = BuildPlan(Conversation());
  EXPECT_EQ(Kinds(p),
            (std::vector<Kind>{Kind::kRead, Kind::kSend, Kind::kRead, Kind::kSend, Kind::kRead,
                               Kind::kSend, Kind::kRead, Kind::kSend, Kind::kRead}));
  ASSERT_EQ(p.replies.size(), 7u);
  EXPECT_EQ(p.steps[0].replies, 1u);
  EXPECT_EQ(p.steps[2].replies, 2u);
  EXPECT_EQ(p.steps[3].bytes, "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
  EXPECT_EQ(p.steps[3].t_us, 5);
  EXPECT_EQ(p.steps[4].replies, 5u);
  EXPECT_EQ(p.replies[1].raw, "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
  EXPECT_EQ(p.replies[1].reply.lines.size(), 3u);
  EXPECT_EQ(p.replies[3].reply.code, 250);
  EXPECT_TRUE(p.note.empty()) << p.note;
}

TEST(BuildPlan, RedoesSeenTlsAndStopsAtUnseenTls) {
  Transcript seen;
  seen.AddData(Direction::kServerToClient, "220 mx\r\n");
  seen.AddData(Direction::kClientToServer, "STARTTLS\r\n");
  seen.AddData(Direction::kServerToClient, "220 go\r\n");
  seen.AddTls({"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
  seen.AddData(Direction::kClientToServer, "EHLO c\r\n");
  seen.AddData(Direction::kServerToClient, "250 mx\r\n");
  EXPECT_EQ(Kinds(BuildPlan(seen)), (std::vector<Kind>{Kind::kRead, Kind::kSend, Kind::kRead,
                                                       Kind::kStartTls, Kind::kSend, Kind::kRead}));
  Transcript unseen;
  unseen.AddData(Direction::kServerToClient, "220 mx\r\n");
  unseen.AddData(Direction::kClientToServer, "STARTTLS\r\n");
  unseen.AddData(Direction::kServerToClient, "220 go\r\n");
  unseen.AddEvent(EntryKind::kTlsOpaque, "not intercepted");
  const Plan p = BuildPlan(unseen);
  EXPECT_EQ(Kinds(p), (std::vector<Kind>{Kind::kRead, Kind::kSend, Kind::kRead, Kind::kOpaque}));
  EXPECT_NE(p.note.find("tls_opaque"), std::string::npos);
}

// Bytes that are not a reply are one malformed reply through the end of
// their line, as harness::Session reads them live: the replies after it
// stay in step.
TEST(BuildPlan, ServerGarbageIsAMalformedReplyToItsLineEnd) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "EHLO c\r\n");
  t.AddData(Direction::kServerToClient, "HTTP/1.1 400 Bad\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  t.AddData(Direction::kServerToClient, "221 bye\r\n");
  const Plan p = BuildPlan(t);
  ASSERT_EQ(p.replies.size(), 3u);
  ASSERT_TRUE(p.replies[1].malformed);
  EXPECT_EQ(p.replies[1].malformed->offset, 0u);
  EXPECT_FALSE(p.replies[2].malformed);
  EXPECT_EQ(p.replies[2].reply.code, 221);
  EXPECT_TRUE(p.note.empty()) << p.note;
}

// Control bytes, a bare CR and "250 " with no text: read whole, never as a
// line end that shifts the replies after it.
TEST(BuildPlan, QuirkyRepliesAreReadWhole) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "EHLO c\r\n");
  t.AddData(Direction::kServerToClient, "250-mx\r\n250-PIPELINING\r\n250 \r\n");
  t.AddData(Direction::kClientToServer, "X\x01Y\r\nZ\rW\r\nQUIT\r\n");
  t.AddData(Direction::kServerToClient,
            "500 5.5.2 Error: bad syntax X\x01Y\r\n500 unknown Z\rW\r\n221 bye\r\n");
  const Plan p = BuildPlan(t);
  ASSERT_EQ(p.replies.size(), 5u);
  EXPECT_EQ(p.replies[1].reply.lines.size(), 3u);
  EXPECT_FALSE(p.replies[1].malformed);
  EXPECT_FALSE(p.replies[2].malformed);
  EXPECT_EQ(p.replies[2].reply.lines[0], "5.5.2 Error: bad syntax X\x01Y");
  ASSERT_TRUE(p.replies[3].malformed);
  EXPECT_EQ(p.replies[3].malformed->code, Errc::kBareCr);
  EXPECT_EQ(p.replies[4].reply.code, 221);
}

TEST(ClientRewriter, SubstitutesHeloMessageIdAndDateOnlyWhereTheyAre) {
  RewriteOptions options;
  options.helo = "replay.test";
  options.session_tag = "T";
  options.date = "Fri, 04 Dec 2026 00:00:00 +0000";
  ClientRewriter rw(options);
  EXPECT_EQ(rw.Rewrite("EHLO client.example\r\nMAIL FROM:<a@b>\r\n"),
            "EHLO replay.test\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_EQ(rw.helo_seen(), "client.example");
  EXPECT_EQ(rw.helo_sent(), "replay.test");
  EXPECT_EQ(rw.Rewrite("DATA\r\n"), "DATA\r\n");
  EXPECT_EQ(rw.Rewrite("Message-ID:\r\n <old@x>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
                       "Subject: s\r\n\r\nMessage-ID: <in-body@x>\r\n.\r\n"),
            "Message-ID: <replay.T.1@smtp-harness.invalid>\r\nDate: Fri, 04 Dec 2026 00:00:00 "
            "+0000\r\nSubject: s\r\n\r\nMessage-ID: <in-body@x>\r\n.\r\n");
  // A BDAT chunk passes unchanged (its size is fixed), then commands again.
  EXPECT_EQ(rw.Rewrite("BDAT 24 LAST\r\nMessage-ID: <keep@x>\r\n\r\nHELO a\r\n"),
            "BDAT 24 LAST\r\nMessage-ID: <keep@x>\r\n\r\nHELO replay.test\r\n");
  // An incomplete line is sent as it is; its rest is not a line start.
  EXPECT_EQ(rw.Rewrite("MAIL FROM:<a@b> EH"), "MAIL FROM:<a@b> EH");
  EXPECT_EQ(rw.Rewrite("LO x\r\n"), "LO x\r\n");
  RewriteOptions no_ids;
  no_ids.fresh_ids = false;
  ClientRewriter keep(no_ids);
  EXPECT_EQ(keep.Rewrite("EHLO a\r\nDATA\r\nMessage-ID: <k@x>\r\n\r\n.\r\n"),
            "EHLO a\r\nDATA\r\nMessage-ID: <k@x>\r\n\r\n.\r\n");
}

TEST(ClientRewriter, RebuildsRedactedAuthFromTheCredentials) {
  RewriteOptions creds;
  creds.auth_user = "test";
  creds.auth_password = "secret";
  ClientRewriter rw(creds);
  EXPECT_EQ(rw.Rewrite("AUTH PLAIN ***\r\n"), "AUTH PLAIN AHRlc3QAc2VjcmV0\r\n");
  EXPECT_EQ(rw.Rewrite("AUTH LOGIN\r\n"), "AUTH LOGIN\r\n");
  EXPECT_EQ(rw.Rewrite("***\r\n"), "dGVzdA==\r\n");
  EXPECT_EQ(rw.Rewrite("***\r\n"), "c2VjcmV0\r\n");
  EXPECT_EQ(rw.Rewrite("AUTH PLAIN\r\n***\r\nMAIL FROM:<a@b>\r\n"),
            "AUTH PLAIN\r\nAHRlc3QAc2VjcmV0\r\nMAIL FROM:<a@b>\r\n");
  EXPECT_FALSE(rw.sent_redacted());
  // No credentials for an AUTH that succeeded: sent as it is (ReplaySession
  // skips such a session first).
  RewriteOptions none_options;
  none_options.auth = {AuthNeed{"PLAIN", true, false, true, true}};
  ClientRewriter none(none_options);
  EXPECT_EQ(none.Rewrite("AUTH PLAIN ***\r\n"), "AUTH PLAIN ***\r\n");
  EXPECT_TRUE(none.sent_redacted());
}

TEST(BuildPlan, ASecondConnectionIsReconnected) {
  Transcript t;
  t.AddEvent(EntryKind::kConnect, "127.0.0.1:25");
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "DATA\r\nhalf a li");
  t.AddData(Direction::kServerToClient, "354 go\r\n250 partial");  // cut by the close
  t.AddEvent(EntryKind::kLocalClosed);
  t.AddEvent(EntryKind::kConnect, "127.0.0.1:25");
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  t.AddData(Direction::kServerToClient, "221 bye\r\n");
  const Plan p = BuildPlan(t);
  EXPECT_EQ(Kinds(p), (std::vector<Kind>{Kind::kRead, Kind::kSend, Kind::kRead, Kind::kReconnect,
                                         Kind::kRead, Kind::kSend, Kind::kRead}));
  ASSERT_EQ(p.replies.size(), 4u);
  EXPECT_EQ(p.replies[2].raw, "220 mx\r\n");
}

Reply R(std::uint16_t code, std::vector<std::string> lines) {
  Reply r;
  r.code = code;
  r.lines = std::move(lines);
  EnhancedCode e;
  if (EnhancedCode::Parse(r.lines[0], &e) > 0) r.enhanced = e;
  return r;
}

TEST(Compare, ReportsTheFirstLevelThatDiffers) {
  const Normalizer n;
  EXPECT_EQ(Compare(R(250, {"2.1.0 Ok"}), R(250, {"2.1.0 Ok"}), n, {}), std::nullopt);
  EXPECT_EQ(Compare(R(250, {"2.1.0 Ok"}), R(550, {"5.1.1 no"}), n, {}), Level::kCode);
  EXPECT_EQ(Compare(R(250, {"2.1.0 Ok"}), R(250, {"2.1.5 Ok"}), n, {}), Level::kEnhanced);
  EXPECT_EQ(Compare(R(250, {"2.1.0 Ok"}), R(250, {"2.1.0 Fine"}), n, {}), Level::kText);
  EXPECT_EQ(Compare(R(250, {"mx", "PIPELINING"}), R(250, {"mx"}), n, {}), Level::kText);
  EXPECT_EQ(
      Compare(R(250, {"2.0.0 Ok: queued as ABC"}), R(250, {"2.0.0 Ok: queued as XYZ"}), n, {}),
      std::nullopt);
  EXPECT_EQ(Compare(R(220, {"a.test ESMTP"}), R(220, {"b.test ESMTP"}), n,
                    {{"a.test", "<server-host>"}, {"b.test", "<server-host>"}}),
            std::nullopt);
  Level l;
  EXPECT_TRUE(ParseLevel("enhanced", &l));
  EXPECT_EQ(l, Level::kEnhanced);
  EXPECT_FALSE(ParseLevel("bytes", &l));
}

// --- Against the embedded server ---------------------------------------------

using server::testing::NetworkTestConfig;
using server::testing::Start;

harness::Target Loopback(std::uint16_t port) {
  harness::Target t;
  t.host = "127.0.0.1";
  t.port = port;
  return t;
}

// Records a session the way a client would: greeting, EHLO, a pipelined
// MAIL/RCPT/RCPT/DATA, a body with a Message-ID, QUIT.
Transcript Record(std::uint16_t port) {
  asio::io_context io;
  return harness::testing::RunSync(io, [&]() -> asio::awaitable<Transcript> {
    harness::Session s;
    const auto d = [] { return harness::In(std::chrono::seconds(5)); };
    absl::Status c = co_await s.Connect(Loopback(port), d());
    EXPECT_TRUE(c.ok()) << c;
    for (std::string_view send :
         {std::string_view(), std::string_view("EHLO client.test\r\n"),
          std::string_view("MAIL FROM:<a@x.test>\r\nRCPT TO:<b@example.org>\r\nRCPT "
                           "TO:<c@example.org>\r\nDATA\r\n"),
          std::string_view("Message-ID: <1@x.test>\r\nSubject: hi\r\n\r\nbody\r\n.\r\n"),
          std::string_view("QUIT\r\n")}) {
      if (!send.empty()) {
        absl::Status sent = co_await s.Send(send, d());
        EXPECT_TRUE(sent.ok()) << sent;
      }
      const int replies = send.starts_with("MAIL") ? 4 : 1;
      for (int i = 0; i < replies; ++i) {
        harness::ReplyOutcome o = co_await s.ReadReply(d());
        EXPECT_TRUE(o.ok()) << harness::ReadStatusName(o.status);
      }
    }
    co_return s.TakeTranscript();
  });
}

harness::ScenarioResult Replay(const Transcript& t, std::uint16_t port, Level level) {
  asio::io_context io;
  ReplayOptions options;
  options.level = level;
  options.step_timeout = std::chrono::seconds(5);
  const harness::NamedTranscript named{"rec/session-000001.json", t};
  return harness::testing::RunSync(io, [&]() -> asio::awaitable<harness::ScenarioResult> {
    co_return co_await ReplaySession(named, Loopback(port), options);
  });
}

TEST(ReplaySession, TheSameServerAnswersTheSame) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  auto srv = Start(cfg);
  const Transcript rec = Record(srv.port);
  ASSERT_EQ(BuildPlan(rec).replies.size(), 8u) << rec.DebugString();
  for (Level level : {Level::kCode, Level::kEnhanced, Level::kText}) {
    const harness::ScenarioResult r = Replay(rec, srv.port, level);
    EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason << "\n" << r.transcript.DebugString();
    ASSERT_TRUE(r.replay.has_value());
    EXPECT_EQ(r.replay->differences, 0);
    EXPECT_EQ(r.replay->rows.size(), 5u);
    EXPECT_EQ(r.id, "session-000001");
    EXPECT_EQ(r.level, "replay");
  }
  // Every replay delivered its message, each with a fresh Message-ID.
  const std::vector<server::StoredMessage> messages = srv.sink->Messages();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_NE(messages[0].body.find("Message-ID: <1@x.test>"), std::string::npos);
  for (std::size_t i = 1; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].body.find("<1@x.test>"), std::string::npos) << messages[i].body;
    EXPECT_NE(messages[i].body.find("@smtp-harness.invalid>"), std::string::npos);
  }
}

TEST(ReplaySession, ADifferentServerGivesTheExpectedDifferences) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  auto recorded_from = Start(cfg);
  const Transcript rec = Record(recorded_from.port);
  server::ServerConfig other = cfg;
  other.hostname = "other.test";
  other.relay.local_domains = {"elsewhere.test"};  // example.org recipients are refused
  auto srv = Start(other);
  // The greeting and EHLO name differ only in the host name: equal at every level.
  const harness::ScenarioResult code = Replay(rec, srv.port, Level::kCode);
  EXPECT_EQ(code.verdict, Verdict::kFail);
  ASSERT_TRUE(code.replay.has_value());
  ASSERT_EQ(code.replay->rows.size(), 5u);
  EXPECT_EQ(code.replay->rows[0].differs, "");
  EXPECT_EQ(code.replay->rows[1].differs, "");
  EXPECT_EQ(code.replay->rows[2].differs, "code");
  ASSERT_TRUE(code.failure.has_value());
  EXPECT_EQ(code.failure->step, 2);
  EXPECT_NE(code.failure->message.find("the reply to MAIL FROM:<a@x.test>"), std::string::npos)
      << code.failure->message;
  EXPECT_NE(code.failure->actual.find("550 5.7.1"), std::string::npos) << code.failure->actual;
  EXPECT_NE(code.failure->expected.find("250 2.1.5"), std::string::npos) << code.failure->expected;
}

TEST(ReplaySession, OriginalTimingKeepsTheRecordedPauses) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  auto srv = Start(cfg);
  Transcript t;
  t.AddDataAt(1'000, Direction::kServerToClient, "220 mx.test ESMTP\r\n");
  t.AddDataAt(2'000, Direction::kClientToServer, "NOOP\r\n");
  t.AddDataAt(3'000, Direction::kServerToClient, "250 2.0.0 Ok\r\n");
  t.AddDataAt(400'000, Direction::kClientToServer, "QUIT\r\n");  // 0.4 s later
  t.AddDataAt(401'000, Direction::kServerToClient, "221 2.0.0 Bye\r\n");
  for (bool original : {false, true}) {
    asio::io_context io;
    ReplayOptions options;
    options.original_timing = original;
    const harness::NamedTranscript named{"t.json", t};
    const harness::ScenarioResult r =
        harness::testing::RunSync(io, [&]() -> asio::awaitable<harness::ScenarioResult> {
          co_return co_await ReplaySession(named, Loopback(srv.port), options);
        });
    EXPECT_EQ(r.verdict, Verdict::kPass) << r.reason;
    if (original) {
      EXPECT_GE(r.duration_us, 390'000);
    } else {
      EXPECT_LT(r.duration_us, 390'000);
    }
  }
}

TEST(ReplaySession, ARefusedConnectionIsAnError) {
  const harness::ScenarioResult r = Replay(Conversation(), 1, Level::kCode);
  EXPECT_EQ(r.verdict, Verdict::kError);
  EXPECT_NE(r.reason.find("could not replay"), std::string::npos) << r.reason;
}

TEST(ReplayAll, ExitStatusFollowsTheDifferences) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  auto srv = Start(cfg);
  const Transcript rec = Record(srv.port);
  std::vector<harness::NamedTranscript> sessions = {
      {"a.json", rec}, {"b.json", rec}, {"c.json", rec}};
  ReplayOptions options;
  options.jobs = 2;
  int done = 0;
  harness::RunResult same = ReplayAll(sessions, Loopback(srv.port), options,
                                      [&](const harness::ScenarioResult&) { ++done; });
  EXPECT_EQ(done, 3);
  ASSERT_EQ(same.scenarios.size(), 3u);
  EXPECT_EQ(same.scenarios[2].id, "c");
  EXPECT_EQ(same.ExitStatus(), 0);
  server::ServerConfig other = cfg;
  other.relay.local_domains = {"elsewhere.test"};
  auto srv2 = Start(other);
  EXPECT_EQ(ReplayAll(sessions, Loopback(srv2.port), options).ExitStatus(), 1);
  EXPECT_EQ(ReplayAll(sessions, Loopback(1), options).ExitStatus(), 2);
  std::atomic<bool> stop{true};
  options.stop = &stop;
  harness::RunResult stopped = ReplayAll(sessions, Loopback(srv.port), options);
  EXPECT_TRUE(stopped.scenarios.empty());
  EXPECT_FALSE(stopped.complete);
  EXPECT_EQ(stopped.ExitStatus(), 2);
}

}  // namespace
}  // namespace smtp::replay

namespace smtp::replay {
namespace {

using server::testing::Start;

// A recorded AUTH exchange with its secrets redacted, ending in `final`.
Transcript AuthRecording(std::string_view mechanism, std::string_view final) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "220 mx.test ESMTP\r\n");
  t.AddData(Direction::kClientToServer, "EHLO c.test\r\n");
  t.AddData(Direction::kServerToClient, "250-mx.test\r\n250 AUTH PLAIN LOGIN CRAM-MD5\r\n");
  if (mechanism == "PLAIN") {
    t.AddData(Direction::kClientToServer, "AUTH PLAIN ***\r\n");
  } else if (mechanism == "LOGIN") {
    t.AddData(Direction::kClientToServer, "AUTH LOGIN\r\n");
    t.AddData(Direction::kServerToClient, "334 VXNlcm5hbWU6\r\n");
    t.AddData(Direction::kClientToServer, "***\r\n");
    t.AddData(Direction::kServerToClient, "334 UGFzc3dvcmQ6\r\n");
    t.AddData(Direction::kClientToServer, "***\r\n");
  } else {
    t.AddData(Direction::kClientToServer, "AUTH CRAM-MD5\r\n");
    t.AddData(Direction::kServerToClient, "334 PDEyMzQ1QG14LnRlc3Q+\r\n");
    t.AddData(Direction::kClientToServer, "***\r\n");
  }
  t.AddData(Direction::kServerToClient, std::string(final) + "\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  t.AddData(Direction::kServerToClient, "221 2.0.0 Bye\r\n");
  return t;
}

TEST(BuildPlan, KnowsWhatEachAuthExchangeNeeds) {
  const Plan ok = BuildPlan(AuthRecording("CRAM-MD5", "235 2.7.0 ok"));
  ASSERT_EQ(ok.auth.size(), 1u);
  EXPECT_EQ(ok.auth[0].mechanism, "CRAM-MD5");
  EXPECT_TRUE(ok.auth[0].redacted);
  EXPECT_FALSE(ok.auth[0].failed);
  EXPECT_NE(NeedsCredentials(ok, RewriteOptions{}).find("AUTH without credentials"),
            std::string::npos);
  RewriteOptions creds;
  creds.auth_user = "alice";
  creds.auth_password = "Sesame99";
  EXPECT_EQ(NeedsCredentials(ok, creds), "");
  // A failure is rebuilt with a wrong password: no credentials needed.
  const Plan failed = BuildPlan(AuthRecording("LOGIN", "535 5.7.8 no"));
  ASSERT_EQ(failed.auth.size(), 1u);
  EXPECT_TRUE(failed.auth[0].failed);
  EXPECT_EQ(NeedsCredentials(failed, RewriteOptions{}), "");
  // A redacted response pipelined with its command (no 334 before it).
  Transcript pipelined;
  pipelined.AddData(Direction::kServerToClient, "220 mx.test ESMTP\r\n");
  pipelined.AddData(Direction::kClientToServer, "AUTH PLAIN\r\n***\r\nMAIL FROM:<a@b>\r\n");
  pipelined.AddData(Direction::kServerToClient, "334 \r\n235 2.7.0 ok\r\n250 2.1.0 ok\r\n");
  const Plan p = BuildPlan(pipelined);
  ASSERT_EQ(p.auth.size(), 1u);
  EXPECT_TRUE(p.auth[0].redacted);
  EXPECT_TRUE(p.auth[0].succeeded);
  // A record that ends before the AUTH's outcome does not need them either.
  Transcript cut;
  cut.AddData(Direction::kServerToClient, "220 mx.test ESMTP\r\n");
  cut.AddData(Direction::kClientToServer, "AUTH PLAIN ***\r\n");
  const Plan unknown = BuildPlan(cut);
  ASSERT_EQ(unknown.auth.size(), 1u);
  EXPECT_FALSE(unknown.auth[0].succeeded);
  EXPECT_EQ(NeedsCredentials(unknown, RewriteOptions{}), "");
}

TEST(ClientRewriter, RebuildsCramMd5FromTheLiveChallengeAndFailuresWithAWrongPassword) {
  RewriteOptions creds;
  creds.auth_user = "alice";
  creds.auth_password = "Sesame99";
  ClientRewriter rw(creds);
  EXPECT_EQ(rw.Rewrite("AUTH CRAM-MD5\r\n"), "AUTH CRAM-MD5\r\n");
  Reply challenge;
  challenge.code = 334;
  challenge.lines = {sasl::Base64Encode("<99.1@mx.test>")};
  rw.OnReply(challenge);
  EXPECT_EQ(
      rw.Rewrite("***\r\n"),
      sasl::Base64Encode(sasl::CramMd5Response("alice", "Sesame99", "<99.1@mx.test>")) + "\r\n");
  // The second AUTH failed in the recording: a wrong password, still secret.
  creds.auth = {AuthNeed{"PLAIN", true, false, true, true},
                AuthNeed{"PLAIN", true, true, true, false}};
  ClientRewriter two(creds);
  EXPECT_EQ(two.Rewrite("AUTH PLAIN ***\r\n"),
            "AUTH PLAIN " + sasl::Base64Encode(std::string("\0alice\0Sesame99", 15)) + "\r\n");
  EXPECT_EQ(two.Rewrite("AUTH PLAIN ***\r\n"),
            "AUTH PLAIN " +
                sasl::Base64Encode(std::string("\0alice\0", 7) + std::string(kWrongPassword)) +
                "\r\n");
  EXPECT_NE(std::find(two.secrets().begin(), two.secrets().end(), "Sesame99"), two.secrets().end());
  // Responses sent as recorded (--keep_secrets) are secrets too.
  ClientRewriter kept(RewriteOptions{});
  kept.Rewrite("AUTH LOGIN\r\n");
  kept.Rewrite("YWxpY2U=\r\n");
  kept.Rewrite("U2VzYW1lOTk=\r\n");
  EXPECT_NE(std::find(kept.secrets().begin(), kept.secrets().end(), "Sesame99"),
            kept.secrets().end());
  EXPECT_NE(std::find(kept.secrets().begin(), kept.secrets().end(), "U2VzYW1lOTk="),
            kept.secrets().end());
}

harness::ScenarioResult ReplayWith(const Transcript& t, std::uint16_t port,
                                   const RewriteOptions& rewrite) {
  asio::io_context io;
  ReplayOptions options;
  options.step_timeout = std::chrono::seconds(5);
  options.rewrite = rewrite;
  const harness::NamedTranscript named{"rec/auth.json", t};
  return harness::testing::RunSync(io, [&]() -> asio::awaitable<harness::ScenarioResult> {
    co_return co_await ReplaySession(named, Loopback(port), options);
  });
}

TEST(ReplaySession, RedactedAuthReplaysAsRecordedSucceededOrFailed) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  cfg.credentials = {{"alice", "Sesame99"}};
  cfg.auth_advertise = server::AuthAdvertise::kAlways;
  auto srv = Start(cfg);
  RewriteOptions creds;
  creds.auth_user = "alice";
  creds.auth_password = "Sesame99";
  for (std::string_view mechanism : {"PLAIN", "LOGIN", "CRAM-MD5"}) {
    for (std::string_view final :
         {"235 2.7.0 Authentication successful", "535 5.7.8 Authentication credentials invalid"}) {
      const harness::ScenarioResult r =
          ReplayWith(AuthRecording(mechanism, final), srv.port, creds);
      EXPECT_EQ(r.verdict, Verdict::kPass) << mechanism << " " << final << ": " << r.reason;
      const std::string json = r.transcript.ToJsonString();
      EXPECT_EQ(json.find("Sesame99"), std::string::npos);
    }
  }
  // Without credentials: skipped before connecting, with the reason.
  const harness::ScenarioResult none =
      ReplayWith(AuthRecording("CRAM-MD5", "235 2.7.0 ok"), srv.port, RewriteOptions{});
  EXPECT_EQ(none.verdict, Verdict::kSkip);
  EXPECT_EQ(NotReplayableKind(none), "AUTH without credentials");
  EXPECT_TRUE(none.transcript.ClientSide().empty());
}

// A damaged recording replays up to its damage: the same before it is a
// skip ("not replayable"), not a pass and not a difference.
TEST(ReplaySession, ADamagedRecordingReplaysUpToTheDamage) {
  server::ServerConfig cfg = NetworkTestConfig();
  cfg.pregreet_delay = std::chrono::milliseconds(0);
  auto srv = Start(cfg);
  Transcript rec = Record(srv.port);
  Transcript gap;
  for (const harness::Entry& e : rec.entries()) {
    if (e.kind == EntryKind::kClientToServer && e.data.starts_with("Message-ID")) {
      gap.AddData(Direction::kClientToServer, e.data.substr(0, 10));
      gap.AddEvent(EntryKind::kError,
                   "capture gap: 30 bytes from the client lost (never captured)");
      gap.AddData(Direction::kClientToServer, e.data.substr(40));
    } else if (e.is_data()) {
      gap.AddData(static_cast<Direction>(e.kind), e.data);
    } else if (e.kind == EntryKind::kConnect) {
      gap.AddEvent(e.kind, e.text);
    }
  }
  const Plan plan = BuildPlan(gap);
  ASSERT_TRUE(plan.damage);
  EXPECT_EQ(plan.damage->kind, "capture gap");
  EXPECT_EQ(Kinds(plan).back(), Kind::kRead);
  const harness::ScenarioResult r = Replay(gap, srv.port, Level::kEnhanced);
  EXPECT_EQ(r.verdict, Verdict::kSkip) << r.reason;
  EXPECT_EQ(NotReplayableKind(r), "capture gap") << r.reason;
  ASSERT_TRUE(r.replay);
  EXPECT_EQ(r.replay->rows.size(), 3u);  // greeting, EHLO, MAIL..DATA
  EXPECT_EQ(r.replay->differences, 0);
  EXPECT_NE(r.transcript.SideBytes(Direction::kClientToServer).find("DATA\r\n"), std::string::npos);
  EXPECT_EQ(r.transcript.SideBytes(Direction::kClientToServer).find("Message-ID"),
            std::string::npos);
  // Mid-stream: nothing to replay, no connection.
  Transcript mid;
  mid.AddEvent(EntryKind::kNote, "capture started mid-stream: no SYN seen");
  mid.AddData(Direction::kServerToClient, "250 2.1.0 Ok\r\n");
  mid.AddData(Direction::kClientToServer, "QUIT\r\n");
  mid.AddData(Direction::kServerToClient, "221 2.0.0 Bye\r\n");
  const harness::ScenarioResult m = Replay(mid, srv.port, Level::kEnhanced);
  EXPECT_EQ(m.verdict, Verdict::kSkip);
  EXPECT_EQ(NotReplayableKind(m), "capture started mid-stream") << m.reason;
  EXPECT_TRUE(m.transcript.ClientSide().empty());
}

TEST(BuildPlan, ImplicitTlsIsTheTargetsOwnNotAStartTls) {
  Transcript t;
  t.AddEvent(EntryKind::kConnect, "127.0.0.1:465");
  t.AddTls({"TLSv1.3", "TLS_AES_256_GCM_SHA384", ""});
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  t.AddData(Direction::kServerToClient, "221 bye\r\n");
  const Plan p = BuildPlan(t);
  EXPECT_TRUE(p.implicit_tls);
  EXPECT_EQ(Kinds(p), (std::vector<Kind>{Kind::kRead, Kind::kSend, Kind::kRead}));
}

}  // namespace
}  // namespace smtp::replay
