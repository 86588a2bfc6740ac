// Variables: `${name}` references in scenario strings, their values (from the
// target profile and from `capture` steps), and redaction of secret values.
//
// Template syntax (in send, send_raw, pipeline.send, auth, data, data_raw and
// bdat strings):
//   ${name}  the value of variable `name` ([A-Za-z_][A-Za-z0-9_]*, at most
//            kMaxVariableName characters); unknown names are errors
//   $$       a literal "$" (so "$${x}" is the text "${x}")
//   $        followed by anything else: a literal "$"
// Expansion is one pass: a value that itself contains "${" is not expanded
// again. Regexes (expect.text, capture.regex) are compiled at load time and
// are never expanded.
//
// The loader turns each such string into a Template (literal pieces and
// variable references); the runner calls Template::Expand when the step runs,
// after earlier `capture` steps have set their variables. In raw strings the
// byte escapes of the literal pieces are decoded at load time, so "\x24{a}"
// is the literal text "${a}", never a reference.
#ifndef SMTP_HARNESS_SCENARIO_VARIABLES_H_
#define SMTP_HARNESS_SCENARIO_VARIABLES_H_

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario/escapes.h"

namespace smtp::scenario {

inline constexpr std::size_t kMaxVariableName = 64;
// Cap on the result of one expansion (a guard against huge captured values).
inline constexpr std::size_t kMaxExpandedBytes = 1024 * 1024;

bool IsValidVariableName(std::string_view name);

// One `${name}` reference found in a template.
struct VariableRef {
  std::string name;
  std::size_t offset = 0;  // of the '$'
};
struct TemplateError {
  std::size_t offset = 0;  // of the offending '$'
  std::string message;     // e.g. "unterminated '${'"
};

// Lists the references of `text`, or the first syntax error (an unterminated
// "${", an empty or invalid name).
std::optional<TemplateError> ScanTemplate(std::string_view text, std::vector<VariableRef>* refs);

class Variables;

// A parsed template: literal pieces and `${name}` references.
class Template {
 public:
  Template() = default;
  // A template with no references (for values built in code).
  static Template Literal(std::string text);
  // Parses `text`; with `byte_escapes` the literal pieces are decoded as in
  // escapes.h. On error returns it (offset into `text`) and leaves `*out`.
  static std::optional<TemplateError> Parse(std::string_view text, bool byte_escapes,
                                            Template* out);

  // The bytes to send. InvalidArgument for a variable `vars` does not have
  // ("unknown variable 'x'") or a result longer than kMaxExpandedBytes.
  absl::StatusOr<std::string> Expand(const Variables& vars) const;

  // The text as written in the scenario (after JSON decoding).
  const std::string& source() const { return source_; }
  // Referenced variable names, in order of appearance (with repeats).
  std::vector<std::string> VariableNames() const;

 private:
  struct Piece {
    std::string text;  // bytes, or the variable name
    bool variable = false;
  };
  std::string source_;
  std::vector<Piece> pieces_;
};

// A set of named string values, some of them secret.
class Variables {
 public:
  // Sets (or replaces) a variable. A secret's value is redacted by Redact().
  void Set(std::string name, std::string value, bool secret = false);
  // Registers a value derived from a secret (e.g. the base64 AUTH PLAIN
  // blob) so that Redact() hides it too. Empty values are ignored.
  void AddSecretValue(std::string value);

  // nullptr when `name` is not set.
  const std::string* Find(std::string_view name) const;
  bool IsSecret(std::string_view name) const;
  std::vector<std::string> Names() const;

  // Replaces every reference in `text`. InvalidArgument on a syntax error or
  // an unknown variable ("unknown variable 'rcpt2' at offset 9"), and when the
  // result would exceed kMaxExpandedBytes.
  absl::StatusOr<std::string> Expand(std::string_view text) const;

  // Every secret value: those of the secret variables and the derived ones,
  // without empty values and repeats. What results/redact.h hides.
  std::vector<std::string> SecretValues() const;

  // Returns `text` with every occurrence of every secret value replaced by
  // "***"; overlapping occurrences become one "***" (harness::FindSecrets).
  std::string Redact(std::string_view text) const;

 private:
  struct Value {
    std::string text;
    bool secret = false;
  };
  std::map<std::string, Value, std::less<>> vars_;
  std::vector<std::string> derived_secrets_;
};

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_VARIABLES_H_
