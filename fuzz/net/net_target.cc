#include "fuzz/net/net_target.h"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "fuzz/net/client_machine.h"
#include "fuzz/net/liveness.h"
#include "fuzz/net/run_control.h"
#include "harness/session.h"
#include "results/absl_compat.h"

namespace smtp::fuzz {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// How long a look before each write waits for bytes already on their way,
// and how many replies it takes at most.
constexpr std::chrono::microseconds kPeek{50};
// RunCautiously: how long, after a 4xx / 5xx, a close may take to come
// before our next write.
constexpr std::chrono::microseconds kCautiousPeek{50'000};
constexpr int kMaxSettleReplies = 64;

std::string BucketSafe(std::string_view text);

// Runs `body` (a coroutine factory) to completion on `io`.
template <typename F>
void RunToCompletion(asio::io_context& io, F body) {
  io.restart();
  asio::co_spawn(io, body(), asio::detached);
  io.run();
}

class NetTarget : public SessionTarget {
 public:
  NetTarget(harness::Target target, NetTargetOptions options,
            std::unique_ptr<SpawnedServer> spawned)
      : target_(std::move(target)), options_(options), spawned_(std::move(spawned)) {}

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

  harness::Transcript Record(const SessionInput& input, Verdict* verdict) override {
    SessionResult result;
    harness::Transcript transcript = RunOnce(input, &result);
    *verdict = result.verdict;
    transcript.AddNote("oracle " + std::string(VerdictName(result.verdict.kind)) + ": " +
                       result.verdict.detail);
    return transcript;
  }

  std::string Label() const override { return target_.ToString(); }
  // Where sessions connect: the target, or the spawned server's current
  // incarnation (with a standby it alternates between two ports).
  const harness::Target& Where() const { return spawned_ ? spawned_->listen() : target_; }
  void set_run_deadline(Clock::time_point t) override { run_deadline_ = t; }
  bool started_by_us() const override {
    return spawned_ != nullptr || target_.kind == harness::Target::Kind::kExec;
  }

  std::optional<SessionResult> RunPatiently(const SessionInput& input) override {
    if (options_.patient_reply_timeout.count() == 0) return std::nullopt;
    const NetTargetOptions normal = options_;
    options_.reply_timeout = std::max(options_.reply_timeout, options_.patient_reply_timeout);
    options_.session_timeout = std::max(options_.session_timeout, 3 * options_.reply_timeout);
    // A greeting late beyond its deadline (a server busy with other clients)
    // may take as long as the whole patient session.
    options_.greeting_timeout = std::max(options_.greeting_timeout, options_.session_timeout);
    SessionResult result;
    patient_ = true;
    RunOnce(input, &result);
    patient_ = false;
    options_ = normal;
    return result;
  }

  std::optional<SessionResult> RunCautiously(const SessionInput& input) override {
    SessionResult result;
    cautious_ = true;
    RunOnce(input, &result);
    cautious_ = false;
    return result;
  }

  absl::Status Alive() override {
    DiedMeanwhile();
    if (!EnsureSpawned()) return absl::UnavailableError("the spawned server does not start");
    if (spawned_ != nullptr && std::exchange(last_hung_, false)) RestartIfStuck();
    // The greeting's own deadline: a server that greets late by design
    // (OpenSMTPD's DNS lookup) or under load is still alive.
    const auto deadline = std::max(options_.reply_timeout * 2, options_.greeting_timeout);
    absl::Status st = Probe(Where(), deadline);
    // A spawned server that died under the probe (an earlier session's late
    // crash, its core still being written when the check above looked) was
    // not unresponsive: its death is charged as one between sessions, and
    // the next incarnation is probed, as RunOnce does for a session.
    if (!st.ok() && DiedMeanwhile() && EnsureSpawned()) st = Probe(Where(), deadline);
    return st;
  }

  int restarts() const override { return spawned_ ? spawned_->restarts() : 0; }

  std::optional<DeathBetween> TakeDeathBetweenSessions() override {
    return std::exchange(death_between_, std::nullopt);
  }
  void set_linger(std::chrono::milliseconds linger) override { linger_ = linger; }

  void Shutdown() override {
    if (!spawned_) return;
    spawned_->Stop();
    std::fprintf(Console(),
                 "smtp-harness fuzz: the spawned server: %d restart%s, %d by a switch to the warm "
                 "standby, %.2f s waiting for a server to greet\n",
                 spawned_->restarts(), spawned_->restarts() == 1 ? "" : "s",
                 spawned_->standby_switches(), spawned_->start_wait_s());
  }

 private:
  // One paced session: its result, and its transcript as the engine kept it.
  harness::Transcript RunOnce(const SessionInput& input, SessionResult* result) {
    Pace();
    if (spawned_) NoteDeath(spawned_->Check());
    EnsureSpawned();
    if (spawned_ != nullptr && std::exchange(last_hung_, false)) RestartIfStuck();
    harness::Transcript transcript;
    const auto drive = [&] {
      *result = SessionResult{};
      RunToCompletion(
          io_, [&]() -> asio::awaitable<void> { co_await Drive(input, result, &transcript); });
    };
    drive();
    if (spawned_ != nullptr && result->replies.empty()) {
      // No greeting, or no connection: if the server died meanwhile, that
      // was an earlier session's doing (ours had not sent a byte). Start it
      // again and run this session once more.
      if (DiedMeanwhile() && EnsureSpawned()) drive();
    }
    if (spawned_) JudgeSpawned(result);
    last_hung_ = result->verdict.kind == VerdictKind::kHang;
    if (spawned_ != nullptr) last_input_ = input;
    return transcript;
  }

  // Whether the spawned server has died (and its death is noted: NoteDeath),
  // waiting up to 200 ms only when it is on its way out (its exit wakes the
  // wait): a session or probe that got no greeting may have met a death.
  bool DiedMeanwhile() {
    return spawned_ != nullptr &&
           NoteDeath(spawned_->Check(std::chrono::milliseconds(200), /*only_if_dying=*/true));
  }

  // After a session that hung: a spawned server that no longer greets (a
  // hang takes one that serves one connection at a time with it) is
  // killed and started again, so the run goes on and the next session
  // (a re-run, a minimizing step) meets a fresh server.
  void RestartIfStuck() {
    if (Probe(Where(), options_.reply_timeout).ok()) return;
    const absl::Status st = spawned_->Restart();
    if (++stuck_restarts_ <= 3 || stuck_restarts_ % 100 == 0) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: the spawned server stopped answering after a hang; "
                   "restarted it (%d)%s%s\n",
                   stuck_restarts_, st.ok() ? "" : ": ",
                   st.ok() ? "" : std::string(st.message()).c_str());
    }
  }

