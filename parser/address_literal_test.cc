// The stand-alone entry points of path.h: ParseAddressLiteral (RFC 5321
// §4.1.3), ParseDomain / ScanDomain (§4.1.2) and FindInvalidUtf8 (RFC 3629).
#include "parser/path.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace smtp {
namespace {

using namespace std::literals;

// A domain of `n` octets whose labels are at most 63 octets (RFC 1035
// §2.3.4): 63 times `c`, ".", ... (no label is empty or ends the domain
// with a dot).
std::string Dotted(std::size_t n, char c) {
  std::string out;
  while (out.size() < n) {
    if (!out.empty() && out.size() % 64 == 63 && out.size() + 1 < n) {
      out += '.';
    } else {
      out += c;
    }
  }
  return out;
}

struct LiteralRow {
  std::string_view in;
  Errc code;           // kOk: accepted
  std::size_t offset;  // error offset, or unused
  DomainKind kind;     // when accepted
};

constexpr DomainKind k4 = DomainKind::kIpv4Literal;
constexpr DomainKind k6 = DomainKind::kIpv6Literal;
constexpr DomainKind kGen = DomainKind::kGeneralLiteral;
constexpr DomainKind kNo = DomainKind::kNone;

// Offsets count from "[". In IPv6 rows the address starts at offset 6
// ("[IPv6:" is 6 octets).
const LiteralRow kLiterals[] = {
    // IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0..255.
    {"[0.0.0.0]", Errc::kOk, 0, k4},
    {"[127.0.0.1]", Errc::kOk, 0, k4},
    {"[255.255.255.255]", Errc::kOk, 0, k4},
    {"[001.002.003.004]", Errc::kOk, 0, k4},  // leading zeros: 1*3DIGIT
    {"[000.0.00.0]", Errc::kOk, 0, k4},
    {"[256.0.0.0]", Errc::kBadIpv4, 1, kNo},
    {"[1.2.3.256]", Errc::kBadIpv4, 7, kNo},
    {"[999.1.1.1]", Errc::kBadIpv4, 1, kNo},
    {"[0001.2.3.4]", Errc::kBadIpv4, 4, kNo},  // the 4th DIGIT
    {"[1.2.3]", Errc::kBadIpv4, 6, kNo},       // where "." was expected
    {"[1.2.3.]", Errc::kBadIpv4, 7, kNo},
    {"[1..2.3]", Errc::kBadIpv4, 3, kNo},
    {"[1.2.3.4.5]", Errc::kBadIpv4, 8, kNo},
    {"[1.2.3.4 ]", Errc::kBadIpv4, 8, kNo},
    {"[1.2.3.-4]", Errc::kBadIpv4, 7, kNo},
    {"[1.2.3.4]]", Errc::kBadIpv4, 8, kNo},
    {"[1.2.3.0x1]", Errc::kBadIpv4, 8, kNo},
    {"[.1.2.3]", Errc::kBadAddressLiteral, 1, kNo},
    {"[+1.2.3.4]", Errc::kBadAddressLiteral, 1, kNo},
    {"[abc]", Errc::kBadAddressLiteral, 1, kNo},
    // Framing.
    {"", Errc::kBadAddressLiteral, 0, kNo},
    {"[", Errc::kBadAddressLiteral, 1, kNo},
    {"]", Errc::kBadAddressLiteral, 0, kNo},
    {"[]", Errc::kBadAddressLiteral, 1, kNo},
    {"1.2.3.4", Errc::kBadAddressLiteral, 0, kNo},
    {"[1.2.3.4", Errc::kBadAddressLiteral, 8, kNo},
    // IPv6-full.
    {"[IPv6:2001:db8:0:0:0:0:2:1]", Errc::kOk, 0, k6},
    {"[IPv6:2001:0db8:85a3:0000:0000:8a2e:0370:7334]", Errc::kOk, 0, k6},
    {"[IPv6:FFFF:ffff:FfFf:0:0:0:0:0]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3:4:5:6:7]", Errc::kBadIpv6, 19, kNo},      // 7 groups, no "::"
    {"[IPv6:1:2:3:4:5:6:7:8:9]", Errc::kBadIpv6, 22, kNo},  // 9th group
    {"[IPv6:1:2:3:4:5:6:7:8:]", Errc::kBadIpv6, 22, kNo},
    {"[IPv6:12345::]", Errc::kBadIpv6, 10, kNo},  // 5th HEXDIG
    {"[IPv6:g::]", Errc::kBadIpv6, 6, kNo},
    {"[IPv6:1::g]", Errc::kBadIpv6, 9, kNo},
    {"[IPv6:]", Errc::kBadIpv6, 6, kNo},
    {"[IPv6:1:]", Errc::kBadIpv6, 8, kNo},
    {"[IPv6:1::1 ]", Errc::kBadIpv6, 10, kNo},
    {"[IPv6:fe80::1%eth0]", Errc::kBadIpv6, 13, kNo},  // no zone index
    // IPv6-comp: "::" at start, middle, end, alone; at most 6 groups besides.
    {"[IPv6:::]", Errc::kOk, 0, k6},
    {"[IPv6:::1]", Errc::kOk, 0, k6},
    {"[IPv6:1::]", Errc::kOk, 0, k6},
    {"[IPv6:2001:db8::1]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3:4:5:6::]", Errc::kOk, 0, k6},
    {"[IPv6:::1:2:3:4:5:6]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3::4:5:6]", Errc::kOk, 0, k6},
    {"[ipv6:::1]", Errc::kOk, 0, k6},
    {"[IPV6:::1]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3:4:5:6:7::]", Errc::kBadIpv6, 19, kNo},  // 7 besides "::"
    {"[IPv6:1:2:3:4:5:6:7::8]", Errc::kBadIpv6, 19, kNo},
    {"[IPv6:::1:2:3:4:5:6:7]", Errc::kBadIpv6, 20, kNo},
    {"[IPv6:1::2:3:4:5:6:7]", Errc::kBadIpv6, 19, kNo},
    {"[IPv6::::]", Errc::kBadIpv6, 8, kNo},
    {"[IPv6:1:::2]", Errc::kBadIpv6, 9, kNo},
    {"[IPv6:1::2::3]", Errc::kBadIpv6, 10, kNo},
    {"[IPv6::1]", Errc::kBadIpv6, 6, kNo},
    {"[IPv6::]", Errc::kBadIpv6, 6, kNo},
    // IPv6v4-full (6 groups + IPv4) and IPv6v4-comp (at most 4 groups + "::").
    {"[IPv6:0:0:0:0:0:ffff:192.0.2.1]", Errc::kOk, 0, k6},
    {"[IPv6:::ffff:192.0.2.1]", Errc::kOk, 0, k6},
    {"[IPv6:::192.0.2.1]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3:4::192.0.2.1]", Errc::kOk, 0, k6},
    {"[IPv6:1::2:3:4:192.0.2.1]", Errc::kOk, 0, k6},
    {"[IPv6:1:2:3:4:5:192.0.2.1]", Errc::kBadIpv6, 16, kNo},
    {"[IPv6:1:2:3:4:5:6:7:192.0.2.1]", Errc::kBadIpv6, 20, kNo},
    {"[IPv6:1:2:3:4:5::192.0.2.1]", Errc::kBadIpv6, 17, kNo},
    {"[IPv6:1::2:3:4:5:192.0.2.1]", Errc::kBadIpv6, 17, kNo},
    {"[IPv6:192.0.2.1]", Errc::kBadIpv6, 6, kNo},
    {"[IPv6:::192.0.2.256]", Errc::kBadIpv6, 16, kNo},
    {"[IPv6:::192.0.2]", Errc::kBadIpv6, 15, kNo},
    {"[IPv6:::192.0.2.1:1]", Errc::kBadIpv6, 17, kNo},
    {"[IPv6:::1.2.3.4.5]", Errc::kBadIpv6, 15, kNo},
    {"[IPv6:::ffff:1234.0.2.1]", Errc::kBadIpv6, 16, kNo},
    {"[IPv6:1::.1.2.3]", Errc::kBadIpv6, 9, kNo},
    // General-address-literal = Standardized-tag ":" 1*dcontent.
    {"[x-tag:abc]", Errc::kOk, 0, kGen},
    {"[TAG:a:b:c]", Errc::kOk, 0, kGen},
    {"[Tag1:!~\"^]", Errc::kOk, 0, kGen},
    {"[-a:x]", Errc::kOk, 0, kGen},         // Ldh-str may start with "-"
    {"[2001:db8::1]", Errc::kOk, 0, kGen},  // tag "2001", per the ABNF
    {"[IPv6x:1]", Errc::kOk, 0, kGen},
    {"[:abc]", Errc::kBadGeneralLiteral, 1, kNo},
    {"[tag-:x]", Errc::kBadGeneralLiteral, 4, kNo},
    {"[t_g:x]", Errc::kBadGeneralLiteral, 2, kNo},
    {"[IPv6 :::1]", Errc::kBadGeneralLiteral, 5, kNo},
    {"[tag:]", Errc::kBadGeneralLiteral, 5, kNo},
    {"[tag:a b]", Errc::kBadGeneralLiteral, 6, kNo},
    {"[tag:a\\b]", Errc::kBadGeneralLiteral, 6, kNo},
    {"[tag:a[b]", Errc::kBadGeneralLiteral, 6, kNo},
    {"[tag:a]b]", Errc::kBadGeneralLiteral, 6, kNo},
    {"[tag:\x7f]", Errc::kBadGeneralLiteral, 5, kNo},
    {"[tag:\0]"sv, Errc::kBadGeneralLiteral, 5, kNo},
    {"[tag:\xC3\xA9]", Errc::kBadGeneralLiteral, 5, kNo},
};

TEST(AddressLiteralTest, Table) {
  for (const LiteralRow& row : kLiterals) {
    for (std::size_t base : {std::size_t{0}, std::size_t{100}}) {
      SCOPED_TRACE(::testing::Message() << '"' << row.in << "\" base " << base);
      Result<DomainKind> r = ParseAddressLiteral(row.in, base);
      if (row.code == Errc::kOk) {
        ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " @" << r.error().offset << " "
                            << r.error().reason;
        EXPECT_EQ(*r, row.kind);
        continue;
      }
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(ErrcName(r.error().code), ErrcName(row.code)) << r.error().reason;
      EXPECT_EQ(r.error().offset, base + row.offset) << r.error().reason;
      EXPECT_LE(r.error().offset, base + row.in.size());
      EXPECT_TRUE(r.error().reason.starts_with("RFC 5321 §4.1.3")) << r.error().reason;
    }
  }
}

// The same literals as the Domain of a path: same verdict, offsets shifted by
// the "<a@" prefix, and the accepted ones round-trip.
TEST(AddressLiteralTest, InsidePaths) {
  for (const LiteralRow& row : kLiterals) {
    if (row.in.size() < 2 || row.in.front() != '[' || row.in.find(']') != row.in.size() - 1) {
      continue;  // framing rows: a path finds the first "]" itself
    }
    const std::string path = "<a@" + std::string(row.in) + ">";
    SCOPED_TRACE(path);
    Result<Path> r = ParseForwardPath(path);
    if (row.code == Errc::kOk) {
      ASSERT_TRUE(r.ok()) << r.error().reason;
      EXPECT_EQ(r->domain, row.in);
      EXPECT_EQ(r->domain_kind, row.kind);
      const std::string wire = SerializePath(*r);  // `again` views into it
      EXPECT_EQ(wire, path);
      Result<Path> again = ParseForwardPath(wire);
      ASSERT_TRUE(again.ok());
      EXPECT_TRUE(*again == *r);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(ErrcName(r.error().code), ErrcName(row.code)) << r.error().reason;
      EXPECT_EQ(r.error().offset, 3 + row.offset) << r.error().reason;
    }
  }
}

TEST(AddressLiteralTest, HostileInputStaysBounded) {
  std::string groups = "[IPv6:";
  for (int i = 0; i < (1 << 18); ++i) groups += "1:";
  groups += "]";
  Result<DomainKind> r = ParseAddressLiteral(groups);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kBadIpv6);
  EXPECT_EQ(r.error().offset, 6u + 16u);  // the 9th group
  r = ParseAddressLiteral("[x:" + std::string(1 << 20, 'a') + "]");
  ASSERT_TRUE(r.ok());
  r = ParseAddressLiteral("[" + std::string(1 << 20, '1') + "]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 4u);
}

// ---------------------------------------------------------------------------
// Domain = sub-domain *("." sub-domain): ParseDomain consumes the longest
// Domain prefix and leaves the rest to the caller.
struct DomainRow {
  std::string_view in;
  Leniencies leniencies;
  bool utf8;
  Errc code;
  std::size_t value;  // consumed on success, error offset otherwise
  Leniencies deviations;
  bool has_utf8;
};

const DomainRow kDomains[] = {
    {"example.com", kStrict, false, Errc::kOk, 11, kStrict, false},
    {"example.com rest", kStrict, false, Errc::kOk, 11, kStrict, false},
    {"mail.example.com\r\n", kStrict, false, Errc::kOk, 16, kStrict, false},
    {"ex.com>", kStrict, false, Errc::kOk, 6, kStrict, false},
    {"a:b", kStrict, false, Errc::kOk, 1, kStrict, false},
    {"a-b.c", kStrict, false, Errc::kOk, 5, kStrict, false},
    {"xn--bcher-kva.example", kStrict, false, Errc::kOk, 21, kStrict, false},
    {"123", kStrict, false, Errc::kOk, 3, kStrict, false},
    {"", kStrict, false, Errc::kBadDomain, 0, kStrict, false},
    {" a", kStrict, false, Errc::kBadDomain, 0, kStrict, false},
    {"[1.2.3.4]", kStrict, false, Errc::kBadDomain, 0, kStrict, false},
    {"-a", kStrict, false, Errc::kBadDomain, 0, kStrict, false},
    {"a-", kStrict, false, Errc::kBadDomain, 1, kStrict, false},
    {"a-.b", kStrict, false, Errc::kBadDomain, 1, kStrict, false},
    {"a..b", kStrict, false, Errc::kBadDomain, 2, kStrict, false},
    {".a", kStrict, false, Errc::kBadDomain, 0, kStrict, false},
    {"a.", kStrict, false, Errc::kBadDomain, 2, kStrict, false},
    {"a. b", kStrict, false, Errc::kBadDomain, 2, kStrict, false},
    {"a_b", kStrict, false, Errc::kBadDomain, 1, kStrict, false},
    {"a.", kTrailingDotInDomain, false, Errc::kOk, 2, kTrailingDotInDomain, false},
    {"a. b", kTrailingDotInDomain, false, Errc::kOk, 2, kTrailingDotInDomain, false},
    {"a..", kTrailingDotInDomain, false, Errc::kBadDomain, 2, kStrict, false},
    {".", kTrailingDotInDomain, false, Errc::kBadDomain, 0, kStrict, false},
    {"a_b", kUnderscoreInDomain, false, Errc::kOk, 3, kUnderscoreInDomain, false},
    {"_srv._tcp.x", kUnderscoreInDomain, false, Errc::kOk, 11, kUnderscoreInDomain, false},
    {"a_.", kAllLeniencies, false, Errc::kOk, 3, kUnderscoreInDomain | kTrailingDotInDomain, false},
    {"\xC3\xA9.com", kStrict, false, Errc::kUtf8NotAllowed, 0, kStrict, false},
    {"\xC3\xA9.com", kStrict, true, Errc::kOk, 6, kStrict, true},
    {"\xC3\xA9.com", kUtf8WithoutSmtputf8, false, Errc::kOk, 6, kUtf8WithoutSmtputf8, true},
    {"x.\xE4\xBE\x8B", kStrict, true, Errc::kOk, 5, kStrict, true},
    {"x.\xE4\xBE", kStrict, true, Errc::kBadUtf8, 2, kStrict, false},
    {"x.\xC0\xAE", kStrict, true, Errc::kBadUtf8, 2, kStrict, false},
};

TEST(DomainTest, Table) {
  for (const DomainRow& row : kDomains) {
    SCOPED_TRACE(::testing::Message() << '"' << row.in << "\" leniencies " << row.leniencies);
    PathOptions o;
    o.leniencies = row.leniencies;
    o.utf8 = row.utf8;
    Result<DomainScan> scan = ScanDomain(row.in, o, 50);
    Result<std::size_t> parsed = ParseDomain(row.in, o, 50);
    if (row.code == Errc::kOk) {
      ASSERT_TRUE(scan.ok()) << ErrcName(scan.error().code) << " " << scan.error().reason;
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(scan->size, row.value);
      EXPECT_EQ(*parsed, row.value);
      EXPECT_EQ(scan->deviations, row.deviations);
      EXPECT_EQ(scan->has_utf8, row.has_utf8);
      continue;
    }
    ASSERT_FALSE(scan.ok());
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(ErrcName(scan.error().code), ErrcName(row.code)) << scan.error().reason;
    EXPECT_EQ(scan.error().offset, 50 + row.value) << scan.error().reason;
    EXPECT_TRUE(scan.error() == parsed.error());
  }
}

TEST(DomainTest, Limit) {
  PathOptions o;
  ASSERT_EQ(Dotted(255, 'a').size(), 255u);
  EXPECT_TRUE(ParseDomain(Dotted(255, 'a'), o).ok());
  // The whole domain's limit is checked before the labels' (256 'a' is
  // also one long label).
  Result<std::size_t> r = ParseDomain(std::string(256, 'a'), o, 9);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(r.error().offset, 9u + 255u);
  o.limits.domain = 4;
  EXPECT_TRUE(ParseDomain("ab.c", o).ok());
  r = ParseDomain("ab.cd rest", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(r.error().offset, 4u);
}

// ---------------------------------------------------------------------------
// RFC 3629 §4 well-formedness: the offset of the first ill-formed sequence.
struct FindRow {
  std::string_view in;
  std::size_t expected;
};

const FindRow kFind[] = {
    {"", 0},
    {"abc", 3},
    {"a\0b"sv, 3},
    {"\xC3\xA9", 2},
    {"x\xE2\x82\xAC"
     "y",
     5},
    {"\xF0\x90\x80\x80", 4},
    {"\xF4\x8F\xBF\xBF", 4},
    {"a\xC0\x80", 1},
    {"\xC2", 0},
    {"\x80", 0},
    {"\xBF", 0},
    {"\xED\xA0\x80", 0},
    {"\xE0\x9F\xBF", 0},
    {"\xF0\x8F\xBF\xBF", 0},
    {"\xF4\x90\x80\x80", 0},
    {"\xF8\x88\x80\x80\x80", 0},
    {"\xE2\x28\xA1", 0},
    {"ab\xE2\x82", 2},
    {"\xC3\xA9\xE2\x82\xAC\xF0", 5},
};

TEST(Utf8Test, FindInvalidUtf8Table) {
  for (const FindRow& row : kFind) {
    EXPECT_EQ(FindInvalidUtf8(row.in), row.expected) << ::testing::PrintToString(row.in);
  }
}

std::string Encode(std::uint32_t cp, int len) {
  std::string s;
  if (len == 1) {
    s += static_cast<char>(cp);
  } else if (len == 2) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (len == 3) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Every scalar value in its shortest form is valid; every surrogate, every
// overlong form and every value above U+10FFFF (up to 0x1FFFFF) is not.
TEST(Utf8Test, FindInvalidUtf8Exhaustive) {
  for (std::uint32_t cp = 0; cp <= 0x1FFFFF; ++cp) {
    const int shortest = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    const bool scalar = cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    const std::string s = Encode(cp, shortest);
    ASSERT_EQ(FindInvalidUtf8(s), scalar ? s.size() : 0u) << std::hex << cp;
    for (int len = shortest + 1; len <= 4 && len > 1; ++len) {
      ASSERT_EQ(FindInvalidUtf8(Encode(cp, len)), 0u) << std::hex << cp << " overlong " << len;
    }
  }
}

}  // namespace
}  // namespace smtp
