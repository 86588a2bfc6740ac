// Conversions at the border with Abseil. Our APIs take std::string_view;
// Debian's Abseil is built with its own absl::string_view (not an alias of
// std::string_view), so the two do not convert implicitly. Header-only; any
// target that links Abseil's status library (smtp_results and everything
// above it) can include it.
#ifndef SMTP_RESULTS_ABSL_COMPAT_H_
#define SMTP_RESULTS_ABSL_COMPAT_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace smtp {

// `s` as an absl::string_view over the same bytes, for Abseil calls.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The message of `s` as a std::string ("" for OK), to build our own messages.
inline std::string Message(const absl::Status& s) {
  return std::string(s.message().data(), s.message().size());
}

}  // namespace smtp

#endif  // SMTP_RESULTS_ABSL_COMPAT_H_
