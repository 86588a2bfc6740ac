#include "parser/path.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "parser/alloc_counter_test_util.h"  // replaces operator new: counts allocations

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

enum Which : std::uint8_t { kRev = 1, kFwd = 2, kBoth = 3, kMbox = 4 };

PathOptions Opts(Leniencies len = kStrict, bool utf8 = false) {
  PathOptions o;
  o.leniencies = len;
  o.utf8 = utf8;
  return o;
}

Result<Path> Parse(Which w, std::string_view in, const PathOptions& o, std::size_t base = 0) {
  switch (w) {
    case kRev:
      return ParseReversePath(in, o, base);
    case kFwd:
      return ParseForwardPath(in, o, base);
    default:
      return ParseMailbox(in, o, base);
  }
}

std::vector<Which> Parsers(Which w) {
  std::vector<Which> out;
  for (Which one : {kRev, kFwd, kMbox}) {
    if (w & one) out.push_back(one);
  }
  return out;
}

std::string Show(const Result<Path>& r) {
  if (r.ok()) return "ok " + SerializePath(*r);
  return std::string(ErrcName(r.error().code)) + " @" + std::to_string(r.error().offset) + " " +
         std::string(r.error().reason);
}

// Every proper prefix of a bracketed path is rejected, with an offset inside
// the input; a parser must never read past the end.
void ExpectPrefixesRejected(Which w, std::string_view in, const PathOptions& o) {
  for (std::size_t len = 0; len < in.size(); ++len) {
    Result<Path> r = Parse(w, in.substr(0, len), o, 7);
    ASSERT_FALSE(r.ok()) << "prefix " << len << " of " << in;
    EXPECT_LE(r.error().offset, 7 + len) << in.substr(0, len);
    EXPECT_GE(r.error().offset, 7u) << in.substr(0, len);
    EXPECT_FALSE(r.error().reason.empty());
  }
}

// parse(serialize(p)) == p, and serializing again gives the same octets.
void ExpectRoundTrip(Which w, const Path& p, const PathOptions& o) {
  const std::string wire = SerializePath(p);
  Result<Path> again = Parse(w == kMbox ? kFwd : w, wire, o);
  ASSERT_TRUE(again.ok()) << wire << ": " << Show(again);
  EXPECT_TRUE(*again == p) << wire;
  EXPECT_EQ(SerializePath(*again), wire);
}

// ---------------------------------------------------------------------------
// Strict acceptance: RFC 5321 examples, RFC 3696 §3 local-parts, literals and
// source routes. Each row is accepted as Reverse-path and as Forward-path.
struct AcceptRow {
  std::string_view in;
  std::string_view route;
  std::string_view local;
  std::string_view domain;
  DomainKind kind;
  bool quoted;
};

const AcceptRow kAccept[] = {
    // RFC 5321 Appendix D.1 / D.2 / D.3 and §3.3.
    {"<Smith@bar.com>", "", "Smith", "bar.com", DomainKind::kName, false},
    {"<Jones@foo.com>", "", "Jones", "foo.com", DomainKind::kName, false},
    {"<JQP@bar.com>", "", "JQP", "bar.com", DomainKind::kName, false},
    {"<userx@y.foo.org>", "", "userx", "y.foo.org", DomainKind::kName, false},
    // §3.6.1 source route example (accepted, exposed).
    {"<@hosta.int,@jkl.org:userc@d.bar.org>", "@hosta.int,@jkl.org", "userc", "d.bar.org",
     DomainKind::kName, false},
    {"<@a:u@c>", "@a", "u", "c", DomainKind::kName, false},
    {"<@a,@b:u@c>", "@a,@b", "u", "c", DomainKind::kName, false},
    {"<@a.b,@c-d.e,@f:u@[1.2.3.4]>", "@a.b,@c-d.e,@f", "u", "[1.2.3.4]", DomainKind::kIpv4Literal,
     false},
    // Postmaster with a domain is an ordinary mailbox.
    {"<Postmaster@example.com>", "", "Postmaster", "example.com", DomainKind::kName, false},
    {"<postmaster@[IPv6:2001:db8::1]>", "", "postmaster", "[IPv6:2001:db8::1]",
     DomainKind::kIpv6Literal, false},
    // Dot-string / atext.
    {"<a.b.c@d.e>", "", "a.b.c", "d.e", DomainKind::kName, false},
    {"<!#$%&'*+-/=?^_`{|}~@x.org>", "", "!#$%&'*+-/=?^_`{|}~", "x.org", DomainKind::kName, false},
    {"<user+tag@example.com>", "", "user+tag", "example.com", DomainKind::kName, false},
    {"<1@2>", "", "1", "2", DomainKind::kName, false},
    {"<a@0.1.2.3>", "", "a", "0.1.2.3", DomainKind::kName, false},  // digits-only labels
    {"<a@x--y-z.org>", "", "a", "x--y-z.org", DomainKind::kName, false},
    {"<a@EXAMPLE.Com>", "", "a", "EXAMPLE.Com", DomainKind::kName, false},
    // RFC 3696 §3 examples.
    {"<customer/department=shipping@example.com>", "", "customer/department=shipping",
     "example.com", DomainKind::kName, false},
    {"<$A12345@example.com>", "", "$A12345", "example.com", DomainKind::kName, false},
    {"<!def!xyz%abc@example.com>", "", "!def!xyz%abc", "example.com", DomainKind::kName, false},
    {"<_somename@example.com>", "", "_somename", "example.com", DomainKind::kName, false},
    {R"(<"Abc\@def"@example.com>)", "", R"("Abc\@def")", "example.com", DomainKind::kName, true},
    {R"(<"Fred\ Bloggs"@example.com>)", "", R"("Fred\ Bloggs")", "example.com", DomainKind::kName,
     true},
    {R"(<"Joe.\\Blow"@example.com>)", "", R"("Joe.\\Blow")", "example.com", DomainKind::kName,
     true},
    // Quoted-string corners.
    {R"(<"a b"@x>)", "", R"("a b")", "x", DomainKind::kName, true},
    {R"(<"a\"b"@x>)", "", R"("a\"b")", "x", DomainKind::kName, true},
    {R"(<"\\"@x>)", "", R"("\\")", "x", DomainKind::kName, true},
    {R"(<""@x>)", "", R"("")", "x", DomainKind::kName, true},
    {R"(<"a>b"@x>)", "", R"("a>b")", "x", DomainKind::kName, true},
    {R"(<"a@b"@x>)", "", R"("a@b")", "x", DomainKind::kName, true},
    {R"(<"very.unusual.@.unusual.com"@example.com>)", "", R"("very.unusual.@.unusual.com")",
     "example.com", DomainKind::kName, true},
    {R"(<"..a..b.."@x>)", "", R"("..a..b..")", "x", DomainKind::kName, true},
    {R"(<"\~\ "@x>)", "", R"("\~\ ")", "x", DomainKind::kName, true},
    // Address literals.
    {"<a@[1.2.3.4]>", "", "a", "[1.2.3.4]", DomainKind::kIpv4Literal, false},
    {"<a@[IPv6:::1]>", "", "a", "[IPv6:::1]", DomainKind::kIpv6Literal, false},
    {"<a@[ipv6:::ffff:192.0.2.1]>", "", "a", "[ipv6:::ffff:192.0.2.1]", DomainKind::kIpv6Literal,
     false},
    {"<a@[x-tag:abc]>", "", "a", "[x-tag:abc]", DomainKind::kGeneralLiteral, false},
    {"<a@[tag:a>b]>", "", "a", "[tag:a>b]", DomainKind::kGeneralLiteral, false},
};

