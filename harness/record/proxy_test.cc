#include "harness/record/proxy.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "harness/sasl.h"
#include "harness/server/test_client.h"
#include "harness/server/test_util.h"
#include "results/session_file.h"

namespace smtp::record {
namespace {

namespace fs = std::filesystem;
using harness::Direction;
using harness::EntryKind;
using harness::Transcript;
using server::ServerConfig;
using server::testing::CodeOf;
using server::testing::Describe;
using server::testing::Millis;
using server::testing::TestClient;

std::string TempDir() {
  std::string tmpl = ::testing::TempDir() + "recXXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ServerConfig UpstreamConfig() {
  ServerConfig c = server::testing::NetworkTestConfig();
  c.pregreet_delay = Millis(0);
  c.relay.local_domains.push_back("y.test");
  c.credentials = {{"alice", "s3cret-pw"}};
  return c;
}

// The embedded server, and the proxy in front of it on its own thread.
struct Rig {
  explicit Rig(RecordOptions o = {}, ServerConfig upstream = UpstreamConfig()) {
    server = server::testing::Start(std::move(upstream));
    dir = TempDir();
    o.upstream.host = "127.0.0.1";
    o.upstream.port = server.port;
    o.out_dir = dir;
    if (o.idle_timeout == RecordOptions().idle_timeout) o.idle_timeout = Millis(10'000);
    o.on_session = [this](const SessionSummary& s) {
      std::lock_guard lock(mu);
      summaries.push_back(s);
    };
    proxy = std::make_unique<RecordProxy>(std::move(o));
    absl::StatusOr<std::uint16_t> p = proxy->Start();
    EXPECT_TRUE(p.ok()) << p.status();
    port = p.ok() ? *p : 0;
  }

  TestClient Connect() { return server::testing::Connect(port); }

  // Stops the proxy (every session file is written when it returns).
  std::vector<SessionSummary> Stop() {
    proxy->Stop();
    std::lock_guard lock(mu);
    return summaries;
  }

  std::string File(int n) const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "/session-%06d.json", n);
    return dir + buf;
  }

  Transcript Session(int n) const {
    absl::StatusOr<Transcript> t = harness::ReadSessionFile(File(n));
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *std::move(t) : Transcript();
  }

  server::testing::TestServer server;
  std::unique_ptr<RecordProxy> proxy;
  std::uint16_t port = 0;
  std::string dir;
  std::mutex mu;
  std::vector<SessionSummary> summaries;
};

const std::string kWireBody = "Subject: t\r\n\r\nhello\r\n.\r\n";

void Transaction(TestClient& c) {
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("RCPT TO:<b@y.test>")), 250);
  EXPECT_EQ(CodeOf(c.Command("DATA")), 354);
  ASSERT_TRUE(c.Send(kWireBody).ok());
  auto r = c.ReadReply();
  EXPECT_EQ(CodeOf(r), 250) << Describe(r);
}

void Quit(TestClient& c) {
  EXPECT_EQ(CodeOf(c.Command("QUIT")), 221);
  bool closed = false;
  c.Drain(Millis(3000), &closed);
  EXPECT_TRUE(closed);
}

std::vector<EntryKind> EventKinds(const Transcript& t) {
  std::vector<EntryKind> out;
  for (const harness::Entry& e : t.entries()) {
    if (!e.is_data()) out.push_back(e.kind);
  }
  return out;
}

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// One session through `rig` (EHLO, a transaction, QUIT), then the stop.
std::vector<SessionSummary> OneTransaction(Rig& rig) {
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  Transaction(c);
  Quit(c);
  return rig.Stop();
}

