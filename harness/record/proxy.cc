// The recording proxy's Asio side: the listener and its session limit, one
// coroutine per session with a pump per direction, the STARTTLS hand-over
// between the pumps, and the graceful stop. What to act on in the stream is
// the SessionFollower's business (follower.h).
#include "harness/record/proxy.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/record/follower.h"
#include "harness/record/session_writer.h"
#include "harness/socket_transport.h"
#include "harness/tls_cert.h"
#include "net/connection_limiter.h"
#include "results/absl_compat.h"
#include "results/session_file.h"

namespace smtp::record {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using boost::system::error_code;
using harness::Clock;
using harness::Deadline;
using harness::Direction;
using harness::EntryKind;
using harness::In;
using harness::Transport;

constexpr auto kCloseDeadline = std::chrono::seconds(1);
// Over-limit clients get their 421 from at most this many coroutines at a
// time (as serve's); beyond that they are closed without a word.
constexpr std::size_t kMaxRefusals = 256;
constexpr auto kRefuseDeadline = std::chrono::milliseconds(1000);
// After a client that is owed no reply closed: the wait for the server's
// close (which follows its 221 at once).
constexpr auto kUnowedLinger = std::chrono::milliseconds(100);
constexpr std::string_view kTooManyReply = "421 4.7.0 Too many connections\r\n";
constexpr std::string_view kFilePrefix = "session-";
constexpr std::string_view kFileSuffix = ".json";

absl::Status Bad(std::string_view flag, std::string_view why) {
  return absl::InvalidArgumentError("--" + std::string(flag) + ": " + std::string(why));
}

std::int64_t UnixMicrosNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The number of a "session-NNNNNN.json" name; 0 for any other name.
std::uint64_t SessionNumberOf(std::string_view name) {
  if (name.size() <= kFilePrefix.size() + kFileSuffix.size() ||
      name.substr(0, kFilePrefix.size()) != kFilePrefix ||
      name.substr(name.size() - kFileSuffix.size()) != kFileSuffix) {
    return 0;
  }
  const std::string_view digits =
      name.substr(kFilePrefix.size(), name.size() - kFilePrefix.size() - kFileSuffix.size());
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && p == digits.data() + digits.size() ? n : 0;
}

std::string SessionFileName(std::uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(number));
  return std::string(kFilePrefix) + buf + std::string(kFileSuffix);
}

// A one-shot-at-a-time signal between the coroutines of one session (all
// on one thread): Wait() returns once Set() was called since the last
// Wait(), or when the waiting coroutine is cancelled.
class Event {
 public:
  explicit Event(asio::any_io_executor ex) : timer_(ex) {}
  void Set() {
    set_ = true;
    timer_.cancel();
  }
  asio::awaitable<void> Wait() {
    while (!set_) {
      timer_.expires_at(Clock::time_point::max());
      co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      auto cs = co_await asio::this_coro::cancellation_state;
      if (cs.cancelled() != asio::cancellation_type::none) co_return;
    }
    set_ = false;
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

bool Has(const std::vector<std::string>& notes, std::string_view note) {
  return std::find(notes.begin(), notes.end(), note) != notes.end();
}

}  // namespace

std::string FormatSummary(const SessionSummary& s) {
  char head[160];
  std::snprintf(head, sizeof head, "#%llu %s %.3fs %zu commands c2s %zu B s2c %zu B ",
                static_cast<unsigned long long>(s.number), s.client.c_str(),
                static_cast<double>(s.duration.count()) / 1e6, s.commands, s.c2s_bytes,
                s.s2c_bytes);
  std::string out = head;
  out += s.file.empty() ? "not saved: " + s.not_saved_reason : "-> " + s.file;
  if (!s.notes.empty()) {
    out += " [";
    for (std::size_t i = 0; i < s.notes.size(); ++i) {
      if (i > 0) out += ' ';
      out += s.notes[i];
    }
    out += ']';
  }
  return out;
}

absl::Status CheckRecordOptions(const RecordOptions& o) {
  using std::chrono::milliseconds;
  if (o.upstream.kind != harness::Target::Kind::kTcp &&
      o.upstream.kind != harness::Target::Kind::kTls) {
    return Bad("upstream", "expected HOST:PORT or tls:HOST:PORT");
  }
  if (o.upstream.lmtp) return Bad("upstream", "LMTP upstreams are not supported");
  if (o.upstream.host.empty()) return Bad("upstream", "missing host");
  if (o.out_dir.empty()) return Bad("out", "an output directory is required");
  if (o.cert_pem.empty() != o.key_pem.empty()) {
    return Bad("tls_cert_file", "--tls_cert_file and --tls_key_file go together");
  }
  if (o.connect_timeout <= milliseconds(0)) return Bad("connect_timeout_ms", "must be positive");
  if (o.idle_timeout <= milliseconds(0)) return Bad("idle_timeout_ms", "must be positive");
  if (o.session_timeout <= milliseconds(0)) return Bad("session_timeout_ms", "must be positive");
  if (o.shutdown_grace < milliseconds(0)) return Bad("shutdown_grace_ms", "must not be negative");
  if (o.max_sessions == 0) return Bad("max_sessions", "must be at least 1");
  if (o.transcript.max_stored_bytes == 0) return Bad("max_session_bytes", "must be at least 1");
  return absl::OkStatus();
}

// --- Session ----------------------------------------------------------------

struct Session {
  Session(asio::any_io_executor ex, std::uint64_t n, net::ConnectionLimiter::Slot slot,
          std::unique_ptr<Transport> c, const RecordOptions& o)
      : number(n),
        slot(std::move(slot)),
        client(std::move(c)),
        transcript(o.transcript),
        end(In(o.session_timeout)),
        last_activity(Clock::now()),
        parked(ex),
        resume(ex) {}

