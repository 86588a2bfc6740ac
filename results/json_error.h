// One wording for JSON syntax errors in our files (results.json, session
// files): "parse error at line L, column C: <what> (byte B)".
#ifndef SMTP_RESULTS_JSON_ERROR_H_
#define SMTP_RESULTS_JSON_ERROR_H_

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace smtp::harness {

inline std::string DescribeParseError(const nlohmann::json::parse_error& e) {
  // e.what() is "[json.exception.parse_error.101] parse error at line L,
  // column C: ..."; keep what follows the bracketed id.
  std::string_view what = e.what();
  if (const auto close = what.find("] "); close != std::string_view::npos) {
    what.remove_prefix(close + 2);
  }
  return std::string(what) + " (byte " + std::to_string(e.byte) + ")";
}

}  // namespace smtp::harness

#endif  // SMTP_RESULTS_JSON_ERROR_H_