TEST(RecordProxyTest, PlainSessionIsRecordedExactly) {
  Rig rig;
  const std::vector<SessionSummary> sums = OneTransaction(rig);
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0].number, 1u);
  EXPECT_EQ(sums[0].commands, 5u);  // EHLO MAIL RCPT DATA QUIT
  EXPECT_EQ(sums[0].file, rig.File(1));
  EXPECT_TRUE(sums[0].notes.empty()) << FormatSummary(sums[0]);

  const Transcript t = rig.Session(1);
  EXPECT_EQ(t.meta().source, "recorded");
  EXPECT_EQ(t.meta().server, "127.0.0.1:" + std::to_string(rig.server.port));
  EXPECT_EQ(t.meta().client, sums[0].client);
  EXPECT_EQ(t.meta().started_at.size(), 27u);
  EXPECT_EQ(t.meta().ended_at.size(), 27u);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer),
            "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n" + kWireBody +
                "QUIT\r\n");
  const std::string s2c = t.SideBytes(Direction::kServerToClient);
  EXPECT_EQ(s2c.substr(0, 4), "220 ");
  EXPECT_NE(s2c.find("\r\n354 "), std::string::npos);
  EXPECT_EQ(s2c.substr(s2c.size() - 2), "\r\n");
  EXPECT_NE(s2c.rfind("221 "), std::string::npos);
  EXPECT_EQ(t.total_bytes(Direction::kServerToClient), s2c.size());
  const std::vector<EntryKind> events = EventKinds(t);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front(), EntryKind::kConnect);
  EXPECT_EQ(events[1], EntryKind::kPeerClosed);
  // The message went through.
  EXPECT_EQ(rig.server.sink->committed(), 1u);
}

TEST(RecordProxyTest, PipelinedCommandsAreOneChunk) {
  Rig rig;
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  const std::string group = "MAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n";
  ASSERT_TRUE(c.Send(group).ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  EXPECT_EQ(CodeOf(c.ReadReply()), 354);
  ASSERT_TRUE(c.Send(kWireBody).ok());
  EXPECT_EQ(CodeOf(c.ReadReply()), 250);
  Quit(c);
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0].commands, 5u);
  const Transcript t = rig.Session(1);
  bool found = false;
  for (const auto& e : t.ClientSide()) found |= e.get().data == group;
  EXPECT_TRUE(found) << t.DebugString();
}

TEST(RecordProxyTest, StartTlsWithoutInterceptionIsMarkedOpaque) {
  Rig rig;
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("STARTTLS")), 220);
  ASSERT_TRUE(c.StartTls().ok());
  // The session goes on end to end through the blind relay.
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  Transaction(c);
  Quit(c);
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_TRUE(Has(sums[0].notes, "tls_opaque")) << FormatSummary(sums[0]);
  const Transcript t = rig.Session(1);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "EHLO c.test\r\nSTARTTLS\r\n");
  const std::string s2c = t.SideBytes(Direction::kServerToClient);
  EXPECT_EQ(s2c.substr(s2c.rfind("\r\n", s2c.size() - 3) + 2, 4), "220 ");
  // The opaque mark comes right after the 220, and nothing is stored after it.
  const auto& entries = t.entries();
  std::size_t opaque = entries.size();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].kind == EntryKind::kTlsOpaque) opaque = i;
  }
  ASSERT_LT(opaque, entries.size());
  EXPECT_EQ(entries[opaque].text, "not intercepted; use --intercept-tls");
  EXPECT_EQ(entries[opaque - 1].kind, EntryKind::kServerToClient);
  for (std::size_t i = opaque + 1; i < entries.size(); ++i) EXPECT_FALSE(entries[i].is_data());
  EXPECT_EQ(rig.server.sink->committed(), 1u);
}

std::string AuthPlain() {
  return sasl::Base64Encode(sasl::SerializePlainMessage({"", "alice", "s3cret-pw"}));
}

