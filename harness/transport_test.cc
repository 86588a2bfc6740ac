#include "harness/transport.h"

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include "harness/socket_transport.h"
#include "harness/test_util.h"
#include "harness/tls_cert.h"

namespace smtp::harness {
namespace {

using namespace std::chrono_literals;
using asio::ip::tcp;
using testing::RunSync;
using testing::Sleep;
using testing::Spawn;

// --- Targets ---------------------------------------------------------------

struct TargetCase {
  const char* spec;
  Target::Kind kind;
  const char* host;
  std::uint16_t port;
  const char* canonical;  // ToString()
};

TEST(ParseTarget, Valid) {
  const TargetCase cases[] = {
      {"mx.example.com", Target::Kind::kTcp, "mx.example.com", 25, "mx.example.com:25"},
      {"mx.example.com:2525", Target::Kind::kTcp, "mx.example.com", 2525, "mx.example.com:2525"},
      {"tcp:127.0.0.1:587", Target::Kind::kTcp, "127.0.0.1", 587, "127.0.0.1:587"},
      {"[::1]:25", Target::Kind::kTcp, "::1", 25, "[::1]:25"},
      {"[2001:db8::1]", Target::Kind::kTcp, "2001:db8::1", 25, "[2001:db8::1]:25"},
      {"tls:mx.example.com", Target::Kind::kTls, "mx.example.com", 465, "tls:mx.example.com:465"},
      {"tls:[::1]:4650", Target::Kind::kTls, "::1", 4650, "tls:[::1]:4650"},
      {"lmtp:127.0.0.1", Target::Kind::kTcp, "127.0.0.1", 24, "lmtp:127.0.0.1:24"},
      {"lmtp:tls:mx.example:2424", Target::Kind::kTls, "mx.example", 2424,
       "lmtp:tls:mx.example:2424"},
  };
  for (const TargetCase& c : cases) {
    auto t = ParseTarget(c.spec);
    ASSERT_TRUE(t.ok()) << c.spec << ": " << t.status();
    EXPECT_EQ(t->kind, c.kind) << c.spec;
    EXPECT_EQ(t->host, c.host) << c.spec;
    EXPECT_EQ(t->port, c.port) << c.spec;
    EXPECT_EQ(t->ToString(), c.canonical) << c.spec;
    EXPECT_EQ(t->lmtp, std::string_view(c.spec).starts_with("lmtp:")) << c.spec;
    auto again = ParseTarget(t->ToString());
    ASSERT_TRUE(again.ok()) << c.spec;
    EXPECT_EQ(*again, *t) << c.spec;
  }
  auto exec = ParseTarget("exec:sh -c 'echo 220 hi'");
  ASSERT_TRUE(exec.ok());
  EXPECT_EQ(exec->kind, Target::Kind::kExec);
  EXPECT_EQ(exec->command, "sh -c 'echo 220 hi'");
  EXPECT_EQ(exec->ToString(), "exec:sh -c 'echo 220 hi'");
}

TEST(ParseTarget, Invalid) {
  const char* bad[] = {
      "",         ":25",     "host:",     "host:0", "host:65536",
      "host:25x", "host:-1", "::1",  // unbracketed v6
      "[::1",     "[::1]x",  "[::1]:",    "[]:25",  "exec:",
      "tls:",     "a b:25",  "host/x:25", "lmtp:",  "lmtp:tls:",
  };
  for (const char* spec : bad) {
    auto t = ParseTarget(spec);
    EXPECT_FALSE(t.ok()) << spec;
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    }
  }
}

// What a first-time user types: the message says what to write instead.
TEST(ParseTarget, FirstGuessesGetHints) {
  const std::pair<const char*, const char*> cases[] = {
      {"3025", "'3025' is a port alone: give HOST:PORT, e.g. 127.0.0.1:3025"},
      {"lmtp:24", "'24' is a port alone: give HOST:PORT, e.g. 127.0.0.1:24"},
      {"3025:25", "'3025' is a number, not a host: give HOST:PORT"},
      {"smtp://127.0.0.1:2525",
       "'smtp://127.0.0.1:2525' is a URL: give HOST:PORT (tls:HOST:PORT for implicit TLS, "
       "lmtp:HOST:PORT for LMTP), here 127.0.0.1:2525"},
      {"smtps://mx.example:465/",
       "'smtps://mx.example:465/' is a URL: give HOST:PORT (tls:HOST:PORT for implicit TLS, "
       "lmtp:HOST:PORT for LMTP), here tls:mx.example:465"},
      {"lmtp://[::1]:24",
       "'lmtp://[::1]:24' is a URL: give HOST:PORT (tls:HOST:PORT for "
       "implicit TLS, lmtp:HOST:PORT for LMTP), here lmtp:[::1]:24"},
  };
  for (const auto& [spec, message] : cases) {
    auto t = ParseTarget(spec);
    ASSERT_FALSE(t.ok()) << spec;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_EQ(t.status().message(), message) << spec;
  }
  // A number with dots is an address, and exec: commands may hold "://".
  EXPECT_TRUE(ParseTarget("127.0.0.1:3025").ok());
  EXPECT_TRUE(ParseTarget("exec:curl http://x").ok());
}

TEST(ErrorToStatus, Table) {
  namespace err = asio::error;
  const std::pair<boost::system::error_code, absl::StatusCode> cases[] = {
      {err::timed_out, absl::StatusCode::kDeadlineExceeded},
      {err::operation_aborted, absl::StatusCode::kDeadlineExceeded},
      {err::eof, absl::StatusCode::kOutOfRange},
      {asio::ssl::error::stream_truncated, absl::StatusCode::kOutOfRange},
      {err::connection_refused, absl::StatusCode::kUnavailable},
      {err::connection_reset, absl::StatusCode::kUnavailable},
      {err::broken_pipe, absl::StatusCode::kUnavailable},
      {err::host_not_found, absl::StatusCode::kNotFound},
      {err::bad_descriptor, absl::StatusCode::kFailedPrecondition},
      {err::no_buffer_space, absl::StatusCode::kUnknown},
  };
  for (const auto& [ec, code] : cases) {
    absl::Status s = ErrorToStatus(ec, "read from x");
    EXPECT_EQ(s.code(), code) << ec.message();
    EXPECT_TRUE(absl::StartsWith(s.message(), "read from x: ")) << s;
  }
}

// --- In-memory pair --------------------------------------------------------

TEST(MemoryPair, BytesFlowBothWaysAndCloseIsEof) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  std::string got;
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto r1 = co_await server->Write("220 hi\r\n", In(1s));
    EXPECT_TRUE(r1.ok());
    char buf[64];
    auto n = co_await client->ReadSome(buf, sizeof buf, In(1s));
    EXPECT_TRUE(n.ok());
    got.assign(buf, *n);
    auto r2 = co_await client->Write("QUIT\r\n", In(1s));
    EXPECT_TRUE(r2.ok());
    n = co_await server->ReadSome(buf, 4, In(1s));  // size bound respected
    EXPECT_EQ(n.value_or(0), 4u);
    auto r3 = co_await server->Close(In(1s));
    EXPECT_TRUE(r3.ok());
    n = co_await client->ReadSome(buf, sizeof buf, In(1s));
    EXPECT_TRUE(n.ok() && *n == 0) << "EOF expected";
    absl::Status w = co_await client->Write("x", In(1s));
    EXPECT_EQ(w.code(), absl::StatusCode::kUnavailable) << w;
  });
  EXPECT_EQ(got, "220 hi\r\n");
}

