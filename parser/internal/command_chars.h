// Character classes and word helpers of the command and ESMTP parameter
// parsers: 256-entry tables so that each scanning loop is one load and one
// test per octet. Internal: not part of the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_COMMAND_CHARS_H_
#define SMTP_PARSER_INTERNAL_COMMAND_CHARS_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace smtp::internal {

enum CommandCharClass : std::uint8_t {
  kAlphaBit = 1u << 0,     // ALPHA                                        (RFC 5234 B.1)
  kKeywordBit = 1u << 1,   // esmtp-keyword tail: ALPHA / DIGIT / "-"       (RFC 5321 §4.1.2)
  kValueBit = 1u << 2,     // esmtp-value: %d33-60 / %d62-126               (RFC 5321 §4.1.2)
  kXcharBit = 1u << 3,     // xchar: %d33-42 / %d44-60 / %d62-126           (RFC 3461 §4)
  kWspBit = 1u << 4,       // WSP: SP / HTAB                                (RFC 5234 B.1)
  kBase64Bit = 1u << 5,    // base64-char: ALPHA / DIGIT / "+" / "/"        (RFC 4648 §4)
  kSaslBit = 1u << 6,      // sasl-mech octet: ALPHA / DIGIT / "-" / "_"    (RFC 4422 §3.1)
  kUpperHexBit = 1u << 7,  // hexchar digit: %x30-39 / %x41-46              (RFC 3461 §4)
};

constexpr std::array<std::uint8_t, 256> MakeCommandCharTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (alpha) bits |= kAlphaBit;
    if (alpha || digit || c == '-') bits |= kKeywordBit;
    if (c >= 33 && c <= 126 && c != '=') bits |= kValueBit;
    if (c >= 33 && c <= 126 && c != '=' && c != '+') bits |= kXcharBit;
    if (c == ' ' || c == '\t') bits |= kWspBit;
    if (alpha || digit || c == '+' || c == '/') bits |= kBase64Bit;
    if (alpha || digit || c == '-' || c == '_') bits |= kSaslBit;
    if (digit || (c >= 'A' && c <= 'F')) bits |= kUpperHexBit;
    t[static_cast<std::size_t>(c)] = bits;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kCommandCharTable = MakeCommandCharTable();

constexpr bool IsC(char c, CommandCharClass k) {
  return (kCommandCharTable[static_cast<unsigned char>(c)] & k) != 0;
}

// Index of the first octet of s[from..] not in class `k`, or s.size().
constexpr std::size_t SkipClass(std::string_view s, std::size_t from, CommandCharClass k) {
  while (from < s.size() && IsC(s[from], k)) ++from;
  return from;
}

// The 4 octets at p as a little-endian word, letters folded to lower case
// (| 0x20). Compared with Tag4 of a lower-case word of letters it is an exact
// case-insensitive match: | 0x20 maps only "A" and "a" onto "a". (Digits and
// "-" have aliases among the controls: 0x18 | 0x20 == "8".)
inline std::uint32_t LoadFolded4(const char* p) {
  std::uint32_t w = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&w, p, sizeof w);  // one load (GCC does not merge the loop below)
  } else {
    for (int k = 3; k >= 0; --k) w = (w << 8) | static_cast<unsigned char>(p[k]);
  }
  return w | 0x20202020u;
}

// `word` (4 lower-case letters / digits) as LoadFolded4 reads it.
constexpr std::uint32_t Tag4(std::string_view word) {
  std::uint32_t w = 0;
  for (int k = 3; k >= 0; --k) w = (w << 8) | static_cast<unsigned char>(word[k]);
  return w;
}

// ASCII case-insensitive equality of `s` and `upper` (upper-case letters,
// digits, "-"), for `s` already known to be ALPHA / DIGIT / "-" only.
constexpr bool FoldedEquals(std::string_view s, std::string_view upper) {
  if (s.size() != upper.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((s[i] | 0x20) != (upper[i] | 0x20)) return false;
  }
  return true;
}

// True when some octet of the little-endian word `w` is below 0x0E (NUL, LF,
// CR and the other low controls). Exact: no false negatives or positives.
constexpr bool HasOctetBelow0E(std::uint64_t w) {
  return ((w - 0x0E0E0E0E0E0E0E0EULL) & ~w & 0x8080808080808080ULL) != 0;
}

inline std::uint64_t Load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// 0x80 in each octet of `w` that is zero; below the lowest zero octet no
// false positives, so the lowest set bit locates the first zero exactly.
constexpr std::uint64_t ZeroOctets(std::uint64_t w) {
  return (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL;
}

constexpr std::uint64_t Broadcast(char c) {
  return 0x0101010101010101ULL * static_cast<unsigned char>(c);
}

// Index of the first octet of s[from..] equal to one of `set`, or s.size()
// (from when from > s.size()). Eight octets at a time on little-endian
// machines.
template <std::size_t N>
inline std::size_t FindAnyOf(std::string_view s, std::size_t from, const char (&set)[N]) {
  constexpr std::size_t kCount = N - 1;  // without the terminating NUL
  if constexpr (std::endian::native == std::endian::little) {
    while (from + 8 <= s.size()) {
      const std::uint64_t w = Load8(s.data() + from);
      std::uint64_t hits = 0;
      for (std::size_t k = 0; k < kCount; ++k) hits |= ZeroOctets(w ^ Broadcast(set[k]));
      if (hits != 0) return from + static_cast<std::size_t>(std::countr_zero(hits)) / 8;
      from += 8;
    }
  }
  for (; from < s.size(); ++from) {
    for (std::size_t k = 0; k < kCount; ++k) {
      if (s[from] == set[k]) return from;
    }
  }
  return from;
}

// Index of the first octet of s[from..] outside %d33-126 or equal to one of
// `except`, or s.size(): esmtp-value (except "=", kValueBit) and xchar
// (except "=" and "+", kXcharBit) eight octets at a time, so that a value
// costs no loop exit per octet. Exact: each test below has false positives
// only above a true one (a borrow moves upward), so the lowest hit is the
// first octet outside. `k` is the same class as a table bit, for the tail.
template <std::size_t N>
inline std::size_t SkipPrintableExcept(std::string_view s, std::size_t from,
                                       const char (&except)[N], CommandCharClass k) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    while (from + 8 <= s.size()) {
      const std::uint64_t w = Load8(s.data() + from);
      std::uint64_t stop = ((w - Broadcast(33)) & ~w & kHigh)  // below 33 (w < 0x80)
                           | (w & kHigh)                       // 0x80 and above
                           | ZeroOctets(w ^ Broadcast(127));
      for (std::size_t e = 0; e + 1 < N; ++e) stop |= ZeroOctets(w ^ Broadcast(except[e]));
      if (stop != 0) return from + static_cast<std::size_t>(std::countr_zero(stop)) / 8;
      from += 8;
    }
  }
  return SkipClass(s, from, k);
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_COMMAND_CHARS_H_
