// Fuzz target: ESMTP parameters and xtext (parser/esmtp_params.h).
//
// Header (4 bytes): [0..1] leniency bits; [2] bit0 RCPT context (else MAIL),
// bit1 utf8, bits2-3 limits; [3] tight-limit parameter. Payload: the
// parameter list as it follows the path and its SP.
//
// Oracles: error offsets inside [base, base + size]; strict ⊂ lenient with
// equal values; honest deviations; at most Limits::esmtp_params parameters,
// each a view into the input; on MAIL, smtputf8 agrees with
// HasSmtputf8Param; round trip AppendEsmtpParams → parse is equal and
// re-serializes identically; xtext: Decode(Encode(x)) == x and Encode's
// output is valid xtext, for the payload taken as raw octets;
// ParseEsmtpParamsInto, into a reused list left stale on purpose, gives
// ParseEsmtpParams's value field for field, or its error.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/exact_equal.h"
#include "fuzz/fuzz_util.h"
#include "parser/esmtp_params.h"

namespace {

using smtp::EsmtpParams;
using smtp::Leniencies;
using smtp::ParamContext;

constexpr std::size_t kBase = 17;  // a non-zero base offset, as after "MAIL FROM:<>" SP

bool Inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

struct Parsed {
  smtp::Result<EsmtpParams> result;
  Leniencies deviations;
};

Parsed Parse(std::string_view in, ParamContext ctx, Leniencies len, const smtp::Limits& limits,
             bool utf8) {
  Leniencies dev = smtp::kStrict;
  smtp::Result<EsmtpParams> r = smtp::ParseEsmtpParams(in, ctx, len, limits, kBase, &dev, utf8);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().code != smtp::Errc::kOk && r.error().code != smtp::Errc::kNeedMore,
               "a rejection has a real, final error code");
    FUZZ_CHECK(smtp::fuzz::OffsetWithin(r.error(), kBase, in.size()),
               "error offset within the input");
    FUZZ_CHECK(!r.error().reason.empty(), "an error says why");
  }
  return {std::move(r), dev};
}

void FuzzXtext(std::string_view raw) {
  const std::string enc = smtp::EncodeXtext(raw);
  FUZZ_CHECK(smtp::FindInvalidXtext(enc) == enc.size(), "EncodeXtext gives valid xtext");
  FUZZ_CHECK(smtp::DecodeXtext(enc) == raw, "DecodeXtext(EncodeXtext(x)) == x");
  const std::size_t bad = smtp::FindInvalidXtext(raw);
  FUZZ_CHECK(bad <= raw.size(), "FindInvalidXtext within the input");
  if (bad == raw.size()) {
    // Valid xtext decodes to octets that encode to a canonical xtext of the
    // same octets.
    const std::string dec = smtp::DecodeXtext(raw);
    FUZZ_CHECK(dec.size() <= raw.size(), "decoding never grows");
    FUZZ_CHECK(smtp::DecodeXtext(smtp::EncodeXtext(dec)) == dec, "xtext round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  const Leniencies len = in.TakeLeniencies();
  const std::uint8_t flags = in.Byte();
  const ParamContext ctx = (flags & 1) ? ParamContext::kRcpt : ParamContext::kMail;
  const bool utf8 = (flags & 2) != 0;
  const smtp::Limits limits = smtp::fuzz::ChooseLimits(flags >> 2, in.Byte());
  const std::string_view payload = in.Rest();

  FuzzXtext(payload);

  const Parsed r = Parse(payload, ctx, len, limits, utf8);

  // The in-place form, into a reused (here: deliberately stale) list.
  EsmtpParams reused;
  smtp::fuzz::Dirty(&reused);
  Leniencies into_dev = smtp::kStrict;
  const smtp::ParseError into =
      smtp::ParseEsmtpParamsInto(payload, ctx, len, limits, kBase, &into_dev, utf8, &reused);
  FUZZ_CHECK((into.code == smtp::Errc::kOk) == r.result.ok(),
             "ParseEsmtpParamsInto accepts what ParseEsmtpParams does");
  if (r.result.ok()) {
    FUZZ_CHECK(smtp::fuzz::ExactlyEqual(reused, *r.result) && into_dev == r.deviations,
               "ParseEsmtpParamsInto gives ParseEsmtpParams's fields");
  } else {
    FUZZ_CHECK(into == r.result.error(), "ParseEsmtpParamsInto fails as ParseEsmtpParams does");
  }
  const Parsed s = Parse(payload, ctx, smtp::kStrict, limits, utf8);
  if (s.result.ok()) {
    FUZZ_CHECK(s.deviations == smtp::kStrict, "strict parsing reports no deviation");
    FUZZ_CHECK(r.result.ok(), "lenient accepts what strict accepts");
    FUZZ_CHECK(*r.result == *s.result, "lenient gives the strict value");
  }
  if (!r.result.ok()) return 0;
  const EsmtpParams& p = *r.result;

  FUZZ_CHECK((r.deviations & ~len) == 0, "only allowed leniencies fire");
  const Parsed e = Parse(payload, ctx, r.deviations, limits, utf8);
  FUZZ_CHECK(e.result.ok() && *e.result == p && e.deviations == r.deviations,
             "the reported deviations suffice and give the same value");

  FUZZ_CHECK(p.count <= std::min(limits.esmtp_params, smtp::kMaxEsmtpParams),
             "at most Limits::esmtp_params parameters");
  for (const smtp::EsmtpParam& q : p) {
    FUZZ_CHECK(!q.keyword.empty() && Inside(q.keyword, payload),
               "keyword is a view into the input");
    FUZZ_CHECK(Inside(q.value, payload), "value is a view into the input");
    FUZZ_CHECK(q.has_value == !q.value.empty(), "a value is present iff \"=\" was");
  }
  FUZZ_CHECK(p.has_unknown == std::any_of(p.begin(), p.end(),
                                          [](const smtp::EsmtpParam& q) {
                                            return q.kind == smtp::ParamKeyword::kUnknown;
                                          }),
             "has_unknown says whether a keyword is unknown");
  if (ctx == ParamContext::kMail) {
    FUZZ_CHECK(p.smtputf8 == smtp::HasSmtputf8Param(payload), "SMTPUTF8 found by both");
  }

  // Round trip: the canonical list starts with " " before each parameter.
  std::string wire;
  smtp::AppendEsmtpParams(p, &wire);
  FUZZ_CHECK(wire.empty() == (p.count == 0), "every parameter is written");
  const std::string_view list =
      wire.empty() ? std::string_view() : std::string_view(wire).substr(1);
  if (!wire.empty()) FUZZ_CHECK(wire[0] == ' ', "parameters are preceded by SP");
  const Parsed rt = Parse(list, ctx, smtp::kStrict, limits, utf8);
  FUZZ_CHECK(rt.result.ok(), "the canonical form parses strictly");
  FUZZ_CHECK(*rt.result == p, "parse(serialize(p)) == p");
  std::string wire2;
  smtp::AppendEsmtpParams(*rt.result, &wire2);
  FUZZ_CHECK(wire2 == wire, "serialize(parse(serialize(p))) == serialize(p)");
  if (r.deviations == smtp::kStrict) {
    FUZZ_CHECK(list.size() <= payload.size(), "the canonical form of a strict list is no longer");
  }
  return 0;
}