TEST(PathTest, AcceptsStrict) {
  for (const AcceptRow& row : kAccept) {
    for (Which w : {kRev, kFwd}) {
      SCOPED_TRACE(std::string(row.in) + (w == kRev ? " (reverse)" : " (forward)"));
      Result<Path> r = Parse(w, row.in, Opts());
      ASSERT_TRUE(r.ok()) << Show(r);
      EXPECT_EQ(r->raw, row.in);
      EXPECT_EQ(r->source_route, row.route);
      EXPECT_EQ(r->local_part, row.local);
      EXPECT_EQ(r->domain, row.domain);
      EXPECT_EQ(r->domain_kind, row.kind);
      EXPECT_EQ(r->quoted_local_part, row.quoted);
      EXPECT_FALSE(r->is_null);
      EXPECT_FALSE(r->is_postmaster);
      EXPECT_FALSE(r->has_utf8);
      EXPECT_EQ(r->deviations, kStrict);
      EXPECT_EQ(SerializePath(*r), row.in);
      ExpectRoundTrip(w, *r, Opts());
      ExpectPrefixesRejected(w, row.in, Opts());
      // Enabling every leniency changes nothing on strict input.
      Result<Path> lenient = Parse(w, row.in, Opts(kAllLeniencies));
      ASSERT_TRUE(lenient.ok());
      EXPECT_TRUE(*lenient == *r);
      EXPECT_EQ(lenient->deviations, kStrict);
    }
    // The same Mailbox without brackets (and without route) via ParseMailbox.
    if (row.route.empty()) {
      std::string_view mbox = row.in.substr(1, row.in.size() - 2);
      Result<Path> m = ParseMailbox(mbox, Opts());
      ASSERT_TRUE(m.ok()) << mbox << ": " << Show(m);
      EXPECT_EQ(m->local_part, row.local);
      EXPECT_EQ(m->domain, row.domain);
      EXPECT_EQ(m->raw, mbox);
    }
  }
}

TEST(PathTest, NullReversePath) {
  Result<Path> r = ParseReversePath("<>");
  ASSERT_TRUE(r.ok()) << Show(r);
  EXPECT_TRUE(r->is_null);
  EXPECT_EQ(r->raw, "<>");
  EXPECT_EQ(r->local_part, "");
  EXPECT_EQ(r->domain_kind, DomainKind::kNone);
  EXPECT_EQ(SerializePath(*r), "<>");
  ExpectRoundTrip(kRev, *r, Opts());
  ExpectPrefixesRejected(kRev, "<>", Opts());
}

