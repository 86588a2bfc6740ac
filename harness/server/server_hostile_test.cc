// Hostile clients against the embedded server: every one must be bounded in
// time and memory, and the server must stay available to others.
#include <sys/resource.h>

#include <chrono>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/server/server.h"
#include "harness/server/session.h"
#include "harness/server/test_client.h"
#include "harness/server/test_util.h"

namespace smtp::server {
namespace {

using testing::ClientOptions;
using testing::Describe;
using testing::Millis;
using testing::TestClient;
using Clock = std::chrono::steady_clock;

// The network tests' defaults (the pre-greeting wait included), with y.test
// a local domain.
ServerConfig TestConfig() {
  ServerConfig c = testing::NetworkTestConfig();
  c.shutdown_grace = std::chrono::seconds(2);
  c.relay.local_domains.push_back("y.test");
  return c;
}

using Running = testing::TestServer;
using testing::CodeOf;
using testing::Connect;
using testing::OpenTransaction;
using testing::Start;

// The server still serves a fresh client.
void ExpectAlive(std::uint16_t port) {
  TestClient c = Connect(port);
  EXPECT_EQ(CodeOf(c.Command("NOOP")), 250);
}

// Slowloris: a byte every 50 ms keeps the socket busy but never completes a
// command; the command deadline (not extended by trickling bytes) ends it.
TEST(HostileTest, SlowlorisDripIsCutAtTheCommandDeadline) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(300);
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  const auto t0 = Clock::now();
  absl::StatusOr<Reply> r = absl::DeadlineExceededError("none");
  while (Clock::now() - t0 < std::chrono::seconds(3)) {
    if (!c.Send("N", Millis(100)).ok()) break;
    r = c.ReadReply(Millis(50));
    if (r.ok() || !absl::IsDeadlineExceeded(r.status())) break;
  }
  ASSERT_EQ(CodeOf(r), 421) << Describe(r);
  EXPECT_EQ(r->lines[0].substr(0, 5), "4.4.2");
  EXPECT_LT(Clock::now() - t0, Millis(1500));
  bool closed = false;
  c.Drain(Millis(2000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(s.server->stats().timeouts, 1u);
  ExpectAlive(s.port);
}

// What a client that writes as fast as the server reads saw.
struct Streamed {
  Clock::duration until_closed{};  // until a write failed (or the cap passed)
  bool closed = false;
  std::string said;  // everything the server sent
};

// Writes `chunk` over and over, never pausing, until a write fails (the
// server closed) or `cap` passes; then reads what the server said. A write
// that times out (the server stopped reading) does not end the stream.
Streamed StreamUntilClosed(TestClient& c, std::string_view chunk,
                           Clock::duration cap = std::chrono::seconds(10)) {
  Streamed out;
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < cap) {
    const absl::Status st = c.Send(chunk, Millis(500));
    if (!st.ok() && !absl::IsDeadlineExceeded(st)) break;
  }
  out.until_closed = Clock::now() - t0;
  out.said = c.Drain(Millis(2000), &out.closed);
  return out;
}

// One endless command line at full speed: the reader discards it (it is
// over-long), so no read ever waits, yet the line must still be complete
// within idle_timeout.
TEST(HostileTest, EndlessLineAtFullSpeedIsCutAtTheCommandDeadline) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(500);
  cfg.max_discarded_line = std::numeric_limits<std::size_t>::max();  // the deadline alone
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  const Streamed r = StreamUntilClosed(c, std::string(64 * 1024, 'A'));
  EXPECT_LT(r.until_closed, std::chrono::seconds(3));
  EXPECT_TRUE(r.closed);
  EXPECT_NE(r.said.find("421 4.4.2 "), std::string::npos) << r.said;
  EXPECT_EQ(s.server->stats().timeouts, 1u);
  ExpectAlive(s.port);
}

// The same line with the default max_discarded_line: the server stops
// reading it after a megabyte, long before the (10 s) command deadline.
TEST(HostileTest, EndlessLineIsCutAtTheDiscardLimit) {
  ServerConfig cfg = TestConfig();
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  const Streamed r = StreamUntilClosed(c, std::string(64 * 1024, 'A'));
  EXPECT_LT(r.until_closed, cfg.idle_timeout / 2);
  EXPECT_TRUE(r.closed);
  EXPECT_NE(r.said.find("421 4.5.6 Line too long\r\n"), std::string::npos) << r.said;
  EXPECT_EQ(s.server->stats().timeouts, 0u);
  ExpectAlive(s.port);
}

// A body that streams at full speed without end, after `begin` started it,
// is cut at data_timeout (421 4.4.2) although no read ever waits for
// idle_timeout; nothing is stored and the server stays up.
void ExpectEndlessBodyCutAtTheDataDeadline(const std::function<void(TestClient&)>& begin,
                                           const std::string& chunk) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(500);
  cfg.data_timeout = Millis(1000);
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  OpenTransaction(c);
  begin(c);
  const Streamed r = StreamUntilClosed(c, chunk);
  EXPECT_LT(r.until_closed, std::chrono::seconds(4));
  EXPECT_TRUE(r.closed);
  EXPECT_NE(r.said.find("421 4.4.2 "), std::string::npos) << r.said;
  EXPECT_EQ(s.sink->committed(), 0u);
  ExpectAlive(s.port);
}

