// Regex: a scenario regex (expect.text/not_text, capture.regex, the
// expect_delivery patterns), compiled with RE2 when the scenario is loaded.
//
// RE2 matches in time linear in the subject, whatever the pattern: a hostile
// server cannot make a search backtrack for minutes, past every deadline, as
// it could with std::regex ("(a+)+$" against "aaaa...!"). The price is RE2's
// syntax: no backreferences (\1) and no lookaround ((?=, (?!, (?<=, (?<!);
// such patterns are refused at load time, so a bad regex is a load error,
// never a run-time one. docs/scenarios.md describes the syntax.
//
// Patterns and subjects are bytes (RE2's Latin-1 mode): '.' is one byte, a
// non-ASCII character in a pattern matches its UTF-8 bytes, and a server's
// invalid UTF-8 is matched like any other byte.
#ifndef SMTP_HARNESS_SCENARIO_REGEX_H_
#define SMTP_HARNESS_SCENARIO_REGEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}  // namespace re2

namespace smtp::scenario {

// A pattern is at most this long.
inline constexpr std::size_t kMaxRegexPatternBytes = 1024;
// Searches look at the first this many bytes of a line (RFC 5321 §4.5.3.1.5
// and §4.5.3.1.6 allow 512 octets per reply line and 1000 per text line, so
// conforming lines are never cut). Keeps the work per line bounded.
inline constexpr std::size_t kMaxRegexSubjectBytes = 1024;
// RE2's memory budget per regex (its compiled programs and DFA cache). A
// pattern whose program does not fit is refused at load time; a search whose
// DFA outgrows it falls back to RE2's NFA, which is slower but still linear.
inline constexpr std::int64_t kMaxRegexMemoryBytes = std::int64_t{1} << 20;

// A compiled regex and its source as written (for messages). A cheap value
// type: copies share the compiled RE2, which is immutable and safe to use
// from several threads. Default-constructed, it matches nothing.
class Regex {
 public:
  Regex() = default;

  // Compiles `pattern` (RE2 syntax, case-insensitive when `ignore_case`);
  // nullopt and `*why` when it is longer than kMaxRegexPatternBytes or RE2
  // refuses it, e.g. "bad regex: invalid escape sequence: \1 (RE2 syntax:
  // no backreferences or lookaround)".
  static std::optional<Regex> Compile(std::string_view pattern, bool ignore_case, std::string* why);

  // Whether the regex matches somewhere in `line` (cut to
  // kMaxRegexSubjectBytes).
  bool Search(std::string_view line) const;
  // The same, and on a match stores capture group `group` (0: the whole
  // match) in `*out`. False, and `*out` untouched, when the regex does not
  // match or the group took no part in the match.
  bool Search(std::string_view line, int group, std::string* out) const;

  // Replaces every non-overlapping match in `*text` (cut to
  // kMaxRegexSubjectBytes first) with `rewrite`, where \0..\9 stand for
  // the groups (RE2::GlobalReplace). Returns the number of replacements; 0
  // when `rewrite` names a group the regex does not have.
  int ReplaceAll(std::string* text, std::string_view rewrite) const;

  // The number of capture groups (not counting group 0).
  int groups() const;
  const std::string& source() const { return source_; }
  bool ignore_case() const { return ignore_case_; }

 private:
  std::shared_ptr<const re2::RE2> re_;
  std::string source_;
  bool ignore_case_ = false;
};

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_REGEX_H_
