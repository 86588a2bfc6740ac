#include "harness/scenario/expectation.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/scenario/strings_internal.h"

namespace smtp::scenario {
namespace {

constexpr std::size_t kShownTextBytes = 160;  // of reply text in descriptions

std::string CodeText(int code) {
  if (code < 0 || code > 999) return absl::StrCat("<", code, ">");
  std::string s = std::to_string(code);
  return std::string(3 - s.size(), '0') + s;
}

// The reply text quoted and escaped for a one-line message; lines are joined
// by " | " and the whole is cut to kShownTextBytes.
std::string Quote(std::span<const std::string> lines) {
  const std::string joined = absl::StrJoin(lines, " | ");
  std::string out = "\"";
  for (std::size_t i = 0; i < joined.size() && i < kShownTextBytes; ++i) {
    const auto c = static_cast<unsigned char>(joined[i]);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7F) {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (joined.size() > kShownTextBytes) out += "...";
  out += "\"";
  return out;
}

std::string CodesText(const std::vector<CodePattern>& codes) {
  std::string out;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (i > 0) out += i + 1 == codes.size() ? " or " : ", ";
    out += codes[i].ToString();
  }
  return out;
}

}  // namespace

std::optional<CodePattern> CodePattern::Parse(std::string_view text, std::string* why) {
  CodePattern p;
  bool ok = text.size() == 3;
  for (std::size_t i = 0; ok && i < 3; ++i) {
    const char c = absl::ascii_tolower(text[i]);
    ok = c == 'x' || (absl::ascii_isdigit(c) && (i != 0 || (c >= '2' && c <= '5')));
    p.chars_[i] = c;
  }
  if (!ok) {
    *why = absl::StrCat("bad code pattern '", internal::AV(text),
                        "' (three characters, each a digit or 'x', starting 2-5 or 'x')");
    return std::nullopt;
  }
  return p;
}

std::optional<CodePattern> CodePattern::Exact(long long code, std::string* why) {
  if (code < 200 || code > 599) {
    *why = absl::StrCat("bad reply code ", code, " (200..599)");
    return std::nullopt;
  }
  return Parse(std::to_string(code), why);
}

bool CodePattern::Matches(int code) const {
  if (code < 0 || code > 999) return false;
  const std::string s = CodeText(code);
  for (std::size_t i = 0; i < 3; ++i) {
    if (chars_[i] != 'x' && chars_[i] != s[i]) return false;
  }
  return true;
}

std::string CodePattern::ToString() const { return std::string(chars_.begin(), chars_.end()); }

std::optional<EnhancedPattern> EnhancedPattern::Parse(std::string_view text, std::string* why) {
  EnhancedPattern p;
  std::size_t part = 0;
  std::size_t i = 0;
  bool ok = true;
  while (ok && part < 3) {
    std::size_t start = i;
    if (i < text.size() && absl::ascii_tolower(text[i]) == 'x') {
      p.parts_[part] = -1;
      ++i;
    } else {
      int v = 0;
      while (i < text.size() && absl::ascii_isdigit(text[i]) && i - start < 3)
        v = v * 10 + (text[i++] - '0');
      ok = i > start && (part != 0 || v == 2 || v == 4 || v == 5);
      p.parts_[part] = v;
    }
    ++part;
    if (part < 3) ok = ok && i < text.size() && text[i++] == '.';
  }
  if (!ok || i != text.size()) {
    *why = absl::StrCat("bad enhanced code pattern '", internal::AV(text),
                        "' (class.subject.detail: class 2, 4, 5 or x; the others 1-3 digits "
                        "or x)");
    return std::nullopt;
  }
  return p;
}

bool EnhancedPattern::Matches(std::string_view enhanced) const {
  std::string why;
  auto actual = Parse(enhanced, &why);
  if (!actual) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    if (actual->parts_[i] < 0) return false;  // the reply must carry digits
    if (parts_[i] >= 0 && parts_[i] != actual->parts_[i]) return false;
  }
  return true;
}

std::string EnhancedPattern::ToString() const {
  std::string out;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i > 0) out.push_back('.');
    out += parts_[i] < 0 ? std::string("x") : std::to_string(parts_[i]);
  }
  return out;
}

std::string_view ExtractEnhancedCode(std::string_view text) {
  const std::size_t end = std::min(text.find(' '), text.size());
  std::string_view candidate = text.substr(0, end);
  std::string why;
  if (candidate.find_first_of("xX") != std::string_view::npos) return {};
  return EnhancedPattern::Parse(candidate, &why) ? candidate : std::string_view();
}

MatchResult Expectation::Match(int code, std::span<const std::string> lines,
                               std::string_view enhanced_code) const {
  const std::string got = absl::StrCat(CodeText(code), " ", Quote(lines));
  const bool code_ok = std::any_of(codes.begin(), codes.end(),
                                   [code](const CodePattern& p) { return p.Matches(code); });
  if (!code_ok) return {false, absl::StrCat("expected code ", CodesText(codes), ", got ", got)};
  if (enhanced && !enhanced->Matches(enhanced_code)) {
    return {false, absl::StrCat("expected enhanced code ", enhanced->ToString(), ", got ",
                                enhanced_code.empty()
                                    ? std::string("none")
                                    : std::string(enhanced_code.begin(), enhanced_code.end()),
                                " in ", got)};
  }
  if (text) {
    const bool text_ok = std::any_of(lines.begin(), lines.end(),
                                     [this](const std::string& l) { return text->Search(l); });
    if (!text_ok) {
      return {false, absl::StrCat("expected text matching /", text->source(), "/",
                                  ignore_case ? "i" : "", ", got ", got)};
    }
  }
  if (not_text) {
    const auto hit = std::find_if(lines.begin(), lines.end(),
                                  [this](const std::string& l) { return not_text->Search(l); });
    if (hit != lines.end()) {
      return {false, absl::StrCat("expected no line matching /", not_text->source(), "/",
                                  ignore_case ? "i" : "", ", got line ", hit - lines.begin() + 1,
                                  " of ", got)};
    }
  }
  return {true, absl::StrCat("got ", got)};
}

std::string Expectation::Describe() const {
  std::string out = CodesText(codes);
  if (enhanced) absl::StrAppend(&out, ", enhanced ", enhanced->ToString());
  if (text) absl::StrAppend(&out, ", text /", text->source(), "/", ignore_case ? "i" : "");
  if (not_text) {
    absl::StrAppend(&out, ", no text /", not_text->source(), "/", ignore_case ? "i" : "");
  }
  return out;
}

}  // namespace smtp::scenario