TEST(MemoryPair, ReadDeadlineAndWriterBackpressure) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor(), /*capacity=*/8);
  RunSync(io, [&]() -> asio::awaitable<void> {
    char buf[16];
    const auto t0 = Clock::now();
    auto n = co_await client->ReadSome(buf, sizeof buf, In(50ms));
    EXPECT_EQ(n.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_GE(Clock::now() - t0, 45ms);
    EXPECT_LT(Clock::now() - t0, 2s);
    // Capacity 8: a 20-byte write stalls at 8 until the reader drains.
    std::size_t written = 0;
    absl::Status w = co_await server->Write(std::string(20, 'x'), In(50ms), &written);
    EXPECT_EQ(w.code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_EQ(written, 8u);
    n = co_await client->ReadSome(buf, sizeof buf, In(1s));
    EXPECT_EQ(n.value_or(0), 8u);
  });
}

// --- TCP -------------------------------------------------------------------

// An acceptor on `address` port 0; null when that fails, with the reason in
// `*why` if given.
std::unique_ptr<tcp::acceptor> Listen(asio::io_context& io, const char* address,
                                      boost::system::error_code* why = nullptr) {
  boost::system::error_code ec;
  auto a = std::make_unique<tcp::acceptor>(io);
  tcp::endpoint ep(asio::ip::make_address(address), 0);
  a->open(ep.protocol(), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(16, ec);
  if (ec) {
    if (why) *why = ec;
    return nullptr;
  }
  return a;
}

asio::awaitable<std::unique_ptr<Transport>> Accept(tcp::acceptor& a) {
  auto [ec, socket] = co_await a.async_accept(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return nullptr;
  co_return WrapTcpSocket(std::move(socket));
}

// Server: greet, read one line, answer it, close. Client: the mirror image.
void RoundTripOver(const char* listen_address, const char* connect_host) {
  asio::io_context io;
  boost::system::error_code ec;
  auto acceptor = Listen(io, listen_address, &ec);
  ASSERT_TRUE(acceptor) << "cannot listen on " << listen_address << ": " << ec.message();
  const std::uint16_t port = acceptor->local_endpoint().port();
  Spawn(io, [&]() -> asio::awaitable<void> {
    auto t = co_await Accept(*acceptor);
    EXPECT_TRUE(t);
    if (!t) co_return;
    co_await t->Write("220 hi\r\n", In(2s));
    char buf[64];
    auto n = co_await t->ReadSome(buf, sizeof buf, In(2s));
    EXPECT_EQ(std::string(buf, n.value_or(0)), "QUIT\r\n");
    co_await t->Write("221 bye\r\n", In(2s));
    co_await t->Close(In(2s));
  });
  std::string got;
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto t = co_await ConnectTcp(connect_host, port, In(5s));
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) co_return;
    EXPECT_NE((*t)->peer().find(std::to_string(port)), std::string::npos);
    char buf[64];
    for (;;) {
      auto n = co_await (*t)->ReadSome(buf, sizeof buf, In(2s));
      EXPECT_TRUE(n.ok()) << n.status();
      if (!n.ok() || *n == 0) break;
      got.append(buf, *n);
      if (got == "220 hi\r\n") co_await (*t)->Write("QUIT\r\n", In(2s));
    }
    EXPECT_FALSE((*t)->tls().has_value());
    co_await (*t)->Close(In(1s));
  });
  EXPECT_EQ(got, "220 hi\r\n221 bye\r\n");
}