// STARTTLS intercepted, then AUTH PLAIN (the server offers AUTH after TLS).
Transcript InterceptedAuthSession(bool keep_secrets, std::string* file_text,
                                  std::vector<std::string>* notes) {
  RecordOptions o;
  o.intercept_tls = true;
  o.keep_secrets = keep_secrets;
  Rig rig(o);
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("STARTTLS")), 220);
  EXPECT_TRUE(c.StartTls().ok());
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  auto r = c.Command("AUTH PLAIN " + AuthPlain());
  EXPECT_EQ(CodeOf(r), 235) << Describe(r);
  Transaction(c);
  Quit(c);
  const std::vector<SessionSummary> sums = rig.Stop();
  EXPECT_EQ(sums.size(), 1u);
  if (!sums.empty()) *notes = sums[0].notes;
  *file_text = ReadAll(rig.File(1));
  return rig.Session(1);
}

TEST(RecordProxyTest, StartTlsInterceptedRecordsPlaintextAndRedactsAuth) {
  std::string text;
  std::vector<std::string> notes;
  const Transcript t = InterceptedAuthSession(/*keep_secrets=*/false, &text, &notes);
  EXPECT_TRUE(Has(notes, "tls"));
  EXPECT_TRUE(Has(notes, "redacted"));
  std::size_t tls = 0;
  for (const harness::Entry& e : t.entries()) {
    if (e.kind == EntryKind::kTlsEstablished) {
      ++tls;
      EXPECT_FALSE(e.tls.protocol.empty());
      EXPECT_EQ(e.tls.peer_subject, "CN=mx.test");  // the upstream's certificate
    }
    EXPECT_NE(e.kind, EntryKind::kTlsOpaque);
  }
  EXPECT_EQ(tls, 1u);
  const std::string c2s = t.SideBytes(Direction::kClientToServer);
  EXPECT_NE(c2s.find("STARTTLS\r\nEHLO c.test\r\nAUTH PLAIN ***\r\nMAIL FROM"), std::string::npos)
      << c2s;
  EXPECT_EQ(text.find(AuthPlain()), std::string::npos);
  EXPECT_NE(text.find("235 "), std::string::npos);
}

TEST(RecordProxyTest, KeepSecretsKeepsTheAuthResponse) {
  std::string text;
  std::vector<std::string> notes;
  const Transcript t = InterceptedAuthSession(/*keep_secrets=*/true, &text, &notes);
  EXPECT_FALSE(Has(notes, "redacted"));
  EXPECT_NE(text.find("AUTH PLAIN " + AuthPlain()), std::string::npos);
}

TEST(RecordProxyTest, AuthLoginAnswersAreRedactedInPlaintext) {
  ServerConfig up = UpstreamConfig();
  up.auth_advertise = server::AuthAdvertise::kAlways;
  Rig rig(RecordOptions(), up);
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("AUTH LOGIN")), 334);
  // The answers in two writes each, split inside the secret.
  const std::string user = sasl::Base64Encode("alice");
  const std::string pass = sasl::Base64Encode("s3cret-pw");
  ASSERT_TRUE(c.Send(user.substr(0, 3)).ok());
  std::this_thread::sleep_for(Millis(20));
  EXPECT_EQ(CodeOf(c.Command(user.substr(3))), 334);
  ASSERT_TRUE(c.Send(pass.substr(0, 5)).ok());
  std::this_thread::sleep_for(Millis(20));
  EXPECT_EQ(CodeOf(c.Command(pass.substr(5))), 235);
  Quit(c);
  rig.Stop();
  const std::string text = ReadAll(rig.File(1));
  EXPECT_EQ(text.find(pass.substr(0, 5)), std::string::npos) << text;
  EXPECT_EQ(text.find(pass.substr(5)), std::string::npos) << text;
  EXPECT_EQ(text.find(user.substr(3)), std::string::npos) << text;
  EXPECT_NE(text.find("AUTH LOGIN"), std::string::npos);
}

TEST(RecordProxyTest, StoredBytesAreCappedButTheRelayGoesOn) {
  RecordOptions o;
  o.transcript.max_stored_bytes = 64;
  Rig rig(o);
  const std::vector<SessionSummary> sums = OneTransaction(rig);
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_TRUE(Has(sums[0].notes, "truncated"));
  const Transcript t = rig.Session(1);
  EXPECT_TRUE(t.truncated());
  EXPECT_LE(t.stored_bytes(), 64u);
  EXPECT_EQ(t.total_bytes(Direction::kClientToServer), sums[0].c2s_bytes);
  EXPECT_GT(sums[0].c2s_bytes, 64u);
  EXPECT_EQ(rig.server.sink->committed(), 1u);
}

