#include "harness/scenario/variables.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "harness/scenario/strings_internal.h"
#include "results/redact.h"

namespace smtp::scenario {
namespace {

using internal::AV;

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// Appends `text` to the expansion `out`: an error once `out` is longer than
// kMaxExpandedBytes.
absl::Status AppendExpansion(std::string* out, std::string_view text) {
  out->append(text);
  if (out->size() > kMaxExpandedBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("expansion longer than ", kMaxExpandedBytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsValidVariableName(std::string_view name) {
  if (name.empty() || name.size() > kMaxVariableName || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

std::optional<TemplateError> ScanTemplate(std::string_view text, std::vector<VariableRef>* refs) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) continue;
    if (text[i + 1] == '$') {
      ++i;  // "$$": a literal '$'
      continue;
    }
    if (text[i + 1] != '{') continue;
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return TemplateError{i, "unterminated '${' (write $$ for a literal '$')"};
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    if (!IsValidVariableName(name)) {
      return TemplateError{i, absl::StrCat("bad variable name '", AV(name),
                                           "' (letters, digits and '_', not starting with a "
                                           "digit)")};
    }
    if (refs != nullptr) refs->push_back({std::string(name), i});
    i = close;
  }
  return std::nullopt;
}

Template Template::Literal(std::string text) {
  Template t;
  t.source_ = text;
  t.pieces_.push_back({std::move(text), false});
  return t;
}

std::optional<TemplateError> Template::Parse(std::string_view text, bool byte_escapes,
                                             Template* out) {
  std::vector<VariableRef> refs;
  if (auto err = ScanTemplate(text, &refs)) return err;
  Template t;
  t.source_ = std::string(text);
  // Literal text between references, with "$$" folded to "$".
  auto add_literal = [&](std::size_t begin, std::size_t end) -> std::optional<TemplateError> {
    std::string lit;
    for (std::size_t i = begin; i < end; ++i) {
      lit.push_back(text[i]);
      if (text[i] == '$' && i + 1 < end && text[i + 1] == '$') ++i;
    }
    if (byte_escapes) {
      std::string decoded;
      EscapeError e;
      // Escapes cannot contain '$', so decoding after folding keeps offsets
      // meaningful only up to the first "$$"; map back by re-scanning.
      if (!DecodeByteEscapes(lit, &decoded, &e)) {
        std::size_t src = begin;
        for (std::size_t k = 0; k < e.offset; ++k) {
          src += (text[src] == '$' && src + 1 < end && text[src + 1] == '$') ? 2 : 1;
        }
        return TemplateError{src, e.message};
      }
      lit = std::move(decoded);
    }
    if (!lit.empty()) t.pieces_.push_back({std::move(lit), false});
    return std::nullopt;
  };
  std::size_t pos = 0;
  for (const VariableRef& ref : refs) {
    if (auto err = add_literal(pos, ref.offset)) return err;
    t.pieces_.push_back({ref.name, true});
    pos = ref.offset + ref.name.size() + 3;  // "${" name "}"
  }
  if (auto err = add_literal(pos, text.size())) return err;
  *out = std::move(t);
  return std::nullopt;
}

absl::StatusOr<std::string> Template::Expand(const Variables& vars) const {
  std::string out;
  for (const Piece& p : pieces_) {
    const std::string* text = p.variable ? vars.Find(p.text) : &p.text;
    if (text == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown variable '", p.text, "'"));
    }
    if (absl::Status st = AppendExpansion(&out, *text); !st.ok()) return st;
  }
  return out;
}

std::vector<std::string> Template::VariableNames() const {
  std::vector<std::string> names;
  for (const Piece& p : pieces_) {
    if (p.variable) names.push_back(p.text);
  }
  return names;
}

void Variables::Set(std::string name, std::string value, bool secret) {
  vars_[std::move(name)] = Value{std::move(value), secret};
}

void Variables::AddSecretValue(std::string value) {
  if (!value.empty()) derived_secrets_.push_back(std::move(value));
}

const std::string* Variables::Find(std::string_view name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second.text;
}

bool Variables::IsSecret(std::string_view name) const {
  auto it = vars_.find(name);
  return it != vars_.end() && it->second.secret;
}

std::vector<std::string> Variables::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars_) names.push_back(name);
  return names;
}

absl::StatusOr<std::string> Variables::Expand(std::string_view text) const {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    std::string_view piece = text.substr(i, 1);
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      ++i;  // "$$": piece is one '$'
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      std::string_view name =
          close == std::string_view::npos ? std::string_view() : text.substr(i + 2, close - i - 2);
      if (!IsValidVariableName(name)) {
        return absl::InvalidArgumentError(absl::StrCat("bad variable reference at offset ", i));
      }
      const std::string* value = Find(name);
      if (value == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown variable '", AV(name), "' at offset ", i));
      }
      piece = *value;
      i = close;
    }
    if (absl::Status st = AppendExpansion(&out, piece); !st.ok()) return st;
  }
  return out;
}

std::vector<std::string> Variables::SecretValues() const {
  std::vector<std::string> secrets;
  auto add = [&](const std::string& value) {
    if (!value.empty() && std::find(secrets.begin(), secrets.end(), value) == secrets.end()) {
      secrets.push_back(value);
    }
  };
  for (const auto& [name, value] : vars_) {
    if (value.secret) add(value.text);
  }
  for (const std::string& s : derived_secrets_) add(s);
  return secrets;
}

std::string Variables::Redact(std::string_view text) const {
  const std::vector<std::string> secrets = SecretValues();
  if (secrets.empty()) return std::string(text);
  return harness::ReplaceRanges(text, harness::FindSecrets(text, secrets));
}

}  // namespace smtp::scenario
