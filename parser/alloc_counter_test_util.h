// Counts the heap allocations of a whole binary, for the tests that check a
// parser allocates nothing (command_test, path_test) and the benchmarks that
// report allocations per operation (bench/command_bench). It replaces the
// global operator new / delete, so include it from exactly one .cc of the
// binary. Every form allocates with malloc and frees with free, so sanitizers
// see matching pairs. Test-only, header-only, free of gtest.
#ifndef SMTP_PARSER_ALLOC_COUNTER_TEST_UTIL_H_
#define SMTP_PARSER_ALLOC_COUNTER_TEST_UTIL_H_

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace smtp::testing {

inline std::atomic<std::size_t> g_allocations{0};

// Calls of operator new / new[] so far. Take the difference around the code
// under test.
inline std::size_t AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }

inline void* CountedAlloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

}  // namespace smtp::testing

void* operator new(std::size_t n) { return smtp::testing::CountedAlloc(n); }
void* operator new[](std::size_t n) { return smtp::testing::CountedAlloc(n); }
// GCC cannot see that the replaced operator new above is malloc, so it warns
// where it inlines a free() of its result.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

#endif  // SMTP_PARSER_ALLOC_COUNTER_TEST_UTIL_H_
