// xtext (RFC 3461 §4), the encoding of ENVID, ORCPT and AUTH= values:
// validation, decoding and encoding. Declared in esmtp_params.h.
#include <cstddef>
#include <string>
#include <string_view>

#include "parser/esmtp_params.h"
#include "parser/internal/command_chars.h"

namespace smtp {
namespace {

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// xchar = %d33-42 / %d44-60 / %d62-126                         (RFC 3461 §4)
constexpr bool IsXchar(char c) { return internal::IsC(c, internal::kXcharBit); }
constexpr bool IsUpperHex(char c) { return internal::IsC(c, internal::kUpperHexBit); }

}  // namespace

std::size_t FindInvalidXtext(std::string_view in) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    i = internal::SkipPrintableExcept(in, i, "=+", internal::kXcharBit);
    if (i == in.size()) break;
    if (in[i] == '+' && i + 2 < in.size() && IsUpperHex(in[i + 1]) && IsUpperHex(in[i + 2])) {
      i += 2;
      continue;
    }
    return i;
  }
  return in.size();
}

std::string DecodeXtext(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto hex = [](char c) { return IsDigit(c) ? c - '0' : c - 'A' + 10; };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && i + 2 < in.size()) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string EncodeXtext(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    if (IsXchar(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

}  // namespace smtp
