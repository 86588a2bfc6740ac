// Shared pieces of the in-process fuzz targets (fuzz/fuzz_*.cc).
//
// - FuzzInput: the llhttp habit. Each target reads its option bits
//   (leniencies, limits, modes, split seed) from a fixed-size header at the
//   front of the input; the rest is the payload. Seeds in corpus/<target>/
//   carry the same header (fuzz/make_seeds.py writes them).
// - FUZZ_CHECK: an oracle. A violated invariant is a finding, so it prints
//   what failed and aborts (libFuzzer saves the input; the replay main and
//   ctest fail).
// - Splitter: fuzzer-chosen split points for re-feeding a stateful reader.
//
// Standard library only; the targets depend on parser/ and nothing else.
#ifndef SMTP_FUZZ_FUZZ_UTIL_H_
#define SMTP_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/parse_error.h"

namespace smtp::fuzz {

[[noreturn]] inline void CheckFailed(const char* file, int line, const char* cond,
                                     const char* what) {
  std::fprintf(stderr, "\nFUZZ ORACLE VIOLATED at %s:%d\n  check: %s\n  %s\n", file, line, cond,
               what);
  std::fflush(stderr);
  std::abort();
}

// An invariant of the parser. `what` says which oracle, for the report.
#define FUZZ_CHECK(cond, what)                                               \
  do {                                                                       \
    if (!(cond)) ::smtp::fuzz::CheckFailed(__FILE__, __LINE__, #cond, what); \
  } while (0)

// Reads a fixed header from the front of the input; missing header bytes
// read as 0, so every input is valid.
class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  std::uint8_t Byte() {
    if (rest_.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  std::uint16_t U16() {  // little endian
    const std::uint16_t lo = Byte();
    return static_cast<std::uint16_t>(lo | (Byte() << 8));
  }
  std::uint32_t U32() {
    const std::uint32_t lo = U16();
    return lo | (static_cast<std::uint32_t>(U16()) << 16);
  }
  // Leniency bits from two header bytes; unknown bits are dropped.
  Leniencies TakeLeniencies() { return U16() & kAllLeniencies; }

  // The payload: everything after the header.
  std::string_view Rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// Limits chosen by two bits and a parameter byte: the RFC defaults, tight
// limits that hostile inputs easily reach, or generous ones (bounded by
// max_len anyway).
inline Limits ChooseLimits(unsigned choice, std::uint8_t param) {
  Limits l;
  switch (choice & 3) {
    case 1:  // tight
      l.command_line = 8 + param;
      l.text_line = 2 + param;
      l.reply_line = 4 + param % 128;
      l.local_part = param / 4;
      l.domain = param / 2;
      l.path = param;
      l.reply_lines = 1 + param % 8;
      l.reply_bytes = 16 + std::size_t{param} * 4;
      l.esmtp_params = param % (kMaxEsmtpParams + 1);
      break;
    case 2: {  // generous
      constexpr std::size_t kBig = std::size_t{1} << 20;
      l.command_line = l.text_line = l.reply_line = kBig;
      l.local_part = l.domain = l.path = kBig;
      l.reply_lines = 4096;
      l.reply_bytes = kBig;
      break;
    }
    default:
      break;
  }
  return l;
}

// Chunk sizes for re-feeding a reader. Seed 0: one byte at a time. Otherwise
// a xorshift sequence of sizes in [0, max] with max = 1 + (seed & 0xff); a
// size of 0 is an empty Feed, which a reader must treat as a no-op.
class Splitter {
 public:
  explicit Splitter(std::uint16_t seed)
      : state_(0x9E3779B9u ^ seed), max_(seed == 0 ? 0 : 1 + (seed & 0xff)) {}

  // Size of the next chunk, at most `left`, at least 1 when `left` > 0
  // after a bounded number of empty chunks.
  std::size_t Next(std::size_t left) {
    if (max_ == 0) return left == 0 ? 0 : 1;
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    std::size_t n = state_ % (max_ + 1);
    if (n == 0 && ++empties_ > 2) n = 1;  // bounded run of empty feeds
    if (n != 0) empties_ = 0;
    return n < left ? n : left;
  }

 private:
  std::uint32_t state_;
  std::size_t max_;
  int empties_ = 0;
};

// An error's offset must point into (or just past) the input it describes.
inline bool OffsetWithin(const ParseError& e, std::size_t base, std::size_t size) {
  return e.offset >= base && e.offset <= base + size;
}

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_FUZZ_UTIL_H_
