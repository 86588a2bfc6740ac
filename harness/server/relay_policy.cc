#include "harness/server/relay_policy.h"

#include <arpa/inet.h>

#include <cstring>

#include "parser/ascii.h"

namespace smtp::server {
namespace {

std::string_view StripTrailingDot(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  return d;
}

// IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0..255
// (RFC 5321 §4.1.3).
std::optional<Ip16> ParseIpv4(std::string_view s) {
  Ip16 out{};
  out[10] = out[11] = 0xff;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= s.size() || s[pos] != '.') return std::nullopt;
      ++pos;
    }
    unsigned value = 0;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && digits < 3) {
      value = value * 10 + static_cast<unsigned>(s[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || value > 255) return std::nullopt;
    out[12 + part] = static_cast<std::uint8_t>(value);
  }
  if (pos != s.size()) return std::nullopt;
  return out;
}

bool SameAddress(std::string_view a, std::string_view b) {
  const std::optional<Ip16> x = ParseIpAddress(a);
  const std::optional<Ip16> y = ParseIpAddress(b);
  return x && y && *x == *y;
}

bool IsLocalDomain(const Path& rcpt, const LocalIdentity& self) {
  const bool literal =
      rcpt.domain_kind == DomainKind::kIpv4Literal || rcpt.domain_kind == DomainKind::kIpv6Literal;
  if (literal && !self.local_address.empty() && SameAddress(rcpt.domain, self.local_address)) {
    return true;
  }
  const std::string_view domain = StripTrailingDot(rcpt.domain);
  auto matches = [&](std::string_view local) {
    if (literal && !local.empty() && local.front() == '[') return SameAddress(rcpt.domain, local);
    return EqualsIgnoreCase(domain, StripTrailingDot(local));
  };
  if (matches(self.hostname)) return true;
  for (const std::string& local : self.local_domains) {
    if (matches(local)) return true;
  }
  return false;
}

}  // namespace

std::optional<Ip16> ParseIpAddress(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    if (StartsWithIgnoreCase(text, "IPv6:")) {
      text.remove_prefix(5);
      if (text.find('%') != std::string_view::npos) return std::nullopt;
    } else {
      return ParseIpv4(text);  // RFC 5321 §4.1.3: only IPv4 goes untagged
    }
  } else if (std::optional<Ip16> v4 = ParseIpv4(text)) {
    return v4;
  }
  text = text.substr(0, text.find('%'));  // a zone, as in "fe80::1%eth0"
  // inet_pton needs a terminated string; an IPv6 address is at most 45 octets.
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Ip16 out{};
  if (inet_pton(AF_INET6, buf, out.data()) != 1) return std::nullopt;
  return out;
}

RcptClass ClassifyRecipient(const Path& rcpt, const LocalIdentity& self) {
  if (rcpt.is_postmaster || rcpt.domain.empty()) {
    // RFC 5321 §4.5.1: <Postmaster> without a domain MUST be accepted.
    return rcpt.is_postmaster ? RcptClass::kLocal : RcptClass::kForeign;
  }
  if (!IsLocalDomain(rcpt, self)) return RcptClass::kForeign;
  if (rcpt.local_part.find_first_of("%!@") != std::string_view::npos) {
    return RcptClass::kRoutedLocalPart;
  }
  return RcptClass::kLocal;
}

}  // namespace smtp::server
