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
//
// Speed (bench/command_bench.cc; at least Boost.Beast's HTTP request parser
// in bytes/s, nothing allocated):
// - ParseCommandInto fills a Command the caller reuses; Command::Clear resets
//   every field but the 16 parameter slots with a few wide stores.
// - A line that ends in CRLF within its limit is parsed before it is framed
//   (see ParseCommandInto); the verb is one folded 32-bit word looked up by a
//   perfect hash; a bracketed path is parsed straight from the line; the
//   parameters are searched for SMTPUTF8 only when an 8-bit octet asks.
// - Character classes are 256-entry tables; scanning loops keep the position
//   in a register; no 16-octet value written in halves is read back whole
//   (that stalls store forwarding; see the notes where it mattered).
#include "parser/command.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstddef>

#include "parser/ascii.h"
#include "parser/internal/command_chars.h"
#include "parser/internal/command_parser.h"
#include "parser/internal/domain_fast.h"
#include "parser/internal/esmtp_params_parse.h"
#include "parser/internal/path_chars.h"
#include "parser/internal/path_fast.h"
#include "parser/internal/path_parse.h"
#include "parser/internal/reset.h"

namespace smtp {
namespace internal {
namespace {

// The fifteen four-letter verbs by a perfect multiplicative hash of their
// folded word: one multiply, one load, one compare. The multiplier was found
// by search; the static_assert below checks that no two verbs share a slot.
constexpr std::uint32_t kVerbHashMultiplier = 0xde3ecc82u;
constexpr std::size_t VerbSlot(std::uint32_t folded) {
  return static_cast<std::uint32_t>(folded * kVerbHashMultiplier) >> 28;
}

struct VerbSlotEntry {
  std::uint32_t tag = 0;  // 0: empty (a folded word is never 0)
  Verb verb = Verb::kUnknown;
  // The verb alone is a whole command: "DATA", "RSET", "QUIT", "NOOP" and
  // "HELP" (their argument is forbidden or optional).
  bool alone = false;
};

constexpr std::array<VerbSlotEntry, 16> MakeVerbSlots() {
  std::array<VerbSlotEntry, 16> t{};
  for (const VerbEntry& e : kVerbs) {
    if (e.name.size() != 4) continue;
    char lower[4] = {};
    for (std::size_t k = 0; k < 4; ++k) lower[k] = static_cast<char>(e.name[k] | 0x20);
    const std::uint32_t tag = internal::Tag4(std::string_view(lower, 4));
    if (t[VerbSlot(tag)].tag != 0) return {};  // collision: caught below
    const bool alone = e.verb == Verb::kData || e.verb == Verb::kRset || e.verb == Verb::kQuit ||
                       e.verb == Verb::kNoop || e.verb == Verb::kHelp;
    t[VerbSlot(tag)] = {tag, e.verb, alone};
  }
  return t;
}

constexpr std::array<VerbSlotEntry, 16> kVerbSlots = MakeVerbSlots();
static_assert(kVerbSlots[VerbSlot(internal::Tag4("quit"))].verb == Verb::kQuit,
              "kVerbHashMultiplier no longer separates the four-letter verbs");

// A four-octet word as LoadFolded4 reads it: its verb, or kUnknown.
Verb LookupVerb4(std::uint32_t folded) {
  const VerbSlotEntry& e = kVerbSlots[VerbSlot(folded)];
  return e.tag == folded ? e.verb : Verb::kUnknown;
}

// Verbs are matched case-insensitively as folded words: one 32-bit compare
// for a four-letter verb, two for STARTTLS.
Verb LookupVerb(std::string_view text) {
  using internal::LoadFolded4;
  using internal::Tag4;
  if (text.size() == 8) {
    return LoadFolded4(text.data()) == Tag4("star") && LoadFolded4(text.data() + 4) == Tag4("ttls")
               ? Verb::kStarttls
               : Verb::kUnknown;
  }
  return text.size() == 4 ? LookupVerb4(LoadFolded4(text.data())) : Verb::kUnknown;
}

// Finds the line terminator within `limit` octets and stores in `*content`
// the length of the content before it.
// Line = *( octet except CR, LF, NUL ) CRLF                     (§2.3.8)
// Eight octets at a time while none is below 0x0E (so none is CR, LF or NUL);
// then octet by octet.
ParseError FrameLine(std::string_view line, Leniencies leniencies, std::size_t limit,
                     Leniencies* fired, std::size_t* content) {
  const std::size_t n = line.size();
  const std::size_t fast_end = std::min(n, limit);
  for (std::size_t i = 0; i < n; ++i) {
    while (i + 8 <= fast_end && !internal::HasOctetBelow0E(internal::Load8(line.data() + i))) {
      i += 8;
    }
    if (i == n) break;
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
    *content = i;
    return ParseError{};
  }
  return ParseError{Errc::kMissingCrlf, n, "RFC 5321 §2.3.8: command line must end with CRLF"};
}

bool IsAuthLine(std::string_view line) {
  return line.size() > 4 && internal::LoadFolded4(line.data()) == internal::Tag4("auth") &&
         IsWsp(line[4]);
}

// The steps of the common commands. Internal linkage lets GCC inline them
// into ParseCommandInto: the calls cost a short command a tenth of its time.
struct LineParser : CommandParser {
  bool Parse() {
    std::size_t v = 4;
    // Most lines start with a known four-letter verb and a separator (or end
    // there): one folded 32-bit compare finds it.
    const bool four = n() >= 4 && (n() == 4 || IsWsp(body[4])) &&
                      (c.verb = LookupVerb4(internal::LoadFolded4(body.data()))) != Verb::kUnknown;
    if (!four && !ScanVerb(v)) return false;
    c.verb_text = body.substr(0, v);
    return Dispatch(v);
  }

