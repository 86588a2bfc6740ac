#include "harness/session.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/socket_transport.h"
#include "harness/test_util.h"
#include "harness/tls_cert.h"

namespace smtp::harness {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using testing::CloseConn;
using testing::Flood;
using testing::PlayScript;
using testing::ReadLine;
using testing::RunSync;
using testing::Send;
using testing::SleepMs;
using testing::Spawn;
using testing::Step;

// One expected ReadReply outcome.
struct Want {
  ReadStatus status;
  std::uint16_t code = 0;          // kReply
  std::vector<std::string> lines;  // kReply
  Errc error = Errc::kOk;          // kMalformed
  std::string partial;             // kPeerClosed / kMalformed
};
Want R(std::uint16_t code, std::vector<std::string> lines) {
  return {ReadStatus::kReply, code, std::move(lines), Errc::kOk, ""};
}
Want Bad(Errc e, std::string partial) {
  return {ReadStatus::kMalformed, 0, {}, e, std::move(partial)};
}
Want Closed(std::string partial = "") {
  return {ReadStatus::kPeerClosed, 0, {}, Errc::kOk, partial};
}

std::string Describe(const ReplyOutcome& o) {
  std::string s(ReadStatusName(o.status));
  if (o.ok()) s += " " + std::to_string(o.reply.code) + " x" + std::to_string(o.reply.lines.size());
  if (o.status == ReadStatus::kMalformed) s += " " + std::string(ErrcName(o.error.code));
  return s + " partial=" + EscapeBytes(o.partial);
}

void ExpectOutcome(const ReplyOutcome& got, const Want& want, const std::string& ctx) {
  EXPECT_EQ(got.status, want.status) << ctx << ": " << Describe(got);
  if (got.status != want.status) return;
  if (want.status == ReadStatus::kReply) {
    EXPECT_EQ(got.reply.code, want.code) << ctx;
    EXPECT_EQ(got.reply.lines, want.lines) << ctx;
  }
  if (want.status == ReadStatus::kMalformed) {
    EXPECT_EQ(got.error.code, want.error) << ctx << ": " << ErrcName(got.error.code);
  }
  if (want.status != ReadStatus::kReply) {
    EXPECT_EQ(got.partial, want.partial) << ctx;
  }
}

// Runs `script` on the server end of an in-memory pair and calls ReadReply
// once per expected outcome on a Session over the client end.
void RunReadCase(const std::vector<Step>& script, const std::vector<Want>& wants,
                 const std::string& ctx, SessionOptions options = {}) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  Spawn(io, [&, s = server.get()]() -> asio::awaitable<void> { co_await PlayScript(*s, script); });
  Session session(options);
  session.Attach(std::move(client));
  RunSync(io, [&]() -> asio::awaitable<void> {
    for (const Want& want : wants) {
      ReplyOutcome got = co_await session.ReadReply(In(5s));
      ExpectOutcome(got, want, ctx);
      EXPECT_LE(session.buffered().size(), session.options().read_chunk) << ctx;
    }
    co_await session.Close(In(1s));
  });
}

struct ReadCase {
  const char* name;
  std::string wire;  // what the server sends
  bool close_after;  // server closes after sending
  std::vector<Want> wants;
};

std::vector<ReadCase> ReadCases() {
  return {
      {"greeting (RFC 5321 §4.2)",
       "220 mx.example.com ESMTP ready\r\n",
       false,
       {R(220, {"mx.example.com ESMTP ready"})}},
      {"multiline EHLO (RFC 5321 §4.2.1 example)",
       "250-First line\r\n250-Second line\r\n250-234 Text beginning with numbers\r\n"
       "250 The last line\r\n",
       false,
       {R(250, {"First line", "Second line", "234 Text beginning with numbers", "The last line"})}},
      {"pipelined replies in one chunk (RFC 2920)",
       "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n",
       false,
       {R(250, {"2.1.0 ok"}), R(250, {"2.1.5 ok"}), R(354, {"go"})}},
      {"bare code", "250\r\n", false, {R(250, {""})}},
      {"garbage", "HTTP/1.1 400 Bad Request\r\n", false, {Bad(Errc::kBadReplyCode, "")}},
      {"garbage then resync",
       "hello\r\n250 ok\r\n",
       false,
       {Bad(Errc::kBadReplyCode, ""), R(250, {"ok"})}},
      {"bare LF (strict)", "250 ok\n", false, {Bad(Errc::kBareLf, "250 ok")}},
      {"inconsistent multiline code",
       "250-a\r\n251 b\r\n250 c\r\n",
       false,
       {Bad(Errc::kInconsistentCode, "250-a\r\n25"), R(250, {"c"})}},
      {"early close mid-reply", "250-mx\r\n250 PIPE", true, {Closed("250-mx\r\n250 PIPE")}},
      {"close before any reply", "", true, {Closed()}},
      {"close after a reply", "221 bye\r\n", true, {R(221, {"bye"}), Closed(), Closed()}},
  };
}

