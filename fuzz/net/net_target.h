// Session targets over a connection (fuzz --target HOST:PORT | tls:H:P |
// exec:CMD): each session connects through harness::Session, so it gets the
// engine's absolute deadlines, bounded reads and a Transcript, and a
// finding's session file is what `replay` replays.
#ifndef SMTP_FUZZ_NET_NET_TARGET_H_
#define SMTP_FUZZ_NET_NET_TARGET_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "fuzz/net/client_machine.h"
#include "fuzz/net/fuzzer.h"
#include "fuzz/net/spawned_server.h"
#include "harness/transport.h"

namespace smtp::fuzz {

struct NetTargetOptions {
  // Each reply must arrive within this; past it the session is judged (a
  // hang when the count of owed replies is known) and ends.
  std::chrono::milliseconds reply_timeout{1000};
  // Once the count of replies is unknown (a raw step sent): after the
  // first reply to a write, how long the next one may take before the wait
  // ends (replies to one write come together; a line the server took as
  // message text gets none). Also where the server waits for input the
  // count did not foresee (a 354, a 334).
  std::chrono::milliseconds unjudged_reply_timeout{5};
  // The greeting's deadline, if longer than reply_timeout: some servers
  // greet late by design (OpenSMTPD's reverse-DNS lookup takes 5 s; RFC
  // 5321 §4.5.3.2.1 gives a client 5 minutes).
  std::chrono::milliseconds greeting_timeout{10'000};
  // The whole session, whatever the server sends.
  std::chrono::milliseconds session_timeout{10'000};
  // A hang is run again with this deadline per reply (and three times it
  // for the session) before it counts: a server that tarpits after errors
  // (Postfix sleeps a second) is slow, not hung. 0: hangs are not re-run.
  std::chrono::milliseconds patient_reply_timeout{10'000};
  // At most this many connections per second (0: no limit).
  double max_connections_per_s = 0;
};

// `spawned`: the listening server behind `target` that the fuzzer started
// (--spawn): restarted when it dies, judged as a process after each session
// (spawned_server.h), stopped by Shutdown.
std::unique_ptr<SessionTarget> MakeNetTarget(const harness::Target& target,
                                             const NetTargetOptions& options,
                                             std::unique_ptr<SpawnedServer> spawned = nullptr);

// The process oracles of exec: and --spawn targets, over what the process
// did during a session: a sanitizer report in its output, death by a signal
// (also the shell's 128+N), and, for a server that should stay up
// (`should_stay_up`), any non-zero exit. `killed_by_us`: a SIGKILL we sent
// (a child that outlived its deadline) is not a crash. Sets `*v` and
// returns true when one fires.
bool JudgeProcess(const harness::ProcessStatus& p, bool should_stay_up, bool killed_by_us,
                  Verdict* v);

// Whether `target` is this host: exec:, 127.0.0.0/8, ::1, localhost.
bool IsLoopbackTarget(const harness::Target& target);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_NET_TARGET_H_
