// Reverse-path / Forward-path / Mailbox / Domain of RFC 5321 §4.1.2 with the
// RFC 6531 §3.3 (SMTPUTF8) extensions. address-literal lives in
// address_literal.cc.
//
// Decisions the ABNF leaves open:
// - Error precedence: the whole-path limit is checked before any syntax (so
//   hostile input costs O(1)); the local-part and domain limits are checked as
//   soon as that element has been parsed. Otherwise the first offending octet
//   from the left wins. An element that is missing is reported at the offset
//   where it was expected.
// - Limits count octets as written: the local-part with its quotes, a literal
//   with its brackets, the path with its brackets (without them when
//   kMissingAngleBrackets fired).
// - UTF-8 is admitted only where RFC 6531 puts UTF8-non-ascii: atext,
//   qtextSMTP and sub-domain (U-labels, checked for UTF-8 only, not IDNA).
//   An octet >= 0x80 there without opts.utf8 is kUtf8NotAllowed (unless
//   kUtf8WithoutSmtputf8); with it, an ill-formed sequence is kBadUtf8 at its
//   first octet. Elsewhere (quoted-pairSMTP, literals) it is a syntax error.
// - Equality: local-part exactly as written (§2.4: local-parts are case
//   sensitive; "a"@x and a@x differ), domain and source route ASCII
//   case-insensitively (DNS), Postmaster in any spelling.
// - SerializePath writes the fields as written ("<Postmaster>" in that
//   spelling), so a strict parse serializes back to its input octet for
//   octet; a lenient one re-parses equal under the same options.
// - Octets after the closing ">" are kTrailingGarbage (the 300 block has no
//   such code); a ">" after an unbracketed path is kMissingAngle.
#include "parser/path.h"

#include "parser/ascii.h"
#include "parser/internal/domain_fast.h"
#include "parser/internal/path_chars.h"
#include "parser/internal/path_parse.h"

namespace smtp {
namespace {

using internal::Is;
using internal::IsHigh;

// One parse over `in`: options, the offset of in[0] in the caller's buffer,
// the leniencies that fired, and the first error. Methods advance `pos` and
// return false after recording the error.
struct Scanner {
  Scanner(std::string_view input, const internal::PathContext& options, std::size_t base_offset)
      : in(input), opts(options), base(base_offset) {}

  std::string_view in;
  const internal::PathContext& opts;  // a reference: copying it stalls store forwarding
  std::size_t base;
  bool bracketed = false;  // inside "<" ">": a ">" ends the Mailbox
  Leniencies deviations = kStrict;
  bool has_utf8 = false;
  ParseError error;

  std::size_t size() const { return in.size(); }
  bool At(std::size_t pos, char c) const { return pos < in.size() && in[pos] == c; }

  bool Fail(Errc code, std::size_t at, std::string_view reason) {
    error = ParseError{code, base + at, reason};
    return false;
  }

  // True (and recorded) when the caller allowed this deviation.
  bool Allow(Leniency bit) {
    if ((opts.leniencies & bit) == 0) return false;
    deviations |= bit;
    return true;
  }

  // UTF8-non-ascii (RFC 6531 §3.3) at in[pos] >= 0x80, where the grammar
  // admits it.
  bool Utf8(std::size_t& pos) {
    if (!opts.utf8 && !Allow(kUtf8WithoutSmtputf8)) {
      return Fail(Errc::kUtf8NotAllowed, pos, "RFC 6531 §3.3: UTF-8 in a path requires SMTPUTF8");
    }
    const std::size_t len = internal::Utf8SequenceLength(in, pos);
    if (len == 0) return Fail(Errc::kBadUtf8, pos, "RFC 3629 §4: ill-formed UTF-8 sequence");
    has_utf8 = true;
    pos += len;
    return true;
  }