  // The c2s pump must wait before reading the client again: a STARTTLS is
  // unanswered, or answered and the TLS hand-over not done.
  bool MustPark() const { return recording && (follower.starttls_outstanding() || upgrading); }
  void Note(std::string_view n) {
    if (std::find(notes.begin(), notes.end(), n) == notes.end()) notes.emplace_back(n);
  }

  std::uint64_t number;
  net::ConnectionLimiter::Slot slot;  // under max_sessions and max_sessions_per_client
  std::unique_ptr<Transport> client;
  std::unique_ptr<Transport> upstream;
  harness::Transcript transcript;
  SessionFollower follower;
  Deadline end;            // session_timeout
  Deadline last_activity;  // last byte either way
  bool recording = true;   // false once TLS went by unseen
  bool upgrading = false;  // STARTTLS accepted, hand-over pending (intercept_tls)
  bool c2s_parked = false;
  bool cut = false;                // stopped by the shutdown grace
  std::uint64_t client_bytes = 0;  // relayed to the server
  bool silent_close = false;       // the client closed without sending a byte
  // The client's last chunk ended a line and the server has not sent a byte
  // since: a reply may be owed (the 221 after QUIT).
  bool reply_owed = false;
  // A write to the server failed (it closed: a "421 ... Line too long" and
  // close): noted once the server's last bytes were relayed and recorded.
  std::optional<absl::Status> upstream_write_error;
  Event parked;  // c2s -> s2c: parked
  Event resume;  // s2c -> c2s: read on
  asio::cancellation_signal cancel;
  std::vector<std::string> notes;
};

// --- Impl ----------------------------------------------------------------

class RecordProxy::Impl {
 public:
  explicit Impl(RecordOptions o)
      : options(std::move(o)),
        limiter({options.max_sessions, options.max_sessions_per_client}),
        slot_free(io.get_executor()) {}

