// Counts global heap allocations in a benchmark binary. Include from exactly
// one .cc of the binary: it replaces the global operator new/delete.
#ifndef SMTP_BENCH_ALLOC_COUNTER_H_
#define SMTP_BENCH_ALLOC_COUNTER_H_

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace smtp::bench {
inline std::atomic<std::size_t> g_allocations{0};
inline std::size_t Allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace smtp::bench

void* operator new(std::size_t n) {
  smtp::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

#endif  // SMTP_BENCH_ALLOC_COUNTER_H_