  // A death found outside a session's judgement: printed (the server is
  // restarted before the next session). Returns whether it had died.
  // A crash is kept for the fuzzer (TakeDeathBetweenSessions) with the
  // session before it, so that it becomes a finding or an unconfirmed hit
  // rather than a line on the console.
  bool NoteDeath(harness::ProcessStatus p) {
    if (p.running) return false;
    if (EndOfChargedReport(p)) return true;
    p.stderr_head = spawned_->Symbolize(std::move(p.stderr_head));
    Verdict v;
    JudgeProcess(p, /*should_stay_up=*/true, /*killed_by_us=*/false, &v);
    if (!v.ok()) AddFrame(&v);
    if (!v.ok() && last_input_ && !death_between_) {
      Verdict blamed = v;
      blamed.detail = "the server died between sessions, after this one ended: " + v.detail;
      death_between_ = DeathBetween{*std::move(last_input_), std::move(blamed)};
      last_input_.reset();
    }
    if (++deaths_between_ <= 3 || deaths_between_ % 100 == 0) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: the spawned server died between sessions (%d): %s\n",
                   deaths_between_, v.ok() ? "exited with status 0" : v.detail.c_str());
    }
    return true;
  }

  // A server whose sanitizer report a session was charged with while the
  // server still ran (the report was complete, the exit had not come yet)
  // then exits with the sanitizer's status (1): that is the end of the same
  // crash, not a death between sessions to blame on the session after it.
  bool EndOfChargedReport(const harness::ProcessStatus& p) {
    if (!charged_report_ || p.running) return false;
    charged_report_ = false;
    if (p.signal != 0 || (p.exited && p.exit_code > 128) ||
        p.stderr_head.find("Sanitizer") != std::string::npos ||
        p.stderr_head.find("runtime error:") != std::string::npos) {
      return false;
    }
    if (++ends_after_report_ <= 3) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: the spawned server exited (status %d) after the sanitizer "
                   "report already charged to the session that caused it; restarting it\n",
                   p.exit_code);
    }
    return true;
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
    const harness::Deadline end = std::min(harness::In(options_.session_timeout), run_deadline_);
    harness::Session s;
    ClientMachine m(input, target_.lmtp);
    // Once a raw step made the count unknown, the first reply after each
    // write is waited for as long as after a command (the wait ends when it
    // is parsed). The count of the rest is a guess (client_machine.h,
    // maybe-replies: a line taken as message text gets none), so after the
    // first one a reply that does not come within unjudged_reply_timeout
    // ends the wait: replies to one write come together. The same where the
    // server rightly waits for input (a 354 the count did not foresee).
    const auto reply_deadline = [&] {
      // The greeting may come late by design (OpenSMTPD looks the client
      // up in the DNS first, 5 s): it has its own, longer deadline.
      if (m.replies().empty()) {
        return std::min(end,
                        harness::In(std::max(options_.reply_timeout, options_.greeting_timeout)));
      }
      const bool full =
          m.expectations_known() || (m.replies_since_write() == 0 && !m.server_waits_for_input());
      return std::min(end, harness::In(full ? options_.reply_timeout
                                            : std::min(options_.reply_timeout,
                                                       options_.unjudged_reply_timeout)));
    };
    if (absl::Status st = co_await s.Connect(Where(), reply_deadline()); !st.ok()) {
      // Refused or unreachable: no session. The fuzzer's liveness check
      // reports a target that stays down.
      result->verdict.kind = VerdictKind::kDropped;
      result->verdict.detail = "cannot connect: " + Message(st);
      result->connect_failed = true;
      *transcript = s.TakeTranscript();
      co_return;
    }
    for (;;) {
      // Before each write: what the server sent meanwhile, and whether it
      // closed. A reply nobody asked for is judged at the step that
      // provoked it (a smuggled command's, a desync); a goodbye followed by
      // the close is read before our write could meet a reset that loses
      // it (an announced close, a defence, not a drop).
      if (m.between_groups()) {
        co_await Settle(s, m, cautious_ && m.last_code() >= 400 ? kCautiousPeek : kPeek);
      }
      const Action a = m.Next();
      if (a.kind == ActionKind::kDone) break;
      switch (a.kind) {
        case ActionKind::kWrite: {
          result->bytes_sent += a.bytes.size();
          const absl::Status st = co_await s.Send(a.bytes, reply_deadline());
          if (!st.ok()) {
            // The peer is gone (reset, broken pipe). What it sent before is
            // still to be read: a goodbye that announced the close.
            bool reset = true;
            for (int i = 0; i < kMaxSettleReplies; ++i) {
              const harness::ReplyOutcome o =
                  co_await s.ReadReply(std::min(end, harness::In(std::chrono::milliseconds(20))));
              if (o.status != harness::ReadStatus::kReply) {
                reset = o.status != harness::ReadStatus::kPeerClosed;
                break;
              }
              m.OnReply(o.reply);
              if (!m.between_groups() && m.verdict().kind != VerdictKind::kOk) break;
            }
            if (reset) {
              m.OnReset();
            } else {
              m.OnClosed();
            }
          }
          break;
        }
        case ActionKind::kRead: {
          harness::Deadline deadline = reply_deadline();
          harness::ReplyOutcome o = co_await s.ReadReply(deadline);
          // Patient: a reply whose lines keep coming is slow, not hung
          // (Postfix past its soft error limit sleeps a second before each
          // line of a multiline reply: 11 s for an EHLO reply). Its deadline
          // restarts with each line that arrives, within the session's.
          for (std::size_t seen = 0; patient_ && o.status == harness::ReadStatus::kTimeout &&
                                     deadline != end && o.partial.size() > seen;) {
            seen = o.partial.size();
            deadline = reply_deadline();
            o = co_await s.ReadReply(deadline);
          }
          switch (o.status) {
            case harness::ReadStatus::kReply:
              m.OnReply(o.reply);
              break;
            case harness::ReadStatus::kTimeout:
              result->session_deadline = deadline == end;
              m.OnTimeout();
              break;
            case harness::ReadStatus::kPeerClosed:
              m.OnClosed();
              break;
            case harness::ReadStatus::kError:
              m.OnReset();
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
    if (spawned_ != nullptr && !m.expectations_known() && m.verdict().ok() &&
        s.transport() != nullptr && s.transport()->ShutdownSend().ok()) {
      // The count was unknown, so we stopped waiting early: the server may
      // still be working through what we sent. A server process is an
      // oracle, so let it finish before the process is judged, or a crash
      // it is about to have would be blamed on the next session: we send
      // EOF and read until its close (or the reply deadline).
      const harness::Deadline drain_end = std::min(end, harness::In(options_.reply_timeout));
      for (;;) {
        const harness::ReplyOutcome o = co_await s.ReadReply(drain_end);
        if (o.status == harness::ReadStatus::kReply) continue;
        result->drain_reset = o.status == harness::ReadStatus::kError;
        break;
      }
    }
    const absl::Status closed = co_await s.Close(harness::In(options_.reply_timeout));
    result->verdict = m.verdict();
    result->peer_reset = m.reset();
    result->defence = m.defence();
    JudgeExec(s, closed, &result->verdict);
    if (!result->verdict.ok()) result->defence.reset();  // the process died: not a defence
    result->replies = m.replies();
    result->depth = m.depth();
    result->known = m.expectations_known();
    *transcript = s.TakeTranscript();
    result->bytes_received = transcript->total_bytes(harness::Direction::kServerToClient);
    if (spawned_ == nullptr && result->verdict.kind == VerdictKind::kDropped &&
        result->replies.empty() && result->bytes_sent == 0) {
      // Closed before the greeting, with nothing of ours sent: the input
      // played no part (Dovecot past its process_limit accepts and drops
      // every connection). As a refused connect, the target takes no
      // session: the liveness check reports it once ("unresponsive"), not
      // one finding per session. An exec target counts too: its fresh
      // process left before greeting whatever the input (had it died of a
      // signal or a nonzero status, JudgeExec made the verdict a crash). A
      // --spawn server does not: JudgeSpawned decides after the session
      // whether it died, and a death is charged as a crash.
      result->connect_failed = true;
      result->verdict.detail = "closed before the greeting: " + result->verdict.detail;
    }
    if (!started_by_us() && result->verdict.kind == VerdictKind::kHang && result->replies.empty() &&
        result->bytes_sent == 0) {
      // No greeting within --greeting_timeout_ms, nothing of ours sent: as
      // above, the input played no part (Dovecot LMTP past its
      // process_limit, or throttled after a crash, leaves connections in
      // its listen queue). A hang with this session as its reproducer
      // would be false: it greets again once the stall is over. Not for
      // a process we started (--spawn, exec): no other client shares it,
      // so its stall is its own, a hang to report.
      result->connect_failed = true;
      result->verdict.detail = "no greeting: " + result->verdict.detail;
    }
  }

  // Between groups: hands the machine the replies and the close that have
  // arrived, without waiting for any (a peek of `wait` when nothing is
  // buffered). Bounded in replies.
  static asio::awaitable<void> Settle(harness::Session& s, ClientMachine& m,
                                      std::chrono::microseconds wait) {
    if (wait > kPeek && s.buffered().empty() && !s.peer_closed()) {
      // Cautious: the close may be on its way (Peek does not wait for it).
      asio::steady_timer timer(co_await asio::this_coro::executor, wait);
      co_await timer.async_wait(asio::use_awaitable);
    }
    for (int i = 0; i < kMaxSettleReplies && m.between_groups(); ++i) {
      if (s.buffered().find('\n') == std::string_view::npos) co_await s.Peek(harness::In(kPeek));
      if (s.buffered().find('\n') == std::string_view::npos && !s.peer_closed()) co_return;
      const harness::ReplyOutcome o =
          co_await s.ReadReply(harness::In(std::chrono::milliseconds(1)));
      switch (o.status) {
        case harness::ReadStatus::kReply:
          m.OnReply(o.reply);
          break;
        case harness::ReadStatus::kMalformed:
          m.OnBadReply(o.error.offset, o.error.reason);
          break;
        case harness::ReadStatus::kPeerClosed:
          m.OnClosed();
          co_return;
        case harness::ReadStatus::kError:
          m.OnReset();
          co_return;
        case harness::ReadStatus::kTimeout:
          co_return;  // the rest of a multiline reply is not here yet
      }
    }
  }

  // exec: targets: the process itself is an oracle (JudgeProcess). Close
  // sends SIGKILL only to a process that outlives its deadline, and then
  // reports an error.
  static void JudgeExec(harness::Session& s, const absl::Status& closed, Verdict* v) {
    harness::Transport* t = s.transport();
    if (t == nullptr) return;
    const std::optional<harness::ProcessStatus> p = t->process();
    if (!p || p->running) return;
    JudgeProcess(*p, /*should_stay_up=*/false, /*killed_by_us=*/!closed.ok(), v);
  }

  // --spawn: after each session, what the server process did meanwhile.
  // A session that ended badly waits a moment for a dying server to be
  // reapable. A dead server is restarted for the next session.
  void JudgeSpawned(SessionResult* result) {
    const bool bad = result->connect_failed || result->drain_reset || result->peer_reset ||
                     result->verdict.kind == VerdictKind::kDropped;
    // A crash closes our connection as the process exits: after a bad end
    // the wait is for a server already on its way out (its exit wakes it),
    // not a fixed 200 ms for one that lives on. Lingering (a death after
    // the session) waits the whole time.
    harness::ProcessStatus p =
        linger_.count() > 0
            ? spawned_->Check(linger_)
            : spawned_->Check(bad ? std::chrono::milliseconds(200) : std::chrono::milliseconds(0),
                              /*only_if_dying=*/true);
    // A sanitizer report still being written (symbolizing takes a while
    // where the server does it itself):
    // read on until it ends or the process does, so that the finding's
    // signature has the frame.
    const auto report_open = [&] {
      return p.stderr_head.find("Sanitizer") != std::string::npos &&
             p.stderr_head.find("ABORTING") == std::string::npos &&
             p.stderr_head.find("SUMMARY:") == std::string::npos;
    };
    for (int i = 0; i < 100 && p.running && report_open(); ++i) {
      spawned_->WaitForExit(std::chrono::milliseconds(10));  // its exit ends the wait
      harness::ProcessStatus more = spawned_->Check();
      more.stderr_head = p.stderr_head + more.stderr_head;
      p = std::move(more);
    }
    if (EndOfChargedReport(p)) {
      EnsureSpawned();
      return;
    }
    p.stderr_head = spawned_->Symbolize(std::move(p.stderr_head));
    const bool ended_well = result->verdict.ok();
    if (JudgeProcess(p, /*should_stay_up=*/true, /*killed_by_us=*/false, &result->verdict)) {
      charged_report_ = p.running && result->verdict.kind == VerdictKind::kSanitizer;
      if (ended_well && !p.running && result->verdict.kind == VerdictKind::kCrashed) {
        result->verdict.detail += ", after the session ended";
      }
      AddFrame(&result->verdict);
    } else if (p.running && !result->replies.empty()) {
      charged_report_ = false;  // it served this session: not dying of a report
    }
    if (p.running) return;
    if (p.exited && p.exit_code == 0 && !warned_clean_exit_) {
      warned_clean_exit_ = true;
      std::fprintf(Console(),
                   "smtp-harness fuzz: the spawned server exited with status 0 after a session; "
                   "restarting it (a server that serves one session is an exec: target)\n");
    }
    EnsureSpawned();
  }

  // A crash by a signal, located in the server's core (spawned_server.h):
  // "SIGABRT-in-parse_help", so that two crashes by one signal are two
  // findings. Without a frame the fuzzer tells them apart by their trigger.
  void AddFrame(Verdict* v) const {
    if (v->kind != VerdictKind::kCrashed || v->signature.rfind("SIG", 0) != 0) return;
    const std::string& frame = spawned_->crash_frame();
    if (frame.empty()) return;
    v->signature += "-in-" + BucketSafe(frame);
    v->detail += "; it crashed in " + frame + " (from its core file)";
  }

  // Starts the spawned server again if it is down. False when it does not
  // come back (the sessions then fail to connect: the liveness oracle).
  bool EnsureSpawned() {
    if (spawned_ == nullptr || spawned_->running()) return true;
    const bool had_standby = spawned_->standby_active();
    const absl::Status st = spawned_->Restart();
    const int n = spawned_->restarts();
    if (had_standby && !spawned_->standby_active()) {
      std::fprintf(Console(),
                   "smtp-harness fuzz: no more warm standby (%s): each restart now waits for the "
                   "server to start\n",
                   spawned_->standby_why_not().c_str());
    }
    if (!st.ok() || n <= 3 || n % 100 == 0) {
      std::fprintf(
          Console(), "smtp-harness fuzz: restarted the spawned server (%d restart%s)%s%s\n", n,
          n == 1 ? "" : "s", st.ok() ? "" : ": ", st.ok() ? "" : std::string(st.message()).c_str());
    }
    return st.ok();
  }

  harness::Target target_;
  NetTargetOptions options_;
  bool patient_ = false;   // in RunPatiently: a reply that keeps coming is waited for
  bool cautious_ = false;  // in RunCautiously: a close after a refusal is waited for
  Clock::time_point run_deadline_ = Clock::time_point::max();
  std::unique_ptr<SpawnedServer> spawned_;
  bool warned_clean_exit_ = false;
  bool last_hung_ = false;  // the last session hung: check the spawned server
  int stuck_restarts_ = 0;
  int deaths_between_ = 0;
  bool charged_report_ = false;  // a sanitizer report was judged; the exit is to come
  int ends_after_report_ = 0;
  std::chrono::milliseconds linger_{0};
  std::optional<SessionInput> last_input_;  // --spawn: the last session run
  std::optional<DeathBetween> death_between_;
  asio::io_context io_;
  Clock::time_point next_ = Clock::now();
};

}  // namespace

std::unique_ptr<SessionTarget> MakeNetTarget(const harness::Target& target,
                                             const NetTargetOptions& options,
                                             std::unique_ptr<SpawnedServer> spawned) {
  return std::make_unique<NetTarget>(target, options, std::move(spawned));
}

namespace {

// A bucket-safe name: [A-Za-z0-9_.+-], at most 80 characters.
std::string BucketSafe(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    const bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '+' || c == '-';
    out.push_back(ok ? c : '-');
  }
  return out;
}

// "heap-buffer-overflow-in-rcpt_to" from an ASan-style report starting at
// `report`: the error type and the first frame that is not the sanitizer's
// own (its file+offset when the report is not symbolized); for UBSan, the
// source location ("runtime-error-at-f.c-12").
std::string SanitizerSignature(std::string_view text, std::size_t marker_at) {
  const std::size_t line_start = text.rfind('\n', marker_at) + 1;  // npos + 1 == 0
  const std::string_view line = text.substr(line_start, text.find('\n', marker_at) - line_start);
  if (const std::size_t ub = line.find(": runtime error:"); ub != std::string_view::npos) {
    std::string_view where = line.substr(0, ub);  // "path/f.c:12:5"
    where = where.substr(where.rfind('/') + 1);
    if (const std::size_t col = where.rfind(':');
        col != std::string_view::npos && where.find(':') != col) {
      where = where.substr(0, col);
    }
    return BucketSafe("runtime-error-at-" + std::string(where));
  }
  std::string type = "report";
  if (const std::size_t at = line.find("Sanitizer: "); at != std::string_view::npos) {
    const std::string_view rest = line.substr(at + 11);
    type = std::string(rest.substr(0, rest.find(' ')));
  }
  std::string frame;
  for (std::size_t pos = marker_at; frame.empty();) {
    const std::size_t hash = text.find("    #", pos);
    if (hash == std::string_view::npos) break;
    const std::size_t eol = text.find('\n', hash);
    const std::string_view f = text.substr(hash, eol == std::string_view::npos ? eol : eol - hash);
    pos = eol == std::string_view::npos ? text.size() : eol;
    if (const std::size_t in = f.find(" in "); in != std::string_view::npos) {
      std::string_view fn = f.substr(in + 4);
      fn = fn.substr(0, fn.find(' '));
      bool runtime = false;
      for (const std::string_view skip :
           {"__asan", "__interceptor", "__sanitizer", "__lsan", "__msan", "__tsan", "__ubsan",
            "malloc", "calloc", "realloc", "free", "operator"}) {
        runtime = runtime || fn.substr(0, skip.size()) == skip;
      }
      if (!runtime) frame = std::string(fn);
    } else if (const std::size_t paren = f.find(" ("); paren != std::string_view::npos) {
      std::string_view where = f.substr(paren + 2);
      where = where.substr(0, where.find(')'));
      where = where.substr(where.rfind('/') + 1);
      if (where.find("libclang_rt") == std::string_view::npos) frame = std::string(where);
    }
  }
  return BucketSafe(frame.empty() ? type : type + "-in-" + frame);
}

}  // namespace

