// Code coverage of the embedded server inside a g++ binary. g++ has no
// inline 8-bit counters (clang's -fsanitize=fuzzer-no-link), but it has
// -fsanitize-coverage=trace-pc: a call to __sanitizer_cov_trace_pc() in every
// basic block. The server copy the fuzzer runs in process (smtp_server_cov,
// fuzz/net/CMakeLists.txt) is compiled with it; this file defines that hook,
// which hashes the caller's PC into PcCounters(), and the fuzzer registers
// the region with libFuzzer (libfuzzer_hooks.h). libFuzzer's own
// __sanitizer_cov_trace_pc (which aborts: "no longer supported") is made
// weak in the copy of its archive we link, so this one wins.
//
// Built with clang (the `fuzz` preset and ClusterFuzzLite), the hook is not
// defined: clang's own counters already cover the server.
//
// A g++ build may compile the copy with clang++ and its inline 8-bit
// counters instead (SMTP_COV_INLINE_COUNTERS, fuzz/net/CMakeLists.txt): an
// increment per edge, no call. libFuzzer then registers the counters itself
// (__sanitizer_cov_8bit_counters_init, from the objects' constructors), and
// PcCounters() is that section, the same in every process of the binary.
#ifndef SMTP_FUZZ_NET_PC_COUNTERS_H_
#define SMTP_FUZZ_NET_PC_COUNTERS_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace smtp::fuzz {

// 16 Ki: the server has a few thousand blocks; libFuzzer scans every
// registered counter after each input, so a larger region costs time.
inline constexpr std::size_t kPcCounterCount = std::size_t{1} << 14;

// The region the trace-pc hook counts into; empty when the hook is not
// compiled in (clang builds).
std::span<std::uint8_t> PcCounters();

// Whether libFuzzer already knows PcCounters() (inline counters): then they
// must not be registered again.
bool PcCountersRegistered();

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_PC_COUNTERS_H_
