// The liveness probe of the network fuzzer: one greeting and QUIT. Run
// before fuzzing starts, after each finding and periodically (net_target.h),
// and to tell when a spawned server listens (spawned_server.h).
#ifndef SMTP_FUZZ_NET_LIVENESS_H_
#define SMTP_FUZZ_NET_LIVENESS_H_

#include <chrono>

#include "absl/status/status.h"
#include "harness/transport.h"

namespace smtp::fuzz {

// One greeting and QUIT, within `timeout`. An error says what failed
// (refused, no greeting, a greeting that is not 220).
absl::Status Probe(const harness::Target& target, std::chrono::milliseconds timeout);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_LIVENESS_H_