  // Dot-string = Atom *("." Atom) ; Atom = 1*atext           (§4.1.2)
  // atext (RFC 5322 §3.2.3) =/ UTF8-non-ascii                  (RFC 6531 §3.3)
  // kLooseDotString admits empty atoms (leading, trailing, doubled dots).
  bool DotString(std::size_t& pos) {
    const std::size_t start = pos;
    bool loose = false;
    for (;;) {
      const std::size_t atom = pos;
      for (;;) {
        pos = internal::Skip(in, pos, internal::kAtextBit);
        if (pos == size() || !IsHigh(in[pos])) break;
        if (!Utf8(pos)) return false;
      }
      if (pos == atom) {
        if (pos == start && !At(pos, '.')) {
          return Fail(Errc::kBadLocalPart, pos, "RFC 5321 §4.1.2 Local-part: empty");
        }
        if ((opts.leniencies & kLooseDotString) == 0) {
          return Fail(Errc::kBadLocalPart, pos, "RFC 5321 §4.1.2 Dot-string: empty Atom");
        }
        loose = true;
      }
      if (!At(pos, '.')) break;
      ++pos;
    }
    if (loose) deviations |= kLooseDotString;
    return true;
  }

  // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
  // QcontentSMTP = qtextSMTP / quoted-pairSMTP
  // quoted-pairSMTP = %d92 %d32-126
  // qtextSMTP = %d32-33 / %d35-91 / %d93-126                   (§4.1.2)
  // qtextSMTP =/ UTF8-non-ascii                                 (RFC 6531 §3.3)
  bool QuotedString(std::size_t& pos_ref) {
    std::size_t pos = pos_ref + 1;  // after DQUOTE; a local, stored back at the end
    while (pos < size()) {
      const char c = in[pos];
      if (c == '"') {
        pos_ref = pos + 1;
        return true;
      }
      if (c == '\\') {
        if (pos + 1 == size()) break;
        if (!Is(in[pos + 1], internal::kQpairBit)) {
          return Fail(Errc::kBadQuotedPair, pos + 1,
                      "RFC 5321 §4.1.2 quoted-pairSMTP: octet after \"\\\" outside %d32-126");
        }
        pos += 2;
      } else if (IsHigh(c)) {
        if (!Utf8(pos)) return false;
      } else if (Is(c, internal::kQtextBit)) {
        ++pos;
      } else {
        return Fail(Errc::kBadLocalPart, pos, "RFC 5321 §4.1.2 qtextSMTP: octet not allowed");
      }
    }
    return Fail(Errc::kBadLocalPart, size(),
                "RFC 5321 §4.1.2 Quoted-string: missing closing DQUOTE");
  }

  // Local-part = Dot-string / Quoted-string                     (§4.1.2)
  bool LocalPart(std::size_t& pos, Path& p) {
    const std::size_t start = pos;
    if (At(pos, '"')) {
      if (!QuotedString(pos)) return false;
      p.quoted_local_part = true;
    } else if (!DotString(pos)) {
      return false;
    }
    if (pos - start > opts.limits.local_part) {
      return Fail(Errc::kLocalPartTooLong, start + opts.limits.local_part,
                  "RFC 5321 §4.5.3.1.1: local-part longer than Limits::local_part");
    }
    p.local_part = in.substr(start, pos - start);
    return true;
  }