  absl::StatusOr<std::uint16_t> Bind();
  void BeginStop();
  void RunLoop() { io.run(); }

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> RunSession(std::shared_ptr<Session> s);
  asio::awaitable<void> ClientToServer(std::shared_ptr<Session> s);
  asio::awaitable<void> ServerToClient(std::shared_ptr<Session> s);
  asio::awaitable<absl::StatusOr<std::size_t>> Read(Session& s, Transport& from, char* buf);
  asio::awaitable<bool> HandOverTls(Session& s);
  // The c2s pump is done: leaves the s2c pump `how_long` to relay the
  // server's last bytes and its close (which ends the session first). The
  // c2s side counts as parked (no TLS hand-over will come).
  asio::awaitable<void> Linger(Session& s, std::chrono::milliseconds how_long) {
    s.c2s_parked = true;
    s.parked.Set();
    asio::steady_timer linger(co_await asio::this_coro::executor, how_long);
    co_await linger.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  void RecordFailure(Session& s, std::string_view what, const absl::Status& status);
  void Finish(Session& s);

  harness::TlsOptions ClientSideTls() const {
    harness::TlsOptions t;
    t.role = harness::TlsOptions::Role::kServer;
    t.cert_pem = cert_pem;
    t.key_pem = key_pem;
    return t;
  }
  harness::TlsOptions UpstreamTls() const {
    harness::TlsOptions t;
    t.server_name = options.upstream.host;  // SNI unless an IP literal (StartTls decides)
    return t;
  }

  RecordOptions options;
  // Before `io`: session frames destroyed with `io` may still hold slots.
  net::ConnectionLimiter limiter;
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::optional<asio::steady_timer> grace_timer;
  Event slot_free;
  std::string cert_pem, key_pem;
  std::map<std::uint64_t, std::shared_ptr<Session>> sessions;
  std::uint64_t next_number = 0;
  std::size_t refusals = 0;  // RefuseConnection coroutines running
  std::atomic<std::uint64_t> refused{0};
  bool bound = false;
  bool stopping = false;
  std::atomic<bool> stop_requested{false};
  std::unique_ptr<harness::SessionWriter> writer;  // from Bind on
  std::thread thread;
};

absl::StatusOr<std::uint16_t> RecordProxy::Impl::Bind() {
  if (bound) return absl::FailedPreconditionError("record proxy already bound");
  if (absl::Status s = CheckRecordOptions(options); !s.ok()) return s;
  std::error_code fec;
  fs::create_directories(options.out_dir, fec);
  if (fec || !fs::is_directory(options.out_dir)) {
    return Bad("out", "cannot create directory " + options.out_dir +
                          (fec ? ": " + fec.message() : std::string()));
  }
  for (const fs::directory_entry& e : fs::directory_iterator(options.out_dir, fec)) {
    next_number = std::max(next_number, SessionNumberOf(e.path().filename().string()));
  }
  cert_pem = options.cert_pem;
  key_pem = options.key_pem;
  if (options.intercept_tls && cert_pem.empty()) {
    absl::StatusOr<harness::CertAndKey> ck = harness::MakeSelfSignedCert("smtp-harness-record");
    if (!ck.ok()) return ck.status();
    cert_pem = ck->cert_pem;
    key_pem = ck->key_pem;
  }
  // One thread: the files, and the on_session lines, in the order sessions end.
  harness::SessionWriter::Options wo;
  wo.threads = 1;
  wo.max_out_bytes = options.max_out_bytes;
  writer = std::make_unique<harness::SessionWriter>(wo);
  absl::StatusOr<tcp::acceptor> listening =
      harness::ListenTcp(io.get_executor(), options.listen_address, options.port);
  if (!listening.ok()) return listening.status();
  acceptor.emplace(*std::move(listening));
  error_code ec;
  const tcp::endpoint got = acceptor->local_endpoint(ec);
  bound = true;
  asio::co_spawn(io, AcceptLoop(), asio::detached);
  return got.port();
}

asio::awaitable<void> RecordProxy::Impl::AcceptLoop() {
  for (;;) {
    // At most max_sessions at once: the others wait in the listen backlog.
    while (limiter.active() >= options.max_sessions && !stopping) co_await slot_free.Wait();
    if (stopping) break;
    std::optional<tcp::socket> next = co_await harness::AcceptNext(*acceptor);
    if (stopping || !next) break;
    tcp::socket sock = *std::move(next);
    error_code ec;
    const tcp::endpoint remote = sock.remote_endpoint(ec);
    if (ec) continue;  // already gone: no slot, no upstream connection, no file
    // At most max_sessions_per_client from one address: the others are
    // refused at once (421), so that one client cannot take every slot.
    std::optional<net::ConnectionLimiter::Slot> slot =
        limiter.TryAcquire(remote.address().to_string());
    if (!slot) {
      ++refused;
      if (refusals < kMaxRefusals) {
        asio::co_spawn(
            io,
            harness::RefuseConnection(std::move(sock), kTooManyReply, kRefuseDeadline, refusals),
            asio::detached);
      }
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(io.get_executor(), ++next_number, *std::move(slot),
                                       harness::WrapTcpSocket(std::move(sock)), options);
    sessions[s->number] = s;
    asio::co_spawn(io, RunSession(s),
                   asio::bind_cancellation_slot(s->cancel.slot(), asio::detached));
  }
}

void RecordProxy::Impl::BeginStop() {
  if (stopping) return;
  stopping = true;
  error_code ec;
  if (acceptor) acceptor->close(ec);
  if (signals) signals->cancel(ec);
  slot_free.Set();
  if (sessions.empty()) return;
  grace_timer.emplace(io, options.shutdown_grace);
  grace_timer->async_wait([this](error_code ec) {
    if (ec) return;
    // Copies: a cut session may end (and unregister) during emit.
    std::vector<std::shared_ptr<Session>> open;
    for (auto& [n, s] : sessions) open.push_back(s);
    for (auto& s : open) {
      s->cut = true;
      s->cancel.emit(asio::cancellation_type::terminal);
    }
  });
}

asio::awaitable<void> RecordProxy::Impl::RunSession(std::shared_ptr<Session> s) {
  co_await asio::this_coro::throw_if_cancelled(false);
  harness::Transcript& t = s->transcript;
  t.meta().source = "recorded";
  t.meta().client = s->client->peer();
  t.meta().server = options.upstream.host + ":" + std::to_string(options.upstream.port);
  t.meta().started_at = harness::Iso8601Micros(UnixMicrosNow());
  const bool implicit = options.upstream.kind == harness::Target::Kind::kTls;

  absl::StatusOr<std::unique_ptr<Transport>> up = co_await harness::Connect(
      options.upstream, UpstreamTls(), std::min(In(options.connect_timeout), s->end));
  if (!up.ok()) {
    RecordFailure(*s, "connect to upstream " + t.meta().server, up.status());
  } else {
    s->upstream = *std::move(up);
    t.meta().server = s->upstream->peer();
    t.AddEvent(EntryKind::kConnect, s->upstream->peer());
    if (implicit && s->upstream->tls()) t.AddTls(*s->upstream->tls());
    absl::Status client_tls = absl::OkStatus();
    if (implicit && options.intercept_tls) {
      client_tls = co_await s->client->StartTls(ClientSideTls(), In(options.connect_timeout));
      if (!client_tls.ok()) RecordFailure(*s, "TLS with the client", client_tls);
    }
    if (client_tls.ok()) {
      auto ex = co_await asio::this_coro::executor;
      co_await asio::experimental::make_parallel_group(
          asio::co_spawn(ex, ClientToServer(s), asio::deferred),
          asio::co_spawn(ex, ServerToClient(s), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    }
  }
  co_await asio::this_coro::reset_cancellation_state();
  if (s->upstream_write_error && !s->cut) {
    RecordFailure(*s, "write to server", *s->upstream_write_error);
  }
  if (s->cut) {
    t.AddEvent(EntryKind::kLocalClosed, "shutdown: grace expired");
    s->Note("shutdown");
  }
  if (s->upstream) co_await s->upstream->Close(In(kCloseDeadline));
  co_await s->client->Close(In(kCloseDeadline));
  s->slot.Release();
  Finish(*s);
  sessions.erase(s->number);
  slot_free.Set();
  if (stopping && sessions.empty() && grace_timer) grace_timer->cancel();
}

// Reads for the session: the deadline is the idle timeout counted from the
// last byte either way (a client waiting for a slow reply is not idle),
// capped by the session's end.
asio::awaitable<absl::StatusOr<std::size_t>> RecordProxy::Impl::Read(Session& s, Transport& from,
                                                                     char* buf) {
  for (;;) {
    const Deadline idle_end = s.last_activity + options.idle_timeout;
    absl::StatusOr<std::size_t> n =
        co_await from.ReadSome(buf, kRelayChunk, std::min(idle_end, s.end));
    if (n.ok()) {
      if (*n > 0) s.last_activity = Clock::now();
      co_return n;
    }
    // A cancelled read says DeadlineExceeded too (ErrorToStatus): stop.
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return n;
    if (n.status().code() != absl::StatusCode::kDeadlineExceeded) co_return n;
    const Deadline now = Clock::now();
    if (now >= s.end) co_return absl::DeadlineExceededError("session timeout");
    if (now >= s.last_activity + options.idle_timeout) {
      co_return absl::DeadlineExceededError("idle timeout");
    }
  }
}

void RecordProxy::Impl::RecordFailure(Session& s, std::string_view what,
                                      const absl::Status& status) {
  if (s.cut) return;  // the shutdown, not the peer: RunSession says so
  if (absl::IsUnavailable(status) && what.substr(0, 10) == "read from ") {
    // A reset (many clients close so after QUIT): that side closed. In a
    // recording the client is the local side (docs/transcripts.md).
    const std::string_view side = what.substr(10);
    s.transcript.AddEvent(
        side.substr(0, 6) == "client" ? EntryKind::kLocalClosed : EntryKind::kPeerClosed,
        std::string(side) + ": " + Message(status));
    return;
  }
  const bool timeout = status.code() == absl::StatusCode::kDeadlineExceeded;
  s.transcript.AddEvent(timeout ? EntryKind::kTimeout : EntryKind::kError,
                        std::string(what) + ": " + Message(status));
  s.Note(timeout ? "timeout" : "error");
}

asio::awaitable<void> RecordProxy::Impl::ClientToServer(std::shared_ptr<Session> s) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const std::unique_ptr<char[]> buf(new char[kRelayChunk]);  // not zeroed: read into
  for (;;) {
    absl::StatusOr<std::size_t> n = co_await Read(*s, *s->client, buf.get());
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;
    if (!n.ok()) {
      RecordFailure(*s, "read from client", n.status());
      co_return;
    }
    if (*n == 0) {
      s->transcript.AddEvent(EntryKind::kLocalClosed, "client");
      // A client that never sent a byte (a dead connection from the
      // backlog, a probe) is owed nothing: its slot is freed at once.
      if (s->client_bytes == 0) {
        s->silent_close = true;
        co_return;
      }
      // The server's last words (221 after QUIT) are still awaited a while
      // when a complete line of the client's came after the server's last
      // bytes; otherwise only its close, which follows at once if at all
      // (a client that left in the middle of a line is owed nothing).
      co_await Linger(
          *s, s->reply_owed ? options.close_linger : std::min(options.close_linger, kUnowedLinger));
      co_return;
    }
    const std::string_view chunk(buf.get(), *n);
    if (s->recording) {
      s->follower.FeedClient(chunk);
      s->transcript.AddData(Direction::kClientToServer, chunk);
    }
    s->client_bytes += chunk.size();
    s->reply_owed = chunk.back() == '\n';
    absl::Status w = co_await s->upstream->Write(chunk, In(options.idle_timeout));
    if (!w.ok()) {
      // The server closed (a "421 4.5.6 Line too long" and close): its last
      // reply is still on its way to the s2c pump, which relays and records
      // it and then sees the close; the failure is noted after that.
      s->upstream_write_error = w;
      co_await Linger(*s, options.close_linger);
      co_return;
    }
    if (s->MustPark()) {
      s->c2s_parked = true;
      s->parked.Set();
      while (s->MustPark()) {
        co_await s->resume.Wait();
        cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none) co_return;
      }
      s->c2s_parked = false;
    }
  }
}

asio::awaitable<void> RecordProxy::Impl::ServerToClient(std::shared_ptr<Session> s) {
  co_await asio::this_coro::throw_if_cancelled(false);
  const std::unique_ptr<char[]> buf(new char[kRelayChunk]);  // not zeroed: read into
  for (;;) {
    absl::StatusOr<std::size_t> n = co_await Read(*s, *s->upstream, buf.get());
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return;
    if (!n.ok()) {
      RecordFailure(*s, "read from server", n.status());
      co_return;
    }
    if (*n == 0) {
      s->transcript.AddEvent(EntryKind::kPeerClosed, "server");
      co_return;
    }
    const std::string_view chunk(buf.get(), *n);
    s->reply_owed = false;
    if (s->recording) {
      const std::size_t tls_at = s->follower.FeedServer(chunk);
      if (tls_at == SessionFollower::npos || options.intercept_tls) {
        s->transcript.AddData(Direction::kServerToClient, chunk);
        s->upgrading = tls_at != SessionFollower::npos;
      } else {
        s->transcript.AddData(Direction::kServerToClient, chunk.substr(0, tls_at));
        s->transcript.AddEvent(EntryKind::kTlsOpaque, "not intercepted; use --intercept-tls");
        s->recording = false;
        s->Note("tls_opaque");
      }
    }
    absl::Status w = co_await s->client->Write(chunk, In(options.idle_timeout));
    if (!w.ok()) {
      RecordFailure(*s, "write to client", w);
      co_return;
    }
    if (s->upgrading && !co_await HandOverTls(*s)) co_return;
    if (s->c2s_parked && !s->MustPark()) s->resume.Set();
  }
}

// STARTTLS accepted and relayed (intercept_tls): once the c2s pump stopped
// reading the client, TLS with the server (as a client), then with the
// client (as a server, our certificate). False when either fails.
asio::awaitable<bool> RecordProxy::Impl::HandOverTls(Session& s) {
  while (!s.c2s_parked) {
    co_await s.parked.Wait();
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) co_return false;
  }
  const Deadline d = std::min(In(options.connect_timeout), s.end);
  absl::Status st = co_await s.upstream->StartTls(UpstreamTls(), d);
  if (!st.ok()) {
    RecordFailure(s, "STARTTLS with the server", st);
    co_return false;
  }
  st = co_await s.client->StartTls(ClientSideTls(), d);
  if (!st.ok()) {
    RecordFailure(s, "STARTTLS with the client", st);
    co_return false;
  }
  s.last_activity = Clock::now();
  if (std::optional<harness::TlsInfo> info = s.upstream->tls()) s.transcript.AddTls(*info);
  s.Note("tls");
  s.follower.RestartAfterTls();
  s.upgrading = false;
  co_return true;
}

void RecordProxy::Impl::Finish(Session& s) {
  harness::Transcript& t = s.transcript;
  t.meta().ended_at = harness::Iso8601Micros(UnixMicrosNow());
  SessionSummary sum;
  sum.number = s.number;
  sum.client = t.meta().client;
  sum.duration = std::chrono::microseconds(t.NowUs());
  sum.commands = s.follower.commands();
  sum.c2s_bytes = t.total_bytes(Direction::kClientToServer);
  sum.s2c_bytes = t.total_bytes(Direction::kServerToClient);
  if (!options.keep_secrets && !s.follower.secrets().empty()) {
    t.RedactStreams(s.follower.secrets());
    s.Note("redacted");
  }
  if (t.truncated()) s.Note("truncated");
  sum.notes = s.notes;
  std::string path;
  if (!options.keep_secrets && s.follower.secret_lost()) {
    sum.not_saved_reason = "an AUTH response too long to redact";
  } else if (s.silent_close && !Has(s.notes, "error")) {
    sum.not_saved_reason = "the client closed without sending a byte";
  } else {
    path = (fs::path(options.out_dir) / SessionFileName(s.number)).string();
  }
  // Each session reports its own write error (the proxy goes on).
  writer
      ->Submit(std::move(path), std::move(t),
               [this, sum](const harness::WriteOutcome& o) mutable {
                 switch (o.result) {
                   case harness::WriteOutcome::Result::kWritten:
                     sum.file = o.path;
                     break;
                   case harness::WriteOutcome::Result::kNoPath:
                     break;  // not_saved_reason says why
                   case harness::WriteOutcome::Result::kOutFull:
                     sum.not_saved_reason = "--max_out_bytes reached";
                     break;
                   case harness::WriteOutcome::Result::kFailed:
                     sum.not_saved_reason = Message(o.status);
                     break;
                 }
                 if (options.on_session) options.on_session(sum);
               })
      .IgnoreError();
}

// --- RecordProxy ---------------------------------------------------------------

RecordProxy::RecordProxy(RecordOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RecordProxy::~RecordProxy() { Stop(); }

absl::StatusOr<std::uint16_t> RecordProxy::Bind() { return impl_->Bind(); }

absl::Status RecordProxy::Run(bool stop_on_signals) {
  if (!impl_->bound) {
    absl::StatusOr<std::uint16_t> port = impl_->Bind();
    if (!port.ok()) return port.status();
  }
  if (stop_on_signals) {
    harness::StopOnSignals(impl_->io, impl_->signals, [impl = impl_.get()] { impl->BeginStop(); });
  }
  if (impl_->stop_requested) asio::post(impl_->io, [impl = impl_.get()] { impl->BeginStop(); });
  impl_->RunLoop();
  impl_->writer->Finish().IgnoreError();  // every session file written before Run returns
  return absl::OkStatus();
}

absl::StatusOr<std::uint16_t> RecordProxy::Start() {
  absl::StatusOr<std::uint16_t> port = impl_->Bind();
  if (!port.ok()) return port;
  impl_->thread = std::thread([this] { (void)Run(false); });
  return port;
}

void RecordProxy::RequestStop() {
  if (impl_->stop_requested.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->BeginStop(); });
}

void RecordProxy::Stop() {
  RequestStop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

RecordStats RecordProxy::stats() const {
  const harness::SessionWriter* w = impl_->writer.get();
  if (w == nullptr) return {};
  return RecordStats{w->completed(), w->written(), w->out_bytes(), impl_->refused.load()};
}

}  // namespace smtp::record
