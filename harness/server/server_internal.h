// Private to the server's Asio side (server.cc, server_connection.cc): the
// state behind Server (Server::Impl: the listener, the limits, the stop) and
// one client connection (Connection: a coroutine driving a Session). Not part
// of the server's API; include server.h instead.
//
// Threading: one io_context run by one thread. Everything here that is not
// an atomic is touched on that thread only; Stop()/RequestStop() post to it.
#ifndef SMTP_HARNESS_SERVER_SERVER_INTERNAL_H_
#define SMTP_HARNESS_SERVER_SERVER_INTERNAL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include "harness/server/server.h"
#include "harness/server/session.h"
#include "net/connection_limiter.h"

namespace smtp::server {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

class Connection;

class Server::Impl {
 public:
  Impl(ServerConfig c, std::shared_ptr<MessageSink> s)
      : config(std::move(c)),
        sink(std::move(s)),
        limiter({config.max_connections, config.max_connections_per_ip}),
        grace_timer(io) {}

  absl::StatusOr<Endpoint> Bind();
  void RunLoop();
  void BeginStop();  // on the io thread
  asio::awaitable<void> AcceptLoop();
  void Register(Connection* c);
  void Unregister(Connection* c);
  void Record(SessionRecord r) {
    std::lock_guard lock(recent_mu);
    if (recent.size() == kRecentSessions) recent.pop_front();
    recent.push_back(std::move(r));
  }

  ServerConfig config;
  std::shared_ptr<MessageSink> sink;
  // Total and per client address (net/connection_limiter.h); io thread only.
  // Before `io`: coroutine frames destroyed with `io` may still hold slots.
  net::ConnectionLimiter limiter;
  asio::io_context io{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<ssl::context> tls;
  std::optional<asio::signal_set> signals;
  asio::steady_timer grace_timer;
  std::thread thread;
  Endpoint endpoint;
  bool bound = false;
  std::atomic<bool> stop_requested{false};

  // io thread only.
  bool stopping = false;
  std::unordered_map<std::uint64_t, Connection*> conns;
  std::uint64_t next_id = 0;
  std::size_t rejecters = 0;

  std::atomic<std::uint64_t> accepted{0}, rejected{0}, messages{0}, timeouts{0}, tls_ok{0},
      tls_failed{0}, peak_output{0}, active{0};

  mutable std::mutex recent_mu;
  std::deque<SessionRecord> recent;

  std::mutex run_mu;
  std::condition_variable run_cv;
  bool running = false;
  bool finished = false;
};

// One client connection: a coroutine that moves bytes between the socket and
// its Session, under deadlines.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `slot`: the connection's place under the limits (its client's address);
  // `client`: its endpoint; `local_address`: the address it connected to.
  Connection(Server::Impl& server, tcp::socket sock, net::ConnectionLimiter::Slot slot,
             std::uint64_t id, std::string client, std::string local_address);

  const std::string& ip() const { return slot_.address(); }
  void ReleaseSlot() { slot_.Release(); }
  std::uint64_t id() const { return session_.id(); }

  asio::awaitable<void> Run();

  // Graceful stop: a session waiting for input (or tarpitting) is woken up
  // and answers 421; a write in progress is left to finish.
  void Interrupt() {
    interrupted_ = true;
    delay_.cancel();
    if (!writing_) {
      error_code ec;
      sock_.cancel(ec);
    }
  }
  // End of the grace period: cut the connection.
  void ForceClose() {
    interrupted_ = true;
    delay_.cancel();
    error_code ec;
    sock_.close(ec);
  }

 private:
  // The watchdog cancels the socket's operations when `deadline` passes.
  void Arm(Clock::time_point deadline) {
    const std::uint64_t gen = ++gen_;
    timed_out_ = false;
    watchdog_.expires_at(deadline);
    watchdog_.async_wait([self = shared_from_this(), gen](error_code ec) {
      if (ec || gen != self->gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->sock_.cancel(ignored);
    });
  }
  void Disarm() {
    ++gen_;
    watchdog_.cancel();
  }

  asio::awaitable<std::size_t> Read(Clock::time_point deadline, error_code& ec);
  asio::awaitable<bool> Write(std::string_view bytes);
  asio::awaitable<bool> Flush();
  asio::awaitable<bool> Handshake();
  asio::awaitable<void> Close();
  // Listens for ServerConfig::pregreet_delay before the greeting; starts
  // the session (refused if the client talked). Returns the early input.
  asio::awaitable<std::size_t> Greet();

  Server::Impl& server_;
  tcp::socket sock_;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer watchdog_;
  asio::steady_timer delay_;
  std::uint64_t gen_ = 0;
  bool timed_out_ = false;
  bool interrupted_ = false;
  bool writing_ = false;
  net::ConnectionLimiter::Slot slot_;
  Session session_;
  std::vector<char> buf_;
};

// Runs `c` to its end (server_connection.cc); the frame owns the connection
// (a parameter is copied into the frame; a member coroutine started lazily
// would not keep its object alive).
asio::awaitable<void> RunConnection(std::shared_ptr<Connection> c);

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_SERVER_INTERNAL_H_