  // Domain = sub-domain *("." sub-domain)
  // sub-domain = Let-dig [Ldh-str]
  // Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig                  (§4.1.2)
  // sub-domain =/ U-label                                       (RFC 6531 §3.3)
  // Stops at the first octet that cannot continue the Domain.
  // A label over kMaxDomainLabel octets (RFC 1035 §2.3.4) is checked after
  // the whole Domain's limit: kDomainTooLong at its 64th octet, or the
  // deviation kLongDomainLabel.
  bool Domain(std::size_t& pos) {
    // The usual ASCII domain is found and checked 16 octets at a time;
    // anything else (and the errors) octet by octet below.
    if (internal::SimdScans()) {
      if (const std::size_t end = internal::FastDomainEnd(in, pos, opts.limits.domain); end != 0) {
        pos = end;
        return true;
      }
    }
    const std::size_t start = pos;
    std::size_t long_label = std::string_view::npos;  // offset of the first one
    for (;;) {
      const std::size_t label = pos;
      for (;;) {
        pos = internal::Skip(in, pos, internal::kLdhBit);
        if (pos == size()) break;
        const char c = in[pos];
        if (IsHigh(c)) {
          if (!Utf8(pos)) return false;
        } else if (c == '_') {
          if (!Allow(kUnderscoreInDomain)) {
            return Fail(Errc::kBadDomain, pos,
                        "RFC 5321 §4.1.2 sub-domain: \"_\" is not Let-dig / \"-\"");
          }
          ++pos;
        } else {
          break;
        }
      }
      if (pos == label) {
        if (pos == start)
          return Fail(Errc::kBadDomain, pos, "RFC 5321 §4.1.2 Domain: expected sub-domain");
        if (At(pos, '.'))
          return Fail(Errc::kBadDomain, pos, "RFC 5321 §4.1.2 Domain: empty sub-domain");
        if (!Allow(kTrailingDotInDomain)) {
          return Fail(Errc::kBadDomain, pos, "RFC 5321 §4.1.2 Domain: trailing \".\"");
        }
        break;
      }
      if (in[label] == '-') {
        return Fail(Errc::kBadDomain, label, "RFC 5321 §4.1.2 sub-domain: must start with Let-dig");
      }
      if (in[pos - 1] == '-') {
        return Fail(Errc::kBadDomain, pos - 1, "RFC 5321 §4.1.2 Ldh-str: must end with Let-dig");
      }
      if (pos - label > kMaxDomainLabel && long_label == std::string_view::npos) long_label = label;
      if (!At(pos, '.')) break;
      ++pos;
    }
    if (!CheckDomainLength(start, pos)) return false;
    if (long_label != std::string_view::npos && !Allow(kLongDomainLabel)) {
      return Fail(Errc::kDomainTooLong, long_label + kMaxDomainLabel,
                  "RFC 1035 §2.3.4: a domain label is 63 octets or less");
    }
    return true;
  }

  bool CheckDomainLength(std::size_t start, std::size_t end) {
    if (end - start > opts.limits.domain) {
      return Fail(Errc::kDomainTooLong, start + opts.limits.domain,
                  "RFC 5321 §4.5.3.1.2: domain longer than Limits::domain");
    }
    return true;
  }

  // Mailbox = Local-part "@" ( Domain / address-literal )       (§4.1.2)
  bool Mailbox(std::size_t& pos, Path& p) {
    if (!LocalPart(pos, p)) return false;
    if (pos == size() || (bracketed && in[pos] == '>')) {
      return Fail(Errc::kMissingAt, pos, "RFC 5321 §4.1.2 Mailbox: missing \"@\" Domain");
    }
    if (in[pos] != '@') {
      return Fail(Errc::kBadLocalPart, pos,
                  p.quoted_local_part
                      ? "RFC 5321 §4.1.2 Mailbox: expected \"@\" after Quoted-string"
                      : "RFC 5321 §4.1.2 Atom: octet is not atext");
    }
    ++pos;
    const std::size_t start = pos;
    if (At(pos, '[')) {
      // dcontent excludes "]", so the first "]" ends the literal.
      const std::size_t close = in.find(']', pos);
      if (close == std::string_view::npos) {
        return Fail(Errc::kBadAddressLiteral, size(),
                    "RFC 5321 §4.1.3 address-literal: missing \"]\"");
      }
      Result<DomainKind> kind = ParseAddressLiteral(in.substr(pos, close + 1 - pos), base + pos);
      if (!kind) {
        error = kind.error();
        return false;
      }
      pos = close + 1;
      if (!CheckDomainLength(start, pos)) return false;
      p.domain_kind = *kind;
    } else {
      if (!Domain(pos)) return false;
      p.domain_kind = DomainKind::kName;
    }
    p.domain = in.substr(start, pos - start);
    return true;
  }

