// Fuzz target: paths, mailboxes, domains and address literals
// (parser/path.h).
//
// Header (4 bytes): [0..1] leniency bits; [2] bit0 utf8, bits1-3 entry point
// (0 Reverse-path, 1 Forward-path, 2 Mailbox, 3 Domain, 4 address-literal,
// 5-7 Reverse-path), bits4-5 limits, bit6 non-zero base offset; [3]
// tight-limit parameter. Payload: the text given to the entry point.
//
// Oracles: error offsets inside [base, base + size]; strict ⊂ lenient with
// equal values; honest deviations; views point into the input; has_utf8 and
// domain_kind agree with the bytes; a strict path serializes back to its
// input octet for octet (but <Postmaster>'s spelling); round trip parse →
// serialize → parse is equal and re-serializes identically; ScanDomain
// consumes the same prefix again when given only that prefix.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "parser/path.h"

namespace {

using smtp::DomainKind;
using smtp::Leniencies;
using smtp::Path;
using smtp::PathOptions;

enum class Entry { kReverse, kForward, kMailbox, kDomain, kLiteral };

// Leniencies that stay visible in the canonical form (see fuzz_command.cc).
constexpr Leniencies kValueLeniencies = smtp::kUnderscoreInDomain | smtp::kTrailingDotInDomain |
                                        smtp::kUtf8WithoutSmtputf8 | smtp::kLooseDotString;

bool HasHigh(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

template <class T>
void CheckError(const smtp::Result<T>& r, std::size_t base, std::size_t size) {
  if (r.ok()) return;
  FUZZ_CHECK(r.error().code != smtp::Errc::kOk && r.error().code != smtp::Errc::kNeedMore,
             "a rejection has a real, final error code");
  FUZZ_CHECK(smtp::fuzz::OffsetWithin(r.error(), base, size), "error offset within the input");
  FUZZ_CHECK(!r.error().reason.empty(), "an error says why");
}

smtp::Result<Path> ParseAs(Entry e, std::string_view in, const PathOptions& o, std::size_t base) {
  switch (e) {
    case Entry::kForward:
      return smtp::ParseForwardPath(in, o, base);
    case Entry::kMailbox:
      return smtp::ParseMailbox(in, o, base);
    default:
      return smtp::ParseReversePath(in, o, base);
  }
}

std::string Serialize(Entry e, const Path& p) {
  if (e != Entry::kMailbox) return smtp::SerializePath(p);
  std::string out(p.local_part);
  out += '@';
  out += p.domain;
  return out;
}

void FuzzPath(Entry entry, std::string_view in, const PathOptions& opts, std::size_t base) {
  const smtp::Result<Path> r = ParseAs(entry, in, opts, base);
  CheckError(r, base, in.size());
  PathOptions strict = opts;
  strict.leniencies = smtp::kStrict;
  const smtp::Result<Path> s = ParseAs(entry, in, strict, base);
  CheckError(s, base, in.size());
  if (s.ok()) {
    FUZZ_CHECK(s->deviations == smtp::kStrict, "strict parsing reports no deviation");
    FUZZ_CHECK(r.ok(), "lenient accepts what strict accepts");
    FUZZ_CHECK(*r == *s, "lenient gives the strict value");
  }
  if (!r.ok()) return;
  const Path& p = *r;

  FUZZ_CHECK((p.deviations & ~opts.leniencies) == 0, "only allowed leniencies fire");
  PathOptions exact = opts;
  exact.leniencies = p.deviations;
  const smtp::Result<Path> e = ParseAs(entry, in, exact, base);
  FUZZ_CHECK(e.ok() && *e == p && e->deviations == p.deviations,
             "the reported deviations suffice and give the same value");

  FUZZ_CHECK(entry == Entry::kMailbox || p.raw == in, "raw is the whole path");
  FUZZ_CHECK(Inside(p.local_part, in) && Inside(p.domain, in) && Inside(p.source_route, in),
             "fields are views into the input");
  FUZZ_CHECK(p.has_utf8 == HasHigh(in), "has_utf8 says whether the path holds 8-bit octets");
  FUZZ_CHECK(smtp::FindInvalidUtf8(in) == in.size(), "an accepted path is valid UTF-8");
  FUZZ_CHECK(!p.is_null || in == "<>", "only <> is the null path");
  FUZZ_CHECK(!p.is_null || entry == Entry::kReverse, "<> is a Reverse-path only");
  FUZZ_CHECK(!p.is_postmaster || (entry == Entry::kForward && p.domain.empty()),
             "<Postmaster> is a Forward-path without a domain");
  if (!p.is_null && !p.is_postmaster) {
    FUZZ_CHECK(!p.local_part.empty() && !p.domain.empty(),
               "a mailbox has a local-part and a domain");
    if (p.domain_kind == DomainKind::kName) {
      PathOptions dopts = opts;
      dopts.limits.domain = std::string_view::npos;
      const smtp::Result<smtp::DomainScan> d = smtp::ScanDomain(p.domain, dopts);
      FUZZ_CHECK(d.ok() && d->size == p.domain.size(), "a name domain is a Domain");
    } else {
      const smtp::Result<DomainKind> k = smtp::ParseAddressLiteral(p.domain);
      FUZZ_CHECK(k.ok() && *k == p.domain_kind, "a literal domain is that address-literal");
    }
  }

  // Round trip. Without "<" ">" the lenient spelling is 2 octets shorter
  // than the canonical form, so the path limit is widened then.
  const std::string wire = Serialize(entry, p);
  if (p.deviations == smtp::kStrict && !p.is_postmaster) {
    FUZZ_CHECK(wire == in, "a strict path serializes back to its input octet for octet");
  }
  PathOptions again = opts;
  again.leniencies = p.deviations & kValueLeniencies;
  if (p.deviations & smtp::kMissingAngleBrackets) again.limits.path += 2;
  const smtp::Result<Path> rt = ParseAs(entry, wire, again, 0);
  FUZZ_CHECK(rt.ok(), "the canonical form parses (strictly, but for value leniencies)");
  FUZZ_CHECK(*rt == p, "parse(serialize(p)) == p");
  FUZZ_CHECK(Serialize(entry, *rt) == wire, "serialize(parse(serialize(p))) == serialize(p)");
}

void FuzzDomain(std::string_view in, const PathOptions& opts, std::size_t base) {
  const smtp::Result<smtp::DomainScan> r = smtp::ScanDomain(in, opts, base);
  CheckError(r, base, in.size());
  const smtp::Result<std::size_t> n = smtp::ParseDomain(in, opts, base);
  FUZZ_CHECK(n.ok() == r.ok(), "ParseDomain and ScanDomain agree");
  if (!r.ok()) {
    FUZZ_CHECK(n.error() == r.error(), "ParseDomain and ScanDomain fail alike");
  }
  PathOptions strict = opts;
  strict.leniencies = smtp::kStrict;
  const smtp::Result<smtp::DomainScan> s = smtp::ScanDomain(in, strict, base);
  CheckError(s, base, in.size());
  if (s.ok()) {
    FUZZ_CHECK(s->deviations == smtp::kStrict, "strict parsing reports no deviation");
    FUZZ_CHECK(r.ok() && r->size == s->size && r->has_utf8 == s->has_utf8,
               "lenient accepts what strict accepts, the same span");
  }
  if (!r.ok()) return;
  FUZZ_CHECK(*n == r->size, "ParseDomain consumes ScanDomain's size");
  FUZZ_CHECK(r->size >= 1 && r->size <= in.size(), "a Domain consumes 1..size octets");
  FUZZ_CHECK((r->deviations & ~opts.leniencies) == 0, "only allowed leniencies fire");
  const std::string_view span = in.substr(0, r->size);
  FUZZ_CHECK(r->has_utf8 == HasHigh(span), "has_utf8 says whether the domain holds 8-bit octets");
  const smtp::Result<smtp::DomainScan> again = smtp::ScanDomain(span, opts, base);
  FUZZ_CHECK(again.ok() && again->size == r->size && again->deviations == r->deviations,
             "the consumed prefix alone scans the same");
  PathOptions exact = opts;
  exact.leniencies = r->deviations;
  const smtp::Result<smtp::DomainScan> e = smtp::ScanDomain(in, exact, base);
  FUZZ_CHECK(e.ok() && e->size == r->size, "the reported deviations suffice");
}

void FuzzLiteral(std::string_view in, std::size_t base) {
  const smtp::Result<DomainKind> k = smtp::ParseAddressLiteral(in, base);
  CheckError(k, base, in.size());
  if (!k.ok()) return;
  FUZZ_CHECK(*k != DomainKind::kNone && *k != DomainKind::kName, "a literal kind");
  FUZZ_CHECK(in.find(']') == in.size() - 1, "the first \"]\" closes the literal");
  PathOptions wide;
  wide.limits = smtp::fuzz::ChooseLimits(2, 0);
  const std::string mailbox = "x@" + std::string(in);
  const smtp::Result<Path> p = smtp::ParseMailbox(mailbox, wide);
  FUZZ_CHECK(p.ok() && p->domain_kind == *k && p->domain == in,
             "a Mailbox with that literal has that kind");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  PathOptions opts;
  opts.leniencies = in.TakeLeniencies();
  const std::uint8_t flags = in.Byte();
  opts.utf8 = (flags & 1) != 0;
  opts.limits = smtp::fuzz::ChooseLimits(flags >> 4, in.Byte());
  const std::size_t base = (flags & 0x40) ? 1000 : 0;
  const std::string_view payload = in.Rest();
  switch ((flags >> 1) & 7) {
    case 1:
      FuzzPath(Entry::kForward, payload, opts, base);
      break;
    case 2:
      FuzzPath(Entry::kMailbox, payload, opts, base);
      break;
    case 3:
      FuzzDomain(payload, opts, base);
      break;
    case 4:
      FuzzLiteral(payload, base);
      break;
    default:
      FuzzPath(Entry::kReverse, payload, opts, base);
      break;
  }
  return 0;
}
