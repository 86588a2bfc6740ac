// Enhanced mail system status codes: RFC 3463 §2 syntax, RFC 2034 §4 use in
// SMTP replies, and the RFC 3463 / RFC 5248 registry of subject.detail
// meanings. Pure functions; nothing here allocates except ToString/Describe.
#ifndef SMTP_PARSER_ENHANCED_CODE_H_
#define SMTP_PARSER_ENHANCED_CODE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "parser/result.h"

namespace smtp {

// A status-code "class.subject.detail", e.g. 5.1.1.
struct EnhancedCode {
  std::uint8_t klass = 0;     // 2, 4 or 5
  std::uint16_t subject = 0;  // 0..999
  std::uint16_t detail = 0;   // 0..999

  // status-code = class "." subject "." detail          (RFC 3463 §2)
  // class       = "2"/"4"/"5"
  // subject     = 1*3digit
  // detail      = 1*3digit
  // "Each numeric sub-code within the status-code MUST be expressed without
  // leading zero digits."
  //
  // Parses a status-code at the start of `in`. Returns the number of octets
  // it spans and sets *out, or returns 0 (and leaves *out alone) when `in`
  // does not start with one. Digit runs are read greedily, so "2.0.0123" is
  // not a code (detail has four digits). What may follow the code is the
  // caller's business (RFC 2034 §4 wants SP; see Reply).
  static std::size_t Parse(std::string_view in, EnhancedCode* out);

  // "5.1.1".
  std::string ToString() const;

  // RFC 3463 §2 / RFC 2034 §4: the class must match the first digit of the
  // reply code it accompanies ("250 2.1.5" yes, "250 5.1.1" no).
  bool ConsistentWith(std::uint16_t reply_code) const { return reply_code / 100 == klass; }

  friend bool operator==(const EnhancedCode&, const EnhancedCode&) = default;
};

// Parses exactly `whole` as a status-code. On failure the error is
// kBadEnhancedCode with the offset of the first offending octet (for trailing
// bytes: the first of them).
Result<EnhancedCode> ParseEnhancedCode(std::string_view whole);

// Registered summary of a subject ("Addressing Status" for 1); "" if the
// subject is not registered.
std::string_view EnhancedSubjectName(std::uint16_t subject);

// Registered summary of subject.detail ("Bad destination mailbox address" for
// 1.1); "" if the pair is not registered. Covers RFC 3463 §3 and the later
// registrations of RFC 5248's registry (RFC 3886, 4468, 4954, 5248, 6531,
// 6710, 7293, 7372, 7505, 8617, 8689).
std::string_view EnhancedDetailName(std::uint16_t subject, std::uint16_t detail);

// "5.1.1 Bad destination mailbox address"; falls back to the subject summary
// and then to the bare code when nothing is registered.
std::string Describe(const EnhancedCode& code);

}  // namespace smtp

#endif  // SMTP_PARSER_ENHANCED_CODE_H_