TEST(RecordProxyTest, OutputCapStopsSavingNotRelaying) {
  RecordOptions o;
  o.max_out_bytes = 1500;  // about one short session file
  Rig rig(o);
  for (int i = 0; i < 3; ++i) {
    TestClient c = rig.Connect();
    EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
    Quit(c);
  }
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 3u);
  std::uintmax_t total = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(rig.dir)) total += e.file_size();
  EXPECT_LE(total, 1500u);
  EXPECT_EQ(rig.proxy->stats().out_bytes, total);
  EXPECT_FALSE(sums.back().file.empty() && sums.front().file.empty());
  EXPECT_TRUE(sums.back().file.empty());
  EXPECT_EQ(sums.back().not_saved_reason, "--max_out_bytes reached");
  EXPECT_NE(FormatSummary(sums.back()).find("not saved: --max_out_bytes reached"),
            std::string::npos);
}

// Waits until the proxy closes `c`, then stops the proxy.
std::vector<SessionSummary> ClosedByTheProxy(Rig& rig, TestClient& c) {
  bool closed = false;
  c.Drain(Millis(3000), &closed);
  EXPECT_TRUE(closed);
  return rig.Stop();
}

TEST(RecordProxyTest, IdleSessionTimesOutAndIsSaved) {
  RecordOptions o;
  o.idle_timeout = Millis(300);
  Rig rig(o);
  TestClient c = rig.Connect();
  const std::vector<SessionSummary> sums = ClosedByTheProxy(rig, c);
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_TRUE(Has(sums[0].notes, "timeout"));
  const Transcript t = rig.Session(1);
  EXPECT_EQ(EventKinds(t).back(), EntryKind::kTimeout);
  // Both directions were idle: either read may report it.
  const std::string& why = t.entries().back().text;
  EXPECT_EQ(why.substr(0, 10), "read from ") << why;
  EXPECT_NE(why.find("idle timeout"), std::string::npos) << why;
}

TEST(RecordProxyTest, SessionLimitHoldsBackTheNextClient) {
  RecordOptions o;
  o.max_sessions = 1;
  Rig rig(o);
  TestClient first = rig.Connect();
  TestClient second;
  ASSERT_TRUE(second.Connect(rig.port).ok());
  // Accepted by the kernel, but not relayed: no greeting yet.
  EXPECT_EQ(CodeOf(second.ReadReply(Millis(300))), 0);
  Quit(first);
  EXPECT_EQ(CodeOf(second.ReadReply(Millis(3000))), 220);
  Quit(second);
  EXPECT_EQ(rig.Stop().size(), 2u);
}

// One client address may hold max_sessions_per_client sessions; its next
// connection is refused at once (421, no session, no file), while another
// address still gets through.
TEST(RecordProxyTest, PerClientLimitRefusesTheExtraConnectionsAtOnce) {
  RecordOptions o;
  o.max_sessions_per_client = 2;
  Rig rig(o);
  TestClient a = rig.Connect();
  TestClient b = rig.Connect();
  TestClient extra;
  ASSERT_TRUE(extra.Connect(rig.port).ok());
  const auto refused = extra.ReadReply(Millis(5000));
  EXPECT_EQ(CodeOf(refused), 421) << Describe(refused);
  EXPECT_NE(Describe(refused).find("Too many connections"), std::string::npos);
  server::testing::ClientOptions other;
  other.source = "127.0.0.2";
  absl::StatusOr<TestClient> c = server::testing::ConnectAndGreet(rig.port, other);
  ASSERT_TRUE(c.ok()) << c.status();
  Quit(*c);
  Quit(a);
  Quit(b);
  const std::vector<SessionSummary> sums = rig.Stop();
  EXPECT_EQ(sums.size(), 3u);
  EXPECT_EQ(rig.proxy->stats().refused, 1u);
  for (const SessionSummary& s : sums) EXPECT_FALSE(s.file.empty()) << FormatSummary(s);
}

