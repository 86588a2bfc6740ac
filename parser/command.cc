// SMTP command lines: RFC 5321 §4.1.1 plus STARTTLS (RFC 3207), AUTH
// (RFC 4954), BDAT (RFC 3030), LHLO (RFC 2033) and ETRN (RFC 1985).
//
// Decisions the RFCs leave open:
// - Framing comes first and is checked left to right: the first NUL, bare CR,
//   bare LF or the first octet past the limit wins. The limit counts the
//   terminator. An AUTH line may be max(Limits::command_line, kMaxAuthLine)
//   long (RFC 4954 §4: the initial response can exceed 512 octets).
// - After framing, the first offending octet from the left wins. A grammar
//   error at an octet >= 0x80 is reported as kEightBit (commands are
//   US-ASCII, §2.4), at a control character as kControlChar.
// - Trailing SP / HTAB before CRLF is kTrailingGarbage at its first octet
//   (strict) or stripped and recorded (kTrailingWhitespace). A separator
//   that is an HTAB is kMissingSpace; a run of several SP is reported at its
//   second octet with the code of the element that follows (kExtraWhitespace
//   accepts both).
// - Verbs are 1*ALPHA, any case. Unknown verbs are not errors: the argument
//   is kept raw (everything after the one SP), checked only for control
//   characters and for 8-bit octets (allowed, as UTF-8, only with opts.utf8).
// - VRFY / EXPN String is RFC 5321's Atom / Quoted-string, so "VRFY
//   user@example.com" is rejected (the "@" is not atext), as the ABNF says.
//   UTF-8 is admitted in String with opts.utf8 or, for VRFY / EXPN, with the
//   RFC 6531 §3.7.4.2 SMTPUTF8 parameter on the same line.
// - AUTH mechanism names are accepted in any case (RFC 4422 §3.1 names are
//   upper case, but servers compare them case-insensitively); SerializeCommand
//   writes them upper case. The initial response must be canonical base64
//   (RFC 4648 §3.5: pad bits zero).
// - ETRN queue-name ("#" form) is 1*(%d33-126): RFC 1985 gives it no syntax.
// - EHLO / HELO / ETRN domain errors: kBadDomain becomes kBadDomainArg /
//   kBadEtrnArg; the other path codes (kDomainTooLong, literals, UTF-8) pass
//   through. HELO with an address-literal is kBadDomainArg.
#include "parser/command.h"

#include <algorithm>

#include "parser/internal/base64_check.h"
#include "parser/internal/path_chars.h"

namespace smtp {
namespace {

using internal::EqualsIgnoreCase;
using internal::Is;
using internal::IsHigh;

constexpr bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWsp(char c) { return c == ' ' || c == '\t'; }
constexpr bool IsCtl(char c) { return (c >= 0 && c < 32) || c == 127; }
constexpr char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// RFC 4422 §3.1: mechanism names are 1 to 20 characters.
constexpr std::size_t kMaxSaslMechanism = 20;

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

Verb LookupVerb(std::string_view text) {
  for (const VerbEntry& e : kVerbs) {
    if (EqualsIgnoreCase(text, e.name)) return e.verb;
  }
  return Verb::kUnknown;
}

// Finds the line terminator within `limit` octets and returns the length of
// the content before it.
// Line = *( octet except CR, LF, NUL ) CRLF                     (§2.3.8)
Result<std::size_t> FrameLine(std::string_view line, Leniencies leniencies, std::size_t limit,
                              Leniencies* fired) {
  const std::size_t n = line.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i >= limit) {
      return ParseError{Errc::kLineTooLong, i, "RFC 5321 §4.5.3.1.4: command line too long"};
    }
    const char c = line[i];
    std::size_t term = 0;
    if (c == '\r') {
      if (i + 1 < n && line[i + 1] == '\n') {
        if (i + 1 >= limit) {
          return ParseError{Errc::kLineTooLong, i + 1,
                            "RFC 5321 §4.5.3.1.4: command line too long"};
        }
        term = 2;
      } else if (leniencies & kBareCrLineEnd) {
        *fired |= kBareCrLineEnd;
        term = 1;
      } else {
        return ParseError{Errc::kBareCr, i, "RFC 5321 §2.3.8: CR not followed by LF"};
      }
    } else if (c == '\n') {
      if ((leniencies & kBareLfLineEnd) == 0) {
        return ParseError{Errc::kBareLf, i, "RFC 5321 §2.3.8: LF not preceded by CR"};
      }
      *fired |= kBareLfLineEnd;
      term = 1;
    } else if (c == '\0') {
      return ParseError{Errc::kNulByte, i, "RFC 5321 §2.3.8: NUL in a command line"};
    } else {
      continue;
    }
    if (i + term != n) {
      return ParseError{Errc::kTrailingGarbage, i + term, "octets after the line terminator"};
    }
    return i;
  }
  return ParseError{Errc::kMissingCrlf, n, "RFC 5321 §2.3.8: command line must end with CRLF"};
}

