#include "harness/replay/replay.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

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

TEST(BuildPlan, ServerGarbageEndsTheComparisonWithANote) {
  Transcript t;
  t.AddData(Direction::kServerToClient, "220 mx\r\n");
  t.AddData(Direction::kClientToServer, "EHLO c\r\n");
  t.AddData(Direction::kServerToClient, "HTTP/1.1 400 Bad\r\n");
  t.AddData(Direction::kClientToServer, "QUIT\r\n");
  const Plan p = BuildPlan(t);
  EXPECT_EQ(p.replies.size(), 1u);
  EXPECT_NE(p.note.find("stop parsing as replies at byte 8"), std::string::npos) << p.note;
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
  ClientRewriter none(RewriteOptions{});
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