  // A-d-l = At-domain *( "," At-domain ) ; At-domain = "@" Domain (§4.1.2)
  // Followed by ":". Called at the first "@".
  bool SourceRoute(std::size_t& pos, Path& p) {
    const std::size_t start = pos;
    for (;;) {
      ++pos;  // "@"
      if (!Domain(pos)) return false;
      if (At(pos, ':')) break;
      if (!At(pos, ',')) {
        return Fail(Errc::kBadSourceRoute, pos,
                    "RFC 5321 §4.1.2 Path: expected \",\" or \":\" after At-domain");
      }
      ++pos;
      if (!At(pos, '@')) {
        return Fail(Errc::kBadSourceRoute, pos, "RFC 5321 §4.1.2 At-domain: expected \"@\"");
      }
    }
    p.source_route = in.substr(start, pos - start);
    ++pos;  // ":"
    return true;
  }

  // The octet at `pos` follows a complete Mailbox but is not what the
  // context allows there (">" inside brackets, end of input outside).
  bool AfterMailbox(std::size_t pos, const Path& p) {
    if (p.domain_kind == DomainKind::kName) {
      return Fail(Errc::kBadDomain, pos, "RFC 5321 §4.1.2 Domain: octet not allowed in sub-domain");
    }
    return Fail(Errc::kBadAddressLiteral, pos,
                "RFC 5321 §4.1.3 address-literal: octets after \"]\"");
  }

