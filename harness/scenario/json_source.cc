#include "harness/scenario/json_source.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "harness/scenario/strings_internal.h"
#include "parser/ascii.h"

namespace smtp::scenario {

std::string AppendPointer(std::string_view pointer, std::string_view key) {
  std::string out(pointer);
  out.push_back('/');
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string AppendPointer(std::string_view pointer, std::size_t index) {
  return AppendPointer(pointer, std::to_string(index));
}

// Walks text that nlohmann has already accepted, so it checks only what
// nlohmann does not: duplicate keys and depth. Everything else is trusted.
class JsonScanner {
 public:
  explicit JsonScanner(JsonSource& src) : src_(src), text_(src.text_) {}

  absl::Status Run() {
    if (text_.size() >= 3 && text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
    SkipSpace();
    return Value("", std::string::npos, 0);
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // After a member or element: white space, then a ',' and white space if
  // another one follows.
  void SkipSeparator() {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ',') {
      ++pos_;
      SkipSpace();
    }
  }

  // pos_ is at the opening quote; leaves pos_ one past the closing quote.
  void SkipString() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      pos_ += text_[pos_] == '\\' ? 2 : 1;
    }
    ++pos_;
  }

  absl::Status Value(const std::string& pointer, std::size_t key_offset, int depth) {
    const char c = pos_ < text_.size() ? text_[pos_] : '\0';
    if ((c == '{' || c == '[') && depth >= kMaxJsonDepth) {
      return src_.ErrorAt(src_.PositionOfOffset(pos_),
                          absl::StrCat("nesting deeper than ", kMaxJsonDepth, " levels"));
    }
    JsonSource::Span span;
    span.key = key_offset;
    span.value = pos_;
    if (c == '{') {
      if (auto st = Object(pointer, depth); !st.ok()) return st;
    } else if (c == '[') {
      if (auto st = Array(pointer, depth); !st.ok()) return st;
    } else if (c == '"') {
      SkipString();
    } else {
      while (pos_ < text_.size() &&
             std::string_view("+-.0123456789eEtruefalsn").find(text_[pos_]) !=
                 std::string_view::npos) {
        ++pos_;
      }
    }
    span.value_end = pos_;
    src_.spans_.emplace(pointer, span);
    return absl::OkStatus();
  }

  absl::Status Object(const std::string& pointer, int depth) {
    ++pos_;  // '{'
    SkipSpace();
    std::unordered_set<std::string> seen;
    while (pos_ < text_.size() && text_[pos_] != '}') {
      const std::size_t key_start = pos_;
      SkipString();
      std::string_view raw(text_.data() + key_start + 1, pos_ - key_start - 2);
      std::string key =
          raw.find('\\') == std::string_view::npos
              ? std::string(raw)
              : nlohmann::json::parse(text_.substr(key_start, pos_ - key_start)).get<std::string>();
      if (!seen.insert(key).second) {
        return src_.ErrorAt(src_.PositionOfOffset(key_start),
                            absl::StrCat("duplicate key '", key, "'"));
      }
      SkipSpace();
      ++pos_;  // ':'
      SkipSpace();
      if (auto st = Value(AppendPointer(pointer, key), key_start, depth + 1); !st.ok()) return st;
      SkipSeparator();
    }
    ++pos_;  // '}'
    return absl::OkStatus();
  }

  absl::Status Array(const std::string& pointer, int depth) {
    ++pos_;  // '['
    SkipSpace();
    std::size_t index = 0;
    while (pos_ < text_.size() && text_[pos_] != ']') {
      if (auto st = Value(AppendPointer(pointer, index++), std::string::npos, depth + 1);
          !st.ok()) {
        return st;
      }
      SkipSeparator();
    }
    ++pos_;  // ']'
    return absl::OkStatus();
  }

  JsonSource& src_;
  const std::string& text_;
  std::size_t pos_ = 0;
};

namespace {

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at
// line 1, column 7: syntax error while parsing value - ..."; keep the part
// after the position, which we render ourselves.
std::string SyntaxReason(const char* what) {
  std::string_view w(what);
  const std::size_t col = w.find("column ");
  if (col != std::string_view::npos) {
    const std::size_t colon = w.find(": ", col);
    if (colon != std::string_view::npos) return std::string(w.substr(colon + 2));
  }
  const std::size_t bracket = w.find("] ");
  return std::string(bracket == std::string_view::npos ? w : w.substr(bracket + 2));
}

// nlohmann's DOM builder, but every error — a syntax error, and also a number
// too large for a double ("number overflow", out_of_range 406, which
// json::parse throws as an exception without a position) — is kept with the
// byte count where it was found instead of thrown.
class DomParser : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
 public:
  explicit DomParser(nlohmann::json& root) : json_sax_dom_parser(root, false) {}
  template <class Exception>
  bool parse_error(std::size_t byte_count, const std::string& /*token*/, const Exception& e) {
    failed = true;
    byte = byte_count;
    what = e.what();
    return false;
  }
  bool failed = false;
  std::size_t byte = 0;
  std::string what;
};

unsigned ReadHex4(std::string_view s) {
  unsigned v = 0;
  for (char c : s.substr(0, 4)) v = v * 16 + static_cast<unsigned>(std::max(0, HexDigitValue(c)));
  return v;
}

}  // namespace

