// ASCII helpers for protocol words: case folding of verbs, keywords, domains,
// the "IPv6" tag, the value of a hex digit, and a line without its line end.
// SMTP compares these case-insensitively in US-ASCII only (RFC 5321 §2.4); octets outside "A"-"Z" /
// "a"-"z", 8-bit ones included, are never folded. Locale-free, standard library only.
#ifndef SMTP_PARSER_ASCII_H_
#define SMTP_PARSER_ASCII_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace smtp {

// `c` with "a"-"z" mapped to "A"-"Z"; any other octet unchanged.
constexpr char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// `s` with ToUpper applied to every octet.
inline std::string ToUpperCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToUpper(c);
  return out;
}

// True when `a` and `b` have the same size and differ at most in the case of
// ASCII letters. Equal octets cost one compare; octets that differ only in
// bit 0x20 are equal when that makes them the same letter ("@" and "`" are
// not).
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    const unsigned lower = x | 0x20u;
    if ((x ^ y) != 0x20u || lower < 'a' || lower > 'z') return false;
  }
  return true;
}

// True when `s` begins with `prefix`, ASCII case ignored.
constexpr bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// `line` without the CR and LF octets at its end ("" stays "").
constexpr std::string_view WithoutLineEnd(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

// The value of hex digit `c` ("0"-"9", "a"-"f", "A"-"F"), or -1.
constexpr int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace smtp

#endif  // SMTP_PARSER_ASCII_H_
