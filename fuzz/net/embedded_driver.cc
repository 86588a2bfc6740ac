#include "fuzz/net/embedded_driver.h"

#include <deque>
#include <string_view>

#include "parser/reply.h"

namespace smtp::fuzz {
namespace {

class Run {
 public:
  Run(smtp_netfuzz_embedded::Server& server, bool wire)
      : conn_(server.Open()), lmtp_(server.lmtp()), keep_wire_(wire) {}

  SessionResult Go(const SessionInput& input) {
    ClientMachine m(input, lmtp_);
    conn_->Start();
    Collect();
    for (;;) {
      // What the server said that nobody has asked for yet is judged before
      // anything more is sent (the in-process driver sees it all).
      while (m.between_groups() && !replies_.empty()) Read(m);
      // A close is noticed before the next write too (as over a
      // connection): right after a goodbye it was announced.
      if (m.between_groups() && closed()) m.OnClosed();
      const Action a = m.Next();
      if (a.kind == ActionKind::kDone) break;
      switch (a.kind) {
        case ActionKind::kWrite:
          Write(a.bytes);
          break;
        case ActionKind::kRead:
          Read(m);
          break;
        case ActionKind::kStartTls:
          if (conn_->action() == smtp_netfuzz_embedded::Action::kStartTls) {
            conn_->OnTlsStarted();
            Collect();
            m.OnTlsResult(true);
          } else {
            m.OnTlsResult(false);
          }
          break;
        case ActionKind::kDone:
          break;
      }
    }
    if (!closed()) conn_->OnPeerClosed();
    result_.verdict = m.verdict();
    result_.defence = m.defence();
    if (!result_.verdict.ok() && conn_->action() == smtp_netfuzz_embedded::Action::kAbort) {
      result_.verdict.cause = std::string(conn_->abort_reason());
    }
    result_.replies = m.replies();
    result_.depth = m.depth();
    result_.known = m.expectations_known();
    result_.end_state = std::string(conn_->state_name());
    return std::move(result_);
  }

 private:
  bool closed() const {
    const auto a = conn_->action();
    return a == smtp_netfuzz_embedded::Action::kClose || a == smtp_netfuzz_embedded::Action::kAbort;
  }

  void Keep(bool from_client, std::string_view bytes) {
    if (!keep_wire_ || bytes.empty()) return;
    if (wire_bytes_ + bytes.size() > kMaxWireBytes) {
      result_.wire_truncated = true;
      return;
    }
    wire_bytes_ += bytes.size();
    AppendWire(result_.wire, from_client, bytes);
  }

  // Moves the server's replies into our queue, one string per reply.
  void Collect() {
    const std::string_view out = conn_->output();
    std::size_t start = 0;
    for (const std::size_t end : conn_->reply_ends()) {
      replies_.emplace_back(out.substr(start, end - start));
      start = end;
    }
    result_.bytes_received += out.size();
    Keep(false, out);
    conn_->ClearOutput();
  }

  void Write(std::string_view bytes) {
    result_.bytes_sent += bytes.size();
    if (closed()) return;  // the peer is gone: the bytes go nowhere
    Keep(true, bytes);
    while (!bytes.empty() && !closed()) {
      const std::size_t n = conn_->Feed(bytes);
      bytes.remove_prefix(n);
      Collect();
      // An accepted STARTTLS discards what follows (RFC 3207 §5).
      if (conn_->action() == smtp_netfuzz_embedded::Action::kStartTls) break;
      if (n == 0 && conn_->action() == smtp_netfuzz_embedded::Action::kNone &&
          conn_->output().empty()) {
        break;  // no progress possible (cannot happen; be safe)
      }
    }
  }

  void Read(ClientMachine& m) {
    if (replies_.empty()) {
      if (closed()) {
        m.OnClosed();
      } else {
        m.OnTimeout();
      }
      return;
    }
    const std::string reply = std::move(replies_.front());
    replies_.pop_front();
    auto parsed = ParseReply(reply);
    if (parsed.ok()) {
      m.OnReply(parsed.value());
    } else {
      m.OnBadReply(parsed.error().offset, parsed.error().reason);
    }
  }

  std::unique_ptr<smtp_netfuzz_embedded::Connection> conn_;
  bool lmtp_;
  bool keep_wire_;
  std::size_t wire_bytes_ = 0;
  std::deque<std::string> replies_;
  SessionResult result_;
};

}  // namespace

void AppendWire(std::vector<WireChunk>& wire, bool from_client, std::string_view bytes) {
  if (!wire.empty() && wire.back().from_client == from_client) {
    wire.back().bytes.append(bytes);
  } else {
    wire.push_back({from_client, std::string(bytes)});
  }
}

SessionResult RunEmbedded(smtp_netfuzz_embedded::Server& server, const SessionInput& input,
                          bool wire) {
  return Run(server, wire).Go(input);
}

}  // namespace smtp::fuzz