// A DATA body (text lines, no end).
TEST(HostileTest, EndlessBodyAtFullSpeedIsCutAtTheDataDeadline) {
  std::string lines;
  while (lines.size() < 64 * 1024) lines += std::string(78, 'x') + "\r\n";
  ExpectEndlessBodyCutAtTheDataDeadline(
      [](TestClient& c) { EXPECT_EQ(CodeOf(c.Command("DATA")), 354); }, lines);
}

// One huge BDAT chunk (refused as over SIZE, so discarded).
TEST(HostileTest, EndlessChunkAtFullSpeedIsCutAtTheDataDeadline) {
  ExpectEndlessBodyCutAtTheDataDeadline(
      [](TestClient& c) { ASSERT_TRUE(c.Send("BDAT 1000000000000 LAST\r\n").ok()); },
      std::string(64 * 1024, 'x'));
}

TEST(HostileTest, IdleClientTimesOut) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(200);
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  auto r = c.ReadReply(Millis(3000));
  ASSERT_EQ(CodeOf(r), 421) << Describe(r);
  EXPECT_EQ(r->lines[0].substr(0, 5), "4.4.2");
}

// A body may be slow between reads, but not slower than data_timeout in all.
TEST(HostileTest, DataDripIsCutAtTheDataDeadline) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(300);
  cfg.data_timeout = Millis(600);
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  OpenTransaction(c);
  EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
  const auto t0 = Clock::now();
  absl::StatusOr<Reply> r = absl::DeadlineExceededError("none");
  while (Clock::now() - t0 < std::chrono::seconds(3)) {
    if (!c.Send("x\r\n", Millis(100)).ok()) break;
    r = c.ReadReply(Millis(100));
    if (r.ok() || !absl::IsDeadlineExceeded(r.status())) break;
  }
  ASSERT_EQ(CodeOf(r), 421) << Describe(r);
  EXPECT_GE(Clock::now() - t0, Millis(500));
  EXPECT_LT(Clock::now() - t0, Millis(2000));
}

// A 1 MiB line (CRLF included; max_discarded_line): bounded (the reader
// discards past its limit), answered with 500 5.5.6 once it ends, and the
// session goes on.
TEST(HostileTest, MegabyteLine) {
  const ServerConfig cfg = TestConfig();
  ASSERT_EQ(cfg.max_discarded_line, std::size_t{1} << 20);
  Running s = Start(cfg);
  TestClient c = Connect(s.port);
  ASSERT_TRUE(c.Send(std::string(cfg.max_discarded_line - 2, 'A')).ok());
  ASSERT_TRUE(c.Send("\r\nNOOP\r\n").ok());
  auto r = c.ReadReply();
  ASSERT_EQ(CodeOf(r), 500) << Describe(r);
  EXPECT_EQ(r->lines[0].substr(0, 5), "5.5.6");
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  EXPECT_LT(s.server->stats().peak_output_bytes, 1024u);
}

// 10,000 pipelined NOOPs in one write: all answered, in order, with the
// reply backlog bounded.
TEST(HostileTest, NoopFlood) {
  Running s = Start(TestConfig());
  TestClient c = Connect(s.port);
  std::string flood;
  for (int i = 0; i < 10000; ++i) flood += "NOOP\r\n";
  absl::Status sent;
  std::thread writer([&] { sent = c.Send(flood, Millis(10000)); });
  int ok = 0;
  for (int i = 0; i < 10000; ++i) {
    auto r = c.ReadReply();
    if (CodeOf(r) != 250) {
      ADD_FAILURE() << "reply " << i << ": " << Describe(r);
      break;
    }
    ++ok;
  }
  writer.join();
  EXPECT_TRUE(sent.ok()) << sent;
  EXPECT_EQ(ok, 10000);
  EXPECT_LT(s.server->stats().peak_output_bytes, Session::kOutputHighWater + 1024);
}

// Backpressure: a client that writes without reading is throttled by TCP
// once the server stops reading (its replies cannot be written), instead of
// the server buffering replies without bound.
TEST(HostileTest, WriterThatNeverReadsIsThrottled) {
  ServerConfig cfg = TestConfig();
  cfg.idle_timeout = Millis(1500);
  Running s = Start(cfg);
  ClientOptions small;
  small.rcvbuf = 32 * 1024;
  small.sndbuf = 32 * 1024;
  TestClient c = Connect(s.port, small);
  std::string flood;
  for (int i = 0; i < 4'000'000; ++i) flood += "NOOP\r\n";  // 24 MB in, 56 MB out
  std::size_t written = 0;
  const absl::Status st = c.Send(flood, Millis(3000), &written);
  EXPECT_FALSE(st.ok());
  EXPECT_LT(written, flood.size());
  EXPECT_LT(s.server->stats().peak_output_bytes, Session::kOutputHighWater + 1024);
  c.Close();
  ExpectAlive(s.port);
}