TEST(TcpTransport, LoopbackIpv4) { RoundTripOver("127.0.0.1", "127.0.0.1"); }
// A host without IPv6 (some containers and CI runners) cannot run this one:
// that shows as a skip with the reason, never as a pass.
TEST(TcpTransport, LoopbackIpv6) {
  asio::io_context io;
  boost::system::error_code ec;
  if (!Listen(io, "::1", &ec)) {
    GTEST_SKIP() << "no IPv6 loopback on this host: cannot listen on ::1: " << ec.message();
  }
  RoundTripOver("::1", "::1");
}
TEST(TcpTransport, LoopbackByName) { RoundTripOver("127.0.0.1", "localhost"); }

TEST(TcpTransport, RefusedAndUnresolvable) {
  asio::io_context io;
  auto acceptor = Listen(io, "127.0.0.1");
  ASSERT_TRUE(acceptor);
  const std::uint16_t port = acceptor->local_endpoint().port();
  acceptor.reset();  // nobody listens there now
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto t = co_await ConnectTcp("127.0.0.1", port, In(2s));
    EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable) << t.status();
    t = co_await ConnectTcp("no-such-host.invalid", 25, In(5s));
    EXPECT_FALSE(t.ok());
  });
}

TEST(TcpTransport, ReadTimeoutLeavesStreamUsable) {
  asio::io_context io;
  auto acceptor = Listen(io, "127.0.0.1");
  ASSERT_TRUE(acceptor);
  Spawn(io, [&]() -> asio::awaitable<void> {
    auto t = co_await Accept(*acceptor);
    co_await Sleep(300ms);  // silent for a while, then speaks
    co_await t->Write("220 late\r\n", In(2s));
    co_await Sleep(200ms);
  });
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto t = co_await ConnectTcp("127.0.0.1", acceptor->local_endpoint().port(), In(2s));
    EXPECT_TRUE(t.ok());
    if (!t.ok()) co_return;
    char buf[64];
    const auto t0 = Clock::now();
    auto n = co_await (*t)->ReadSome(buf, sizeof buf, In(100ms));
    EXPECT_EQ(n.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_LT(Clock::now() - t0, 250ms);
    n = co_await (*t)->ReadSome(buf, sizeof buf, In(2s));
    EXPECT_EQ(std::string(buf, n.value_or(0)), "220 late\r\n");
  });
}

