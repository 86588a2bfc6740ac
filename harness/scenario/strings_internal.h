// Small string helpers shared by the files of harness/scenario/; not part of
// its API.
#ifndef SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
#define SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace smtp::scenario::internal {

// This Abseil's string_view is its own type, not std::string_view: our APIs
// take std::string_view and convert with AV() at each Abseil call.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The value of hex digit `c` (either case), or -1.
inline int HexDigitValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  if (!absl::ascii_isxdigit(c)) return -1;
  return absl::ascii_tolower(c) - 'a' + 10;
}

}  // namespace smtp::scenario::internal

#endif  // SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
