#include "fuzz/net/pc_counters.h"

#include <array>

namespace smtp::fuzz {
namespace {
alignas(64) std::array<std::uint8_t, kPcCounterCount> g_pc_counters{};
}  // namespace

#if defined(__clang__)
std::span<std::uint8_t> PcCounters() { return {}; }
bool PcCountersRegistered() { return false; }
#elif defined(SMTP_COV_INLINE)
}  // namespace smtp::fuzz
// The linker's bounds of the section clang's inline 8-bit counters go in:
// only the server copy is compiled by clang in this binary.
extern "C" {
extern std::uint8_t __start___sancov_cntrs[] __attribute__((weak));
extern std::uint8_t __stop___sancov_cntrs[] __attribute__((weak));
// The objects' constructors call these: libFuzzer's definitions win where
// it is linked; binaries without it (tests, benchmarks) get these.
__attribute__((weak)) void __sanitizer_cov_8bit_counters_init(std::uint8_t*, std::uint8_t*) {}
__attribute__((weak)) void __sanitizer_cov_pcs_init(const std::uintptr_t*, const std::uintptr_t*) {}
}
namespace smtp::fuzz {
std::span<std::uint8_t> PcCounters() {
  if (__start___sancov_cntrs == nullptr) return {};
  return {__start___sancov_cntrs, __stop___sancov_cntrs};
}
bool PcCountersRegistered() { return true; }
#else
std::span<std::uint8_t> PcCounters() { return g_pc_counters; }
bool PcCountersRegistered() { return false; }
#endif

}  // namespace smtp::fuzz

#if !defined(__clang__)
extern "C" {
// Called in every basic block of the code compiled with
// -fsanitize-coverage=trace-pc. The PC of the block is hashed into the
// counters (AFL-style: collisions are rare enough at 16 Ki entries for a
// server of a few thousand blocks); the counter wraps at 255 as libFuzzer's
// inline counters do. The PC is taken relative to this function (same
// executable), so a block has the same counter in every process despite
// ASLR: `fuzz -fork/-jobs` children share the corpus and their coverage is
// merged by index (fuzz_workers.h).
__attribute__((no_sanitize_coverage)) void __sanitizer_cov_trace_pc() {
  const auto pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0)) -
                  reinterpret_cast<std::uintptr_t>(&__sanitizer_cov_trace_pc);
  const std::uintptr_t h = (pc ^ (pc >> 15)) * 0x9e3779b97f4a7c15ULL;
  ++smtp::fuzz::g_pc_counters[(h >> 50) & (smtp::fuzz::kPcCounterCount - 1)];
}
}
#endif
