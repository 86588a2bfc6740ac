// Rng: the session mutator's deterministic pseudo-random numbers.
#ifndef SMTP_FUZZ_NET_RNG_H_
#define SMTP_FUZZ_NET_RNG_H_

#include <cstddef>
#include <cstdint>

namespace smtp::fuzz {

// Deterministic pseudo-random numbers (splitmix64): the same seed gives the
// same sequence with every compiler and standard library, which
// std::uniform_int_distribution does not promise.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); 0 when n == 0.
  std::size_t Below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(Next() % n); }
  bool OneIn(std::size_t n) { return Below(n) == 0; }
  template <class T, std::size_t N>
  const T& Pick(const T (&a)[N]) {
    return a[Below(N)];
  }

 private:
  std::uint64_t state_;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_RNG_H_
