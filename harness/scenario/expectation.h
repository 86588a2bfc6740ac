// Expectation: what a scenario expects of one server reply — a reply code
// (exact or pattern, one of several), optionally a regex over the reply text
// (regex.h: RE2, compiled when the scenario is loaded) and an RFC 3463
// enhanced status code.
#ifndef SMTP_HARNESS_SCENARIO_EXPECTATION_H_
#define SMTP_HARNESS_SCENARIO_EXPECTATION_H_

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/regex.h"

namespace smtp::scenario {

// A reply code pattern: three characters, each a digit or 'x' (any digit),
// the first one 2-5 or 'x': "250", "2xx", "55x". RFC 5321 §4.2:
//   Reply-code = %x32-35 %x30-35 %x30-39
// The pattern grammar is looser on the 2nd digit on purpose ("56x" can never
// match, but it is not an error to write it).
class CodePattern {
 public:
  // nullopt (and `*why`) when `text` is not a pattern.
  static std::optional<CodePattern> Parse(std::string_view text, std::string* why);
  // An exact code, 200..599; nullopt otherwise.
  static std::optional<CodePattern> Exact(long long code, std::string* why);

  bool Matches(int code) const;
  std::string ToString() const;  // "250", "2xx"
  bool operator==(const CodePattern&) const = default;

 private:
  std::array<char, 3> chars_{};
};

// An enhanced status code pattern, RFC 3463 §2:
//   status-code = class "." subject "." detail
//   class = "2" / "4" / "5";  subject = 1*3digit;  detail = 1*3digit
// where any of the three may be 'x' (any): "5.1.1", "5.x.x", "x.7.x".
class EnhancedPattern {
 public:
  static std::optional<EnhancedPattern> Parse(std::string_view text, std::string* why);

  // `enhanced` is the code as sent ("5.1.1"), empty when the reply had none.
  bool Matches(std::string_view enhanced) const;
  std::string ToString() const;

 private:
  std::array<int, 3> parts_{};  // -1 = any
};

// The enhanced status code at the start of a reply line's text ("5.1.1 no
// such user" -> "5.1.1"), or empty when the text does not start with one.
std::string_view ExtractEnhancedCode(std::string_view text);

struct MatchResult {
  bool matched = false;
  // On a mismatch "expected X, got Y", e.g.
  //   expected code 250 or 251, got 550 "5.1.1 no such user"
  // On a match a short "got 250 ..." summary.
  std::string description;
};

struct Expectation {
  std::vector<CodePattern> codes;  // any of these; never empty once loaded
  std::optional<Regex> text;       // must match (search) at least one line
  bool ignore_case = false;        // text (and not_text) compiled case-insensitive
  std::optional<Regex> not_text;   // must match no line
  std::optional<EnhancedPattern> enhanced;

  // Checks a reply: its code, its lines' text (after "250-"/"250 ", without
  // CRLF) and its enhanced status code (empty if none). Code is checked
  // first, then the enhanced code, then the text, then not_text.
  MatchResult Match(int code, std::span<const std::string> lines, std::string_view enhanced) const;

  // "250 or 251", "2xx, enhanced 2.x.x, text /^SIZE/, no text /^AUTH/" —
  // for reports.
  std::string Describe() const;
};

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_EXPECTATION_H_
