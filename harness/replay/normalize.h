// Normalization of reply text before a replay compares it with the
// recording: what legitimately differs from one session to the next (queue
// ids, dates, host names, session ids) is replaced by a placeholder in both.
//
// Built-in rules (applied first, in this order; BuiltinRules() lists them):
//   date        RFC 5322 dates ("Thu, 3 Dec 2026 22:40:05 +0000 (UTC)") and
//               ISO 8601 times ("2026-12-03T22:40:05.123Z")   -> <date>
//   queue-id    "queued as 4Rq1Tq6Bf2z9vJ", "id=..."           -> <queue-id>
//   ip          IPv4 and bracketed IPv6 addresses              -> <ip>
//   hex-id      a hex token with a letter and 6 hex digits after it
//               ("a1b2c3d4", not "10240000")                   -> <id>
//   token-id    a token of 16 or more letters, digits, +, /    -> <id>
// plus two per-session rules: the server's own name (the first word of its
// greeting, recorded and replayed) -> <server-host>, and the client's EHLO
// name -> <client-host>.
//
// User rules come from a small JSON file (`replay --rules FILE`), applied
// after the built-in ones:
//   {"builtin": true,                      // false: only the rules below
//    "rules": [{"name": "pid", "pattern": "\\[[0-9]+\\]", "replace": "[<pid>]"}]}
// Patterns are RE2 (linear time: server text is hostile), matched per reply
// line; "replace" may use \1..\9 for groups.
#ifndef SMTP_HARNESS_REPLAY_NORMALIZE_H_
#define SMTP_HARNESS_REPLAY_NORMALIZE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario/regex.h"

namespace smtp::replay {

struct NormalizationRule {
  std::string name;
  scenario::Regex regex;
  std::string replace;
};

class Normalizer {
 public:
  // The built-in rules only.
  Normalizer();
  explicit Normalizer(std::vector<NormalizationRule> rules) : rules_(std::move(rules)) {}

  // Reads a rules file (format above). Errors name the file and, for a bad
  // pattern, the rule: "F: rules[2] (\"pid\"): bad regex: ...". JSON syntax
  // errors give the line and column.
  static absl::StatusOr<Normalizer> FromFile(const std::string& path);

  // `text` with `names` (literal words, e.g. host names) replaced by their
  // placeholders first, then every rule applied.
  struct Name {
    std::string word;         // e.g. "mx.example.org"
    std::string placeholder;  // e.g. "<server-host>"
  };
  std::string Apply(std::string_view text, const std::vector<Name>& names = {}) const;

  const std::vector<NormalizationRule>& rules() const { return rules_; }

 private:
  std::vector<NormalizationRule> rules_;
};

std::vector<NormalizationRule> BuiltinRules();

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_NORMALIZE_H_
