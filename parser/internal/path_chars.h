// Character classes shared by path.cc and address_literal.cc (UTF-8
// decoding: parser/utf8.h). Internal: not part of the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_PATH_CHARS_H_
#define SMTP_PARSER_INTERNAL_PATH_CHARS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "parser/utf8.h"

namespace smtp::internal {

enum CharClass : std::uint8_t {
  kDigitBit = 1u << 0,     // DIGIT
  kLetDigBit = 1u << 1,    // Let-dig = ALPHA / DIGIT                     (RFC 5321 §4.1.2)
  kHexBit = 1u << 2,       // HEXDIG                                      (RFC 5234 B.1)
  kAtextBit = 1u << 3,     // atext                                       (RFC 5322 §3.2.3)
  kQtextBit = 1u << 4,     // qtextSMTP = %d32-33 / %d35-91 / %d93-126    (RFC 5321 §4.1.2)
  kQpairBit = 1u << 5,     // second octet of quoted-pairSMTP: %d32-126   (RFC 5321 §4.1.2)
  kDcontentBit = 1u << 6,  // dcontent = %d33-90 / %d94-126               (RFC 5321 §4.1.3)
  kLdhBit = 1u << 7,       // ALPHA / DIGIT / "-" (Ldh-str octets)        (RFC 5321 §4.1.2)
};

constexpr std::array<std::uint8_t, 256> MakeCharTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (digit) bits |= kDigitBit;
    if (digit || alpha) bits |= kLetDigBit | kAtextBit | kLdhBit;
    if (c == '-') bits |= kLdhBit;
    if (digit || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')) bits |= kHexBit;
    if (c >= 32 && c <= 126) {
      bits |= kQpairBit;
      if (c != '"' && c != '\\') bits |= kQtextBit;
      if (c != ' ' && c != '[' && c != '\\' && c != ']') bits |= kDcontentBit;
    }
    t[static_cast<std::size_t>(c)] = bits;
  }
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~")) {
    t[static_cast<unsigned char>(c)] |= kAtextBit;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kCharTable = MakeCharTable();

constexpr bool Is(char c, CharClass k) {
  return (kCharTable[static_cast<unsigned char>(c)] & k) != 0;
}
constexpr bool IsHigh(char c) { return static_cast<unsigned char>(c) >= 0x80; }

// Index of the first octet of s[from..] not in class `k`, or s.size().
// Takes and returns the position by value: a scanning loop on a `size_t&`
// that the compiler cannot keep in a register stores it on every octet.
constexpr std::size_t Skip(std::string_view s, std::size_t from, CharClass k) {
  while (from < s.size() && Is(s[from], k)) ++from;
  return from;
}

using ::smtp::Utf8SequenceLength;  // parser/utf8.h

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_PATH_CHARS_H_