// --- TLS -------------------------------------------------------------------

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = MakeSelfSignedCert("localhost");
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *cert;
    server_tls_.role = TlsOptions::Role::kServer;
    server_tls_.cert_pem = cert_.cert_pem;
    server_tls_.key_pem = cert_.key_pem;
    acceptor_ = Listen(io_, "127.0.0.1");
    ASSERT_TRUE(acceptor_);
    port_ = acceptor_->local_endpoint().port();
  }

  // Server: accept, optional plaintext STARTTLS exchange, TLS, greet, close.
  void SpawnServer(bool starttls) {
    Spawn(io_, [this, starttls]() -> asio::awaitable<void> {
      auto t = co_await Accept(*acceptor_);
      if (!t) co_return;
      char buf[64];
      if (starttls) {
        co_await t->Write("220 plain\r\n", In(2s));
        auto n = co_await t->ReadSome(buf, sizeof buf, In(2s));
        if (!n.ok() || *n == 0) co_return;
      }
      server_status_ = co_await t->StartTls(server_tls_, In(2s));
      if (!server_status_.ok()) co_return;
      co_await t->Write("220 secret\r\n", In(2s));
      co_await t->ReadSome(buf, sizeof buf, In(2s));  // until the client closes
      co_await t->Close(In(1s));
    });
  }

  // Client: implicit TLS; returns the greeting or the error.
  absl::StatusOr<std::string> ClientImplicit(TlsOptions options, TlsInfo* info = nullptr) {
    return RunSync(io_, [&]() -> asio::awaitable<absl::StatusOr<std::string>> {
      auto t = co_await ConnectTls("127.0.0.1", port_, options, In(3s));
      if (!t.ok()) co_return t.status();
      if (info) *info = (*t)->tls().value_or(TlsInfo{});
      char buf[64];
      auto n = co_await (*t)->ReadSome(buf, sizeof buf, In(2s));
      co_await (*t)->Close(In(1s));
      if (!n.ok()) co_return n.status();
      co_return std::string(buf, *n);
    });
  }

  std::string WriteCaFile() {
    const std::string path = ::testing::TempDir() + "/h5_tls_ca.pem";
    std::ofstream(path) << cert_.cert_pem;
    return path;
  }

  asio::io_context io_;
  CertAndKey cert_;
  TlsOptions server_tls_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::uint16_t port_ = 0;
  absl::Status server_status_;
};

TEST_F(TlsTest, ImplicitTlsRecordsSessionDetails) {
  SpawnServer(/*starttls=*/false);
  TlsInfo info;
  auto greeting = ClientImplicit(TlsOptions{}, &info);  // verification off by default
  ASSERT_TRUE(greeting.ok()) << greeting.status();
  EXPECT_EQ(*greeting, "220 secret\r\n");
  EXPECT_TRUE(server_status_.ok()) << server_status_;
  EXPECT_EQ(info.protocol, "TLSv1.3");
  EXPECT_FALSE(info.cipher.empty());
  EXPECT_EQ(info.peer_subject, "CN=localhost");
}