// A connection that died in the backlog (closed before a byte) frees its
// slot at once, not after close_linger, and leaves no file.
TEST(RecordProxyTest, DeadQueuedConnectionFreesItsSlotAtOnce) {
  RecordOptions o;
  o.max_sessions = 1;
  o.close_linger = Millis(20'000);  // what the dead connection would hold before
  Rig rig(o);
  TestClient holder = rig.Connect();
  TestClient dead;
  ASSERT_TRUE(dead.Connect(rig.port).ok());
  dead.Close();
  TestClient next;
  ASSERT_TRUE(next.Connect(rig.port).ok());
  Quit(holder);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(CodeOf(next.ReadReply(Millis(10'000))), 220);
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(10'000));
  Quit(next);
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 3u);
  EXPECT_EQ(sums[1].not_saved_reason, "the client closed without sending a byte")
      << FormatSummary(sums[1]);
  EXPECT_FALSE(sums[0].file.empty());
  EXPECT_FALSE(sums[2].file.empty());
}

// The server gives up on an endless line with a reply and a close while the
// client still writes: the reply reaches the client and the record, and the
// failed write is noted after it.
TEST(RecordProxyTest, ServerLastReplyIsRelayedBeforeTheBrokenPipe) {
  ServerConfig up = UpstreamConfig();
  up.max_discarded_line = 64 * 1024;
  Rig rig(RecordOptions(), up);
  TestClient c = rig.Connect();
  const std::string piece(16 * 1024, 'a');
  ASSERT_TRUE(c.Send("MAIL FROM:<").ok());
  for (int i = 0; i < 256; ++i) {  // up to 4 MiB, until the relay stops taking it
    if (!c.Send(piece, Millis(300)).ok()) break;
  }
  const auto reply = c.ReadReply(Millis(5000));
  EXPECT_EQ(CodeOf(reply), 421) << Describe(reply);
  c.Close();
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 1u);
  const Transcript t = rig.Session(1);
  EXPECT_NE(t.SideBytes(Direction::kServerToClient).find("421 4.5.6"), std::string::npos);
}

TEST(RecordProxyTest, ConcurrentSessionsEachGetTheirFile) {
  constexpr int kClients = 16;
  Rig rig;
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&rig, i] {
      TestClient c = rig.Connect();
      EXPECT_EQ(CodeOf(c.Command("EHLO c" + std::to_string(i) + ".test")), 250);
      Transaction(c);
      Quit(c);
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), static_cast<std::size_t>(kClients));
  std::set<std::string> hellos;
  for (int n = 1; n <= kClients; ++n) {
    const Transcript t = rig.Session(n);
    const std::string c2s = t.SideBytes(Direction::kClientToServer);
    hellos.insert(c2s.substr(0, c2s.find("\r\n")));
    EXPECT_NE(c2s.find(kWireBody + "QUIT\r\n"), std::string::npos);
  }
  EXPECT_EQ(hellos.size(), static_cast<std::size_t>(kClients));
  EXPECT_EQ(rig.server.sink->committed(), static_cast<std::size_t>(kClients));
}

TEST(RecordProxyTest, StopCutsOpenSessionsAfterTheGraceAndSavesThem) {
  RecordOptions o;
  o.shutdown_grace = Millis(200);
  Rig rig(o);
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  EXPECT_EQ(CodeOf(c.Command("MAIL FROM:<a@x.test>")), 250);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<SessionSummary> sums = rig.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(2500));
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_TRUE(Has(sums[0].notes, "shutdown"));
  const Transcript t = rig.Session(1);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\n");
  EXPECT_EQ(t.entries().back().kind, EntryKind::kLocalClosed);
  EXPECT_EQ(t.entries().back().text, "shutdown: grace expired");
  bool closed = false;
  c.Drain(Millis(2000), &closed);
  EXPECT_TRUE(closed);
}

TEST(RecordProxyTest, StopLetsASessionFinishWithinTheGrace) {
  RecordOptions o;
  o.shutdown_grace = Millis(3000);
  Rig rig(o);
  TestClient c = rig.Connect();
  EXPECT_EQ(CodeOf(c.Command("EHLO c.test")), 250);
  std::thread stopper([&rig] { rig.proxy->RequestStop(); });
  stopper.join();
  // Still relayed after the stop began: the session ends by itself.
  Transaction(c);
  Quit(c);
  const std::vector<SessionSummary> sums = rig.Stop();
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_FALSE(Has(sums[0].notes, "shutdown"));
  // And no new session is accepted once stopping.
  TestClient late;
  EXPECT_FALSE(late.Connect(rig.port).ok() && late.ReadReply(Millis(300)).ok());
}

TEST(RecordProxyTest, UnreachableUpstreamIsRecordedAsAnError) {
  RecordOptions o;
  Rig rig(o);
  rig.server.server->Stop();  // nothing listens there now
  TestClient c;
  ASSERT_TRUE(c.Connect(rig.port).ok());
  const std::vector<SessionSummary> sums = ClosedByTheProxy(rig, c);
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_TRUE(Has(sums[0].notes, "error"));
  const Transcript t = rig.Session(1);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.entries().front().kind, EntryKind::kError);
  EXPECT_EQ(t.entries().front().text.substr(0, 20), "connect to upstream ");
}

