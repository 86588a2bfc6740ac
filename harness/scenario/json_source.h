// JsonSource: a parsed JSON document that remembers where each value came
// from. nlohmann/json 3.11 does not keep positions, so after it has parsed
// (and thereby validated) the text, a small scanner walks the same text once
// and records, for every JSON pointer, the byte offset of the value and of its
// member key. Semantic errors found later by the scenario loader can then
// point at the offending key or value as "file:line:col: message".
//
// Positions: lines and columns are 1-based; a column counts Unicode code
// points (UTF-8 lead bytes) from the start of the line, so a tab is one
// column. Syntax errors use nlohmann's byte position, converted the same way.
//
// The scanner also rejects what nlohmann accepts silently but a scenario
// author never means: duplicate member keys, and nesting deeper than
// kMaxJsonDepth.
#ifndef SMTP_HARNESS_SCENARIO_JSON_SOURCE_H_
#define SMTP_HARNESS_SCENARIO_JSON_SOURCE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace smtp::scenario {

// Bounds on what we are willing to read (scenario files are small).
inline constexpr std::size_t kMaxJsonFileBytes = 4 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 64;

struct TextPosition {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based, in code points
  bool operator==(const TextPosition&) const = default;
};

// Appends one reference token to a JSON pointer (RFC 6901 escaping: "~" is
// "~0", "/" is "~1"). AppendPointer("/steps", 2) == "/steps/2".
std::string AppendPointer(std::string_view pointer, std::string_view key);
std::string AppendPointer(std::string_view pointer, std::size_t index);

class JsonSource {
 public:
  // Parses `text`; `path` is only used in messages. Errors (InvalidArgument)
  // read "path:line:col: <what>", e.g.
  //   "a.json:3:5: syntax error: unexpected '}'"
  //   "a.json:2:3: duplicate key 'id'".
  static absl::StatusOr<JsonSource> Parse(std::string path, std::string text);
  // Reads and parses a file (NotFound when it cannot be opened,
  // InvalidArgument when larger than kMaxJsonFileBytes).
  static absl::StatusOr<JsonSource> ReadFile(const std::string& path);

  const nlohmann::json& root() const { return root_; }
  const std::string& path() const { return path_; }

  // Position of the value at `pointer` (its first character).
  TextPosition ValuePosition(std::string_view pointer) const;
  // Position of the member key whose value is at `pointer` (its opening
  // quote); the value position for array elements and the root.
  TextPosition KeyPosition(std::string_view pointer) const;
  // Position of the `index`-th byte of the decoded string at `pointer`, taking
  // JSON escapes in the source into account (used to point at a bad byte
  // escape inside a string). Falls back to the value position.
  TextPosition StringBytePosition(std::string_view pointer, std::size_t index) const;
  TextPosition PositionOfOffset(std::size_t offset) const;

  // "path:line:col: message" as an InvalidArgument status.
  absl::Status ErrorAt(TextPosition pos, std::string_view message) const;
  // "path:line:col" (or just "path" when the position is unknown).
  std::string Where(TextPosition pos) const;

 private:
  friend class JsonScanner;
  struct Span {
    std::size_t key = std::string::npos;  // offset of the key's opening quote
    std::size_t value = 0;                // offset of the value's first byte
    std::size_t value_end = 0;            // one past the value's last byte
  };
  const Span* Find(std::string_view pointer) const;

  std::string path_;
  std::string text_;
  nlohmann::json root_;
  std::unordered_map<std::string, Span> spans_;
  std::vector<std::size_t> line_starts_;
};

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_JSON_SOURCE_H_
