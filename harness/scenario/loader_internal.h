// Internals of the scenario loader, shared by scenario_loader.cc (files,
// metadata, fragments, value helpers), step_parser.cc (the step types) and
// keys.cc (which takes the step types' keys from their table).
#ifndef SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_
#define SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "harness/scenario/json_source.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_loader.h"
#include "harness/scenario/suggest.h"

#define SMTP_SCENARIO_RETURN_IF_ERROR(expr)                 \
  do {                                                      \
    if (::absl::Status _st = (expr); !_st.ok()) return _st; \
  } while (0)

namespace smtp::scenario::internal {

// A JSON value inside a source, with the name used in messages: "'ms'" for
// a member, "'send' #2" for an array element.
struct Node {
  const JsonSource* src = nullptr;
  const nlohmann::json* v = nullptr;
  std::string ptr;
  std::string name;

  // The member `key` of an object node, if present.
  std::optional<Node> Find(std::string_view key) const;
  Node Element(std::size_t i) const;
  // Member keys in source order.
  std::vector<std::string> KeysInOrder() const;
};

// Where the value of a step's type key is parsed.
struct StepSite {
  std::string_view label;  // "step 3"
  std::string_view ctx;    // "step 3 (send)": the context of every message
};

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {}

  absl::StatusOr<Scenario> Load(const JsonSource& src);

  // --- errors: "file:line:col: ctx: msg[; included from ...]" ---
  absl::Status ErrKey(const Node& n, std::string_view ctx, std::string_view msg) const;
  absl::Status ErrValue(const Node& n, std::string_view ctx, std::string_view msg) const;
  absl::Status ErrByte(const Node& n, std::size_t index, std::string_view ctx,
                       std::string_view msg) const;

  // --- value helpers; each names the node in its message ---
  // `n` must be an object whose keys are all in `allowed` and which has
  // every key in `required`; the first unknown key, in source order, is the
  // error, with the closest allowed key as a suggestion.
  absl::Status CheckObject(const Node& n, std::string_view ctx,
                           std::span<const std::string_view> allowed,
                           std::span<const std::string_view> required) const;
  // The same with the keys of object kind `kind` (keys.h) as `allowed`.
  absl::Status CheckObject(const Node& n, std::string_view ctx, std::string_view kind,
                           std::initializer_list<std::string_view> required) const;
  // Every key of the object `n` is in `allowed`.
  absl::Status CheckKeys(const Node& n, std::string_view ctx,
                         std::span<const std::string_view> allowed) const;
  // `n` must be an array with at least one element.
  absl::Status CheckNonEmptyArray(const Node& n, std::string_view ctx) const;
  absl::Status ReadString(const Node& n, std::string_view ctx, std::string* out) const;
  absl::Status ReadInt(const Node& n, std::string_view ctx, long long min, long long max,
                       int* out) const;
  absl::Status ReadBool(const Node& n, std::string_view ctx, bool* out) const;
  absl::Status ReadStringArray(const Node& n, std::string_view ctx, std::vector<std::string>* out,
                               bool allow_empty) const;
  // A string with `${var}` references (checked against the known variables);
  // `raw` decodes byte escapes, `line` forbids CR and LF.
  absl::Status ReadTemplate(const Node& n, std::string_view ctx, bool raw, bool line,
                            Template* out) const;
  // An expectation: a code (250, "2xx", [250, "4xx"]) or an object.
  absl::Status ReadExpectation(const Node& n, std::string_view ctx, Expectation* out) const;
  // The expectation under `key` of the object `n`; when there is none,
  // exactly reply code `code`.
  absl::Status ReadExpectationOr(const Node& n, std::string_view key, int code,
                                 std::string_view ctx, Expectation* out) const;
  // A string compiled as a regex (regex.h).
  absl::Status ReadRegex(const Node& n, std::string_view ctx, bool ignore_case,
                         std::optional<Regex>* out) const;

  // --- steps (step_parser.cc) ---
  // Parses the array `n` into `out`; element i is labelled prefix + (i + 1).
  absl::Status ParseSteps(const Node& n, const std::string& prefix, std::vector<Step>* out);
  absl::Status ParseStep(const Node& n, const std::string& label, std::vector<Step>* out);
  // Inlines fragment `name_node` (a string) into `out`, labelled
  // prefix + "NAME step " + (i + 1).
  absl::Status IncludeFragment(const Node& name_node, std::string_view ctx,
                               const std::string& prefix, std::vector<Step>* out);
  // Parses `v`, the value of a step's type key, into the step action `out`
  // (default-constructed). One explicit specialization per step type, in
  // step_parser.cc; an object value has passed its StepType's CheckObject.
  template <typename Action>
  absl::Status Parse(const Node& v, const StepSite& at, Action* out);

 private:
  absl::Status ParseMetadata(const Node& root, Scenario* out);
  // The path of fragment `name` in the fragment directories, if any.
  std::optional<std::string> ResolveFragment(const std::string& name) const;
  // Reads (once) and caches a fragment file.
  absl::StatusOr<const JsonSource*> ReadFragment(const std::string& path);
  std::vector<std::string> FragmentDirs(const std::string& scenario_path) const;
  std::string IncludeSuffix() const;

  const LoadOptions& options_;
  std::vector<std::string> fragment_dirs_;
  std::set<std::string, std::less<>> known_vars_;
  std::set<std::string, std::less<>> profile_vars_;
  struct IncludeSite {
    std::string name;
    std::string where;  // "file:line:col" of the include value
  };
  std::vector<IncludeSite> include_stack_;
  std::map<std::string, std::unique_ptr<JsonSource>> fragments_;  // by path
};

// One step type of the scenario language: a row of the table in
// step_parser.cc, the only place that lists the step types. ParseStep finds
// the row of a step's type key, checks an object value against `keys` and
// `required`, and calls `parse`; keys.h and StepTypeName() read the names.
struct StepType {
  // Parses a step value into `out` (Loader::Parse of the row's action).
  using ParseFn = absl::Status (*)(Loader& loader, const Node& v, const StepSite& at,
                                   StepAction* out);
  std::string_view name;                            // the JSON key: "connect", "send", ...
  std::span<const std::string_view> keys = {};      // of its object value; empty: not an object
  std::span<const std::string_view> required = {};  // keys the object must have
  std::size_t action = std::variant_npos;           // its StepAction alternative; npos: include
  ParseFn parse = nullptr;                          // null: include (inlines a fragment's steps)
};

// Every step type, in the order messages list them.
std::span<const StepType> StepTypes();
// The step type whose key is `name`, or null.
const StepType* FindStepType(std::string_view name);

// "string", "number", "object", ... for messages; "integer" for integers.
std::string_view TypeName(const nlohmann::json& v);
// The allowed key closest to `key` (harness/scenario/suggest.h).
using scenario::Suggest;
// An expectation of exactly `code`.
Expectation ExpectCode(int code);

}  // namespace smtp::scenario::internal

#endif  // SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_