TEST(SessionReadReply, ScriptedOneChunk) {
  for (const ReadCase& c : ReadCases()) {
    std::vector<Step> script;
    if (!c.wire.empty()) script.push_back(Send(c.wire));
    if (c.close_after) script.push_back(CloseConn());
    RunReadCase(script, c.wants, c.name);
  }
}

// The same replies split in two at every byte boundary, with a pause between
// the halves so that the session sees two separate reads.
TEST(SessionReadReply, ScriptedSplitAtEveryByte) {
  for (const ReadCase& c : ReadCases()) {
    for (std::size_t i = 1; i < c.wire.size(); ++i) {
      std::vector<Step> script = {Send(c.wire.substr(0, i)), SleepMs(1), Send(c.wire.substr(i))};
      if (c.close_after) script.push_back(CloseConn());
      RunReadCase(script, c.wants, std::string(c.name) + " split at " + std::to_string(i));
    }
  }
}

TEST(SessionReadReply, ScriptedByteByByte) {
  for (const ReadCase& c : ReadCases()) {
    std::vector<Step> script;
    if (!c.wire.empty()) script.push_back(Send(c.wire));
    if (c.close_after) script.push_back(CloseConn());
    SessionOptions options;
    options.read_chunk = 1;
    RunReadCase(script, c.wants, std::string(c.name) + " byte by byte", options);
  }
}

TEST(SessionReadReply, PipelinedRepliesNeedOneRead) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  Spawn(io, [s = server.get()]() -> asio::awaitable<void> {
    std::vector<Step> script = {Send("250 a\r\n250 b\r\n250 c\r\n")};
    co_await PlayScript(*s, script);
  });
  Session session;
  session.Attach(std::move(client));
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto r1 = co_await session.ReadReply(In(1s));
    EXPECT_EQ(r1.reply.lines[0], "a");
    EXPECT_EQ(session.buffered(), "250 b\r\n250 c\r\n");  // kept for the next call
    auto r2 = co_await session.ReadReply(In(1s));
    EXPECT_EQ(r2.reply.lines[0], "b");
    auto r3 = co_await session.ReadReply(In(1s));
    EXPECT_EQ(r3.reply.lines[0], "c");
    co_await session.Close(In(1s));
  });
  int reads = 0;
  for (const Entry& e : session.transcript().ServerSide()) reads += !e.data.empty();
  EXPECT_EQ(reads, 1);
}

// --- Hostile servers -------------------------------------------------------

class HostileTest : public ::testing::Test {
 protected:
  HostileTest() {
    auto [c, s] = MakeMemoryPair(io_.get_executor());
    server_ = std::move(s);
    session_.Attach(std::move(c));
  }
  template <class F>
  void Server(F f) {
    Spawn(io_, std::move(f));
  }
  // Runs `f`, then closes the session so that the server's script ends.
  template <class F>
  void Client(F f) {
    RunSync(io_, [&]() -> asio::awaitable<void> {
      co_await f();
      co_await session_.Close(In(1s));
    });
  }

  asio::io_context io_;
  std::unique_ptr<Transport> server_;
  Session session_;
};

TEST_F(HostileTest, EndlessLineIsCutAtTheLineLimit) {
  Server([this]() -> asio::awaitable<void> {
    co_await server_->Write("250 ", In(1s));
    co_await Flood(*server_, std::string(4096, 'A'), In(10s));
  });
  Client([this]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session_.ReadReply(In(5s));
    EXPECT_EQ(o.status, ReadStatus::kMalformed) << Describe(o);
    EXPECT_EQ(o.error.code, Errc::kLineTooLong);
    EXPECT_EQ(o.error.offset, kMaxReplyLine);  // first octet past the limit
    EXPECT_EQ(o.partial.size(), kMaxReplyLine);
  });
  // Only what the reader needed was read: no megabytes in memory.
  EXPECT_LE(session_.transcript().total_bytes(Direction::kServerToClient),
            kMaxReplyLine + session_.options().read_chunk);
}

