#include "harness/server/relay_policy.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::server {
namespace {

Ip16 V4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  return Ip16{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

Ip16 Loopback6() {
  Ip16 x{};
  x[15] = 1;
  return x;
}

TEST(ParseIpAddressTest, Table) {
  struct Case {
    std::string_view text;
    std::optional<Ip16> want;
  };
  const Case cases[] = {
      {"127.0.0.1", V4(127, 0, 0, 1)},
      {"[127.0.0.1]", V4(127, 0, 0, 1)},
      {"[192.0.2.001]", V4(192, 0, 2, 1)},  // Snum = 1*3DIGIT
      {"255.255.255.255", V4(255, 255, 255, 255)},
      {"[IPv6:::1]", Loopback6()},
      {"[ipv6:0:0:0:0:0:0:0:1]", Loopback6()},
      {"::1", Loopback6()},
      {"::ffff:127.0.0.1", V4(127, 0, 0, 1)},
      {"[IPv6:::ffff:127.0.0.1]", V4(127, 0, 0, 1)},
      {"fe80::1%eth0", Ip16{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      // Not addresses.
      {"", std::nullopt},
      {"[]", std::nullopt},
      {"[300.1.2.3]", std::nullopt},
      {"1.2.3", std::nullopt},
      {"1.2.3.4.5", std::nullopt},
      {"1.2.3.0004", std::nullopt},
      {"[1.2.3.4", std::nullopt},
      {"[::1]", std::nullopt},  // RFC 5321 §4.1.3: IPv6 needs the tag
      {"[IPv6:1.2.3.4]", std::nullopt},
      {"[IPv6:fe80::1%eth0]", std::nullopt},
      {"[x-tag:content]", std::nullopt},
      {"mx.test", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseIpAddress(c.text), c.want) << c.text;
  }
}

Path Mailbox(std::string_view local, std::string_view domain, DomainKind kind,
             bool postmaster = false) {
  Path p;
  p.local_part = local;
  p.domain = domain;
  p.domain_kind = kind;
  p.is_postmaster = postmaster;
  return p;
}

TEST(ClassifyRecipientTest, Table) {
  const std::vector<std::string> locals = {"example.com", "[192.0.2.7]", "dot.example."};
  const LocalIdentity self{"MX.test", locals, "::ffff:127.0.0.1"};
  struct Case {
    Path rcpt;
    RcptClass want;
  };
  const Case cases[] = {
      {Mailbox("Postmaster", "", DomainKind::kNone, true), RcptClass::kLocal},
      {Mailbox("u", "", DomainKind::kNone), RcptClass::kForeign},
      {Mailbox("u", "mx.TEST", DomainKind::kName), RcptClass::kLocal},
      {Mailbox("u", "mx.test.", DomainKind::kName), RcptClass::kLocal},
      {Mailbox("u", "EXAMPLE.com", DomainKind::kName), RcptClass::kLocal},
      {Mailbox("u", "dot.example", DomainKind::kName), RcptClass::kLocal},
      {Mailbox("u", "example.net", DomainKind::kName), RcptClass::kForeign},
      {Mailbox("u", "xexample.com", DomainKind::kName), RcptClass::kForeign},
      {Mailbox("u", "[127.0.0.1]", DomainKind::kIpv4Literal), RcptClass::kLocal},
      {Mailbox("u", "[192.0.2.007]", DomainKind::kIpv4Literal), RcptClass::kLocal},
      {Mailbox("u", "[IPv6:::ffff:192.0.2.7]", DomainKind::kIpv6Literal), RcptClass::kLocal},
      {Mailbox("u", "[192.0.2.1]", DomainKind::kIpv4Literal), RcptClass::kForeign},
      {Mailbox("u", "[x-tag:mx.test]", DomainKind::kGeneralLiteral), RcptClass::kForeign},
      {Mailbox("u%example.net", "mx.test", DomainKind::kName), RcptClass::kRoutedLocalPart},
      {Mailbox("example.net!u", "mx.test", DomainKind::kName), RcptClass::kRoutedLocalPart},
      {Mailbox("\"u@example.net\"", "mx.test", DomainKind::kName), RcptClass::kRoutedLocalPart},
      {Mailbox("u%example.net", "example.net", DomainKind::kName), RcptClass::kForeign},
      {Mailbox("\"a b\"", "mx.test", DomainKind::kName), RcptClass::kLocal},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ClassifyRecipient(c.rcpt, self), c.want) << c.rcpt.local_part << "@" << c.rcpt.domain;
  }
  // Without a known local address, only listed literals are local.
  const LocalIdentity unknown{"mx.test", locals, ""};
  EXPECT_EQ(ClassifyRecipient(Mailbox("u", "[127.0.0.1]", DomainKind::kIpv4Literal), unknown),
            RcptClass::kForeign);
}

}  // namespace
}  // namespace smtp::server