  // `input` is the caller's copy of `in`: reading s.in back as one 16-octet
  // value would stall on store forwarding (it was written in two halves).
  void Finish(std::string_view input, Path& p) const {
    p.raw = input;
    p.has_utf8 = has_utf8;
    p.deviations = deviations;
  }
};

}  // namespace

// Path = "<" [ A-d-l ":" ] Mailbox ">"                          (§4.1.2)
// Reverse-path = Path / "<>" ; Forward-path = Path / "<Postmaster>"
ParseError internal::ParsePathInto(std::string_view in, const PathContext& opts, std::size_t base,
                                   bool forward, Path* out, std::size_t* prefix_end) {
  if (prefix_end == nullptr && in.size() > opts.limits.path) {
    return ParseError{Errc::kPathTooLong, base + opts.limits.path,
                      "RFC 5321 §4.5.3.1.3: path longer than Limits::path"};
  }
  Scanner s{in, opts, base};
  Path& p = *out;
  std::size_t pos = 0;
  s.bracketed = !in.empty() && in[0] == '<';
  if (s.bracketed) {
    pos = 1;
  } else if (in.empty() || !s.Allow(kMissingAngleBrackets)) {
    return ParseError{Errc::kMissingAngle, base, "RFC 5321 §4.1.2 Path: expected \"<\""};
  }
  constexpr std::string_view kPostmaster = "Postmaster";
  if (s.bracketed && s.At(pos, '>')) {
    if (forward) {
      return ParseError{Errc::kEmptyPath, base, "RFC 5321 §4.1.2 Forward-path: \"<>\" not allowed"};
    }
    p.is_null = true;
  } else if (forward && StartsWithIgnoreCase(in.substr(pos), kPostmaster) &&
             (s.bracketed ? s.At(pos + kPostmaster.size(), '>')
                          : pos + kPostmaster.size() == in.size())) {
    p.is_postmaster = true;
    p.local_part = in.substr(pos, kPostmaster.size());
    pos += kPostmaster.size();
  } else {
    if (s.At(pos, '@') && !s.SourceRoute(pos, p)) return s.error;
    if (!s.Mailbox(pos, p)) return s.error;
  }
  if (s.bracketed) {
    if (pos == in.size()) {
      return ParseError{Errc::kMissingAngle, base + pos, "RFC 5321 §4.1.2 Path: expected \">\""};
    }
    if (in[pos] != '>') {
      s.AfterMailbox(pos, p);
      return s.error;
    }
    ++pos;
    if (prefix_end != nullptr) {  // the path is in[0, pos)
      *prefix_end = pos;
      if (pos > opts.limits.path) {
        return ParseError{Errc::kPathTooLong, base + opts.limits.path,
                          "RFC 5321 §4.5.3.1.3: path longer than Limits::path"};
      }
      in = in.substr(0, pos);
    } else if (pos != in.size()) {
      return ParseError{Errc::kTrailingGarbage, base + pos,
                        "RFC 5321 §4.1.2 Path: octets after \">\""};
    }
  } else if (pos != in.size()) {
    if (in[pos] == '>' && pos + 1 == in.size()) {
      return ParseError{Errc::kMissingAngle, base + pos,
                        "RFC 5321 §4.1.2 Path: \">\" without \"<\""};
    }
    s.AfterMailbox(pos, p);
    return s.error;
  }
  s.Finish(in, p);
  return ParseError{};
}

namespace {

Result<Path> ParsePathImpl(std::string_view in, const PathOptions& opts, std::size_t base,
                           bool forward) {
  Path p;
  const ParseError e =
      internal::ParsePathInto(in, internal::ContextOf(opts), base, forward, &p, nullptr);
  if (e.code != Errc::kOk) return e;
  return p;
}

}  // namespace

bool operator==(const Path& a, const Path& b) {
  return a.is_null == b.is_null && a.is_postmaster == b.is_postmaster &&
         a.quoted_local_part == b.quoted_local_part && a.domain_kind == b.domain_kind &&
         a.has_utf8 == b.has_utf8 && (a.is_postmaster || a.local_part == b.local_part) &&
         EqualsIgnoreCase(a.domain, b.domain) && EqualsIgnoreCase(a.source_route, b.source_route);
}

Result<Path> ParseReversePath(std::string_view in, const PathOptions& opts,
                              std::size_t base_offset) {
  return ParsePathImpl(in, opts, base_offset, /*forward=*/false);
}

Result<Path> ParseForwardPath(std::string_view in, const PathOptions& opts,
                              std::size_t base_offset) {
  return ParsePathImpl(in, opts, base_offset, /*forward=*/true);
}

Result<Path> ParseMailbox(std::string_view in, const PathOptions& opts, std::size_t base_offset) {
  const internal::PathContext ctx = internal::ContextOf(opts);
  Scanner s{in, ctx, base_offset};
  Path p;
  std::size_t pos = 0;
  if (!s.Mailbox(pos, p)) return s.error;
  if (pos != in.size()) {
    s.AfterMailbox(pos, p);
    return s.error;
  }
  s.Finish(in, p);
  return p;
}

ParseError internal::ScanDomainInto(std::string_view in, const PathContext& opts,
                                    std::size_t base_offset, DomainScan* out) {
  Scanner s{in, opts, base_offset};
  std::size_t pos = 0;
  if (!s.Domain(pos)) return s.error;
  out->size = pos;
  out->has_utf8 = s.has_utf8;
  out->deviations = s.deviations;
  return ParseError{};
}

Result<DomainScan> ScanDomain(std::string_view in, const PathOptions& opts,
                              std::size_t base_offset) {
  DomainScan d;
  const ParseError e = internal::ScanDomainInto(in, internal::ContextOf(opts), base_offset, &d);
  if (e.code != Errc::kOk) return e;
  return d;
}

Result<std::size_t> ParseDomain(std::string_view in, const PathOptions& opts,
                                std::size_t base_offset) {
  Result<DomainScan> r = ScanDomain(in, opts, base_offset);
  if (!r) return r.error();
  return r->size;
}

std::string SerializePath(const Path& p) {
  if (p.is_null) return "<>";
  if (p.is_postmaster) return "<Postmaster>";
  std::string out;
  out.reserve(p.source_route.size() + p.local_part.size() + p.domain.size() + 4);
  out += '<';
  if (!p.source_route.empty()) {
    out += p.source_route;
    out += ':';
  }
  out += p.local_part;
  out += '@';
  out += p.domain;
  out += '>';
  return out;
}

std::size_t FindInvalidUtf8(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    if (!IsHigh(in[i])) {
      ++i;
      continue;
    }
    const std::size_t len = internal::Utf8SequenceLength(in, i);
    if (len == 0) return i;
    i += len;
  }
  return in.size();
}

std::string_view DomainKindName(DomainKind k) {
  switch (k) {
    case DomainKind::kNone:
      return "none";
    case DomainKind::kName:
      return "name";
    case DomainKind::kIpv4Literal:
      return "ipv4";
    case DomainKind::kIpv6Literal:
      return "ipv6";
    case DomainKind::kGeneralLiteral:
      return "general";
  }
  return "none";
}

}  // namespace smtp
