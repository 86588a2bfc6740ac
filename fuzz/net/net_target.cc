#include "fuzz/net/net_target.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "fuzz/net/client_machine.h"
#include "harness/session.h"
#include "results/absl_compat.h"

namespace smtp::fuzz {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Runs `body` (a coroutine factory) to completion on `io`.
template <typename F>
void RunToCompletion(asio::io_context& io, F body) {
  io.restart();
  asio::co_spawn(io, body(), asio::detached);
  io.run();
}

class NetTarget : public SessionTarget {
 public:
  NetTarget(harness::Target target, NetTargetOptions options)
      : target_(std::move(target)), options_(options) {}

  SessionResult Run(const SessionInput& input, bool wire) override {
    SessionResult result;
    const harness::Transcript transcript = RunOnce(input, &result);
    if (wire) {
      for (const harness::Entry& e : transcript.entries()) {
        if (e.is_data()) {
          AppendWire(result.wire, e.kind == harness::EntryKind::kClientToServer, e.data);
        }
      }
      result.wire_truncated = transcript.omitted_bytes() > 0;
    }
    return result;
  }

  harness::Transcript Record(const SessionInput& input) override {
    SessionResult result;
    harness::Transcript transcript = RunOnce(input, &result);
    transcript.AddNote("oracle " + std::string(VerdictName(result.verdict.kind)) + ": " +
                       result.verdict.detail);
    return transcript;
  }

  std::string Label() const override { return target_.ToString(); }

  absl::Status Alive() override { return Probe(target_, options_.reply_timeout * 2); }

 private:
  // One paced session: its result, and its transcript as the engine kept it.
  harness::Transcript RunOnce(const SessionInput& input, SessionResult* result) {
    Pace();
    harness::Transcript transcript;
    RunToCompletion(io_,
                    [&]() -> asio::awaitable<void> { co_await Drive(input, result, &transcript); });
    return transcript;
  }

