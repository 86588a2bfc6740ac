// Internals of the scenario loader, shared by scenario_loader.cc (files,
// metadata, fragments, value helpers) and step_parser.cc (the step types).
#ifndef SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_
#define SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "harness/scenario/json_source.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_loader.h"

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
  // `n` must be an object whose keys are all in KeysOf(kind) and which has
  // every key in `required`.
  absl::Status CheckObject(const Node& n, std::string_view ctx, std::string_view kind,
                           std::initializer_list<std::string_view> required) const;
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

  // --- steps (step_parser.cc) ---
  // Parses the array `n` into `out`; element i is labelled prefix + (i + 1).
  absl::Status ParseSteps(const Node& n, const std::string& prefix, std::vector<Step>* out);
  absl::Status ParseStep(const Node& n, const std::string& label, std::vector<Step>* out);
  // Inlines fragment `name_node` (a string) into `out`, labelled
  // prefix + "NAME step " + (i + 1).
  absl::Status IncludeFragment(const Node& name_node, std::string_view ctx,
                               const std::string& prefix, std::vector<Step>* out);

 private:
  absl::Status ParseAction(const Node& v, std::string_view type, const std::string& ctx,
                           const std::string& label, Step* step);
  absl::Status ParseCapture(const Node& v, const std::string& ctx, CaptureStep* out);
  absl::Status ParseBdat(const Node& v, const std::string& ctx, BdatStep* out);
  absl::Status ParseExpectDelivery(const Node& v, const std::string& ctx, ExpectDeliveryStep* out);
  absl::Status ParseRepeat(const Node& v, const std::string& ctx, const std::string& label,
                           RepeatStep* out);
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

// "string", "number", "object", ... for messages; "integer" for integers.
std::string_view TypeName(const nlohmann::json& v);
// The allowed key closest to `key` (edit distance <= 2), or empty.
std::string_view Suggest(std::string_view key, std::span<const std::string_view> allowed);
// An expectation of exactly `code`.
Expectation ExpectCode(int code);

}  // namespace smtp::scenario::internal

#endif  // SMTP_HARNESS_SCENARIO_LOADER_INTERNAL_H_
