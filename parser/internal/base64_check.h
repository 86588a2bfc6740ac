// RFC 4648 §4 base64 validation, as SASL (RFC 4954 §4) uses it on the wire.
// Internal: not part of the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_BASE64_CHECK_H_
#define SMTP_PARSER_INTERNAL_BASE64_CHECK_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "parser/internal/command_chars.h"

namespace smtp::internal {

struct Base64Problem {
  std::size_t offset;       // first offending octet of the input (its size when too short)
  std::string_view reason;  // static
};

// base64 = base64-terminal / ( 1*(4base64-char) [base64-terminal] )
// Canonical only: padded to a multiple of 4, at most two "=", and the pad
// bits of the last data character zero (RFC 4648 §3.5: encoders MUST).
// Returns nothing when `s` is such base64; the empty string is not.
// `base64_prefix`: the caller knows s[0, base64_prefix) to be base64-chars
// (kBase64Bit) and the scan starts there.
// The 6-bit value of a base64 character (RFC 4648 §4 Table 1).
constexpr unsigned Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<unsigned>(c - 'a' + 26);
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0' + 52);
  return c == '+' ? 62 : 63;
}

constexpr std::optional<Base64Problem> CheckBase64(std::string_view s,
                                                   std::size_t base64_prefix = 0) {
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t pad = npos;
  for (std::size_t k = base64_prefix; k < s.size(); ++k) {
    if (pad == npos) k = SkipClass(s, k, kBase64Bit);  // the data characters
    if (k == s.size()) break;
    if (s[k] == '=') {
      if (pad == npos) pad = k;
    } else if (!IsC(s[k], kBase64Bit)) {
      return Base64Problem{k, "RFC 4648 §4: not a base64 character"};
    } else if (pad != npos) {
      return Base64Problem{k, "RFC 4648 §4: data after \"=\" padding"};
    }
  }
  if (s.empty() || s.size() % 4 != 0) {
    return Base64Problem{s.size(), "RFC 4648 §4: length is not a multiple of 4"};
  }
  if (pad == npos) return std::nullopt;
  if (s.size() - pad > 2) return Base64Problem{pad, "RFC 4648 §4: more than two \"=\""};
  const std::size_t mask = s.size() - pad == 1 ? 0x3 : 0xF;
  if ((Base64Value(s[pad - 1]) & mask) != 0) {
    return Base64Problem{pad - 1, "RFC 4648 §3.5: pad bits must be zero"};
  }
  return std::nullopt;
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_BASE64_CHECK_H_
