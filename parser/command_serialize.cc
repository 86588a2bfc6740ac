// VerbName, the semantic equality of commands and their canonical wire form
// (SerializeCommand), the inverse of a strict ParseCommand.
#include "parser/command.h"

#include <string>
#include <string_view>

#include "parser/ascii.h"
#include "parser/internal/command_parser.h"

namespace smtp {

using internal::kVerbs;
using internal::VerbEntry;

std::string_view VerbName(Verb v) {
  for (const VerbEntry& e : kVerbs) {
    if (e.verb == v) return e.name;
  }
  return "";
}

Verb VerbOfFirstWord(std::string_view line) {
  const std::string_view word = line.substr(0, line.find_first_of(" \t\r\n"));
  for (int v = static_cast<int>(Verb::kEhlo); v <= static_cast<int>(Verb::kEtrn); ++v) {
    if (EqualsIgnoreCase(word, VerbName(static_cast<Verb>(v)))) return static_cast<Verb>(v);
  }
  return Verb::kUnknown;
}

bool operator==(const Command& a, const Command& b) {
  if (a.verb != b.verb) return false;
  if (a.verb == Verb::kUnknown) {
    return EqualsIgnoreCase(a.verb_text, b.verb_text) && a.argument == b.argument;
  }
  return a.text == b.text && a.domain_kind == b.domain_kind && a.smtputf8 == b.smtputf8 &&
         a.path == b.path && a.params == b.params &&
         EqualsIgnoreCase(a.auth_mechanism, b.auth_mechanism) &&
         a.auth_initial_response == b.auth_initial_response &&
         a.has_initial_response == b.has_initial_response && a.chunk_size == b.chunk_size &&
         a.bdat_last == b.bdat_last;
}

std::string SerializeCommand(const Command& c) {
  std::string out;
  const auto upper = [&](std::string_view s) {
    for (const char ch : s) out += ToUpper(ch);
  };
  const auto arg = [&](std::string_view s) {
    if (s.empty()) return;
    out += ' ';
    out += s;
  };
  if (c.verb == Verb::kUnknown) {
    upper(c.verb_text);
    arg(c.argument);
  } else {
    out += VerbName(c.verb);
  }
  switch (c.verb) {
    case Verb::kMail:
    case Verb::kRcpt:
      out += c.verb == Verb::kMail ? " FROM:" : " TO:";
      out += SerializePath(c.path);
      AppendEsmtpParams(c.params, &out);
      break;
    case Verb::kEhlo:
    case Verb::kHelo:
    case Verb::kLhlo:
    case Verb::kVrfy:
    case Verb::kExpn:
    case Verb::kHelp:
    case Verb::kNoop:
    case Verb::kEtrn:
      arg(c.text);
      if (c.smtputf8) out += " SMTPUTF8";
      break;
    case Verb::kAuth:
      out += ' ';
      upper(c.auth_mechanism);
      if (c.has_initial_response) arg(c.auth_initial_response);
      break;
    case Verb::kBdat:
      out += ' ';
      out += std::to_string(c.chunk_size);
      if (c.bdat_last) out += " LAST";
      break;
    default:
      break;
  }
  out += "\r\n";
  return out;
}

}  // namespace smtp