TEST_F(TlsTest, VerificationWithTrustedCertAndName) {
  SpawnServer(false);
  TlsOptions o;
  o.verify_peer = true;
  o.ca_file = WriteCaFile();
  o.server_name = "localhost";
  auto greeting = ClientImplicit(o);
  EXPECT_TRUE(greeting.ok()) << greeting.status();
}

TEST_F(TlsTest, VerificationRejectsUntrustedCert) {
  SpawnServer(false);
  TlsOptions o;
  o.verify_peer = true;  // system trust store: the self-signed cert is unknown
  auto greeting = ClientImplicit(o);
  EXPECT_EQ(greeting.status().code(), absl::StatusCode::kFailedPrecondition) << greeting.status();
}

TEST_F(TlsTest, VerificationRejectsWrongName) {
  SpawnServer(false);
  TlsOptions o;
  o.verify_peer = true;
  o.ca_file = WriteCaFile();
  o.server_name = "mx.other.example";
  auto greeting = ClientImplicit(o);
  EXPECT_EQ(greeting.status().code(), absl::StatusCode::kFailedPrecondition) << greeting.status();
}

TEST_F(TlsTest, StartTlsUpgradesInPlace) {
  SpawnServer(/*starttls=*/true);
  std::string plain, secret;
  std::optional<TlsInfo> info;
  RunSync(io_, [&]() -> asio::awaitable<void> {
    auto t = co_await ConnectTcp("127.0.0.1", port_, In(2s));
    EXPECT_TRUE(t.ok());
    if (!t.ok()) co_return;
    char buf[64];
    auto n = co_await (*t)->ReadSome(buf, sizeof buf, In(2s));
    plain.assign(buf, n.value_or(0));
    co_await (*t)->Write("STARTTLS\r\n", In(2s));
    absl::Status s = co_await (*t)->StartTls(TlsOptions{}, In(2s));
    EXPECT_TRUE(s.ok()) << s;
    info = (*t)->tls();
    n = co_await (*t)->ReadSome(buf, sizeof buf, In(2s));
    secret.assign(buf, n.value_or(0));
    s = co_await (*t)->StartTls(TlsOptions{}, In(2s));
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << "TLS twice";
    co_await (*t)->Close(In(1s));
  });
  EXPECT_EQ(plain, "220 plain\r\n");
  EXPECT_EQ(secret, "220 secret\r\n");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->peer_subject, "CN=localhost");
}

TEST_F(TlsTest, HandshakeDeadline) {
  Spawn(io_, [this]() -> asio::awaitable<void> {
    auto t = co_await Accept(*acceptor_);  // accepts, never handshakes
    co_await Sleep(600ms);
  });
  const auto t0 = Clock::now();
  auto greeting = [&] {
    return RunSync(io_, [&]() -> asio::awaitable<absl::Status> {
      auto t = co_await ConnectTls("127.0.0.1", port_, TlsOptions{}, In(150ms));
      co_return t.status();
    });
  }();
  EXPECT_EQ(greeting.code(), absl::StatusCode::kDeadlineExceeded) << greeting;
  EXPECT_LT(Clock::now() - t0, 2s);
}

TEST_F(TlsTest, ServerRoleNeedsCertificate) {
  Spawn(io_, [this]() -> asio::awaitable<void> {
    auto t = co_await Accept(*acceptor_);
    TlsOptions no_cert;
    no_cert.role = TlsOptions::Role::kServer;
    server_status_ = co_await t->StartTls(no_cert, In(1s));
  });
  auto greeting = ClientImplicit(TlsOptions{});
  EXPECT_FALSE(greeting.ok());
  EXPECT_EQ(server_status_.code(), absl::StatusCode::kInvalidArgument) << server_status_;
}