// Many concurrent sessions on one thread.
TEST(HostileTest, ThousandConcurrentConnections) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  // Each TestClient holds a socket and its own io_context (a few fds); the
  // server holds one socket per session.
  const std::size_t n = std::min<std::size_t>(1000, (rl.rlim_cur - 64) / 6);
  ASSERT_GE(n, 100u) << "ulimit -n too low";
  ServerConfig cfg = TestConfig();
  cfg.max_connections = n + 10;
  cfg.max_connections_per_ip = 0;  // all of them come from 127.0.0.1
  Running s = Start(cfg);
  std::vector<TestClient> clients(n);
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(clients[i].Connect(s.port).ok()) << i;
  }
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(CodeOf(clients[i].ReadReply()), 220) << i;
  EXPECT_EQ(s.server->stats().active_connections, n);
  for (auto& c : clients) ASSERT_TRUE(c.Send("EHLO c.test\r\nNOOP\r\n").ok());
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(CodeOf(clients[i].ReadReply()), 250) << i;
    ASSERT_EQ(CodeOf(clients[i].ReadReply()), 250) << i;
  }
  for (auto& c : clients) ASSERT_TRUE(c.Send("QUIT\r\n").ok());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(CodeOf(clients[i].ReadReply()), 221) << i;
  clients.clear();
  EXPECT_EQ(s.server->stats().connections_accepted, n);
  ExpectAlive(s.port);
}

// One address holding idle sockets cannot lock others out: with the default
// configuration it gets 421 past max_connections_per_ip, while a client from
// another address is still greeted.
TEST(HostileTest, OneAddressCannotTakeEveryConnection) {
  const ServerConfig cfg = TestConfig();
  const std::size_t limit = cfg.max_connections_per_ip;
  ASSERT_GT(limit, 0u) << "no per-address limit by default";
  ASSERT_LT(limit, cfg.max_connections);
  Running s = Start(cfg);
  std::vector<TestClient> hog(limit);
  for (std::size_t i = 0; i < limit; ++i) ASSERT_TRUE(hog[i].Connect(s.port).ok()) << i;
  for (std::size_t i = 0; i < limit; ++i) ASSERT_EQ(CodeOf(hog[i].ReadReply()), 220) << i;
  for (int i = 0; i < 3; ++i) {
    TestClient over;
    ASSERT_TRUE(over.Connect(s.port).ok());
    auto r = over.ReadReply();
    ASSERT_EQ(CodeOf(r), 421) << Describe(r);
    EXPECT_EQ(r->lines[0], "4.7.0 Too many connections");
  }
  ClientOptions other;
  other.source = "127.0.0.2";
  TestClient fresh = Connect(s.port, other);
  EXPECT_EQ(CodeOf(fresh.Command("NOOP")), 250);
  EXPECT_EQ(s.server->stats().connections_rejected, 3u);
  EXPECT_EQ(s.server->stats().connections_accepted, limit + 1);
}

// Garbage that is not SMTP at all: the error limit closes the session.
TEST(HostileTest, ErrorFloodIsClosed) {
  Running s = Start(TestConfig());
  TestClient c = Connect(s.port);
  std::string junk;
  for (int i = 0; i < 100; ++i) junk += "\x16\x03\x01 garbage\r\n";
  ASSERT_TRUE(c.Send(junk).ok());
  bool closed = false;
  const std::string out = c.Drain(Millis(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(out.find("421 4.7.0 Too many errors\r\n"), std::string::npos);
  EXPECT_EQ(out.find("421 4.7.0 Too many errors\r\n"), out.size() - 27);
}

// A client that does not wait for the greeting and floods: one 554, 503s,
// then the error limit closes the session; the server is fine.
TEST(HostileTest, EarlyTalkerFloodIsRefusedAndClosed) {
  ServerConfig config = TestConfig();
  config.pregreet_delay = std::chrono::milliseconds(300);  // the early-talker check is opt-in
  Running s = Start(config);
  TestClient c;
  ASSERT_TRUE(c.Connect(s.port).ok());
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += "EHLO spam.test\r\n";
  ASSERT_TRUE(c.Send(flood).ok());
  auto first = c.ReadReply();
  ASSERT_EQ(CodeOf(first), 554) << Describe(first);
  bool closed = false;
  const std::string out = c.Drain(Millis(3000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(out.find("250"), std::string::npos);
  EXPECT_NE(out.find("421 4.7.0 Too many errors\r\n"), std::string::npos);
  ExpectAlive(s.port);
}

// A client that vanishes mid-body: the partial message is not stored.
TEST(HostileTest, DisconnectMidDataStoresNothing) {
  Running s = Start(TestConfig());
  ASSERT_TRUE(s.server);
  {
    TestClient c = Connect(s.port);
    OpenTransaction(c);
    EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
    ASSERT_TRUE(c.Send("half a body\r\n").ok());
  }
  std::this_thread::sleep_for(Millis(100));
  s.server->Stop();
  EXPECT_EQ(s.sink->committed(), 0u);
  EXPECT_EQ(s.server->stats().active_connections, 0u);
}

}  // namespace
}  // namespace smtp::server