TEST(PathTest, PostmasterForwardPath) {
  for (std::string_view in : {"<Postmaster>", "<postmaster>", "<POSTMASTER>", "<PoStMaStEr>"}) {
    SCOPED_TRACE(in);
    Result<Path> r = ParseForwardPath(in);
    ASSERT_TRUE(r.ok()) << Show(r);
    EXPECT_TRUE(r->is_postmaster);
    EXPECT_EQ(r->local_part, in.substr(1, 10));
    EXPECT_EQ(r->domain, "");
    EXPECT_EQ(r->domain_kind, DomainKind::kNone);
    EXPECT_EQ(SerializePath(*r), "<Postmaster>");
    ExpectRoundTrip(kFwd, *r, Opts());
    ExpectPrefixesRejected(kFwd, in, Opts());
    // Not a Reverse-path: a Mailbox needs "@" Domain.
    Result<Path> rev = ParseReversePath(in);
    ASSERT_FALSE(rev.ok());
    EXPECT_EQ(rev.error().code, Errc::kMissingAt);
    EXPECT_EQ(rev.error().offset, 11u);
  }
}

// ---------------------------------------------------------------------------
// Strict rejection with the exact offset of the first offending octet.
struct RejectRow {
  Which which;
  std::string_view in;
  Errc code;
  std::size_t offset;
};

const RejectRow kReject[] = {
    // Angle brackets and framing.
    {kBoth, "", Errc::kMissingAngle, 0},
    {kBoth, "a@b", Errc::kMissingAngle, 0},
    {kBoth, " <a@b>", Errc::kMissingAngle, 0},
    {kBoth, "a@b>", Errc::kMissingAngle, 0},
    {kBoth, "<a@b", Errc::kMissingAngle, 4},
    {kBoth, "<a@[1.2.3.4]", Errc::kMissingAngle, 12},
    {kBoth, "<a@b>x", Errc::kTrailingGarbage, 5},
    {kBoth, "<a@b> ", Errc::kTrailingGarbage, 5},
    {kBoth, "<a@b>>", Errc::kTrailingGarbage, 5},
    {kRev, "<> ", Errc::kTrailingGarbage, 2},
    {kRev, "<>>", Errc::kTrailingGarbage, 2},
    {kBoth, "<<a@b>>", Errc::kBadLocalPart, 1},
    {kBoth, "<", Errc::kBadLocalPart, 1},
    {kFwd, "<>", Errc::kEmptyPath, 0},
    {kRev, "<Postmaster>", Errc::kMissingAt, 11},
    {kFwd, "<Postmaster >", Errc::kBadLocalPart, 11},
    {kFwd, "<Postmaster@>", Errc::kBadDomain, 12},
    {kFwd, "<@a:Postmaster>", Errc::kMissingAt, 14},
    {kFwd, "<Postmastery>", Errc::kMissingAt, 12},
    {kFwd, "Postmaster", Errc::kMissingAngle, 0},
    // Mailbox / local-part.
    {kBoth, "<a>", Errc::kMissingAt, 2},
    {kBoth, "<a b@c>", Errc::kBadLocalPart, 2},
    {kBoth, "<a(b)@c>", Errc::kBadLocalPart, 2},
    {kBoth, "<a,b@c>", Errc::kBadLocalPart, 2},
    {kBoth, "<a\0b@c>"sv, Errc::kBadLocalPart, 2},
    {kBoth, "<.a@b>", Errc::kBadLocalPart, 1},
    {kBoth, "<a.@b>", Errc::kBadLocalPart, 3},
    {kBoth, "<a..b@c>", Errc::kBadLocalPart, 3},
    {kBoth, "<.@c>", Errc::kBadLocalPart, 1},
    {kBoth, R"(<"a"b@c>)", Errc::kBadLocalPart, 4},
    {kBoth, R"(<"a@b>)", Errc::kBadLocalPart, 6},
    {kBoth, R"(<"a\)", Errc::kBadLocalPart, 4},
    {kBoth, "<\"a\tb\"@c>", Errc::kBadLocalPart, 3},
    {kBoth, "<\"a\x7f\"@c>", Errc::kBadLocalPart, 3},
    {kBoth, "<\"a\r\n\"@c>", Errc::kBadLocalPart, 3},
    {kBoth, "<\"a\\\x01\"@c>", Errc::kBadQuotedPair, 4},
    {kBoth, "<\"a\\\x7f\"@c>", Errc::kBadQuotedPair, 4},
    {kBoth, "<\"a\\\t\"@c>", Errc::kBadQuotedPair, 4},
    // Domain.
    {kBoth, "<a@>", Errc::kBadDomain, 3},
    {kBoth, "<a@b c>", Errc::kBadDomain, 4},
    {kBoth, "<a@b@c>", Errc::kBadDomain, 4},
    {kBoth, "<a@b\r\n>", Errc::kBadDomain, 4},
    {kBoth, "<a@.b>", Errc::kBadDomain, 3},
    {kBoth, "<a@b..c>", Errc::kBadDomain, 5},
    {kBoth, "<a@b.>", Errc::kBadDomain, 5},
    {kBoth, "<a@-b>", Errc::kBadDomain, 3},
    {kBoth, "<a@b->", Errc::kBadDomain, 4},
    {kBoth, "<a@b.-c>", Errc::kBadDomain, 5},
    {kBoth, "<a@b.c-->", Errc::kBadDomain, 7},
    {kBoth, "<a@b_c>", Errc::kBadDomain, 4},
    {kBoth, "<a@b:c>", Errc::kBadDomain, 4},
    // Address literals inside a path (details in address_literal_test.cc).
    {kBoth, "<a@[1.2.3.4>", Errc::kBadAddressLiteral, 12},
    {kBoth, "<a@[1.2.3.4]x>", Errc::kBadAddressLiteral, 12},
    {kBoth, "<a@[1.2.3.256]>", Errc::kBadIpv4, 10},
    {kBoth, "<a@[]>", Errc::kBadAddressLiteral, 4},
    {kBoth, "<a@[IPv6:1::2::3]>", Errc::kBadIpv6, 13},
    {kBoth, "<a@[tag:a b]>", Errc::kBadGeneralLiteral, 9},
    // Source routes.
    {kBoth, "<@b>", Errc::kBadSourceRoute, 3},
    {kBoth, "<@>", Errc::kBadDomain, 2},
    {kBoth, "<@a,b:u@c>", Errc::kBadSourceRoute, 4},
    {kBoth, "<@a,:u@c>", Errc::kBadSourceRoute, 4},
    {kBoth, "<@a;u@c>", Errc::kBadSourceRoute, 3},
    {kBoth, "<@a@b:u@c>", Errc::kBadSourceRoute, 3},
    {kBoth, "<@a:@b>", Errc::kBadLocalPart, 4},
    {kBoth, "<@a:>", Errc::kBadLocalPart, 4},
    {kBoth, "<@[1.2.3.4]:u@c>", Errc::kBadDomain, 2},
    {kBoth, "<@a-:u@c>", Errc::kBadDomain, 3},
    // UTF-8 without SMTPUTF8.
    {kBoth, "<\xC3\xA9@x>", Errc::kUtf8NotAllowed, 1},
    {kBoth, "<a@\xC3\xA9.x>", Errc::kUtf8NotAllowed, 3},
    {kBoth, "<\"\xC3\xA9\"@x>", Errc::kUtf8NotAllowed, 2},
    {kBoth, "<\xC0\x80@x>", Errc::kUtf8NotAllowed, 1},
    // Mailbox alone.
    {kMbox, "", Errc::kBadLocalPart, 0},
    {kMbox, "@b", Errc::kBadLocalPart, 0},
    {kMbox, "<a@b>", Errc::kBadLocalPart, 0},
    {kMbox, "a", Errc::kMissingAt, 1},
    {kMbox, "a>", Errc::kBadLocalPart, 1},
    {kMbox, "a@b>", Errc::kBadDomain, 3},
    {kMbox, "a@b ", Errc::kBadDomain, 3},
    {kMbox, "a@[1.2.3.4]x", Errc::kBadAddressLiteral, 11},
};