bool JudgeProcess(const harness::ProcessStatus& p, bool should_stay_up, bool killed_by_us,
                  Verdict* v) {
  constexpr std::size_t kMaxReport = 64 * 1024;
  const auto take = [&](VerdictKind kind, const std::string& what, std::string signature) {
    if (v->kind == VerdictKind::kOk) v->verb = Verb::kUnknown;  // no step to blame
    v->detail = v->kind == VerdictKind::kOk ? what : what + "; " + v->detail;
    v->kind = kind;
    v->signature = std::move(signature);
    return true;
  };
  // A sanitizer report, also from a process that lives on (a forked child
  // of a listening server reported and died).
  for (const std::string_view marker :
       {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "ERROR: MemorySanitizer",
        "WARNING: ThreadSanitizer", "runtime error:"}) {
    const std::size_t at = p.stderr_head.find(marker);
    if (at == std::string::npos) continue;
    const std::size_t start = p.stderr_head.rfind('\n', at);
    const std::size_t from = start == std::string::npos ? 0 : start + 1;
    const std::size_t end = p.stderr_head.find('\n', at);
    const std::size_t len = (end == std::string::npos ? p.stderr_head.size() : end) - from;
    take(VerdictKind::kSanitizer,
         "sanitizer report on stderr: " +
             p.stderr_head.substr(from, std::min<std::size_t>(len, 300)),
         SanitizerSignature(p.stderr_head, at));
    v->report = p.stderr_head.substr(from, kMaxReport);
    return true;
  }
  if (p.running) return false;
  const auto signal_name = [](int sig) {
    const char* abbrev = sigabbrev_np(sig);
    return abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal-" + std::to_string(sig);
  };
  if (p.signal != 0 && !(killed_by_us && p.signal == SIGKILL)) {
    return take(VerdictKind::kCrashed,
                "the server process was killed by signal " + std::to_string(p.signal) + " (" +
                    strsignal(p.signal) + ")",
                signal_name(p.signal));
  }
  if (!p.exited) return false;
  // exec: and --spawn run `/bin/sh -c COMMAND`: the shell reports a child
  // killed by signal N as exit status 128 + N.
  if (p.exit_code > 128 && p.exit_code < 128 + 65 && p.exit_code - 128 != SIGKILL) {
    const int sig = p.exit_code - 128;
    return take(VerdictKind::kCrashed,
                "the server process exited with status " + std::to_string(p.exit_code) +
                    " (signal " + std::to_string(sig) + ", " + strsignal(sig) + ")",
                signal_name(sig));
  }
  if (should_stay_up && p.exit_code != 0) {
    return take(VerdictKind::kCrashed,
                "the listening server exited with status " + std::to_string(p.exit_code),
                "exit-" + std::to_string(p.exit_code));
  }
  return false;
}

bool IsLoopbackTarget(const harness::Target& target) {
  if (target.kind == harness::Target::Kind::kExec) return true;
  const std::string& h = target.host;
  return h == "localhost" || h == "::1" || h == "[::1]" || h.rfind("127.", 0) == 0;
}

}  // namespace smtp::fuzz
