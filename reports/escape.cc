#include "reports/escape.h"

#include <array>
#include <cstdint>
#include <random>

#include <nlohmann/json.hpp>

namespace smtp::reports {
namespace {

void AppendHexByte(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

// Length of the well-formed UTF-8 sequence at the start of `s` and its code
// point, or 0 when the first byte does not start one (RFC 3629 §4: no
// overlongs, no surrogates, nothing above U+10FFFF).
std::size_t DecodeUtf8(std::string_view s, char32_t* cp) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  std::size_t len;
  char32_t v, min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < len) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i) & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool XmlChar(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// The entity reference for a markup-significant character (quotes only when
// `quotes`), or "" when the character stands for itself.
std::string_view Entity(char32_t c, bool quotes) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return quotes ? "&quot;" : "";
    case '\'':
      return quotes ? "&#39;" : "";
    default:
      return "";
  }
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    if (c == '\0') {
      out += "\xEF\xBF\xBD";
    } else if (std::string_view e = Entity(static_cast<unsigned char>(c), true); !e.empty()) {
      out += e;
    } else {
      out += c;
    }
  }
  return out;
}

std::string XmlEscape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  while (!text.empty()) {
    char32_t cp = 0;
    const std::size_t n = DecodeUtf8(text, &cp);
    if (n == 0 || !XmlChar(cp)) {
      // Not representable: make every byte of it visible instead.
      const std::size_t bad = n == 0 ? 1 : n;
      for (std::size_t i = 0; i < bad; ++i) {
        AppendHexByte(out, static_cast<unsigned char>(text[i]));
      }
      text.remove_prefix(bad);
      continue;
    }
    if (std::string_view e = Entity(cp, attribute); !e.empty()) {
      out += e;
    } else if (attribute && (cp == '\t' || cp == '\n')) {
      out += cp == '\t' ? "&#9;" : "&#10;";  // kept through attribute normalisation
    } else if (cp == '\r') {
      out += "&#13;";  // a literal CR would be normalised away
    } else {
      out.append(text.data(), n);
    }
    text.remove_prefix(n);
  }
  return out;
}

std::string JsonForScript(const nlohmann::json& j) {
  const std::string dumped =
      j.dump(-1, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(dumped.size() + 64);
  for (char c : dumped) {
    // Outside strings JSON has none of these, so replacing everywhere only
    // ever touches string contents, where \uXXXX means the same character.
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Substitute(std::string_view tmpl,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> vars) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t pos = 0;
  while (pos < tmpl.size()) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    const std::string_view name = tmpl.substr(open + 2, close - open - 2);
    const std::pair<std::string_view, std::string_view>* hit = nullptr;
    for (const auto& v : vars) {
      if (v.first == name) hit = &v;
    }
    out.append(tmpl.substr(pos, open - pos));
    if (hit != nullptr) {
      out.append(hit->second);
      pos = close + 2;
    } else {
      out.append("{{");
      pos = open + 2;
    }
  }
  out.append(tmpl.substr(pos));
  return out;
}

std::string PercentEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string RandomNonce() {
  static constexpr char kB64Url[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device rd;
  std::string out;
  // 22 characters of 6 bits each: 132 bits from the OS entropy source.
  for (int i = 0; i < 22; ++i) out += kB64Url[rd() & 63];
  return out;
}

}  // namespace smtp::reports
