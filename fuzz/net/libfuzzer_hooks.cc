#include "fuzz/net/libfuzzer_hooks.h"

extern "C" {
__attribute__((weak)) int LLVMFuzzerRunDriver(int* argc, char*** argv,
                                              int (*cb)(const std::uint8_t*, std::size_t));
__attribute__((weak)) std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                                   std::size_t max_size);
__attribute__((weak)) void __sanitizer_cov_8bit_counters_init(std::uint8_t* start,
                                                              std::uint8_t* stop);
__attribute__((weak)) void __sanitizer_cov_pcs_init(const std::uintptr_t* start,
                                                    const std::uintptr_t* stop);
}

namespace smtp::fuzz {

bool LibFuzzerLinked() { return &LLVMFuzzerRunDriver != nullptr; }

bool RegisterCounters(std::span<std::uint8_t> counters) {
  if (!LibFuzzerLinked() || &__sanitizer_cov_8bit_counters_init == nullptr ||
      &__sanitizer_cov_pcs_init == nullptr || counters.empty()) {
    return false;
  }
  // libFuzzer's PC table: {pc, flags} per counter. The PCs only need to be
  // distinct across modules; the base keeps them apart from real code.
  static std::uintptr_t next_pc = std::uintptr_t{1} << 40;
  auto* table = new std::uintptr_t[2 * counters.size()];  // lives until exit
  for (std::size_t i = 0; i < counters.size(); ++i) {
    table[2 * i] = next_pc++;
    table[2 * i + 1] = 0;
  }
  __sanitizer_cov_8bit_counters_init(counters.data(), counters.data() + counters.size());
  __sanitizer_cov_pcs_init(table, table + 2 * counters.size());
  return true;
}

int RunLibFuzzer(const std::vector<std::string>& args, TestOneInput callback) {
  if (!LibFuzzerLinked()) return -1;
  // libFuzzer keeps argv (it re-runs it for -fork / -jobs): copies that live
  // until exit.
  auto* storage = new std::vector<std::string>(args);
  auto* argv = new char*[storage->size() + 1];
  for (std::size_t i = 0; i < storage->size(); ++i) argv[i] = (*storage)[i].data();
  argv[storage->size()] = nullptr;
  int argc = static_cast<int>(storage->size());
  return LLVMFuzzerRunDriver(&argc, &argv, callback);
}

ByteMutatorFn LibFuzzerByteMutator() {
  return &LLVMFuzzerMutate != nullptr ? &LLVMFuzzerMutate : nullptr;
}

}  // namespace smtp::fuzz
