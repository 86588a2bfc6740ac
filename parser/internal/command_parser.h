// The command-line parser's state and shared steps, for command.cc (framing,
// verbs and the arguments of the common commands), command_args.cc (AUTH,
// BDAT, ETRN, unknown verbs) and command_serialize.cc. Internal: not part of
// the parser's public API.
#ifndef SMTP_PARSER_INTERNAL_COMMAND_PARSER_H_
#define SMTP_PARSER_INTERNAL_COMMAND_PARSER_H_

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "parser/command.h"
#include "parser/internal/command_chars.h"
#include "parser/internal/path_chars.h"
#include "parser/internal/path_parse.h"

namespace smtp::internal {

constexpr bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWsp(char c) { return IsC(c, kWspBit); }
constexpr bool IsCtl(char c) { return (c >= 0 && c < 32) || c == 127; }

struct VerbEntry {
  std::string_view name;
  Verb verb;
};

constexpr VerbEntry kVerbs[] = {
    {"EHLO", Verb::kEhlo}, {"HELO", Verb::kHelo},         {"LHLO", Verb::kLhlo},
    {"MAIL", Verb::kMail}, {"RCPT", Verb::kRcpt},         {"DATA", Verb::kData},
    {"BDAT", Verb::kBdat}, {"RSET", Verb::kRset},         {"VRFY", Verb::kVrfy},
    {"EXPN", Verb::kExpn}, {"HELP", Verb::kHelp},         {"NOOP", Verb::kNoop},
    {"QUIT", Verb::kQuit}, {"STARTTLS", Verb::kStarttls}, {"AUTH", Verb::kAuth},
    {"ETRN", Verb::kEtrn},
};

// Offset of the last SP / HTAB in `s`, or npos. (string_view::find_last_of
// calls memchr once per octet.)
inline std::size_t LastWsp(std::string_view s) {
  for (std::size_t i = s.size(); i-- > 0;) {
    if (IsWsp(s[i])) return i;
  }
  return std::string_view::npos;
}

// Size of `s` without its trailing SP / HTAB.
inline std::size_t EndWithoutWsp(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0 && IsWsp(s[end - 1])) --end;
  return end;
}

// One parse of one line's content (`body`: the line without its terminator
// and, with kTrailingWhitespace, without trailing SP / HTAB). Offsets in
// `body` are offsets in the line. Methods return false after recording the
// error.
struct CommandParser {
  std::string_view body;
  const CommandOptions& opts;
  Command& c;
  Leniencies dev = kStrict;
  ParseError error;

  std::size_t n() const { return body.size(); }

  bool Allow(Leniency bit) {
    if ((opts.leniencies & bit) == 0) return false;
    dev |= bit;
    return true;
  }

  // Records `code` as is.
  bool FailAs(Errc code, std::size_t at, std::string_view reason) {
    error = ParseError{code, at, reason};
    return false;
  }

  // A grammar error at body[at]: an 8-bit octet or a control character there
  // is reported as such.
  bool Fail(Errc code, std::size_t at, std::string_view reason) {
    if (at < n() && IsHigh(body[at])) {
      return FailAs(Errc::kEightBit, at, "RFC 5321 §2.4: 8-bit octet where US-ASCII is required");
    }
    if (at < n() && IsCtl(body[at])) {
      return FailAs(Errc::kControlChar, at, "RFC 5321 §4.1.1: control character in a command");
    }
    return FailAs(code, at, reason);
  }

  bool Forward(const ParseError& e) {
    error = e;
    return false;
  }

  bool OnlyWspFrom(std::size_t pos) const {
    return std::all_of(body.begin() + static_cast<std::ptrdiff_t>(pos), body.end(), IsWsp);
  }

  bool TrailingWsp(std::size_t at) {
    return FailAs(Errc::kTrailingGarbage, at,
                  "RFC 5321 §4.1.1: whitespace before CRLF (kTrailingWhitespace not set)");
  }

  // The SP between two elements; body[pos] is SP or HTAB. `code` is the
  // error for a run of several SP.
  bool Sep(std::size_t& pos, Errc code) {
    if (body[pos] == ' ' && pos + 1 < n() && !IsWsp(body[pos + 1])) {  // the usual one SP
      ++pos;
      return true;
    }
    const std::size_t start = pos;
    while (pos < n() && IsWsp(body[pos])) ++pos;
    if (pos == n()) return TrailingWsp(start);
    if (body[start] == ' ' && pos - start == 1) return true;
    if (Allow(kExtraWhitespace)) return true;
    if (body[start] != ' ') {
      return FailAs(Errc::kMissingSpace, start, "RFC 5321 §4.1.1: separator must be SP, not HTAB");
    }
    return FailAs(code, start + 1, "RFC 5321 §4.1.1: exactly one SP (kExtraWhitespace not set)");
  }

  // After the verb at `pos`: has_arg is false when the verb ends the line;
  // otherwise `pos` moves past the separator to the argument.
  bool Argument(std::size_t& pos, bool& has_arg, Errc extra_ws_code) {
    has_arg = pos < n();
    if (!has_arg) return true;
    if (!Sep(pos, extra_ws_code)) return false;
    c.argument = body.substr(pos);
    return true;
  }

  // Nothing may follow a complete argument ending at `end`.
  bool End(std::size_t end, Errc code) {
    if (end == n()) return true;
    if (OnlyWspFrom(end)) return TrailingWsp(end);
    if (IsWsp(body[end])) {
      return FailAs(Errc::kTrailingGarbage, end, "RFC 5321 §4.1.1: octets after the argument");
    }
    return Fail(code, end, "octet not allowed in the argument");
  }

  // Domain = sub-domain *("." sub-domain)                       (§4.1.2)
  bool Domain(std::size_t pos, std::size_t& end, Errc code) {
    DomainScan scan;
    const ParseError e = internal::ScanDomainInto(
        body.substr(pos), {opts.leniencies, opts.limits, opts.utf8}, pos, &scan);
    if (e.code == Errc::kBadDomain) return Fail(code, e.offset, e.reason);
    if (e.code == Errc::kUtf8NotAllowed) return Fail(code, e.offset, e.reason);
    if (e.code != Errc::kOk) return Forward(e);
    dev |= scan.deviations;
    end = pos + scan.size;
    return true;
  }

  // The arguments of AUTH, BDAT, ETRN and unknown verbs (command_args.cc);
  // the other steps are in command.cc.
  bool Auth(std::size_t pos);
  bool Bdat(std::size_t pos);
  bool Etrn(std::size_t pos);
  bool Unknown(std::size_t pos);
};

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_COMMAND_PARSER_H_
