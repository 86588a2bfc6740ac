// Compiled into smtp_server_cov (fuzz/net/CMakeLists.txt) with the
// server's sans-I/O sources, `smtp` renamed to smtp_cov and, with g++,
// coverage on. Nothing here may name `smtp` types in its interface.
#include "fuzz/net/embedded_server.h"

#include <utility>

#include "harness/server/config.h"
#include "harness/server/session.h"
#include "harness/server/sink.h"

namespace smtp_netfuzz_embedded {

struct Server::Impl {
  smtp::server::ServerConfig config;
  std::unique_ptr<smtp::server::MessageSink> sink;
  std::uint64_t next_id = 1;
};

struct Connection::Impl {
  explicit Impl(const smtp::server::ServerConfig& config, smtp::server::MessageSink* sink,
                smtp::server::SessionInfo info)
      : session(config, sink, std::move(info)) {}
  smtp::server::Session session;
};

std::unique_ptr<Server> Server::Create(const Options& options, std::string* error) {
  const auto profile = smtp::server::ParseProfile(options.profile);
  if (!profile) {
    if (error != nullptr) *error = "unknown server profile '" + options.profile + "'";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  impl->config.profile = *profile;
  impl->config.lmtp = options.lmtp;
  impl->config.pregreet_delay = {};
  impl->config.max_connections_per_ip = 0;
  impl->config.trace_header = false;
  // AUTH is offered (after STARTTLS, which "succeeds" in process), so the
  // SASL states are reachable; the credentials are the shipped test ones.
  impl->config.credentials = {{"test", "secret"}};  // as harness/run/embedded_target.h
  auto sink = smtp::server::MakeSink(smtp::server::SinkConfig{});  // kDiscard
  if (!sink.ok()) {
    if (error != nullptr) *error = std::string(sink.status().message());
    return nullptr;
  }
  impl->sink = *std::move(sink);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

std::unique_ptr<Connection> Server::Open() {
  smtp::server::SessionInfo info;
  info.id = impl_->next_id++;
  info.client = "127.0.0.1:1";
  info.tls_available = true;
  info.local_address = "127.0.0.1";
  return std::unique_ptr<Connection>(new Connection(
      std::make_unique<Connection::Impl>(impl_->config, impl_->sink.get(), std::move(info))));
}

std::uint64_t Server::messages_accepted() const { return impl_->sink->committed(); }

bool Server::lmtp() const { return impl_->config.lmtp; }

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

void Connection::Start() { impl_->session.Start(); }
std::size_t Connection::Feed(std::string_view in) { return impl_->session.Feed(in); }
std::string_view Connection::output() const { return impl_->session.output(); }
std::span<const std::size_t> Connection::reply_ends() const { return impl_->session.reply_ends(); }
void Connection::ClearOutput() { impl_->session.ClearOutput(); }
void Connection::OnTlsStarted() { impl_->session.OnTlsStarted(); }
void Connection::OnPeerClosed() { impl_->session.OnPeerClosed(); }

Action Connection::action() const {
  switch (impl_->session.action()) {
    case smtp::server::SessionAction::kNone:
      return Action::kNone;
    case smtp::server::SessionAction::kStartTls:
      return Action::kStartTls;
    case smtp::server::SessionAction::kClose:
      return Action::kClose;
    case smtp::server::SessionAction::kAbort:
      return Action::kAbort;
  }
  return Action::kAbort;
}

std::string_view Connection::abort_reason() const { return impl_->session.abort_reason(); }

std::string_view Connection::state_name() const {
  return smtp::server::SessionStateName(impl_->session.state());
}

bool Connection::awaiting_command() const {
  using smtp::server::SessionState;
  switch (impl_->session.state()) {
    case SessionState::kInit:
    case SessionState::kReady:
    case SessionState::kMail:
    case SessionState::kRcpt:
      return true;
    default:
      return false;
  }
}

}  // namespace smtp_netfuzz_embedded