TEST_F(HostileTest, NoReplyTimesOutOnTime) {
  Server([this]() -> asio::awaitable<void> {
    std::vector<Step> script = {};
    co_await PlayScript(*server_, script);
  });
  const auto t0 = Clock::now();
  Client([this, t0]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session_.ReadReply(In(150ms));
    EXPECT_EQ(o.status, ReadStatus::kTimeout) << Describe(o);
    EXPECT_GE(Clock::now() - t0, 140ms);
    EXPECT_LT(Clock::now() - t0, 1s);
  });
  const auto& entries = session_.transcript().entries();
  ASSERT_GE(entries.size(), 2u);
  EXPECT_EQ(entries[1].kind, EntryKind::kTimeout);
  EXPECT_EQ(entries[1].text, "read_reply");
}

TEST_F(HostileTest, SlowDripCannotExtendTheDeadline) {
  Server([this]() -> asio::awaitable<void> {
    co_await server_->Write("250-", In(1s));
    for (int i = 0; i < 400; ++i) {  // one byte every 5 ms, never a full reply
      const char* byte = i % 10 == 9 ? "\n" : i % 10 == 8 ? "\r" : "x";
      absl::Status s = co_await server_->Write(byte, In(1s));
      if (!s.ok()) co_return;
      co_await testing::Sleep(5ms);
      if (i % 10 == 9) co_await server_->Write("250-", In(1s));
    }
  });
  const auto t0 = Clock::now();
  Client([this, t0]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session_.ReadReply(In(300ms));
    const auto took = Clock::now() - t0;
    EXPECT_EQ(o.status, ReadStatus::kTimeout) << Describe(o);
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 800ms) << "the drip extended the deadline";
    EXPECT_TRUE(o.partial.starts_with("250-xxxxxxxx\r\n250-")) << EscapeBytes(o.partial);
  });
}

TEST_F(HostileTest, ReplyFloodIsReadOneReplyAtATime) {
  Server([this]() -> asio::awaitable<void> { co_await Flood(*server_, "250 ok\r\n", In(10s)); });
  Client([this]() -> asio::awaitable<void> {
    for (int i = 0; i < 1000; ++i) {
      ReplyOutcome o = co_await session_.ReadReply(In(2s));
      EXPECT_TRUE(o.ok()) << i << ": " << Describe(o);
      if (!o.ok()) break;
      EXPECT_LE(session_.buffered().size(), session_.options().read_chunk);
    }
  });
  EXPECT_LE(session_.transcript().total_bytes(Direction::kServerToClient),
            1000 * 8 + session_.options().read_chunk);
}

TEST_F(HostileTest, EndlessMultilineReplyIsCutAtTheLineCount) {
  Server([this]() -> asio::awaitable<void> { co_await Flood(*server_, "250-flood\r\n", In(10s)); });
  Client([this]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session_.ReadReply(In(5s));
    EXPECT_EQ(o.status, ReadStatus::kMalformed) << Describe(o);
    EXPECT_EQ(o.error.code, Errc::kTooManyReplyLines);
    EXPECT_EQ(o.partial.size(), kMaxReplyLines * 11);
  });
}

TEST_F(HostileTest, TimeoutKeepsThePartialReply) {
  Server([this]() -> asio::awaitable<void> {
    std::vector<Step> script = {Send("250-a\r\n"), SleepMs(300), Send("250 b\r\n")};
    co_await PlayScript(*server_, script);
  });
  Client([this]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session_.ReadReply(In(100ms));
    EXPECT_EQ(o.status, ReadStatus::kTimeout);
    EXPECT_EQ(o.partial, "250-a\r\n");
    o = co_await session_.ReadReply(In(2s));
    EXPECT_TRUE(o.ok()) << Describe(o);
    EXPECT_EQ(o.reply.lines, (std::vector<std::string>{"a", "b"}));
  });
}

TEST_F(HostileTest, ExpectSilence) {
  Server([this]() -> asio::awaitable<void> {
    std::vector<Step> script = {SleepMs(200), Send("250 unsolicited\r\n")};
    co_await PlayScript(*server_, script);
  });
  Client([this]() -> asio::awaitable<void> {
    const auto t0 = Clock::now();
    SilenceOutcome s = co_await session_.ExpectSilence(In(100ms));
    EXPECT_EQ(s.status, SilenceOutcome::Status::kSilent);
    EXPECT_GE(Clock::now() - t0, 90ms);
    s = co_await session_.ExpectSilence(In(2s));
    EXPECT_EQ(s.status, SilenceOutcome::Status::kData);
    EXPECT_EQ(s.data, "250 unsolicited\r\n");
    s = co_await session_.ExpectSilence(In(2s));  // still buffered: returns at once
    EXPECT_EQ(s.status, SilenceOutcome::Status::kData);
    ReplyOutcome o = co_await session_.ReadReply(In(1s));  // and still readable
    EXPECT_EQ(o.reply.code, 250);
  });
}

