#include "fuzz/net/signature.h"

#include <cctype>

namespace smtp::fuzz {
namespace {

constexpr std::size_t kMaxNormalized = 120;
constexpr std::size_t kMaxSignature = 80;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "5.5.1", "4.7.0": RFC 3463 class.subject.detail.
bool IsEnhancedCode(std::string_view w) {
  int dots = 0;
  bool digit = false;
  for (const char c : w) {
    if (c == '.') {
      if (!digit) return false;
      ++dots;
      digit = false;
    } else if (IsDigit(c)) {
      digit = true;
    } else {
      return false;
    }
  }
  return dots == 2 && digit;
}

// A word that carries variable data: a number, an id, a host, an address,
// a parameter.
bool IsVariable(std::string_view w) {
  // Trailing punctuation belongs to the sentence.
  while (!w.empty() && (w.back() == '.' || w.back() == ',' || w.back() == ';' || w.back() == ':' ||
                        w.back() == '!')) {
    w.remove_suffix(1);
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    const char c = w[i];
    // host[1.2.3.4] (masked as host[*] before): a host, whatever its name.
    if (IsDigit(c) || c == '@' || c == '=' || c == '/' || c == '\\' || c == '[') return true;
    if ((c == '.' || c == ':') && i > 0 && i + 1 < w.size()) return true;
  }
  return false;
}

}  // namespace

std::string NormalizeReplyText(std::string_view text) {
  // 1. Quoted and bracketed runs (echoed input) masked, octets outside
  //    printable ASCII one '?', spaces collapsed.
  std::string masked;
  for (std::size_t i = 0; i < text.size() && masked.size() < 4 * kMaxNormalized; ++i) {
    const char c = text[i];
    const auto u = static_cast<unsigned char>(c);
    char close = 0;
    switch (c) {
      case '"':
        close = '"';
        break;
      case '\'':
        close = '\'';
        break;
      case '<':
        close = '>';
        break;
      case '[':
        close = ']';
        break;
      case '(':
        close = ')';
        break;
      default:
        break;
    }
    // A quote inside a word ("don't") is a letter, not a quote.
    const bool in_word = i > 0 && std::isalnum(static_cast<unsigned char>(text[i - 1])) != 0;
    if (close != 0 && !(close == '\'' && in_word)) {
      const std::size_t end = text.find(close, i + 1);
      if (end != std::string_view::npos) {
        masked.push_back(c);
        masked.push_back('*');
        masked.push_back(close);
        i = end;
        continue;
      }
    }
    if (u < 0x20 || u >= 0x7f) {
      if (masked.empty() || masked.back() != '?') masked.push_back('?');
      continue;
    }
    if (c == ' ' && (masked.empty() || masked.back() == ' ')) continue;
    masked.push_back(c);
  }
  while (!masked.empty() && masked.back() == ' ') masked.pop_back();
  // 2. Word by word: variable words masked, a leading enhanced code kept.
  std::string out;
  std::size_t pos = 0;
  bool first = true;
  while (pos < masked.size()) {
    std::size_t end = masked.find(' ', pos);
    if (end == std::string::npos) end = masked.size();
    const std::string_view w = std::string_view(masked).substr(pos, end - pos);
    if (!out.empty()) out.push_back(' ');
    if (!(first && IsEnhancedCode(w)) && IsVariable(w)) {
      if (out.empty() || out.back() != '#') out.push_back('#');
    } else {
      out.append(w);
    }
    first = false;
    pos = end + 1;
  }
  if (out.size() > kMaxNormalized) out.resize(kMaxNormalized);
  return out;
}

std::string ReplySignature(std::uint16_t code, std::string_view text) {
  std::string name = code == 0 ? std::string() : std::to_string(code) + "-";
  for (const char c : NormalizeReplyText(text)) {
    if (name.size() >= kMaxSignature) break;
    const auto u = static_cast<unsigned char>(c);
    const bool keep = std::isalnum(u) != 0 || c == '.' || c == '#' || c == '?' || c == '*';
    if (keep) {
      // A '.' at the end of a sentence is noise in a name.
      name.push_back(static_cast<char>(std::tolower(u)));
    } else if (!name.empty() && name.back() != '-') {
      name.push_back('-');
    }
  }
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name.empty() ? "none" : name;
}

}  // namespace smtp::fuzz
