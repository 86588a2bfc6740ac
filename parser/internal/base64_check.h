// RFC 4648 §4 base64 validation, as SASL (RFC 4954 §4) uses it on the wire.
// Internal: not part of the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_BASE64_CHECK_H_
#define SMTP_PARSER_INTERNAL_BASE64_CHECK_H_

#include <cstddef>
#include <optional>
#include <string_view>

namespace smtp::internal {

struct Base64Problem {
  std::size_t offset;       // first offending octet of the input (its size when too short)
  std::string_view reason;  // static
};

// base64 = base64-terminal / ( 1*(4base64-char) [base64-terminal] )
// Canonical only: padded to a multiple of 4, at most two "=", and the pad
// bits of the last data character zero (RFC 4648 §3.5: encoders MUST).
// Returns nothing when `s` is such base64; the empty string is not.
constexpr std::optional<Base64Problem> CheckBase64(std::string_view s) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  constexpr std::size_t npos = std::string_view::npos;
  std::size_t pad = npos;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '=') {
      if (pad == npos) pad = k;
    } else if (kAlphabet.find(s[k]) == npos) {
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
  if ((kAlphabet.find(s[pad - 1]) & mask) != 0) {
    return Base64Problem{pad - 1, "RFC 4648 §3.5: pad bits must be zero"};
  }
  return std::nullopt;
}

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_BASE64_CHECK_H_