TEST_F(HostileTest, ExpectCloseSeesCloseOrStillOpen) {
  Server([this]() -> asio::awaitable<void> {
    std::vector<Step> script = {Send("221 bye\r\n"), SleepMs(150), Send("junk"), CloseConn()};
    co_await PlayScript(*server_, script);
  });
  Client([this]() -> asio::awaitable<void> {
    auto r4 = co_await session_.ReadReply(In(1s));
    EXPECT_EQ(r4.reply.code, 221);
    CloseOutcome c = co_await session_.ExpectClose(In(50ms));
    EXPECT_EQ(c.status, CloseOutcome::Status::kStillOpen);
    c = co_await session_.ExpectClose(In(2s));
    EXPECT_EQ(c.status, CloseOutcome::Status::kClosed);
    EXPECT_EQ(c.data, "junk");
    EXPECT_TRUE(session_.peer_closed());
  });
}

// A server that answers QUIT and then streams "221 bye" without pause and
// never closes: the deadline of ExpectClose must hold (regression: it looped
// while data kept arriving), and the bytes read while waiting are bounded.
TEST(SessionByteStream, ExpectCloseDeadlineHoldsUnderAStream) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  Spawn(io, [s = server.get()]() -> asio::awaitable<void> {
    co_await Flood(*s, "221 bye\r\n", In(60s));
  });
  SessionOptions options;
  options.max_drain = std::size_t{1} << 40;  // only the deadline can end the wait
  Session session(options);
  session.Attach(std::move(client));
  const auto t0 = Clock::now();
  RunSync(io, [&]() -> asio::awaitable<void> {
    CloseOutcome c = co_await session.ExpectClose(In(200ms));
    const auto took = Clock::now() - t0;
    EXPECT_EQ(c.status, CloseOutcome::Status::kStillOpen);
    EXPECT_FALSE(c.flooded);
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 3s) << "the stream stretched the deadline";
    EXPECT_LE(c.data.size(), options.max_capture);
    co_await session.Close(In(1s));
  });
}

TEST(SessionByteStream, ExpectCloseStopsReadingAfterMaxDrain) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  Spawn(io, [s = server.get()]() -> asio::awaitable<void> {
    co_await Flood(*s, "221 bye\r\n", In(60s));
  });
  SessionOptions options;
  options.max_drain = 256 * 1024;
  Session session(options);
  session.Attach(std::move(client));
  const auto t0 = Clock::now();
  RunSync(io, [&]() -> asio::awaitable<void> {
    CloseOutcome c = co_await session.ExpectClose(In(30s));
    EXPECT_EQ(c.status, CloseOutcome::Status::kStillOpen);
    EXPECT_TRUE(c.flooded);
    EXPECT_GE(c.data_bytes, options.max_drain);
    EXPECT_LE(c.data_bytes, options.max_drain + options.read_chunk);
    EXPECT_LT(Clock::now() - t0, 10s) << "a flood must not wait out the deadline";
    co_await session.Close(In(1s));
  });
  EXPECT_LE(session.transcript().total_bytes(Direction::kServerToClient),
            options.max_drain + options.read_chunk);
}

// ReadReply against an endless stream of complete replies: each call reads
// one reply; once the deadline has passed, no further read starts although
// bytes are waiting.
TEST(SessionByteStream, ExpiredDeadlineWinsOverWaitingBytes) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  Spawn(io, [s = server.get()]() -> asio::awaitable<void> {
    co_await Flood(*s, "250-more\r\n", In(60s));
  });
  SessionOptions options;
  options.reply.limits.reply_lines = 1u << 30;  // only the deadline can stop it
  options.reply.limits.reply_bytes = std::size_t{1} << 40;
  Session session(options);
  session.Attach(std::move(client));
  const auto t0 = Clock::now();
  RunSync(io, [&]() -> asio::awaitable<void> {
    ReplyOutcome o = co_await session.ReadReply(In(200ms));
    EXPECT_EQ(o.status, ReadStatus::kTimeout) << Describe(o);
    EXPECT_LT(Clock::now() - t0, 3s);
    co_await session.Close(In(1s));
  });
}

