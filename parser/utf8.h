// UTF-8 well-formedness (RFC 3629), for the parser's SMTPUTF8 paths and for
// the results model's text encoding (results/transcript.cc). Standard
// library only.
#ifndef SMTP_PARSER_UTF8_H_
#define SMTP_PARSER_UTF8_H_

#include <cstddef>
#include <string_view>

namespace smtp {

// Length (2..4) of the well-formed UTF-8 sequence that starts at s[i], or 0
// when the octets at s[i] are ill-formed. RFC 3629 §4 UTF8-2 / UTF8-3 /
// UTF8-4: no overlong forms, no surrogates (U+D800..DFFF), nothing above
// U+10FFFF, no truncation. Precondition: i < s.size() and s[i] >= 0x80.
constexpr std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u;
  };
  const auto tail = [](unsigned c) { return c >= 0x80 && c <= 0xBF; };
  const unsigned c0 = at(0);
  const unsigned c1 = at(1);
  if (c0 >= 0xC2 && c0 <= 0xDF) return tail(c1) ? 2 : 0;
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    const unsigned lo = c0 == 0xE0 ? 0xA0 : 0x80;  // E0: no overlong
    const unsigned hi = c0 == 0xED ? 0x9F : 0xBF;  // ED: no surrogates
    return c1 >= lo && c1 <= hi && tail(at(2)) ? 3 : 0;
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    const unsigned lo = c0 == 0xF0 ? 0x90 : 0x80;  // F0: no overlong
    const unsigned hi = c0 == 0xF4 ? 0x8F : 0xBF;  // F4: <= U+10FFFF
    return c1 >= lo && c1 <= hi && tail(at(2)) && tail(at(3)) ? 4 : 0;
  }
  return 0;  // 80..C1 (continuation or overlong lead), F5..FF
}

}  // namespace smtp

#endif  // SMTP_PARSER_UTF8_H_
