// Fuzz target: ParseCommand / SerializeCommand (parser/command.h).
//
// Header (4 bytes): [0..1] leniency bits; [2] bit0 utf8 (transaction uses
// SMTPUTF8), bits1-2 limits (default, tight, generous); [3] tight-limit
// parameter. Payload: one command line, terminator included.
//
// Oracles:
// - errors carry a real code and an offset inside the line;
// - strict ⊂ lenient: whatever strict accepts, the chosen leniencies accept
//   with the same value, and strict reports no deviation;
// - deviations are honest: reported bits were allowed, and parsing again
//   with exactly the reported bits gives the same value;
// - round trip: SerializeCommand(c) parses (strictly, unless a leniency that
//   changes the value itself fired) to an equal command that serializes to
//   the same bytes;
// - ParseCommandInto, into a reused Command left stale on purpose, gives
//   ParseCommand's value field for field, or its error.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/exact_equal.h"
#include "fuzz/fuzz_util.h"
#include "parser/command.h"

namespace {

using smtp::Command;
using smtp::CommandOptions;
using smtp::Leniencies;

// Leniencies whose effect survives serialization: the canonical form of such
// a value still needs the leniency to parse (an empty EHLO argument, "a..b",
// "host_name", a trailing dot, UTF-8 without SMTPUTF8, a verb with digits).
// All other leniencies only concern spelling (spaces, brackets, line ends)
// and disappear in the canonical form.
constexpr Leniencies kValueLeniencies = smtp::kEmptyHeloArg | smtp::kUnderscoreInDomain |
                                        smtp::kTrailingDotInDomain | smtp::kUtf8WithoutSmtputf8 |
                                        smtp::kLooseDotString | smtp::kNonAlphaVerb;

void CheckError(const smtp::Result<Command>& r, std::string_view line) {
  if (r.ok()) return;
  FUZZ_CHECK(r.error().code != smtp::Errc::kOk && r.error().code != smtp::Errc::kNeedMore,
             "a rejection has a real, final error code");
  FUZZ_CHECK(smtp::fuzz::OffsetWithin(r.error(), 0, line.size()), "error offset within the line");
  FUZZ_CHECK(!r.error().reason.empty(), "an error says why");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  CommandOptions opts;
  opts.leniencies = in.TakeLeniencies();
  const std::uint8_t flags = in.Byte();
  opts.utf8 = (flags & 1) != 0;
  opts.limits = smtp::fuzz::ChooseLimits(flags >> 1, in.Byte());
  const std::string_view line = in.Rest();

  const smtp::Result<Command> r = smtp::ParseCommand(line, opts);
  CheckError(r, line);

  // The in-place form, into a reused (here: deliberately stale) Command.
  Command reused;
  smtp::fuzz::Dirty(&reused);
  const smtp::ParseError into = smtp::ParseCommandInto(line, opts, &reused);
  FUZZ_CHECK((into.code == smtp::Errc::kOk) == r.ok(),
             "ParseCommandInto accepts what ParseCommand does");
  if (r.ok()) {
    FUZZ_CHECK(smtp::fuzz::ExactlyEqual(reused, *r),
               "ParseCommandInto gives ParseCommand's fields");
  } else {
    FUZZ_CHECK(into == r.error(), "ParseCommandInto fails as ParseCommand does");
  }

  CommandOptions strict = opts;
  strict.leniencies = smtp::kStrict;
  const smtp::Result<Command> s = smtp::ParseCommand(line, strict);
  CheckError(s, line);
  if (s.ok()) {
    FUZZ_CHECK(s->deviations == smtp::kStrict, "strict parsing reports no deviation");
    FUZZ_CHECK(r.ok(), "lenient accepts what strict accepts");
    FUZZ_CHECK(*r == *s, "lenient gives the strict value");
  }
  if (!r.ok()) return 0;
  const Command& c = *r;

  FUZZ_CHECK((c.deviations & ~opts.leniencies) == 0, "only allowed leniencies fire");
  CommandOptions exact = opts;
  exact.leniencies = c.deviations;
  const smtp::Result<Command> e = smtp::ParseCommand(line, exact);
  FUZZ_CHECK(e.ok(), "the reported deviations suffice to accept the line");
  FUZZ_CHECK(*e == c, "the reported deviations give the same value");
  FUZZ_CHECK(e->deviations == c.deviations, "the same deviations fire again");

  // Round trip. A lenient spelling may be shorter than the canonical form
  // ("a@b" for "<a@b>", LF for CRLF), so limits on lengths are widened then.
  const std::string wire = smtp::SerializeCommand(c);
  CommandOptions again = opts;
  again.leniencies = c.deviations & kValueLeniencies;
  if (c.deviations != smtp::kStrict) {
    again.limits.command_line = std::max(again.limits.command_line, wire.size());
    again.limits.path += 2;
  }
  const smtp::Result<Command> rt = smtp::ParseCommand(wire, again);
  FUZZ_CHECK(rt.ok(), "the canonical form parses (strictly, but for value leniencies)");
  FUZZ_CHECK(*rt == c, "parse(serialize(c)) == c");
  FUZZ_CHECK((rt->deviations & ~kValueLeniencies) == 0,
             "the canonical form needs no spelling leniency");
  FUZZ_CHECK(smtp::SerializeCommand(*rt) == wire, "serialize(parse(serialize(c))) == serialize(c)");
  if (c.deviations == smtp::kStrict) {
    FUZZ_CHECK(wire.size() <= line.size(), "the canonical form of a strict line is no longer");
  }
  return 0;
}