TEST(MemoryPair, HasNoTls) {
  asio::io_context io;
  auto [client, server] = MakeMemoryPair(io.get_executor());
  auto s = RunSync(io, [&]() -> asio::awaitable<absl::Status> {
    co_return co_await client->StartTls(TlsOptions{}, In(1s));
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
}

// --- exec: -----------------------------------------------------------------

// Reads until EOF (bounded by `deadline`).
asio::awaitable<std::string> ReadAll(Transport& t, Deadline deadline) {
  std::string out;
  char buf[256];
  for (;;) {
    auto n = co_await t.ReadSome(buf, sizeof buf, deadline);
    if (!n.ok() || *n == 0) break;
    out.append(buf, *n);
  }
  co_return out;
}

TEST(ExecTransport, SpeaksOnStdinStdout) {
  asio::io_context io;
  auto t =
      SpawnExec(io.get_executor(), R"(printf "220 hi\r\n"; read l; printf "221 bye %s\n" "$l")");
  ASSERT_TRUE(t.ok()) << t.status();
  Transport& tr = **t;
  EXPECT_EQ(tr.peer(), R"(exec:printf "220 hi\r\n"; read l; printf "221 bye %s\n" "$l")");
  std::string first, rest;
  RunSync(io, [&]() -> asio::awaitable<void> {
    char buf[64];
    auto n = co_await tr.ReadSome(buf, sizeof buf, In(5s));
    first.assign(buf, n.value_or(0));
    co_await tr.Write("QUIT\n", In(2s));
    rest = co_await ReadAll(tr, In(5s));
    auto r4 = co_await tr.Close(In(5s));
    EXPECT_TRUE(r4.ok());
  });
  EXPECT_EQ(first, "220 hi\r\n");
  EXPECT_EQ(rest, "221 bye QUIT\n");
  auto p = tr.process();
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->running);
  EXPECT_TRUE(p->exited);
  EXPECT_EQ(p->exit_code, 0);
}

TEST(ExecTransport, ExitStatusAndBoundedStderr) {
  asio::io_context io;
  auto t = SpawnExec(io.get_executor(), "echo oops >&2; head -c 100000 /dev/zero >&2; exit 3",
                     ExecOptions{.max_stderr = 10});
  ASSERT_TRUE(t.ok()) << t.status();
  RunSync(io, [&]() -> asio::awaitable<void> {
    std::string out = co_await ReadAll(**t, In(5s));
    EXPECT_EQ(out, "");
    co_await (*t)->Close(In(5s));
  });
  auto p = (*t)->process();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->exited);
  EXPECT_EQ(p->exit_code, 3);
  EXPECT_EQ(p->stderr_head, std::string("oops\n\0\0\0\0\0", 10));
  EXPECT_EQ(p->stderr_bytes, 100005u);
}

TEST(ExecTransport, CloseKillsAChildThatIgnoresEof) {
  asio::io_context io;
  auto t = SpawnExec(io.get_executor(), "trap '' TERM; sleep 30 & wait");
  ASSERT_TRUE(t.ok()) << t.status();
  const auto t0 = Clock::now();
  absl::Status s = RunSync(
      io, [&]() -> asio::awaitable<absl::Status> { co_return co_await (*t)->Close(In(200ms)); });
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_LT(Clock::now() - t0, 3s);
  auto p = (*t)->process();
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->running);
  EXPECT_EQ(p->signal, 9);
}

TEST(ExecTransport, WriteToDeadChildFailsWithoutSigpipe) {
  asio::io_context io;
  auto t = SpawnExec(io.get_executor(), "exit 0");
  ASSERT_TRUE(t.ok());
  RunSync(io, [&]() -> asio::awaitable<void> {
    co_await ReadAll(**t, In(5s));  // EOF: the child is gone
    absl::Status s = co_await (*t)->Write(std::string(1 << 20, 'x'), In(2s));
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  });
}

TEST(ExecTransport, ConnectDispatchesExecTargets) {
  asio::io_context io;
  std::string got;
  RunSync(io, [&]() -> asio::awaitable<void> {
    auto target = ParseTarget("exec:printf '220 x\\r\\n'");
    EXPECT_TRUE(target.ok());
    auto t = co_await Connect(*target, TlsOptions{}, In(2s));
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) co_return;
    got = co_await ReadAll(**t, In(5s));
    co_await (*t)->Close(In(2s));
  });
  EXPECT_EQ(got, "220 x\r\n");
}

}  // namespace
}  // namespace smtp::harness
