// Small string helpers shared by the files of harness/scenario/; not part of
// its API.
#ifndef SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
#define SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "harness/absl_compat.h"

namespace smtp::scenario::internal {

// std::string_view -> absl::string_view at Abseil calls (harness/absl_compat.h).
using smtp::AV;

// The value of hex digit `c` (either case), or -1.
inline int HexDigitValue(char c) {
  if (absl::ascii_isdigit(c)) return c - '0';
  if (!absl::ascii_isxdigit(c)) return -1;
  return absl::ascii_tolower(c) - 'a' + 10;
}

}  // namespace smtp::scenario::internal

#endif  // SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