TEST(RecordProxyTest, NumberingContinuesAfterExistingFiles) {
  RecordOptions o;
  Rig rig(o);
  rig.Stop();
  std::ofstream(rig.dir + "/session-000041.json") << "{}";
  RecordOptions again;
  again.upstream.host = "127.0.0.1";
  again.upstream.port = rig.server.port;
  again.out_dir = rig.dir;
  RecordProxy proxy(again);
  absl::StatusOr<std::uint16_t> port = proxy.Start();
  ASSERT_TRUE(port.ok());
  {
    TestClient c = server::testing::Connect(*port);
    Quit(c);
  }
  proxy.Stop();
  EXPECT_TRUE(fs::exists(rig.dir + "/session-000042.json"));
}

TEST(RecordProxyTest, OptionsAreChecked) {
  RecordOptions o;
  o.upstream.host = "127.0.0.1";
  EXPECT_EQ(CheckRecordOptions(o).message(), "--out: an output directory is required");
  o.out_dir = "x";
  o.max_sessions = 0;
  EXPECT_EQ(CheckRecordOptions(o).message(), "--max_sessions: must be at least 1");
  o.max_sessions = 1;
  o.cert_pem = "x";
  EXPECT_EQ(CheckRecordOptions(o).message(),
            "--tls_cert_file: --tls_cert_file and --tls_key_file go together");
  o.cert_pem.clear();
  o.upstream.kind = harness::Target::Kind::kExec;
  EXPECT_EQ(CheckRecordOptions(o).message(), "--upstream: expected HOST:PORT or tls:HOST:PORT");
}

TEST(RecordProxyTest, SummaryLine) {
  SessionSummary s;
  s.number = 3;
  s.client = "127.0.0.1:40000";
  s.duration = std::chrono::microseconds(12'345);
  s.commands = 6;
  s.c2s_bytes = 120;
  s.s2c_bytes = 340;
  s.file = "rec/session-000003.json";
  s.notes = {"tls_opaque", "redacted"};
  EXPECT_EQ(FormatSummary(s),
            "#3 127.0.0.1:40000 0.012s 6 commands c2s 120 B s2c 340 B -> "
            "rec/session-000003.json [tls_opaque redacted]");
}

}  // namespace
}  // namespace smtp::record
