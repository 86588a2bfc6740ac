// address-literal of RFC 5321 §4.1.3: IPv4, IPv6 (every RFC 5321 form) and
// General-address-literal. Declared in parser/path.h.
#include "parser/path.h"

#include <optional>

#include "parser/ascii.h"
#include "parser/internal/path_chars.h"

namespace smtp {
namespace {

using internal::CharClass;
using internal::Is;

constexpr ParseError Err(Errc code, std::size_t offset, std::string_view reason) {
  return ParseError{code, offset, reason};
}

// IPv4-address-literal = Snum 3("." Snum)
// Snum = 1*3DIGIT  ; representing a decimal integer value in the range 0 through 255
//                                                              (§4.1.3)
// Scans one IPv4-address-literal at the start of `s` and returns the octets
// consumed; the caller decides what may follow. Errors carry `code`.
Result<std::size_t> ScanIpv4(std::string_view s, std::size_t base, Errc code) {
  std::size_t pos = 0;
  for (int k = 0; k < 4; ++k) {
    if (k > 0) {
      if (pos >= s.size() || s[pos] != '.') {
        return Err(code, base + pos, "RFC 5321 §4.1.3 IPv4-address-literal: expected \".\" Snum");
      }
      ++pos;
    }
    const std::size_t start = pos;
    unsigned value = 0;
    while (pos < s.size() && Is(s[pos], internal::kDigitBit)) {
      if (pos - start == 3) {
        return Err(code, base + pos, "RFC 5321 §4.1.3 Snum: more than 3 DIGIT");
      }
      value = value * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
    }
    if (pos == start) return Err(code, base + pos, "RFC 5321 §4.1.3 Snum: expected 1*3DIGIT");
    if (value > 255) return Err(code, base + start, "RFC 5321 §4.1.3 Snum: value above 255");
  }
  return pos;
}

// IPv6-addr    = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
// IPv6-hex     = 1*4HEXDIG
// IPv6-full    = IPv6-hex 7(":" IPv6-hex)
// IPv6-comp    = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
//              ; no more than 6 groups in addition to the "::"
// IPv6v4-full  = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
// IPv6v4-comp  = [IPv6-hex *3(":" IPv6-hex)] "::"
//                [IPv6-hex *3(":" IPv6-hex) ":"] IPv4-address-literal
//              ; no more than 4 groups in addition to the "::" and
//              ; IPv4-address-literal                             (§4.1.3)
// The IPv4 part counts as two groups, so every form obeys one rule: exactly 8
// groups without "::", at most 6 with it (the "::" stands for at least two).
std::optional<ParseError> CheckIpv6(std::string_view s, std::size_t base) {
  const std::size_t n = s.size();
  std::size_t pos = 0;
  std::size_t groups = 0;
  bool compressed = false;
  if (n == 0) return Err(Errc::kBadIpv6, base, "RFC 5321 §4.1.3 IPv6-addr: empty");
  if (s[0] == ':') {
    if (n < 2 || s[1] != ':') {
      return Err(Errc::kBadIpv6, base, "RFC 5321 §4.1.3 IPv6-addr: single \":\" at start");
    }
    compressed = true;
    pos = 2;
    if (pos == n) return std::nullopt;  // "::"
  }
  for (;;) {
    const std::size_t start = pos;
    while (pos < n && Is(s[pos], internal::kHexBit)) ++pos;
    if (pos < n && s[pos] == '.') {  // IPv6v4-full / IPv6v4-comp
      if (compressed ? groups > 4 : groups != 6) {
        return Err(Errc::kBadIpv6, base + start,
                   compressed ? "RFC 5321 §4.1.3 IPv6v4-comp: more than 4 groups besides \"::\""
                              : "RFC 5321 §4.1.3 IPv6v4-full: needs 6 IPv6-hex before IPv4");
      }
      Result<std::size_t> v4 = ScanIpv4(s.substr(start), base + start, Errc::kBadIpv6);
      if (!v4) return v4.error();
      if (start + *v4 != n) {
        return Err(Errc::kBadIpv6, base + start + *v4,
                   "RFC 5321 §4.1.3 IPv6v4: octets after IPv4-address-literal");
      }
      return std::nullopt;
    }
    if (pos == start)
      return Err(Errc::kBadIpv6, base + pos, "RFC 5321 §4.1.3 IPv6-hex: expected HEXDIG");
    if (pos - start > 4) {
      return Err(Errc::kBadIpv6, base + start + 4, "RFC 5321 §4.1.3 IPv6-hex: more than 4 HEXDIG");
    }
    if (++groups > (compressed ? 6u : 8u)) {
      return Err(Errc::kBadIpv6, base + start,
                 compressed ? "RFC 5321 §4.1.3 IPv6-comp: more than 6 groups besides \"::\""
                            : "RFC 5321 §4.1.3 IPv6-full: more than 8 groups");
    }
    if (pos == n) break;
    if (s[pos] != ':')
      return Err(Errc::kBadIpv6, base + pos, "RFC 5321 §4.1.3 IPv6-addr: expected \":\"");
    ++pos;
    if (pos < n && s[pos] == ':') {
      if (compressed)
        return Err(Errc::kBadIpv6, base + pos - 1, "RFC 5321 §4.1.3 IPv6-comp: second \"::\"");
      if (groups > 6) {
        return Err(Errc::kBadIpv6, base + pos - 1,
                   "RFC 5321 §4.1.3 IPv6-comp: more than 6 groups besides \"::\"");
      }
      compressed = true;
      ++pos;
      if (pos == n) return std::nullopt;  // trailing "::"
    } else if (pos == n) {
      return Err(Errc::kBadIpv6, base + pos,
                 "RFC 5321 §4.1.3 IPv6-addr: expected IPv6-hex after \":\"");
    }
  }
  if (!compressed && groups != 8) {
    return Err(Errc::kBadIpv6, base + n, "RFC 5321 §4.1.3 IPv6-full: fewer than 8 groups");
  }
  return std::nullopt;
}

// General-address-literal = Standardized-tag ":" 1*dcontent
// Standardized-tag = Ldh-str ; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
// dcontent = %d33-90 / %d94-126                                 (§4.1.3)
// `colon` is the index of the first ":" in `s`.
std::optional<ParseError> CheckGeneral(std::string_view s, std::size_t colon, std::size_t base) {
  if (colon == 0) {
    return Err(Errc::kBadGeneralLiteral, base, "RFC 5321 §4.1.3 Standardized-tag: empty Ldh-str");
  }
  for (std::size_t i = 0; i < colon; ++i) {
    if (!Is(s[i], internal::kLetDigBit) && s[i] != '-') {
      return Err(Errc::kBadGeneralLiteral, base + i,
                 "RFC 5321 §4.1.3 Standardized-tag: octet outside Ldh-str");
    }
  }
  if (s[colon - 1] == '-') {
    return Err(Errc::kBadGeneralLiteral, base + colon - 1,
               "RFC 5321 §4.1.3 Standardized-tag: Ldh-str must end with Let-dig");
  }
  if (colon + 1 == s.size()) {
    return Err(Errc::kBadGeneralLiteral, base + colon + 1,
               "RFC 5321 §4.1.3 General-address-literal: expected 1*dcontent");
  }
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    if (!Is(s[i], internal::kDcontentBit)) {
      return Err(Errc::kBadGeneralLiteral, base + i,
                 "RFC 5321 §4.1.3 dcontent: octet outside %d33-90 / %d94-126");
    }
  }
  return std::nullopt;
}

}  // namespace

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
//                   General-address-literal ) "]"
// IPv6-address-literal = "IPv6:" IPv6-addr                      (§4.1.3)
// Content without ":" must be IPv4; "IPv6" (any case) before the first ":"
// selects IPv6; any other tag is a General-address-literal. Note that the ABNF
// makes "[2001:db8::1]" a General-address-literal with tag "2001".
Result<DomainKind> ParseAddressLiteral(std::string_view in, std::size_t base_offset) {
  if (in.empty() || in[0] != '[') {
    return Err(Errc::kBadAddressLiteral, base_offset,
               "RFC 5321 §4.1.3 address-literal: expected \"[\"");
  }
  if (in.size() < 2 || in.back() != ']') {
    return Err(Errc::kBadAddressLiteral, base_offset + in.size(),
               "RFC 5321 §4.1.3 address-literal: missing \"]\"");
  }
  const std::string_view content = in.substr(1, in.size() - 2);
  const std::size_t base = base_offset + 1;
  if (content.empty()) {
    return Err(Errc::kBadAddressLiteral, base, "RFC 5321 §4.1.3 address-literal: empty");
  }
  const std::size_t colon = content.find(':');
  if (colon == std::string_view::npos) {
    if (!Is(content[0], internal::kDigitBit)) {
      return Err(Errc::kBadAddressLiteral, base,
                 "RFC 5321 §4.1.3 address-literal: neither IPv4 nor Standardized-tag \":\"");
    }
    Result<std::size_t> v4 = ScanIpv4(content, base, Errc::kBadIpv4);
    if (!v4) return v4.error();
    if (*v4 != content.size()) {
      return Err(Errc::kBadIpv4, base + *v4,
                 "RFC 5321 §4.1.3 IPv4-address-literal: octets after 4th Snum");
    }
    return DomainKind::kIpv4Literal;
  }
  if (EqualsIgnoreCase(content.substr(0, colon), "IPv6")) {
    if (auto e = CheckIpv6(content.substr(colon + 1), base + colon + 1)) return *e;
    return DomainKind::kIpv6Literal;
  }
  if (auto e = CheckGeneral(content, colon, base)) return *e;
  return DomainKind::kGeneralLiteral;
}

}  // namespace smtp