TEST_F(HostileTest, TranscriptRecordsTheConversation) {
  std::vector<std::string> lines;
  Server([this, &lines]() -> asio::awaitable<void> {
    std::vector<Step> script = {Send("220 hi\r\n"), ReadLine(), Send("221 bye\r\n"), CloseConn()};
    co_await PlayScript(*server_, script, &lines);
  });
  Client([this]() -> asio::awaitable<void> {
    co_await session_.ReadReply(In(1s));
    auto r5 = co_await session_.Send("QUIT\r\n", In(1s));
    EXPECT_TRUE(r5.ok());
    co_await session_.ReadReply(In(1s));
    auto r6 = co_await session_.ExpectClose(In(1s));
    EXPECT_EQ(r6.status, CloseOutcome::Status::kClosed);
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"QUIT\r\n"}));
  std::vector<EntryKind> kinds;
  for (const Entry& e : session_.transcript().entries()) kinds.push_back(e.kind);
  EXPECT_EQ(kinds, (std::vector<EntryKind>{EntryKind::kConnect, EntryKind::kServerToClient,
                                           EntryKind::kClientToServer, EntryKind::kServerToClient,
                                           EntryKind::kPeerClosed, EntryKind::kLocalClosed}));
  EXPECT_EQ(session_.transcript().entries()[0].text, "memory:server");
  auto back = Transcript::FromJsonString(session_.transcript().ToJsonString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, session_.transcript());
}

TEST(Session, NotConnected) {
  asio::io_context io;
  Session session;
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto r7 = co_await session.Send("x", In(1s));
    EXPECT_EQ(r7.code(), absl::StatusCode::kFailedPrecondition);
    ReplyOutcome o = co_await session.ReadReply(In(1s));
    EXPECT_EQ(o.status, ReadStatus::kError);
    EXPECT_EQ(o.transport_error.code(), absl::StatusCode::kFailedPrecondition);
    auto r8 = co_await session.Close(In(1s));
    EXPECT_TRUE(r8.ok());
  });
}

// --- Real transports -------------------------------------------------------

struct Loopback {
  explicit Loopback(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  Target target() const {
    Target t;
    t.host = "127.0.0.1";
    t.port = acceptor.local_endpoint().port();
    return t;
  }
  asio::awaitable<std::unique_ptr<Transport>> Accept() {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return nullptr;
    co_return WrapTcpSocket(std::move(socket));
  }
  tcp::acceptor acceptor;
};

TEST(SessionOverTcp, ScriptedLoopbackServer) {
  asio::io_context io;
  Loopback lo(io);
  std::vector<std::string> lines;
  Spawn(io, [&]() -> asio::awaitable<void> {
    auto t = co_await lo.Accept();
    std::vector<Step> script = {Send("220 tcp\r\n"), ReadLine(), Send("250-a\r\n250 b\r\n")};
    co_await PlayScript(*t, script, &lines);
  });
  Session session;
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto r9 = co_await session.Connect(lo.target(), In(2s));
    EXPECT_TRUE(r9.ok());
    auto r10 = co_await session.ReadReply(In(2s));
    EXPECT_EQ(r10.reply.code, 220);
    co_await session.Send("EHLO me\r\n", In(2s));
    ReplyOutcome o = co_await session.ReadReply(In(2s));
    EXPECT_EQ(o.reply.lines, (std::vector<std::string>{"a", "b"}));
    co_await session.Close(In(1s));
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"EHLO me\r\n"}));
  EXPECT_EQ(session.transcript().entries()[0].text, lo.target().ToString());
}

// The same stream over loopback TCP, where a socket that never goes empty
// completes every read at once: the deadline must still win.
TEST(SessionOverTcp, ExpectCloseDeadlineHoldsUnderAStream) {
  asio::io_context io;
  Loopback lo(io);
  Spawn(io, [&]() -> asio::awaitable<void> {
    auto t = co_await lo.Accept();
    if (t) co_await Flood(*t, std::string(16 * 1024, 'x') + "\r\n", In(60s));
  });
  SessionOptions options;
  options.max_drain = std::size_t{1} << 40;
  Session session(options);
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto connected = co_await session.Connect(lo.target(), In(2s));
    EXPECT_TRUE(connected.ok());
    const auto t0 = Clock::now();
    CloseOutcome c = co_await session.ExpectClose(In(300ms));
    EXPECT_EQ(c.status, CloseOutcome::Status::kStillOpen);
    EXPECT_LT(Clock::now() - t0, 3s) << "the stream stretched the deadline";
    co_await session.Close(In(1s));
  });
}