absl::StatusOr<JsonSource> JsonSource::Parse(std::string path, std::string text) {
  JsonSource src;
  src.path_ = std::move(path);
  src.text_ = std::move(text);
  src.line_starts_.push_back(0);
  for (std::size_t i = 0; i < src.text_.size(); ++i) {
    if (src.text_[i] == '\n') src.line_starts_.push_back(i + 1);
  }
  DomParser sax(src.root_);
  if (!nlohmann::json::sax_parse(src.text_, &sax) || sax.failed) {
    const std::size_t offset = sax.byte == 0 ? 0 : std::min(sax.byte - 1, src.text_.size());
    return src.ErrorAt(src.PositionOfOffset(offset), SyntaxReason(sax.what.c_str()));
  }
  JsonScanner scanner(src);
  if (auto st = scanner.Run(); !st.ok()) return st;
  return src;
}

absl::StatusOr<JsonSource> JsonSource::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxJsonFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": file larger than ", kMaxJsonFileBytes, " bytes"));
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return Parse(path, std::move(text));
}

const JsonSource::Span* JsonSource::Find(std::string_view pointer) const {
  auto it = spans_.find(std::string(pointer));
  return it == spans_.end() ? nullptr : &it->second;
}

TextPosition JsonSource::ValuePosition(std::string_view pointer) const {
  const Span* s = Find(pointer);
  return s == nullptr ? TextPosition{} : PositionOfOffset(s->value);
}

TextPosition JsonSource::KeyPosition(std::string_view pointer) const {
  const Span* s = Find(pointer);
  if (s == nullptr) return {};
  return PositionOfOffset(s->key == std::string::npos ? s->value : s->key);
}

TextPosition JsonSource::StringBytePosition(std::string_view pointer, std::size_t index) const {
  const Span* s = Find(pointer);
  if (s == nullptr) return {};
  if (s->value >= text_.size() || text_[s->value] != '"') return PositionOfOffset(s->value);
  std::string_view raw(text_.data() + s->value + 1, s->value_end - s->value - 2);
  std::size_t decoded = 0;
  std::size_t p = 0;
  while (p < raw.size()) {
    std::size_t produced = 1;
    std::size_t consumed = 1;
    if (raw[p] == '\\' && p + 1 < raw.size()) {
      consumed = 2;
      if (raw[p + 1] == 'u' && p + 6 <= raw.size()) {
        const unsigned cp = ReadHex4(raw.substr(p + 2));
        consumed = 6;
        if (cp >= 0xD800 && cp <= 0xDBFF && p + 12 <= raw.size() && raw[p + 6] == '\\') {
          produced = 4;
          consumed = 12;
        } else {
          produced = cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
        }
      }
    }
    if (index < decoded + produced) break;
    decoded += produced;
    p += consumed;
  }
  return PositionOfOffset(s->value + 1 + p);
}

TextPosition JsonSource::PositionOfOffset(std::size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  const std::size_t line_index = static_cast<std::size_t>(it - line_starts_.begin()) - 1;
  std::size_t start = line_starts_[line_index];
  // A UTF-8 byte order mark is not a column (editors do not show it).
  if (start == 0 && text_.compare(0, 3, "\xEF\xBB\xBF") == 0)
    start = std::min<std::size_t>(3, offset);
  int column = 1;
  for (std::size_t i = start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++column;
  }
  return {static_cast<int>(line_index) + 1, column};
}

std::string JsonSource::Where(TextPosition pos) const {
  if (pos.line == 0) return path_;
  return absl::StrCat(path_, ":", pos.line, ":", pos.column);
}

absl::Status JsonSource::ErrorAt(TextPosition pos, std::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(Where(pos), ": ", internal::AV(message)));
}

}  // namespace smtp::scenario
