// "Did you mean": the closest of a set of known names to a misspelt one,
// for error messages (unknown scenario keys, unknown command-line flags).
#ifndef SMTP_HARNESS_SCENARIO_SUGGEST_H_
#define SMTP_HARNESS_SCENARIO_SUGGEST_H_

#include <span>
#include <string_view>

namespace smtp::scenario {

// The name in `allowed` closest to `key` by edit distance (at most 2, and
// less than the name's length), or empty when none is that close.
std::string_view Suggest(std::string_view key, std::span<const std::string_view> allowed);

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_SUGGEST_H_
