// Response-state feedback: every reply a session gets is a transition from
// the previous reply's state (its verb, code and enhanced code) to the new
// one (verb, code, enhanced code, shape). Hashed into 8-bit counters that
// libFuzzer reads as extra coverage (libfuzzer_hooks.h registers them), a
// session that makes the server answer in a new way is kept in the corpus,
// whatever the target: in process, over TCP, or a foreign server with no
// instrumentation at all.
#ifndef SMTP_FUZZ_NET_STATE_FEEDBACK_H_
#define SMTP_FUZZ_NET_STATE_FEEDBACK_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/net/client_machine.h"

namespace smtp::fuzz {

// Counters in the region StateCounters() returns.
// (libFuzzer scans every registered counter after each input: 16 Ki keeps
// that cheap.)
inline constexpr std::size_t kStateCounterCount = std::size_t{1} << 14;

// One key per reply: 64 bits of (previous state, verb, code, enhanced code,
// number of lines bucketed 1 / 2-3 / 4-7 / 8+, and whether it was owed).
// The first reply's previous state is "connect".
std::vector<std::uint64_t> TransitionKeys(std::span<const ReplyEvent> replies);

// Adds each key to `counters` (index: key modulo the size; saturating).
void AddTransitions(std::span<const std::uint64_t> keys, std::span<std::uint8_t> counters);

// The process-wide region the fuzzer registers with libFuzzer.
std::span<std::uint8_t> StateCounters();

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_STATE_FEEDBACK_H_
