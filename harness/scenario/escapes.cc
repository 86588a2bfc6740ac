#include "harness/scenario/escapes.h"

#include "absl/strings/str_cat.h"
#include "harness/scenario/strings_internal.h"
#include "parser/ascii.h"

namespace smtp::scenario {
namespace {

// A printable rendering of the character after a backslash, for messages.
std::string Shown(char c) {
  if (c >= 0x21 && c <= 0x7E) return std::string(1, c);
  return absl::StrCat("\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
}

}  // namespace

bool DecodeByteEscapes(std::string_view in, std::string* out, EscapeError* error) {
  out->clear();
  out->reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (i + 1 >= in.size()) {
      *error = {i, "backslash at end of string (write \\\\ for a literal backslash)"};
      return false;
    }
    const char e = in[i + 1];
    switch (e) {
      case 'r':
        out->push_back('\r');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 't':
        out->push_back('\t');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '0':
        out->push_back('\0');
        break;
      case 'x': {
        const int hi = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
        const int lo = i + 3 < in.size() ? HexDigitValue(in[i + 3]) : -1;
        if (hi < 0 || lo < 0) {
          *error = {i, "bad escape '\\x': expected two hex digits"};
          return false;
        }
        out->push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        *error = {i, "bad escape '\\" + Shown(e) + "' (known: \\r \\n \\t \\\\ \\0 \\xHH)"};
        return false;
    }
    ++i;
  }
  return true;
}

}  // namespace smtp::scenario
