// Opt-in leniencies. Strict mode (no bits set) follows the RFC ABNF exactly.
// Each bit tolerates one deviation that is common in real traffic; when a
// tolerated deviation actually occurs, the same bit is set in the result's
// `deviations`, so a conformance tool sees it instead of hiding it.
//
// Security note: leniencies about line endings (kBareLfLineEnd,
// kBareCrLineEnd) are the root of SMTP smuggling when a server accepts them
// and a relay does not. Enable them to *model* such servers, not to be
// liberal by default.
#ifndef SMTP_PARSER_LENIENCY_H_
#define SMTP_PARSER_LENIENCY_H_

#include <cstdint>
#include <string_view>

namespace smtp {

enum Leniency : std::uint32_t {
  kStrict = 0,
  // "MAIL FROM: <a@b>": SP between "FROM:"/"TO:" and the path.
  kSpaceAfterColon = 1u << 0,
  // "MAIL FROM:a@b": path without angle brackets.
  kMissingAngleBrackets = 1u << 1,
  // SP or HTAB before CRLF.
  kTrailingWhitespace = 1u << 2,
  // LF alone ends a line (lines only; DATA has its own modes).
  kBareLfLineEnd = 1u << 3,
  // CR alone ends a line.
  kBareCrLineEnd = 1u << 4,
  // Several SP (or HTAB) where the grammar has exactly one SP.
  kExtraWhitespace = 1u << 5,
  // "MAIL FROM :<a@b>" / "MAIL FROM : <a@b>".
  kSpaceBeforeColon = 1u << 6,
  // EHLO/HELO with no domain argument.
  kEmptyHeloArg = 1u << 7,
  // Domain label with "_" (seen in real hostnames, outside Ldh-str).
  kUnderscoreInDomain = 1u << 8,
  // Trailing dot on a domain ("example.com.").
  kTrailingDotInDomain = 1u << 9,
  // 8-bit octets in a path without SMTPUTF8 (still must be valid UTF-8).
  kUtf8WithoutSmtputf8 = 1u << 10,
  // Dot-string with leading, trailing or doubled dots ("a..b@c", "a.@b").
  kLooseDotString = 1u << 11,
  // Unknown verb text that contains non-letters accepted as a verb.
  kNonAlphaVerb = 1u << 12,
  // Reply text with control or 8-bit characters.
  kLooseReplyText = 1u << 13,
  // A reply line that is just the code ("250" CRLF) inside a multiline reply.
  kBareCodeContinuation = 1u << 14,
  // "334" CRLF: an AUTH challenge (RFC 4954 §4 continue-req) without the SP
  // its grammar requires before the (empty) base64.
  kChallengeWithoutSpace = 1u << 15,
  // A domain label (sub-domain) longer than 63 octets (RFC 1035 §2.3.4).
  kLongDomainLabel = 1u << 16,

  // All of the above.
  kAllLeniencies = (1u << 17) - 1,
};

using Leniencies = std::uint32_t;

// Stable snake_case name of one leniency bit, e.g. "space_after_colon".
// Returns "" for a value that is not a single known bit.
std::string_view LeniencyName(Leniency bit);

// Calls f(name) for each bit set in `set`, lowest first.
template <class F>
void ForEachLeniency(Leniencies set, F&& f) {
  for (std::uint32_t bit = 1; bit != 0 && bit <= set; bit <<= 1) {
    if (set & bit) f(LeniencyName(static_cast<Leniency>(bit)));
  }
}

}  // namespace smtp

#endif  // SMTP_PARSER_LENIENCY_H_