bool IsAuthLine(std::string_view line) {
  return line.size() > 4 && EqualsIgnoreCase(line.substr(0, 4), "AUTH") && IsWsp(line[4]);
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
    const PathOptions po{opts.leniencies, opts.limits, opts.utf8};
    Result<DomainScan> r = ScanDomain(body.substr(pos), po, pos);
    if (!r) {
      const ParseError& e = r.error();
      if (e.code == Errc::kBadDomain) return Fail(code, e.offset, e.reason);
      if (e.code == Errc::kUtf8NotAllowed) return Fail(code, e.offset, e.reason);
      return Forward(e);
    }
    dev |= r->deviations;
    end = pos + r->size;
    return true;
  }

  // ehlo = "EHLO" SP ( Domain / address-literal ) CRLF
  // helo = "HELO" SP Domain CRLF                                 (§4.1.1.1)
  // lhlo = "LHLO" SP ( Domain / address-literal ) CRLF           (RFC 2033 §4.1)
  bool Hello(std::size_t pos) {
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadDomainArg)) return false;
    if (!has_arg) {
      if (Allow(kEmptyHeloArg)) return true;
      return FailAs(Errc::kMissingArgument, pos, "RFC 5321 §4.1.1.1: domain argument required");
    }
    std::size_t end = n();
    if (body[pos] == '[') {
      if (c.verb == Verb::kHelo) {
        return FailAs(Errc::kBadDomainArg, pos,
                      "RFC 5321 §4.1.1.1: HELO takes a Domain, not an address-literal");
      }
      const std::size_t close = body.find(']', pos);
      if (close != std::string_view::npos) end = close + 1;
      Result<DomainKind> kind = ParseAddressLiteral(body.substr(pos, end - pos), pos);
      if (!kind) return Fail(kind.error().code, kind.error().offset, kind.error().reason);
      c.domain_kind = *kind;
    } else {
      if (!Domain(pos, end, Errc::kBadDomainArg)) return false;
      c.domain_kind = DomainKind::kName;
    }
    c.text = body.substr(pos, end - pos);
    return End(end, Errc::kBadDomainArg);
  }

  // The extent of the path at body[pos]: through the ">" that closes "<"
  // (outside quoted strings and literals), or up to SP / HTAB when there is
  // no "<". The path parser judges what is inside.
  std::size_t PathEnd(std::size_t pos) const {
    const bool bracketed = pos < n() && body[pos] == '<';
    bool quoted = false;
    bool literal = false;
    for (std::size_t i = pos + (bracketed ? 1 : 0); i < n(); ++i) {
      const char ch = body[i];
      if (quoted) {
        if (ch == '\\') {
          ++i;
        } else if (ch == '"') {
          quoted = false;
        }
      } else if (literal) {
        literal = ch != ']';
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == '[') {
        literal = true;
      } else if (bracketed && ch == '>') {
        return i + 1;
      } else if (!bracketed && IsWsp(ch)) {
        return i;
      }
    }
    return n();
  }

  // mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF   (§4.1.1.2)
  // rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
  //        Forward-path ) [SP Rcpt-parameters] CRLF              (§4.1.1.3)
  bool MailRcpt(std::size_t pos) {
    const bool mail = c.verb == Verb::kMail;
    const std::string_view keyword = mail ? "FROM" : "TO";
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadFromTo)) return false;
    if (!has_arg) {
      return FailAs(Errc::kMissingArgument, pos,
                    mail ? "RFC 5321 §4.1.1.2: MAIL requires FROM:<reverse-path>"
                         : "RFC 5321 §4.1.1.3: RCPT requires TO:<forward-path>");
    }
    for (std::size_t k = 0; k < keyword.size(); ++k, ++pos) {
      if (pos == n() || ToUpper(body[pos]) != keyword[k]) {
        return Fail(
            Errc::kBadFromTo, pos,
            mail ? "RFC 5321 §4.1.1.2: expected \"FROM:\"" : "RFC 5321 §4.1.1.3: expected \"TO:\"");
      }
    }
    if (pos < n() && IsWsp(body[pos])) {
      if (!Allow(kSpaceBeforeColon)) {
        return FailAs(Errc::kBadFromTo, pos,
                      "RFC 5321 §4.1.1: SP before \":\" (kSpaceBeforeColon)");
      }
      while (pos < n() && IsWsp(body[pos])) ++pos;
    }
    if (pos == n() || body[pos] != ':') {
      return Fail(Errc::kBadFromTo, pos, "RFC 5321 §4.1.1: expected \":\" after FROM / TO");
    }
    ++pos;
    if (pos < n() && IsWsp(body[pos])) {
      if (!Allow(kSpaceAfterColon)) {
        return FailAs(Errc::kBadFromTo, pos, "RFC 5321 §4.1.1: SP after \":\" (kSpaceAfterColon)");
      }
      while (pos < n() && IsWsp(body[pos])) ++pos;
    }
    const std::size_t path_end = PathEnd(pos);
    const std::string_view params = body.substr(path_end);
    // RFC 6531 §3.4: a MAIL path may be UTF-8 when that MAIL says SMTPUTF8.
    const PathOptions po{opts.leniencies, opts.limits, mail ? HasSmtputf8Param(params) : opts.utf8};
    const std::string_view path = body.substr(pos, path_end - pos);
    Result<Path> p = mail ? ParseReversePath(path, po, pos) : ParseForwardPath(path, po, pos);
    if (!p) return Forward(p.error());
    c.path = *p;
    dev |= p->deviations;
    if (path_end == n()) return true;
    std::size_t q = path_end;
    if (!IsWsp(body[q])) {
      return Fail(Errc::kMissingSpace, q, "RFC 5321 §4.1.1: SP required before parameters");
    }
    if (!Sep(q, Errc::kBadParamSyntax)) return false;
    Leniencies param_dev = kStrict;
    Result<EsmtpParams> r =
        ParseEsmtpParams(body.substr(q), mail ? ParamContext::kMail : ParamContext::kRcpt,
                         opts.leniencies, opts.limits, q, &param_dev, po.utf8);
    if (!r) {
      const ParseError& e = r.error();
      if (e.code == Errc::kBadParamSyntax && OnlyWspFrom(e.offset)) return TrailingWsp(e.offset);
      return Forward(e);
    }
    c.params = *r;
    dev |= param_dev;
    return true;
  }

  // String = Atom / Quoted-string                                (§4.1.2)
  // atext =/ UTF8-non-ascii ; qtextSMTP =/ UTF8-non-ascii         (RFC 6531 §3.3)
  bool String(std::size_t pos, bool utf8, std::size_t& end) {
    std::size_t i = pos;
    const auto utf8_at = [&](std::size_t& k) {
      const std::size_t len = internal::Utf8SequenceLength(body, k);
      if (len == 0) return FailAs(Errc::kBadUtf8, k, "RFC 3629 §4: ill-formed UTF-8 sequence");
      k += len;
      return true;
    };
    if (body[i] == '"') {
      ++i;
      for (;;) {
        if (i == n()) {
          return FailAs(Errc::kBadString, i, "RFC 5321 §4.1.2 Quoted-string: missing DQUOTE");
        }
        const char ch = body[i];
        if (ch == '"') {
          ++i;
          break;
        }
        if (ch == '\\') {
          if (i + 1 == n() || !Is(body[i + 1], internal::kQpairBit)) {
            return Fail(Errc::kBadString, i + 1,
                        "RFC 5321 §4.1.2 quoted-pairSMTP: octet outside %d32-126");
          }
          i += 2;
        } else if (IsHigh(ch) && utf8) {
          if (!utf8_at(i)) return false;
        } else if (Is(ch, internal::kQtextBit)) {
          ++i;
        } else {
          return Fail(Errc::kBadString, i, "RFC 5321 §4.1.2 qtextSMTP: octet not allowed");
        }
      }
    } else {
      while (i < n()) {
        if (IsHigh(body[i]) && utf8) {
          if (!utf8_at(i)) return false;
        } else if (Is(body[i], internal::kAtextBit)) {
          ++i;
        } else {
          break;
        }
      }
      if (i == pos) {
        return Fail(Errc::kBadString, pos,
                    "RFC 5321 §4.1.2 String: expected Atom or Quoted-string");
      }
    }
    end = i;
    return true;
  }

  // vrfy = "VRFY" SP String [SP "SMTPUTF8"] CRLF     (§4.1.1.6, RFC 6531 §3.7.4.2)
  // expn = "EXPN" SP String [SP "SMTPUTF8"] CRLF     (§4.1.1.7, RFC 6531 §3.7.4.2)
  // help = "HELP" [ SP String ] CRLF                  (§4.1.1.8)
  // noop = "NOOP" [ SP String ] CRLF                  (§4.1.1.9)
  bool StringCommand(std::size_t pos) {
    const bool vrfy_expn = c.verb == Verb::kVrfy || c.verb == Verb::kExpn;
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadString)) return false;
    if (!has_arg) {
      if (!vrfy_expn) return true;
      return FailAs(Errc::kMissingArgument, pos, "RFC 5321 §4.1.1.6: String argument required");
    }
    constexpr std::string_view kSmtputf8 = "SMTPUTF8";
    bool utf8 = opts.utf8;
    if (vrfy_expn) {
      const std::size_t last = body.find_last_of(" \t");
      utf8 |= last != std::string_view::npos && last > pos &&
              EqualsIgnoreCase(body.substr(last + 1), kSmtputf8);
    }
    std::size_t end = pos;
    if (!String(pos, utf8, end)) return false;
    c.text = body.substr(pos, end - pos);
    if (!vrfy_expn || end == n() || !IsWsp(body[end]) || OnlyWspFrom(end)) {
      return End(end, Errc::kBadString);
    }
    std::size_t q = end;
    if (!Sep(q, Errc::kTrailingGarbage)) return false;
    if (!EqualsIgnoreCase(body.substr(q), kSmtputf8)) {
      return FailAs(Errc::kTrailingGarbage, end,
                    "RFC 6531 §3.7.4.2: only SP \"SMTPUTF8\" may follow the String");
    }
    c.smtputf8 = true;
    return true;
  }

  // data = "DATA" CRLF ; rset = "RSET" CRLF ; quit = "QUIT" CRLF (§4.1.1)
  // starttls = "STARTTLS" CRLF                                    (RFC 3207 §4)
  bool NoArgument(std::size_t pos) {
    if (pos == n()) return true;
    if (OnlyWspFrom(pos)) return TrailingWsp(pos);
    return FailAs(Errc::kUnexpectedArgument, pos, "RFC 5321 §4.1.1: command takes no argument");
  }

  // auth = "AUTH" SP sasl-mech [SP initial-response] CRLF          (RFC 4954 §4)
  // sasl-mech = 1*20 (UPPER-ALPHA / DIGIT / "-" / "_")             (RFC 4422 §3.1)
  bool Auth(std::size_t pos) {
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadAuthMechanism)) return false;
    if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 4954 §4: mechanism required");
    std::size_t i = pos;
    for (; i < n() && !IsWsp(body[i]); ++i) {
      const char ch = body[i];
      if (!IsAlpha(ch) && !IsDigit(ch) && ch != '-' && ch != '_') {
        return Fail(Errc::kBadAuthMechanism, i, "RFC 4422 §3.1: mechanism octet not allowed");
      }
      if (i - pos == kMaxSaslMechanism) {
        return FailAs(Errc::kBadAuthMechanism, i, "RFC 4422 §3.1: mechanism longer than 20");
      }
    }
    c.auth_mechanism = body.substr(pos, i - pos);
    if (i == n()) return true;
    if (!Sep(i, Errc::kBadInitialResponse)) return false;
    std::size_t j = i;
    while (j < n() && !IsWsp(body[j])) ++j;
    const std::string_view response = body.substr(i, j - i);
    // initial-response = base64 / "="                             (RFC 4954 §4)
    if (response != "=") {
      if (const auto bad = internal::CheckBase64(response)) {
        return Fail(Errc::kBadInitialResponse, i + bad->offset, bad->reason);
      }
    }
    c.auth_initial_response = response;
    c.has_initial_response = true;
    return End(j, Errc::kBadInitialResponse);
  }

  // bdat = "BDAT" SP chunk-size [ SP end-marker ] CRLF
  // chunk-size = 1*DIGIT ; end-marker = "LAST"                     (RFC 3030 §2)
  bool Bdat(std::size_t pos) {
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadChunkSize)) return false;
    if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 3030 §2: chunk-size required");
    std::size_t i = pos;
    std::uint64_t size = 0;
    for (; i < n() && IsDigit(body[i]); ++i) {
      const auto d = static_cast<std::uint64_t>(body[i] - '0');
      if (size > (UINT64_MAX - d) / 10) {
        return FailAs(Errc::kBadChunkSize, i, "RFC 3030 §2: chunk-size exceeds 2^64-1");
      }
      size = size * 10 + d;
    }
    if (i == pos || (i < n() && !IsWsp(body[i]))) {
      return Fail(Errc::kBadChunkSize, i, "RFC 3030 §2 chunk-size: expected DIGIT");
    }
    c.chunk_size = size;
    if (i == n()) return true;
    if (!Sep(i, Errc::kBadBdatLast)) return false;
    constexpr std::string_view kLast = "LAST";
    for (std::size_t k = 0; k < kLast.size(); ++k) {
      if (i + k == n() || ToUpper(body[i + k]) != kLast[k]) {
        return Fail(Errc::kBadBdatLast, i + k, "RFC 3030 §2: end-marker must be \"LAST\"");
      }
    }
    c.bdat_last = true;
    return End(i + kLast.size(), Errc::kBadBdatLast);
  }

  // etrn = "ETRN" SP node-name CRLF
  // node-name = Domain / "@" Domain / "#" queue-name              (RFC 1985 §5)
  bool Etrn(std::size_t pos) {
    bool has_arg = false;
    if (!Argument(pos, has_arg, Errc::kBadEtrnArg)) return false;
    if (!has_arg) return FailAs(Errc::kMissingArgument, pos, "RFC 1985 §5: node name required");
    std::size_t end = pos + 1;
    if (body[pos] == '#') {
      while (end < n() && body[end] > ' ' && body[end] < 127) ++end;
      if (end == pos + 1) return Fail(Errc::kBadEtrnArg, end, "RFC 1985 §5: empty queue name");
    } else if (!Domain(body[pos] == '@' ? pos + 1 : pos, end, Errc::kBadEtrnArg)) {
      return false;
    }
    c.text = body.substr(pos, end - pos);
    return End(end, Errc::kBadEtrnArg);
  }

  // Unknown verb: the argument is the raw text after one SP. Trailing SP /
  // HTAB is refused as for every verb (else kTrailingWhitespace, which strips
  // it, would change the argument of a line that strict mode accepts).
  bool Unknown(std::size_t pos) {
    if (pos == n()) return true;
    if (body[pos] == '\t' && !Allow(kExtraWhitespace)) {
      return FailAs(Errc::kMissingSpace, pos, "RFC 5321 §4.1.1: separator must be SP, not HTAB");
    }
    c.argument = body.substr(++pos);
    while (pos < n()) {
      if (IsHigh(body[pos])) {
        if (!opts.utf8) return Fail(Errc::kEightBit, pos, "8-bit octet without SMTPUTF8");
        const std::size_t len = internal::Utf8SequenceLength(body, pos);
        if (len == 0) return FailAs(Errc::kBadUtf8, pos, "RFC 3629 §4: ill-formed UTF-8 sequence");
        pos += len;
      } else if (IsCtl(body[pos]) && body[pos] != '\t') {
        return Fail(Errc::kControlChar, pos, "control character in an argument");
      } else {
        ++pos;
      }
    }
    const std::size_t keep = body.find_last_not_of(" \t") + 1;  // the verb is not WSP
    if (keep != n()) return TrailingWsp(keep);
    return true;
  }

  bool Parse() {
    if (body.empty() || OnlyWspFrom(0)) {
      return FailAs(Errc::kEmptyCommand, 0, "RFC 5321 §4.1.1: empty command line");
    }
    std::size_t v = 0;
    bool non_alpha = false;
    for (; v < n() && !IsWsp(body[v]); ++v) {
      const char ch = body[v];
      if (IsAlpha(ch)) continue;
      if (ch > ' ' && ch < 127 && (opts.leniencies & kNonAlphaVerb)) {
        non_alpha = true;
        continue;
      }
      return Fail(Errc::kBadVerb, v, "RFC 5321 §4.1.1: verb must be letters");
    }
    if (v == 0) return Fail(Errc::kBadVerb, 0, "RFC 5321 §4.1.1: line starts with whitespace");
    c.verb_text = body.substr(0, v);
    if (non_alpha) dev |= kNonAlphaVerb;
    c.verb = non_alpha ? Verb::kUnknown : LookupVerb(c.verb_text);
    switch (c.verb) {
      case Verb::kEhlo:
      case Verb::kHelo:
      case Verb::kLhlo:
        return Hello(v);
      case Verb::kMail:
      case Verb::kRcpt:
        return MailRcpt(v);
      case Verb::kData:
      case Verb::kRset:
      case Verb::kQuit:
      case Verb::kStarttls:
        return NoArgument(v);
      case Verb::kVrfy:
      case Verb::kExpn:
      case Verb::kHelp:
      case Verb::kNoop:
        return StringCommand(v);
      case Verb::kAuth:
        return Auth(v);
      case Verb::kBdat:
        return Bdat(v);
      case Verb::kEtrn:
        return Etrn(v);
      case Verb::kUnknown:
        return Unknown(v);
    }
    return Unknown(v);
  }
};

}  // namespace

std::string_view VerbName(Verb v) {
  for (const VerbEntry& e : kVerbs) {
    if (e.verb == v) return e.name;
  }
  return "";
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

Result<Command> ParseCommand(std::string_view line, const CommandOptions& opts) {
  Leniencies framing = kStrict;
  const std::size_t limit = IsAuthLine(line) ? std::max(opts.limits.command_line, kMaxAuthLine)
                                             : opts.limits.command_line;
  Result<std::size_t> content = FrameLine(line, opts.leniencies, limit, &framing);
  if (!content) return content.error();
  std::string_view body = line.substr(0, *content);
  if (opts.leniencies & kTrailingWhitespace) {
    const std::size_t keep = body.find_last_not_of(" \t");
    const std::size_t size = keep == std::string_view::npos ? 0 : keep + 1;
    if (size != body.size()) framing |= kTrailingWhitespace;
    body = body.substr(0, size);
  }
  Command c;
  CommandParser p{body, opts, c, kStrict, {}};
  if (!p.Parse()) return p.error;
  c.deviations = framing | p.dev;
  return c;
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