  // At most max_connections_per_s sessions a second (a target is hammered,
  // not flooded).
  void Pace() {
    if (options_.max_connections_per_s <= 0) return;
    const auto gap = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1.0 / options_.max_connections_per_s));
    const Clock::time_point now = Clock::now();
    if (next_ > now) std::this_thread::sleep_until(next_);
    next_ = std::max(now, next_) + gap;
  }

  asio::awaitable<void> Drive(const SessionInput& input, SessionResult* result,
                              harness::Transcript* transcript) {
    const harness::Deadline end = harness::In(options_.session_timeout);
    harness::Session s;
    ClientMachine m(input);
    // Once a raw step made the count unknown, a reply that does not come is
    // not judged (the server may rightly wait for input): waiting the full
    // reply deadline would only slow the run.
    const auto reply_deadline = [&] {
      return std::min(
          end, harness::In(m.expectations_known() ? options_.reply_timeout
                                                  : std::min(options_.reply_timeout,
                                                             options_.unjudged_reply_timeout)));
    };
    if (absl::Status st = co_await s.Connect(target_, reply_deadline()); !st.ok()) {
      // Refused or unreachable: no session. The fuzzer's liveness check
      // reports a target that stays down.
      result->verdict.kind = VerdictKind::kDropped;
      result->verdict.detail = "cannot connect: " + Message(st);
      result->connect_failed = true;
      *transcript = s.TakeTranscript();
      co_return;
    }
    for (Action a = m.Next(); a.kind != ActionKind::kDone; a = m.Next()) {
      switch (a.kind) {
        case ActionKind::kWrite: {
          result->bytes_sent += a.bytes.size();
          const absl::Status st = co_await s.Send(a.bytes, reply_deadline());
          if (!st.ok()) m.OnClosed();  // the peer is gone (reset, broken pipe)
          break;
        }
        case ActionKind::kRead: {
          harness::ReplyOutcome o = co_await s.ReadReply(reply_deadline());
          switch (o.status) {
            case harness::ReadStatus::kReply:
              m.OnReply(o.reply);
              break;
            case harness::ReadStatus::kTimeout:
              m.OnTimeout();
              break;
            case harness::ReadStatus::kPeerClosed:
            case harness::ReadStatus::kError:
              m.OnClosed();
              break;
            case harness::ReadStatus::kMalformed:
              m.OnBadReply(o.error.offset, o.error.reason);
              break;
          }
          break;
        }
        case ActionKind::kStartTls: {
          auto tls = co_await s.StartTls(reply_deadline());
          m.OnTlsResult(tls.ok());
          break;
        }
        case ActionKind::kDone:
          break;
      }
    }
    const absl::Status closed = co_await s.Close(harness::In(options_.reply_timeout));
    result->verdict = m.verdict();
    JudgeProcess(s, closed, &result->verdict);
    result->replies = m.replies();
    result->depth = m.depth();
    result->known = m.expectations_known();
    *transcript = s.TakeTranscript();
    result->bytes_received = transcript->total_bytes(harness::Direction::kServerToClient);
  }

  // exec: targets: the process itself is an oracle. Death by a signal we did
  // not send (Close sends SIGKILL only to a process that outlives its
  // deadline, and then reports an error), or a
  // sanitizer report on stderr, is a finding whatever the wire showed.
  static void JudgeProcess(harness::Session& s, const absl::Status& closed, Verdict* v) {
    harness::Transport* t = s.transport();
    if (t == nullptr) return;
    const std::optional<harness::ProcessStatus> p = t->process();
    if (!p || p->running) return;
    const auto take = [&](VerdictKind kind, std::string what) {
      if (v->kind == VerdictKind::kOk) v->verb = Verb::kUnknown;  // no step to blame
      v->detail = v->kind == VerdictKind::kOk ? what : what + "; " + v->detail;
      v->kind = kind;
    };
    for (const std::string_view marker :
         {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: MemorySanitizer",
          "WARNING: ThreadSanitizer", "runtime error:"}) {
      const std::size_t at = p->stderr_head.find(marker);
      if (at == std::string::npos) continue;
      const std::size_t start = p->stderr_head.rfind('\n', at);
      const std::size_t from = start == std::string::npos ? 0 : start + 1;
      const std::size_t end = p->stderr_head.find('\n', at);
      const std::size_t len = (end == std::string::npos ? p->stderr_head.size() : end) - from;
      take(VerdictKind::kSanitizer,
           "sanitizer report on stderr: " +
               p->stderr_head.substr(from, std::min<std::size_t>(len, 300)));
      return;
    }
    if (p->signal != 0 && (closed.ok() || p->signal != SIGKILL)) {
      take(VerdictKind::kCrashed, "the server process was killed by signal " +
                                      std::to_string(p->signal) + " (" + strsignal(p->signal) +
                                      ")");
    }
    // exec: runs `/bin/sh -c COMMAND`: the shell reports a child killed by
    // signal N as exit status 128 + N.
    if (p->exited && p->exit_code > 128 && p->exit_code < 128 + 65 &&
        p->exit_code - 128 != SIGKILL) {
      const int sig = p->exit_code - 128;
      take(VerdictKind::kCrashed, "the server process exited with status " +
                                      std::to_string(p->exit_code) + " (signal " +
                                      std::to_string(sig) + ", " + strsignal(sig) + ")");
    }
  }

  harness::Target target_;
  NetTargetOptions options_;
  asio::io_context io_;
  Clock::time_point next_ = Clock::now();
};

}  // namespace

std::unique_ptr<SessionTarget> MakeNetTarget(const harness::Target& target,
                                             const NetTargetOptions& options) {
  return std::make_unique<NetTarget>(target, options);
}

bool IsLoopbackTarget(const harness::Target& target) {
  if (target.kind == harness::Target::Kind::kExec) return true;
  const std::string& h = target.host;
  return h == "localhost" || h == "::1" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

absl::Status Probe(const harness::Target& target, std::chrono::milliseconds timeout) {
  absl::Status result = absl::OkStatus();
  asio::io_context io;
  RunToCompletion(io, [&]() -> asio::awaitable<void> {
    const harness::Deadline end = harness::In(timeout);
    harness::Session s;
    if (absl::Status st = co_await s.Connect(target, end); !st.ok()) {
      result =
          absl::UnavailableError("cannot connect to " + target.ToString() + ": " + Message(st));
      co_return;
    }
    harness::ReplyOutcome o = co_await s.ReadReply(end);
    if (!o.ok()) {
      result = absl::UnavailableError(target.ToString() + " sent no greeting (" +
                                      std::string(harness::ReadStatusName(o.status)) + ")");
    } else if (o.reply.code != 220) {
      result = absl::UnavailableError(target.ToString() + " greets with " +
                                      std::to_string(o.reply.code) + ", not 220");
    } else if (absl::Status st = co_await s.Send("QUIT\r\n", end); st.ok()) {
      co_await s.ReadReply(end);
    }
    co_await s.Close(end);
  });
  return result;
}

}  // namespace smtp::fuzz
