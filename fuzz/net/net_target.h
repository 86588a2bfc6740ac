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
#include "fuzz/net/fuzzer.h"
#include "harness/transport.h"

namespace smtp::fuzz {

struct NetTargetOptions {
  // Each reply must arrive within this; past it the session is judged (a
  // hang when the count of owed replies is known) and ends.
  std::chrono::milliseconds reply_timeout{1000};
  // The same once the session can no longer be judged (a raw step sent).
  std::chrono::milliseconds unjudged_reply_timeout{1};
  // The whole session, whatever the server sends.
  std::chrono::milliseconds session_timeout{10'000};
  // At most this many connections per second (0: no limit).
  double max_connections_per_s = 0;
};

std::unique_ptr<SessionTarget> MakeNetTarget(const harness::Target& target,
                                             const NetTargetOptions& options);

// Whether `target` is this host: exec:, 127.0.0.0/8, ::1, localhost.
bool IsLoopbackTarget(const harness::Target& target);

// One greeting and QUIT, within `timeout`: the liveness probe, also run
// before fuzzing starts. An error says what failed (refused, no greeting,
// a greeting that is not 220).
absl::Status Probe(const harness::Target& target, std::chrono::milliseconds timeout);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_NET_TARGET_H_
