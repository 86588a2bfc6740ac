#include "harness/client/scripted_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"
#include "harness/socket_transport.h"
#include "results/absl_compat.h"

namespace smtp::client {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using harness::Direction;
using harness::EntryKind;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kSlice = std::chrono::milliseconds(50);
// A read of bytes that may be waiting (poll() says so, or TLS, where it
// cannot tell): it costs this much when there are none.
constexpr auto kWaitingRead = std::chrono::milliseconds(30);

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

struct ScriptedServer::Impl {
  const ServerScript& script;
  SessionSettings settings;
  ServerRunOptions options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> client_ended{false};
  std::atomic<std::int64_t> ended_at_ns{0};
  SteadyClock::time_point deadline;
  SessionRecord record;
  harness::Transcript transcript;

  Impl(const ServerScript& s, SessionSettings st, ServerRunOptions o)
      : script(s), settings(std::move(st)), options(std::move(o)) {}

  // Whether to stop serving now: the deadline, or the client gone and its
  // grace over.
  bool Over() const {
    if (SteadyClock::now() >= deadline) return true;
    if (!client_ended.load()) return false;
    const SteadyClock::time_point ended{SteadyClock::duration(ended_at_ns.load())};
    return SteadyClock::now() >= ended + options.grace;
  }

  // Reads what is waiting now (bytes the client sent while we were still
  // writing); "" when nothing, sets *eof on EOF.
  asio::awaitable<std::string> ReadWaiting(harness::Transport& t, bool* eof) {
    std::string got;
    // Over TLS, poll() and SSL_pending do not see records Asio's stream has
    // already taken off the socket: try one read there whatever they say.
    bool try_anyway = t.tls().has_value();
    while (!*eof && (t.ReadReady() || try_anyway) && got.size() < options.max_read) {
      try_anyway = false;
      std::string buf(options.max_read, '\0');
      absl::StatusOr<std::size_t> n =
          co_await t.ReadSome(buf.data(), buf.size(), harness::In(kWaitingRead));
      if (!n.ok()) {
        if (n.status().code() != absl::StatusCode::kDeadlineExceeded) *eof = true;
        break;
      }
      if (*n == 0) {
        *eof = true;
        break;
      }
      transcript.AddData(Direction::kClientToServer, std::string_view(buf.data(), *n));
      got.append(buf.data(), *n);
    }
    co_return got;
  }

  // Writes one send action with its pauses; bytes that arrive in a pause
  // go to *early (and are reported to the session).
  asio::awaitable<bool> Send(harness::Transport& t, ScriptedSession& s, const ServerAction& a,
                             std::string* early, bool* eof) {
    auto pause = [&](std::chrono::milliseconds d) -> asio::awaitable<void> {
      const SteadyClock::time_point until = SteadyClock::now() + d;
      while (SteadyClock::now() < until && !Over()) {
        co_await Sleep(std::min<std::chrono::milliseconds>(
            kSlice,
            std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()) +
                std::chrono::milliseconds(1)));
      }
      const std::string got = co_await ReadWaiting(t, eof);
      if (!got.empty()) {
        s.EarlyBytes(a.answers);
        *early += got;
      }
    };
    if (a.delay.count() > 0) co_await pause(a.delay);
    const std::size_t piece = a.chunk == 0 ? a.bytes.size() : a.chunk;
    for (std::size_t off = 0; off < a.bytes.size(); off += piece) {
      if (off > 0 && a.chunk_delay.count() > 0) co_await pause(a.chunk_delay);
      const std::string_view bytes = std::string_view(a.bytes).substr(off, piece);
      transcript.AddData(Direction::kServerToClient, bytes);
      absl::Status st = co_await t.Write(bytes, harness::In(std::chrono::seconds(5)));
      if (!st.ok()) {
        transcript.AddEvent(EntryKind::kError, absl::StrCat("write: ", Message(st)));
        co_return false;
      }
    }
    co_return true;
  }