TEST(PathTest, RejectsWithExactOffset) {
  for (const RejectRow& row : kReject) {
    for (Which w : Parsers(row.which)) {
      for (std::size_t base : {std::size_t{0}, std::size_t{1000}}) {
        SCOPED_TRACE(::testing::Message()
                     << '"' << row.in << "\" parser " << int{w} << " base " << base);
        Result<Path> r = Parse(w, row.in, Opts(), base);
        ASSERT_FALSE(r.ok()) << Show(r);
        EXPECT_EQ(ErrcName(r.error().code), ErrcName(row.code)) << r.error().reason;
        EXPECT_EQ(r.error().offset, base + row.offset) << r.error().reason;
        EXPECT_TRUE(r.error().reason.starts_with("RFC ")) << r.error().reason;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Each leniency: off -> the strict error; on -> accepted with exactly that bit
// in `deviations`; the value survives serialize -> parse with the same bit.
struct LenientRow {
  Which which;
  std::string_view in;
  Leniency bit;
  Errc strict_code;
  std::size_t strict_offset;
  std::string_view local;
  std::string_view domain;
};

const LenientRow kLenient[] = {
    {kBoth, "a@b", kMissingAngleBrackets, Errc::kMissingAngle, 0, "a", "b"},
    {kBoth, "@r1,@r2:a@[1.2.3.4]", kMissingAngleBrackets, Errc::kMissingAngle, 0, "a", "[1.2.3.4]"},
    {kBoth, R"("a b"@c)", kMissingAngleBrackets, Errc::kMissingAngle, 0, R"("a b")", "c"},
    {kBoth, "<a@b_c.d>", kUnderscoreInDomain, Errc::kBadDomain, 4, "a", "b_c.d"},
    {kBoth, "<a@_dmarc.example.com>", kUnderscoreInDomain, Errc::kBadDomain, 3, "a",
     "_dmarc.example.com"},
    {kBoth, "<@_r:a@b>", kUnderscoreInDomain, Errc::kBadDomain, 2, "a", "b"},
    {kMbox, "a@x_", kUnderscoreInDomain, Errc::kBadDomain, 3, "a", "x_"},
    {kBoth, "<a@example.com.>", kTrailingDotInDomain, Errc::kBadDomain, 15, "a", "example.com."},
    {kBoth, "<@r.:a@b>", kTrailingDotInDomain, Errc::kBadDomain, 4, "a", "b"},
    {kMbox, "a@b.", kTrailingDotInDomain, Errc::kBadDomain, 4, "a", "b."},
    {kBoth, "<a..b@c>", kLooseDotString, Errc::kBadLocalPart, 3, "a..b", "c"},
    {kBoth, "<.a@c>", kLooseDotString, Errc::kBadLocalPart, 1, ".a", "c"},
    {kBoth, "<a.@c>", kLooseDotString, Errc::kBadLocalPart, 3, "a.", "c"},
    {kBoth, "<.@c>", kLooseDotString, Errc::kBadLocalPart, 1, ".", "c"},
    {kBoth, "<john..doe.@example.com>", kLooseDotString, Errc::kBadLocalPart, 6, "john..doe.",
     "example.com"},
    {kBoth, "<\xC3\xA9@x>", kUtf8WithoutSmtputf8, Errc::kUtf8NotAllowed, 1, "\xC3\xA9", "x"},
    {kBoth, "<a@m\xC3\xBCller.de>", kUtf8WithoutSmtputf8, Errc::kUtf8NotAllowed, 4, "a",
     "m\xC3\xBCller.de"},
    {kBoth, "<\"\xE2\x82\xAC\"@x>", kUtf8WithoutSmtputf8, Errc::kUtf8NotAllowed, 2,
     "\"\xE2\x82\xAC\"", "x"},
};

TEST(PathTest, LeniencyOffIsErrorOnIsDeviation) {
  for (const LenientRow& row : kLenient) {
    for (Which w : Parsers(row.which)) {
      SCOPED_TRACE(::testing::Message()
                   << row.in << " parser " << int{w} << " bit " << LeniencyName(row.bit));
      Result<Path> strict = Parse(w, row.in, Opts());
      ASSERT_FALSE(strict.ok()) << Show(strict);
      EXPECT_EQ(ErrcName(strict.error().code), ErrcName(row.strict_code));
      EXPECT_EQ(strict.error().offset, row.strict_offset);
      // Every other bit alone does not help.
      Result<Path> others = Parse(w, row.in, Opts(kAllLeniencies & ~row.bit));
      EXPECT_FALSE(others.ok()) << Show(others);
      for (Leniencies set : {Leniencies{row.bit}, Leniencies{kAllLeniencies}}) {
        Result<Path> r = Parse(w, row.in, Opts(set));
        ASSERT_TRUE(r.ok()) << Show(r);
        EXPECT_EQ(r->deviations, Leniencies{row.bit});
        EXPECT_EQ(r->local_part, row.local);
        EXPECT_EQ(r->domain, row.domain);
        EXPECT_EQ(r->has_utf8, row.bit == kUtf8WithoutSmtputf8);
        ExpectRoundTrip(w, *r, Opts(set));
      }
    }
  }
}

TEST(PathTest, LeniencyKeepsTheRestStrict) {
  const struct {
    Which which;
    std::string_view in;
    Errc code;
    std::size_t offset;
  } rows[] = {
      {kBoth, "a@b>", Errc::kMissingAngle, 3},  // ">" without "<"
      {kBoth, "<a@b", Errc::kMissingAngle, 4},
      {kBoth, "", Errc::kMissingAngle, 0},
      {kBoth, "a@b c", Errc::kBadDomain, 3},
      {kRev, "Postmaster", Errc::kMissingAt, 10},
      {kBoth, "<a@example.com..>", Errc::kBadDomain, 15},
      {kBoth, "<a@.>", Errc::kBadDomain, 3},
      {kBoth, "<a@b_->", Errc::kBadDomain, 5},
      {kBoth, "<a@[1_2.3.4.5]>", Errc::kBadIpv4, 5},
      {kBoth, "<@c>", Errc::kBadSourceRoute, 3},
      {kMbox, "@c", Errc::kBadLocalPart, 0},
      {kBoth, "<a@b\xC0\x80>", Errc::kBadUtf8, 4},
  };
  for (const auto& row : rows) {
    for (Which w : Parsers(row.which)) {
      SCOPED_TRACE(::testing::Message() << row.in << " parser " << int{w});
      Result<Path> r = Parse(w, row.in, Opts(kAllLeniencies));
      ASSERT_FALSE(r.ok()) << Show(r);
      EXPECT_EQ(ErrcName(r.error().code), ErrcName(row.code));
      EXPECT_EQ(r.error().offset, row.offset);
    }
  }
}

TEST(PathTest, PostmasterWithoutBrackets) {
  Result<Path> strict = ParseForwardPath("postmaster");
  ASSERT_FALSE(strict.ok());
  Result<Path> r = ParseForwardPath("postmaster", Opts(kMissingAngleBrackets));
  ASSERT_TRUE(r.ok()) << Show(r);
  EXPECT_TRUE(r->is_postmaster);
  EXPECT_EQ(r->deviations, Leniencies{kMissingAngleBrackets});
  EXPECT_TRUE(*r == *ParseForwardPath("<Postmaster>"));
}

// ---------------------------------------------------------------------------
// RFC 6531 §3.3 with opts.utf8: UTF8-non-ascii in atext, qtextSMTP and
// sub-domain; RFC 3629 well-formedness with the offset of the bad sequence.
struct Utf8Row {
  std::string_view in;
  Errc code;  // kOk: accepted
  std::size_t offset;
};

const Utf8Row kUtf8[] = {
    // RFC 6530 §4 / RFC 6531 style examples.
    {"<\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE5\xB9\xBF\xE5\x91\x8A>", Errc::kOk, 0},
    {"<\xCE\xB8\xCF\x83\xCE\xB5\xCF\x81@\xCE\xB5\xCF\x87\xCE\xB1\xCE\xBC\xCF\x80\xCE\xBB\xCE\xB5."
     "\xCF\x88\xCE\xBF\xCE\xBC>",
     Errc::kOk, 0},
    {"<a@m\xC3\xBCller.de>", Errc::kOk, 0},
    {"<\"\xC3\xA9 x\"@x>", Errc::kOk, 0},
    {"<j.\xC3\xB6rg@\xC3\xB6.x>", Errc::kOk, 0},
    {"<\xC2\x80@x>", Errc::kOk, 0},          // U+0080, smallest 2-octet
    {"<\xED\x9F\xBF@x>", Errc::kOk, 0},      // U+D7FF, below the surrogates
    {"<\xEE\x80\x80@x>", Errc::kOk, 0},      // U+E000, above the surrogates
    {"<\xF0\x9F\x98\x80@x>", Errc::kOk, 0},  // U+1F600
    {"<\xF4\x8F\xBF\xBF@x>", Errc::kOk, 0},  // U+10FFFF, the last
    {"<@\xC3\xA9:a@b>", Errc::kOk, 0},       // U-label in a source route
    // Ill-formed: kBadUtf8 at the first octet of the bad sequence.
    {"<\xC0\x80@x>", Errc::kBadUtf8, 1},          // overlong NUL
    {"<\xC1\xBF@x>", Errc::kBadUtf8, 1},          // overlong U+007F
    {"<a\xE0\x80\xAF@x>", Errc::kBadUtf8, 2},     // overlong "/"
    {"<\xF0\x8F\xBF\xBF@x>", Errc::kBadUtf8, 1},  // overlong U+FFFF
    {"<a\xED\xA0\x80@x>", Errc::kBadUtf8, 2},     // U+D800 surrogate
    {"<\xED\xBF\xBF@x>", Errc::kBadUtf8, 1},      // U+DFFF surrogate
    {"<\xF4\x90\x80\x80@x>", Errc::kBadUtf8, 1},  // U+110000
    {"<\xF5\x80\x80\x80@x>", Errc::kBadUtf8, 1},
    {"<\xFF@x>", Errc::kBadUtf8, 1},
    {"<\x80@x>", Errc::kBadUtf8, 1},              // lone continuation
    {"<\xC3\xA9\xA9@x>", Errc::kBadUtf8, 3},      // extra continuation
    {"<\xE2\x82@x>", Errc::kBadUtf8, 1},          // truncated
    {"<a@x\xC3>", Errc::kBadUtf8, 4},             // truncated before ">"
    {"<a@x\xF0\x9F\x98", Errc::kBadUtf8, 4},      // truncated at the end
    {"<\"\xED\xA0\x80\"@x>", Errc::kBadUtf8, 2},  // inside a Quoted-string
    // UTF-8 where RFC 6531 does not put UTF8-non-ascii.
    {"<\"\\\xC3\xA9\"@x>", Errc::kBadQuotedPair, 3},
    {"<a@[IPv6:\xC3\xA9]>", Errc::kBadIpv6, 9},
    {"<a@[tag:\xC3\xA9]>", Errc::kBadGeneralLiteral, 8},
    {"<a@-\xC3\xA9>", Errc::kBadDomain, 3},
    {"<a@\xC3\xA9->", Errc::kBadDomain, 5},
};

// Offset of the first octet >= 0x80.
std::size_t FirstHighOctet(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  return i;
}

TEST(PathTest, Utf8WithSmtputf8) {
  for (const Utf8Row& row : kUtf8) {
    for (Which w : {kRev, kFwd}) {
      SCOPED_TRACE(::testing::Message() << row.in << " parser " << int{w});
      Result<Path> r = Parse(w, row.in, Opts(kStrict, /*utf8=*/true));
      if (row.code == Errc::kOk) {
        ASSERT_TRUE(r.ok()) << Show(r);
        EXPECT_TRUE(r->has_utf8);
        EXPECT_EQ(r->deviations, kStrict);
        EXPECT_EQ(SerializePath(*r), row.in);
        ExpectRoundTrip(w, *r, Opts(kStrict, true));
        ExpectPrefixesRejected(w, row.in, Opts(kStrict, true));
        // Without SMTPUTF8 the same path is refused at its first 8-bit octet.
        Result<Path> no = Parse(w, row.in, Opts());
        ASSERT_FALSE(no.ok());
        EXPECT_EQ(no.error().code, Errc::kUtf8NotAllowed);
        EXPECT_EQ(no.error().offset, FirstHighOctet(row.in));
      } else {
        ASSERT_FALSE(r.ok()) << Show(r);
        EXPECT_EQ(ErrcName(r.error().code), ErrcName(row.code)) << r.error().reason;
        EXPECT_EQ(r.error().offset, row.offset) << r.error().reason;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Limits of §4.5.3.1: exactly at the limit is accepted, one over is an error
// at the first octet past the limit.
TEST(PathTest, LocalPartLimit) {
  const std::string at = "<" + std::string(64, 'a') + "@b>";
  const std::string over = "<" + std::string(65, 'a') + "@b>";
  EXPECT_TRUE(ParseReversePath(at).ok());
  Result<Path> r = ParseReversePath(over);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLocalPartTooLong);
  EXPECT_EQ(r.error().offset, 65u);
  // Quotes count.
  EXPECT_TRUE(ParseReversePath("<\"" + std::string(62, 'a') + "\"@b>").ok());
  r = ParseReversePath("<\"" + std::string(63, 'a') + "\"@b>", Opts(), 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLocalPartTooLong);
  EXPECT_EQ(r.error().offset, 10u + 65u);
  // Syntax errors inside the element come first.
  r = ParseReversePath("<" + std::string(70, 'a') + "..b@c>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kBadLocalPart);
  EXPECT_EQ(r.error().offset, 72u);
  // Then the limit, before what follows the element.
  r = ParseReversePath("<" + std::string(70, 'a') + " @b>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLocalPartTooLong);
  EXPECT_EQ(r.error().offset, 65u);
  // A lowered limit.
  PathOptions o;
  o.limits.local_part = 3;
  EXPECT_TRUE(ParseForwardPath("<abc@d>", o).ok());
  r = ParseForwardPath("<abcd@d>", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLocalPartTooLong);
  EXPECT_EQ(r.error().offset, 4u);
  EXPECT_TRUE(ParseForwardPath("<Postmaster>", o).ok());  // no local-part to measure
}

TEST(PathTest, DomainLimit) {
  const std::string at = "a@" + Dotted(255, 'b');
  const std::string over = "a@" + Dotted(256, 'b');
  EXPECT_TRUE(ParseMailbox(at).ok());
  Result<Path> r = ParseMailbox(over);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(r.error().offset, 2u + 255u);
  // Literals count with their brackets.
  const std::string lit_at = "a@[x:" + std::string(251, 'c') + "]";
  EXPECT_TRUE(ParseMailbox(lit_at).ok());
  r = ParseMailbox("a@[x:" + std::string(252, 'c') + "]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(r.error().offset, 257u);
  // Source-route domains too.
  PathOptions o;
  o.limits.domain = 3;
  EXPECT_TRUE(ParseForwardPath("<@abc:u@c>", o).ok());
  r = ParseForwardPath("<@abcd:u@c>", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(r.error().offset, 5u);
}

// RFC 1035 §2.3.4: a label is 63 octets or less. MAIL FROM:<a@ + 64 x b +
// .example>: strict parsing rejects it (kDomainTooLong at the 64th octet of
// the label); the leniency kLongDomainLabel accepts it as a deviation. The
// same in a forward-path, a source route and ParseDomain.
TEST(PathTest, DomainLabelOver63Octets) {
  const std::string b63(63, 'b'), b64(64, 'b');
  struct Row {
    std::string in;
    Errc strict;         // kOk: accepted strictly
    std::size_t offset;  // of the error, in `in`
  };
  const Row rows[] = {
      {"<a@" + b63 + ".example>", Errc::kOk, 0},
      {"<a@" + b64 + ".example>", Errc::kDomainTooLong, 3 + 63},
      {"<a@example." + b64 + ">", Errc::kDomainTooLong, 11 + 63},
      {"<a@x." + b63 + "." + b64 + ".y>", Errc::kDomainTooLong, 5 + 64 + 63},
      {"<a@" + b64 + ">", Errc::kDomainTooLong, 3 + 63},
      {"<@" + b64 + ":a@example>", Errc::kDomainTooLong, 2 + 63},
      {"<a@" + std::string(63, '1') + "." + std::string(63, '2') + ">", Errc::kOk, 0},
      // A syntax error in the domain is found first, left to right.
      {"<a@" + b64 + ".-x>", Errc::kBadDomain, 3 + 65},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.in);
    for (Which w : {kRev, kFwd}) {
      Result<Path> strict = Parse(w, row.in, Opts(), 0);
      if (row.strict == Errc::kOk) {
        ASSERT_TRUE(strict.ok()) << strict.error().reason;
        EXPECT_EQ(strict->deviations, kStrict);
        continue;
      }
      ASSERT_FALSE(strict.ok());
      EXPECT_EQ(strict.error().code, row.strict);
      EXPECT_EQ(strict.error().offset, row.offset) << strict.error().reason;
      if (row.strict != Errc::kDomainTooLong) continue;
      EXPECT_NE(std::string_view(strict.error().reason).find("RFC 1035"), std::string_view::npos);
      Result<Path> lenient = Parse(w, row.in, Opts(kLongDomainLabel), 0);
      ASSERT_TRUE(lenient.ok()) << lenient.error().reason;
      EXPECT_EQ(lenient->deviations, kLongDomainLabel);
      EXPECT_EQ(SerializePath(*lenient), row.in);
      Result<Path> all = Parse(w, row.in, Opts(kAllLeniencies), 0);
      ASSERT_TRUE(all.ok());
      EXPECT_TRUE((all->deviations & kLongDomainLabel) != 0);
    }
  }
  Result<std::size_t> d = ParseDomain(b64 + ".example", Opts(), 7);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::kDomainTooLong);
  EXPECT_EQ(d.error().offset, 7u + 63u);
  Result<DomainScan> scan = ScanDomain(b64 + ".example", Opts(kLongDomainLabel));
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->deviations, kLongDomainLabel);
  EXPECT_EQ(LeniencyName(kLongDomainLabel), "long_domain_label");
}

TEST(PathTest, PathLimit) {
  // "<" + 64 + "@" + 189 + ">" = 256 octets.
  const std::string at = "<" + std::string(64, 'a') + "@" + Dotted(189, 'b') + ">";
  const std::string over = "<" + std::string(64, 'a') + "@" + Dotted(190, 'b') + ">";
  ASSERT_EQ(at.size(), 256u);
  EXPECT_TRUE(ParseReversePath(at).ok());
  EXPECT_TRUE(ParseForwardPath(at).ok());
  for (Which w : {kRev, kFwd}) {
    Result<Path> r = Parse(w, over, Opts(), 3);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::kPathTooLong);
    EXPECT_EQ(r.error().offset, 3u + 256u);
  }
  // Checked before syntax: a hostile megabyte costs nothing.
  const std::string huge(1 << 20, '<');
  Result<Path> r = ParseForwardPath(huge);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kPathTooLong);
  EXPECT_EQ(r.error().offset, 256u);
  // Without brackets the path is measured as written.
  PathOptions o = Opts(kMissingAngleBrackets);
  o.limits.path = 3;
  EXPECT_TRUE(ParseForwardPath("a@b", o).ok());
  r = ParseForwardPath("a@bc", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kPathTooLong);
  EXPECT_EQ(r.error().offset, 3u);
}

TEST(PathTest, HostileInputStaysLinear) {
  PathOptions big;
  big.limits.local_part = big.limits.domain = big.limits.path = std::size_t{1} << 30;
  big.utf8 = true;
  big.leniencies = kLongDomainLabel;  // megabyte-long labels: linearity is the point
  const std::string atoms = std::string(1 << 20, 'a') + "@" + std::string(1 << 20, 'b');
  EXPECT_TRUE(ParseMailbox(atoms, big).ok());
  std::string dots;
  for (int i = 0; i < (1 << 18); ++i) dots += "a.";
  Result<Path> r = ParseMailbox(dots + "@x", big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, dots.size());
  std::string utf8;
  for (int i = 0; i < (1 << 18); ++i) utf8 += "\xE2\x82\xAC";
  EXPECT_TRUE(ParseForwardPath("<" + utf8 + "@" + utf8 + ">", big).ok());
  r = ParseMailbox(utf8 + "@" + utf8);  // default limits
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kUtf8NotAllowed);
  std::string quoted = "\"" + std::string(1 << 20, '\\');  // escapes pairs, never closes
  r = ParseMailbox(quoted, big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kBadLocalPart);
}

// ---------------------------------------------------------------------------
// operator== is semantic: domain and route case-insensitive, local-part exact,
// raw spelling and deviations ignored.
TEST(PathTest, SemanticEquality) {
  const struct {
    std::string_view a;
    std::string_view b;
    bool equal;
  } rows[] = {
      {"<a@EXAMPLE.com>", "<a@example.COM>", true},
      {"<@A.B:u@x>", "<@a.b:u@x>", true},
      {"<a@[IPv6:::1]>", "<a@[ipv6:::1]>", true},
      {"<POSTMASTER>", "<Postmaster>", true},
      {"<A@x>", "<a@x>", false},
      {"<\"a\"@x>", "<a@x>", false},
      {"<a@x>", "<@r:a@x>", false},
      {"<a@[1.2.3.4]>", "<a@1.2.3.4>", false},
      {"<Postmaster>", "<Postmaster@x>", false},
  };
  for (const auto& row : rows) {
    Result<Path> a = ParseForwardPath(row.a);
    Result<Path> b = ParseForwardPath(row.b);
    ASSERT_TRUE(a.ok() && b.ok()) << row.a << " " << row.b;
    EXPECT_EQ(*a == *b, row.equal) << row.a << " vs " << row.b;
    EXPECT_EQ(*b == *a, row.equal) << row.b << " vs " << row.a;
  }
  Result<Path> null = ParseReversePath("<>");
  Result<Path> mailbox = ParseReversePath("<a@b>");
  Result<Path> bare = ParseReversePath("a@b", Opts(kMissingAngleBrackets));
  ASSERT_TRUE(null.ok() && mailbox.ok() && bare.ok());
  EXPECT_FALSE(*null == *mailbox);
  EXPECT_TRUE(*bare == *mailbox);  // raw and deviations differ
  EXPECT_NE(bare->raw, mailbox->raw);
}

// Parsing allocates nothing, accepted or rejected, with or without UTF-8.
TEST(PathTest, ParsingDoesNotAllocate) {
  const PathOptions utf8 = Opts(kAllLeniencies, true);
  const std::string long_path = "<@a,@b:" + std::string(60, 'x') + "@" + Dotted(150, 'y') + ">";
  const std::size_t before = testing::AllocationCount();
  long accepted = 0;
  for (const AcceptRow& row : kAccept) accepted += ParseForwardPath(row.in).ok();
  for (const Utf8Row& row : kUtf8) accepted += ParseReversePath(row.in, utf8).ok();
  for (const RejectRow& row : kReject) accepted += ParseMailbox(row.in).ok();
  accepted += ParseForwardPath(long_path).ok();
  accepted += ParseDomain("example.com").ok() + ScanDomain("a_b.", utf8).ok();
  accepted += ParseAddressLiteral("[IPv6:::ffff:1.2.3.4]").ok();
  accepted += FindInvalidUtf8("\xC3\xA9") == 2;
  EXPECT_EQ(testing::AllocationCount() - before, 0u);
  EXPECT_GT(accepted, 40);
  // The counter works: serializing does allocate.
  EXPECT_EQ(SerializePath(*ParseForwardPath(long_path)), long_path);
  EXPECT_GT(testing::AllocationCount() - before, 0u);
}

}  // namespace
}  // namespace smtp
