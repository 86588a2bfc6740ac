// Small string helpers shared by the files of harness/scenario/; not part of
// its API.
#ifndef SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
#define SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_

#include <string_view>

#include "absl/strings/string_view.h"
#include "results/absl_compat.h"

namespace smtp::scenario::internal {

// std::string_view -> absl::string_view at Abseil calls (results/absl_compat.h).
using smtp::AV;

}  // namespace smtp::scenario::internal

#endif  // SMTP_HARNESS_SCENARIO_STRINGS_INTERNAL_H_