  asio::awaitable<void> Serve(std::unique_ptr<harness::Transport> t) {
    ScriptedSession session(script, settings, &record);
    transcript.AddEvent(EntryKind::kConnect, t->peer());
    bool eof = false, stall = false;
    std::string pending;  // client bytes read but not fed yet
    std::vector<ServerAction> actions = session.Greet();
    std::string buf(options.max_read, '\0');
    while (true) {
      // Perform what the session asked for, in order.
      for (std::size_t i = 0; i < actions.size(); ++i) {
        const ServerAction& a = actions[i];
        if (a.kind == ServerAction::Kind::kSend) {
          if (!co_await Send(*t, session, a, &pending, &eof)) co_return;
        } else if (a.kind == ServerAction::Kind::kClose) {
          transcript.AddEvent(EntryKind::kLocalClosed, "the script closes");
          co_await t->Close(harness::In(std::chrono::seconds(1)));
          co_return;
        } else if (a.kind == ServerAction::Kind::kStall) {
          transcript.AddNote("the script stalls: no more replies");
          stall = true;
        } else if (a.kind == ServerAction::Kind::kStartTls) {
          harness::TlsOptions tls;
          tls.role = harness::TlsOptions::Role::kServer;
          tls.cert_pem = options.cert.cert_pem;
          tls.key_pem = options.cert.key_pem;
          pending.clear();  // plaintext bytes after STARTTLS: judged and dropped
          absl::Status st = co_await t->StartTls(tls, harness::In(std::chrono::seconds(10)));
          if (!st.ok()) {
            ++record.tls_failures;
            transcript.AddEvent(EntryKind::kError, absl::StrCat("TLS handshake: ", Message(st)));
            co_await t->Close(harness::In(std::chrono::seconds(1)));
            co_return;
          }
          if (std::optional<harness::TlsInfo> info = t->tls()) transcript.AddTls(*info);
          session.TlsEstablished();
        }
      }
      actions.clear();
      if (!pending.empty()) {
        const std::string feed = std::move(pending);
        pending.clear();
        if (!stall) actions = session.Feed(feed);
        continue;
      }
      if (eof) break;
      if (Over()) {
        transcript.AddEvent(EntryKind::kLocalClosed,
                            client_ended.load() ? "the client process ended" : "deadline");
        co_await t->Close(harness::In(std::chrono::seconds(1)));
        co_return;
      }
      absl::StatusOr<std::size_t> n =
          co_await t->ReadSome(buf.data(), buf.size(), harness::In(kSlice));
      if (!n.ok()) {
        if (n.status().code() == absl::StatusCode::kDeadlineExceeded) continue;
        transcript.AddEvent(EntryKind::kPeerClosed, Message(n.status()));
        co_return;
      }
      if (*n == 0) break;
      transcript.AddData(Direction::kClientToServer, std::string_view(buf.data(), *n));
      // Everything the client has sent so far is one read: a command that
      // came with the previous one (in the next TLS record, say) was sent
      // before its reply.
      std::string got(buf.data(), *n);
      got += co_await ReadWaiting(*t, &eof);
      if (!stall) actions = session.Feed(got);
    }
    transcript.AddEvent(EntryKind::kPeerClosed, "the client closed");
    co_await t->Close(harness::In(std::chrono::seconds(1)));
  }

  asio::awaitable<void> AcceptLoop() {
    acceptor.non_blocking(true);
    int served = 0;
    while (served < script.max_connections && !Over() && !client_ended.load()) {
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        co_await Sleep(std::chrono::milliseconds(10));
        continue;
      }
      if (ec) {
        transcript.AddEvent(EntryKind::kError, absl::StrCat("accept: ", ec.message()));
        break;
      }
      socket.non_blocking(false);
      ++served;
      if (served > 1) transcript.AddNote(absl::StrCat("connection ", served));
      co_await Serve(harness::WrapTcpSocket(std::move(socket)));
    }
    // A client still connecting after the last one served is refused by the
    // closed listener.
    acceptor.close();
  }
};

ScriptedServer::ScriptedServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ScriptedServer::~ScriptedServer() = default;

absl::StatusOr<std::unique_ptr<ScriptedServer>> ScriptedServer::Open(const ServerScript& script,
                                                                     SessionSettings settings,
                                                                     ServerRunOptions options) {
  auto impl = std::make_unique<Impl>(script, std::move(settings), std::move(options));
  boost::system::error_code ec;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("listen on 127.0.0.1: ", ec.message()));
  impl->transcript.meta().source = "client";
  impl->transcript.meta().server =
      absl::StrCat("127.0.0.1:", impl->acceptor.local_endpoint().port());
  return std::unique_ptr<ScriptedServer>(new ScriptedServer(std::move(impl)));
}

std::uint16_t ScriptedServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void ScriptedServer::Run(std::chrono::steady_clock::time_point deadline) {
  impl_->deadline = deadline;
  impl_->transcript.Restart();
  asio::co_spawn(impl_->io, impl_->AcceptLoop(), asio::detached);
  impl_->io.run();
}

void ScriptedServer::ClientEnded() {
  impl_->ended_at_ns.store(SteadyClock::now().time_since_epoch().count());
  impl_->client_ended.store(true);
}

const SessionRecord& ScriptedServer::record() const { return impl_->record; }
harness::Transcript ScriptedServer::TakeTranscript() { return std::move(impl_->transcript); }

}  // namespace smtp::client
