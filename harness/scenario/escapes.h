// Byte escapes in raw scenario strings (send_raw, data_raw, bdat chunks).
//
// After JSON has decoded its own escapes, a raw string is read once more:
//   \r  CR (0x0D)     \n  LF (0x0A)     \t  HT (0x09)
//   \\  backslash     \0  NUL (0x00)    \xHH  the octet 0xHH (two hex digits)
// Every other character stands for its own (UTF-8) bytes. In the JSON file a
// backslash is itself escaped, so "DATA\\r\\n\\xff" sends D A T A CR LF 0xFF.
// This is the inverse of the Transcript's EscapeBytes for every octet.
#ifndef SMTP_HARNESS_SCENARIO_ESCAPES_H_
#define SMTP_HARNESS_SCENARIO_ESCAPES_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace smtp::scenario {

struct EscapeError {
  std::size_t offset = 0;  // of the offending backslash in the input
  std::string message;     // e.g. "bad escape '\q'"
};

// Decodes `in` into `*out`. On a bad or truncated escape returns false and
// fills `*error`; `*out` is then unspecified.
[[nodiscard]] bool DecodeByteEscapes(std::string_view in, std::string* out, EscapeError* error);

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_ESCAPES_H_