// A STARTTLS server (RFC 3207). `inject` is sent right after the 220 in the
// same write: a server that does so lets an attacker inject responses
// (CVE-2011-0411); the session must discard it and report it.
TEST(SessionOverTls, StartTlsAndInjectionDetection) {
  auto cert = MakeSelfSignedCert("mx.test");
  ASSERT_TRUE(cert.ok());
  for (const std::string inject : {"", "250 injected\r\n"}) {
    asio::io_context io;
    Loopback lo(io);
    std::string after_tls;
    Spawn(io, [&]() -> asio::awaitable<void> {
      auto t = co_await lo.Accept();
      co_await t->Write("220 mx\r\n", In(2s));
      char buf[256];
      co_await t->ReadSome(buf, sizeof buf, In(2s));  // STARTTLS
      co_await t->Write("220 go ahead\r\n" + inject, In(2s));
      TlsOptions server_tls;
      server_tls.role = TlsOptions::Role::kServer;
      server_tls.cert_pem = cert->cert_pem;
      server_tls.key_pem = cert->key_pem;
      auto r11 = co_await t->StartTls(server_tls, In(2s));
      EXPECT_TRUE(r11.ok());
      std::vector<Step> script = {ReadLine(), Send("250 secure\r\n")};
      co_await PlayScript(*t, script);
    });
    Session session;
    RunSync(io, [&]() -> asio::awaitable<void> {
      auto r12 = co_await session.Connect(lo.target(), In(2s));
      EXPECT_TRUE(r12.ok());
      auto r13 = co_await session.ReadReply(In(2s));
      EXPECT_EQ(r13.reply.code, 220);
      co_await session.Send("STARTTLS\r\n", In(2s));
      // Let the injected bytes arrive with the 220 before we read.
      co_await testing::Sleep(50ms);
      auto r14 = co_await session.ReadReply(In(2s));
      EXPECT_EQ(r14.reply.code, 220);
      auto info = co_await session.StartTls(In(2s));
      EXPECT_TRUE(info.ok()) << info.status();
      if (info.ok()) {
        EXPECT_EQ(info->peer_subject, "CN=mx.test");
      }
      co_await session.Send("EHLO me\r\n", In(2s));
      ReplyOutcome o = co_await session.ReadReply(In(2s));
      EXPECT_TRUE(o.ok()) << Describe(o);
      after_tls = o.reply.lines.empty() ? "" : o.reply.lines[0];
      co_await session.Close(In(1s));
    });
    EXPECT_EQ(after_tls, "secure") << "the injected reply must not be taken as the EHLO reply";
    EXPECT_EQ(session.discarded_before_tls(), inject);
    bool saw_tls = false;
    for (const Entry& e : session.transcript().entries()) {
      saw_tls |= e.kind == EntryKind::kTlsEstablished && e.tls.peer_subject == "CN=mx.test";
    }
    EXPECT_TRUE(saw_tls);
  }
}

TEST(SessionOverExec, ChildProcessServer) {
  asio::io_context io;
  Session session;
  auto target = ParseTarget(R"(exec:printf "220 hi\r\n"; read l; printf "221 bye\r\n")");
  ASSERT_TRUE(target.ok());
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto r15 = co_await session.Connect(*target, In(2s));
    EXPECT_TRUE(r15.ok());
    ReplyOutcome o = co_await session.ReadReply(In(5s));
    EXPECT_TRUE(o.ok()) << Describe(o);
    EXPECT_EQ(o.reply.lines, std::vector<std::string>{"hi"});
    co_await session.Send("QUIT\r\n", In(2s));
    o = co_await session.ReadReply(In(5s));
    EXPECT_EQ(o.reply.code, 221);
    auto r16 = co_await session.ExpectClose(In(5s));
    EXPECT_EQ(r16.status, CloseOutcome::Status::kClosed);
    auto r17 = co_await session.Close(In(5s));
    EXPECT_TRUE(r17.ok());
  });
  const auto& entries = session.transcript().entries();
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().kind, EntryKind::kNote);
  EXPECT_EQ(entries.back().text, "process exited with status 0");
}

}  // namespace
}  // namespace smtp::harness
