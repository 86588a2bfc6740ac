// libFuzzer as a library: the entry points the network fuzzer calls when
// libFuzzer (clang's libclang_rt.fuzzer_no_main) is linked into the binary,
// declared weak so that a binary without it still links and says so.
//
// Extra coverage: libFuzzer treats every region given to
// __sanitizer_cov_8bit_counters_init as one more module of inline 8-bit
// counters, reset before each input and read after it. The network fuzzer
// registers its response-state counters (state_feedback.h), the embedded
// server's PC counters (pc_counters.h) and the mirror of an AFL++ target's
// edge bitmap this way, before LLVMFuzzerRunDriver starts.
#ifndef SMTP_FUZZ_NET_LIBFUZZER_HOOKS_H_
#define SMTP_FUZZ_NET_LIBFUZZER_HOOKS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace smtp::fuzz {

// libFuzzer is linked in (LLVMFuzzerRunDriver resolves).
bool LibFuzzerLinked();

// Registers `counters` as one module of 8-bit counters (with a PC table of
// made-up, distinct PCs, so libFuzzer can count and print its features).
// Call before RunLibFuzzer; the region must live until the process exits.
// False without libFuzzer.
bool RegisterCounters(std::span<std::uint8_t> counters);

using TestOneInput = int (*)(const std::uint8_t* data, std::size_t size);

// LLVMFuzzerRunDriver with `args` as its argv (args[0] is the program name
// libFuzzer prints and, for -fork / -jobs, runs). Returns its exit code; -1
// without libFuzzer.
int RunLibFuzzer(const std::vector<std::string>& args, TestOneInput callback);

// libFuzzer's own byte-level mutator, or nullptr without libFuzzer. Only
// valid while libFuzzer runs (inside a custom mutator).
using ByteMutatorFn = std::size_t (*)(std::uint8_t* data, std::size_t size, std::size_t max_size);
ByteMutatorFn LibFuzzerByteMutator();

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_LIBFUZZER_HOOKS_H_