  // Any other verb: 1*ALPHA (other printable octets with kNonAlphaVerb).
  // Sets c.verb and `v`, the verb's end.
  bool ScanVerb(std::size_t& v) {
    if (body.empty() || OnlyWspFrom(0)) {
      return FailAs(Errc::kEmptyCommand, 0, "RFC 5321 §4.1.1: empty command line");
    }
    v = internal::SkipClass(body, 0, internal::kAlphaBit);
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
    if (non_alpha) dev |= kNonAlphaVerb;
    c.verb = non_alpha ? Verb::kUnknown : LookupVerb(body.substr(0, v));
    return true;
  }

  // The verb ends at `v`; parses what follows it.
  bool Dispatch(std::size_t v) {
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
    using internal::FindAnyOf;
    std::size_t i = pos + (bracketed ? 1 : 0);
    for (;;) {
      i = bracketed ? FindAnyOf(body, i, "\">[") : FindAnyOf(body, i, "\"[ \t");
      if (i >= n()) return n();
      const char ch = body[i++];
      if (ch == '"') {  // quoted string: through the DQUOTE that is not escaped
        for (;;) {
          i = FindAnyOf(body, i, "\"\\");
          if (i >= n()) return n();
          if (body[i++] == '"') break;
          ++i;  // the octet after "\"
        }
      } else if (ch == '[') {  // literal: through the first "]"
        i = FindAnyOf(body, i, "]");
        if (i >= n()) return n();
        ++i;
      } else {  // ">" (bracketed) or SP / HTAB (not)
        return bracketed ? i : i - 1;
      }
    }
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
    // "FROM" as one folded word, "TO" as two folded octets (exact: only "T"
    // and "t" fold to "t"); the loop finds where a misspelling starts.
    const bool spelt =
        mail ? pos + 4 <= n() && internal::LoadFolded4(body.data() + pos) == internal::Tag4("from")
             : pos + 2 <= n() && (body[pos] | 0x20) == 't' && (body[pos + 1] | 0x20) == 'o';
    for (std::size_t k = spelt ? keyword.size() : 0; k < keyword.size(); ++k, ++pos) {
      if (pos == n() || ToUpper(body[pos]) != keyword[k]) {
        return Fail(
            Errc::kBadFromTo, pos,
            mail ? "RFC 5321 §4.1.1.2: expected \"FROM:\"" : "RFC 5321 §4.1.1.3: expected \"TO:\"");
      }
    }
    if (spelt) pos += keyword.size();
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
    // RFC 6531 §3.4: a MAIL path may be UTF-8 when that MAIL says SMTPUTF8.
    // The path reads opts.utf8 only at an 8-bit octet, so it is parsed
    // without first; only when it met one (kUtf8NotAllowed, or the
    // kUtf8WithoutSmtputf8 leniency fired) are the parameters searched for
    // SMTPUTF8 and the path parsed again.
    internal::PathContext po{opts.leniencies, opts.limits, mail ? false : opts.utf8};
    const auto met_utf8 = [&](const ParseError& e) {
      return mail && (e.code == Errc::kUtf8NotAllowed ||
                      (e.code == Errc::kOk && (c.path.deviations & kUtf8WithoutSmtputf8) != 0));
    };
    // A bracketed path is first parsed straight from the line: where it
    // parses, it ends at the ">" that PathEnd would find, so the line is not
    // scanned twice. Otherwise (or for UTF-8) PathEnd cuts the path out and
    // it is parsed again, for the exact error.
    std::size_t path_end = 0;
    ParseError pe;
    // The usual paths ("<local@domain>", "<>", "<Postmaster>") without the
    // path parser (path_fast.h).
    if (std::size_t len = 0;
        internal::SimdScans() &&
        (len = internal::FastPathInto(body.substr(pos), !mail, opts.limits, &c.path)) != 0) {
      path_end = pos + len;
    } else if (pos < n() && body[pos] == '<') {
      std::size_t len = 0;
      pe = internal::ParsePathInto(body.substr(pos), po, pos, !mail, &c.path, &len);
      if (pe.code == Errc::kOk && !met_utf8(pe)) path_end = pos + len;
    }
    if (path_end == 0) {
      path_end = PathEnd(pos);
      const std::string_view path = body.substr(pos, path_end - pos);
      internal::ClearPath(&c.path);
      pe = internal::ParsePathInto(path, po, pos, !mail, &c.path, nullptr);
      if (met_utf8(pe) && HasSmtputf8Param(body.substr(path_end))) {
        po.utf8 = true;
        internal::ClearPath(&c.path);
        pe = internal::ParsePathInto(path, po, pos, !mail, &c.path, nullptr);
      }
      if (pe.code != Errc::kOk) return Forward(pe);
    }
    dev |= c.path.deviations;
    if (path_end == n()) return true;
    std::size_t q = path_end;
    if (!IsWsp(body[q])) {
      return Fail(Errc::kMissingSpace, q, "RFC 5321 §4.1.1: SP required before parameters");
    }
    if (!Sep(q, Errc::kBadParamSyntax)) return false;
    Leniencies param_dev = kStrict;
    // On MAIL with po.utf8 still false, the parameter parser itself looks for
    // SMTPUTF8 if a value holds an 8-bit octet.
    const ParseError e = internal::ParseClearedEsmtpParams(
        body.substr(q), mail ? ParamContext::kMail : ParamContext::kRcpt, opts.leniencies,
        opts.limits, q, &param_dev, po.utf8, &c.params);
    if (e.code != Errc::kOk) {
      if (e.code == Errc::kBadParamSyntax && OnlyWspFrom(e.offset)) return TrailingWsp(e.offset);
      return Forward(e);
    }
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
      for (;;) {  // atext runs, and with `utf8` the UTF-8 sequences between them
        i = internal::Skip(body, i, internal::kAtextBit);
        if (i == n() || !utf8 || !IsHigh(body[i])) break;
        if (!utf8_at(i)) return false;
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
    // UTF-8 is admitted with opts.utf8 or, for VRFY / EXPN, when the line
    // ends in SP "SMTPUTF8". That changes the String only where it meets an
    // 8-bit octet (it fails or stops there), so the line's end is looked at
    // only then, and the String parsed again.
    std::size_t end = pos;
    for (bool utf8 = opts.utf8;; utf8 = true) {  // one call site: String stays inline
      end = pos;
      const bool ok = String(pos, utf8, end);
      if (ok && (end == n() || !IsHigh(body[end]))) break;
      const std::size_t last = utf8 || !vrfy_expn ? std::string_view::npos : LastWsp(body);
      if (last == std::string_view::npos || last <= pos ||
          !EqualsIgnoreCase(body.substr(last + 1), kSmtputf8)) {
        if (!ok) return false;
        break;
      }
      error = ParseError{};
    }
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
};

}  // namespace

}  // namespace internal

using internal::EndWithoutWsp;
using internal::FrameLine;
using internal::IsAuthLine;
using internal::LineParser;

namespace {

// Command::Clear, inlined into the parse (the call cost a short command
// ~5%): every field but params.items: the fields before `params`, then from
// params.count (the items come first in EsmtpParams) to the end.
[[gnu::always_inline]] inline void ClearCommand(Command* c) {
  constexpr std::size_t kCount = offsetof(Command, params) + offsetof(EsmtpParams, count);
  internal::ResetBytes<Command, 0, offsetof(Command, params)>(c);
  internal::ResetBytes<Command, kCount, sizeof(Command)>(c);
}

}  // namespace

void Command::Clear() { ClearCommand(this); }

namespace {

// ClearCommand before a parse, with fewer stores: the Path and the
// parameters' decoded fields (11 of Clear's 20 sixteen-octet stores) are
// reset only when `path.raw` or `params.count` shows that something set
// them. Every parse leaves that invariant (a parse that sets a path field
// succeeds with `raw` set, parameters count themselves, and a failed parse
// is cleared whole: ParseContent), as do Clear and the default Command; see
// ParseCommandInto in command.h.
[[gnu::always_inline]] inline void ResetForParse(Command* c) {
  constexpr std::size_t kPath = offsetof(Command, path);
  constexpr std::size_t kParams = offsetof(Command, params);
  constexpr std::size_t kCount = kParams + offsetof(EsmtpParams, count);
  constexpr std::size_t kAfterParams = kParams + sizeof(EsmtpParams);
  static_assert(kPath + sizeof(Path) == kParams &&
                kAfterParams == offsetof(Command, auth_mechanism));
  internal::ResetBytes<Command, 0, kPath>(c);
  if (!c->path.raw.empty() || c->params.count != 0) {
    internal::ResetBytes<Command, kPath, kParams>(c);
    internal::ResetBytes<Command, kCount, kAfterParams>(c);
  }
  internal::ResetBytes<Command, kAfterParams, sizeof(Command)>(c);
}

// Parses the content of a framed line (`body`: the line without its
// terminator); `framing` holds the leniencies that framing used. Inlined:
// the call and its register saves cost a short command a tenth of its time.
[[gnu::always_inline]] inline ParseError ParseContent(std::string_view body, Leniencies framing,
                                                      const CommandOptions& opts, Command* out) {
  if (opts.leniencies & kTrailingWhitespace) {
    const std::size_t size = EndWithoutWsp(body);
    if (size != body.size()) framing |= kTrailingWhitespace;
    body = body.substr(0, size);
  }
  ResetForParse(out);
  LineParser p{{body, opts, *out, kStrict, {}}};
  if (!p.Parse()) {
    ClearCommand(out);  // partial values would break ResetForParse's invariant
    return p.error;
  }
  out->deviations = framing | p.dev;
  return ParseError{};
}

}  // namespace

ParseError ParseCommandInto(std::string_view line, const CommandOptions& opts, Command* out) {
  const std::size_t limit = IsAuthLine(line) ? std::max(opts.limits.command_line, kMaxAuthLine)
                                             : opts.limits.command_line;
  const std::size_t n = line.size();
  // The usual line ends in CRLF within the limit: its content is parsed at
  // once, without a framing pass. No rule of the grammar admits CR, LF or
  // NUL, so a parse that succeeds proves the framing too (asserted below);
  // only when the parse fails does FrameLine run, because its errors come
  // first. (With a CRLF at the end FrameLine either fails or finds exactly
  // that CRLF, with no framing leniency.) Other lines are framed first.
  const bool crlf = n >= 2 && n <= limit && line[n - 2] == '\r' && line[n - 1] == '\n';
  Leniencies framing = kStrict;
  std::size_t content = n - 2;
  if (!crlf) {
    if (ParseError f = FrameLine(line, opts.leniencies, limit, &framing, &content);
        f.code != Errc::kOk) {
      return f;
    }
  }
  const std::string_view body = line.substr(0, content);
  const ParseError e = ParseContent(body, framing, opts, out);
  if (e.code == Errc::kOk) {
    assert(body.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    return ParseError{};  // not `e`: copying it back stalls on store forwarding
  }
  if (crlf) {
    if (ParseError f = FrameLine(line, opts.leniencies, limit, &framing, &content);
        f.code != Errc::kOk) {
      return f;
    }
  }
  return e;
}

namespace internal {

bool ParseVerbAlone(const char* line, const CommandOptions& opts, Command* out) {
  // Its four letters hold no CR, LF, NUL or WSP: framing and trailing
  // whitespace have nothing to say, only the limit.
  if (opts.limits.command_line < 6) return false;
  const std::uint32_t w = LoadFolded4(line);
  const VerbSlotEntry& e = kVerbSlots[VerbSlot(w)];
  if (e.tag != w || !e.alone) return false;
  ResetForParse(out);
  out->verb = e.verb;
  out->verb_text = std::string_view(line, 4);
  return true;
}

}  // namespace internal

Result<Command> ParseCommand(std::string_view line, const CommandOptions& opts) {
  // Result<T> takes T by value: the Command is zeroed and moved once, then
  // parsed in place.
  Result<Command> r = Command{};
  if (ParseError e = ParseCommandInto(line, opts, &*r); e.code != Errc::kOk) r = e;
  return r;
}

}  // namespace smtp
