#include "harness/scenario/regex.h"

#include <vector>

#include <re2/re2.h>

#include "absl/strings/str_cat.h"

namespace smtp::scenario {
namespace {

re2::StringPiece Piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

// What to add to RE2's reason: the errors an ECMAScript or Perl habit leads
// to get a hint at what RE2 leaves out, a too large program the limit.
std::string Hint(re2::RE2::ErrorCode code) {
  switch (code) {
    case re2::RE2::ErrorBadEscape:  // \1, \u0041, \cA
    case re2::RE2::ErrorBadPerlOp:  // (?=, (?!, (?<=, (?<!, (?<name>
      return " (RE2 syntax: no backreferences or lookaround)";
    case re2::RE2::ErrorPatternTooLarge:  // e.g. "(ab|cd|...){1000}"
      return absl::StrCat(" (more than the ", kMaxRegexMemoryBytes, "-byte regex memory limit)");
    default:
      return "";
  }
}

}  // namespace

std::optional<Regex> Regex::Compile(std::string_view pattern, bool ignore_case, std::string* why) {
  if (pattern.size() > kMaxRegexPatternBytes) {
    *why = absl::StrCat("regex longer than ", kMaxRegexPatternBytes, " bytes");
    return std::nullopt;
  }
  re2::RE2::Options options;
  options.set_encoding(re2::RE2::Options::EncodingLatin1);  // bytes, see regex.h
  options.set_case_sensitive(!ignore_case);
  options.set_max_mem(kMaxRegexMemoryBytes);
  options.set_log_errors(false);  // the reason goes into the load error instead
  auto re = std::make_shared<const re2::RE2>(Piece(pattern), options);
  if (!re->ok()) {
    *why = absl::StrCat("bad regex: ", re->error(), Hint(re->error_code()));
    return std::nullopt;
  }
  Regex out;
  out.re_ = std::move(re);
  out.source_ = std::string(pattern);
  out.ignore_case_ = ignore_case;
  return out;
}

bool Regex::Search(std::string_view line) const {
  if (re_ == nullptr) return false;
  return re2::RE2::PartialMatch(Piece(line.substr(0, kMaxRegexSubjectBytes)), *re_);
}

bool Regex::Search(std::string_view line, int group, std::string* out) const {
  if (re_ == nullptr || group < 0 || group > groups()) return false;
  const re2::StringPiece text = Piece(line.substr(0, kMaxRegexSubjectBytes));
  std::vector<re2::StringPiece> match(static_cast<std::size_t>(group) + 1);
  if (!re_->Match(text, 0, text.size(), re2::RE2::UNANCHORED, match.data(),
                  static_cast<int>(match.size()))) {
    return false;
  }
  const re2::StringPiece got = match[static_cast<std::size_t>(group)];
  if (got.data() == nullptr) return false;  // the group took no part in the match
  out->assign(got.data(), got.size());
  return true;
}

int Regex::ReplaceAll(std::string* text, std::string_view rewrite) const {
  if (re_ == nullptr) return 0;
  if (text->size() > kMaxRegexSubjectBytes) text->resize(kMaxRegexSubjectBytes);
  const re2::StringPiece piece = Piece(rewrite);
  std::string error;
  if (!re_->CheckRewriteString(piece, &error)) return 0;
  return re2::RE2::GlobalReplace(text, *re_, piece);
}

int Regex::groups() const { return re_ == nullptr ? 0 : re_->NumberOfCapturingGroups(); }

}  // namespace smtp::scenario
