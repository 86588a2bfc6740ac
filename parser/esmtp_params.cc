// ESMTP parameters of MAIL and RCPT: RFC 5321 §4.1.2 syntax, then the value
// grammar of each keyword this parser knows.
//
// Decisions the RFCs leave open:
// - Error precedence: the first offending octet from the left wins, except
//   that a parameter is checked as a whole (syntax, then count, context,
//   duplicate, value) before the next one is looked at.
// - A known keyword that needs a value and has none (kMissingParamValue) is
//   reported where the "=" was expected, i.e. just after the keyword.
// - SIZE=007 is accepted (1*20DIGIT); SIZE beyond UINT64_MAX is
//   kBadParamValue at the digit that overflows.
// - NOTIFY=SUCCESS,SUCCESS is accepted (the ABNF does not forbid repeats);
//   NEVER next to any other element is kBadParamValue at the later element.
// - ENVID's 100-character bound (kMaxEnvid) applies to the value as written.
// - ORCPT addr-type is an RFC 822 atom; the RFC 6533 utf-8-addr forms are
//   not decoded (their xtext is checked like any other).
// - 8-bit octets: kEightBit in keywords, and in values unless UTF-8 is
//   admitted (then kBadUtf8 for an ill-formed sequence). Known keywords then
//   reject them by their own grammar.
#include "parser/esmtp_params.h"

#include <algorithm>

#include "parser/internal/path_chars.h"

namespace smtp {
namespace {

using internal::EqualsIgnoreCase;

constexpr bool IsAlnum(char c) { return internal::Is(c, internal::kLetDigBit); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWsp(char c) { return c == ' ' || c == '\t'; }
constexpr bool IsHigh(char c) { return internal::IsHigh(c); }

// esmtp-value = 1*(%d33-60 / %d62-126)                         (§4.1.2)
constexpr bool IsValueChar(char c) { return c >= 33 && c <= 126 && c != '='; }

// xchar = %d33-42 / %d44-60 / %d62-126                         (RFC 3461 §4)
constexpr bool IsXchar(char c) { return c >= 33 && c <= 126 && c != '+' && c != '='; }
constexpr bool IsUpperHex(char c) { return IsDigit(c) || (c >= 'A' && c <= 'F'); }

constexpr char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

struct KeywordInfo {
  std::string_view name;
  ParamKeyword kind;
  ParamContext ctx;
};

constexpr KeywordInfo kKeywords[] = {
    {"SIZE", ParamKeyword::kSize, ParamContext::kMail},
    {"BODY", ParamKeyword::kBody, ParamContext::kMail},
    {"SMTPUTF8", ParamKeyword::kSmtputf8, ParamContext::kMail},
    {"RET", ParamKeyword::kRet, ParamContext::kMail},
    {"ENVID", ParamKeyword::kEnvid, ParamContext::kMail},
    {"AUTH", ParamKeyword::kAuth, ParamContext::kMail},
    {"NOTIFY", ParamKeyword::kNotify, ParamContext::kRcpt},
    {"ORCPT", ParamKeyword::kOrcpt, ParamContext::kRcpt},
};

const KeywordInfo* FindKeyword(std::string_view keyword) {
  for (const KeywordInfo& k : kKeywords) {
    if (EqualsIgnoreCase(keyword, k.name)) return &k;
  }
  return nullptr;
}

ParseError Fail(Errc code, std::size_t at, std::string_view reason) {
  return ParseError{code, at, reason};
}

// A value to check and the offset of its first octet in the caller's buffer.
struct ValueCheck {
  std::string_view v;
  std::size_t base;  // offset of v[0] in the caller's buffer
};

// SIZE-value = 1*20DIGIT                                       (RFC 1870 §6)
Result<std::uint64_t> CheckSize(ValueCheck in) {
  constexpr std::size_t kMaxDigits = 20;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < in.v.size(); ++i) {
    const char c = in.v[i];
    if (!IsDigit(c)) return Fail(Errc::kBadParamValue, in.base + i, "RFC 1870 §6 SIZE: not DIGIT");
    if (i == kMaxDigits) {
      return Fail(Errc::kBadParamValue, in.base + i, "RFC 1870 §6 SIZE: more than 20 digits");
    }
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) {
      return Fail(Errc::kBadParamValue, in.base + i, "RFC 1870 §6 SIZE: exceeds 2^64-1");
    }
    n = n * 10 + d;
  }
  return n;
}

// body-value = "7BIT" / "8BITMIME" / "BINARYMIME"    (RFC 6152 §3, RFC 3030 §3)
BodyType BodyOf(std::string_view v) {
  if (EqualsIgnoreCase(v, "7BIT")) return BodyType::k7Bit;
  if (EqualsIgnoreCase(v, "8BITMIME")) return BodyType::k8BitMime;
  if (EqualsIgnoreCase(v, "BINARYMIME")) return BodyType::kBinaryMime;
  return BodyType::kNone;
}

// ret-value = "FULL" / "HDRS"                                  (RFC 3461 §4.3)
RetType RetOf(std::string_view v) {
  if (EqualsIgnoreCase(v, "FULL")) return RetType::kFull;
  if (EqualsIgnoreCase(v, "HDRS")) return RetType::kHdrs;
  return RetType::kNone;
}

// notify-esmtp-value  = "NEVER" / 1#notify-list-element
// notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"        (RFC 3461 §4.1)
// (1#x is RFC 822's comma list: x *("," x), no empty elements here.)
Result<std::uint8_t> CheckNotify(ValueCheck in) {
  std::uint8_t bits = 0;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t comma = std::min(in.v.find(',', pos), in.v.size());
    const std::string_view e = in.v.substr(pos, comma - pos);
    std::uint8_t bit = 0;
    if (EqualsIgnoreCase(e, "NEVER")) bit = kNotifyNever;
    if (EqualsIgnoreCase(e, "SUCCESS")) bit = kNotifySuccess;
    if (EqualsIgnoreCase(e, "FAILURE")) bit = kNotifyFailure;
    if (EqualsIgnoreCase(e, "DELAY")) bit = kNotifyDelay;
    if (bit == 0) {
      return Fail(Errc::kBadParamValue, in.base + pos,
                  "RFC 3461 §4.1 NOTIFY: expected NEVER, SUCCESS, FAILURE or DELAY");
    }
    if ((bit == kNotifyNever && bits != 0) || (bits & kNotifyNever)) {
      return Fail(Errc::kBadParamValue, in.base + pos,
                  "RFC 3461 §4.1 NOTIFY: NEVER cannot be combined with other values");
    }
    bits |= bit;
    if (comma == in.v.size()) return bits;
    pos = comma + 1;
  }
}

// RFC 822 §3.3 atom = 1*<any CHAR except specials, SPACE and CTLs>
constexpr bool IsAtomChar822(char c) {
  return c > 32 && c < 127 && std::string_view("()<>@,;:\\\".[]").find(c) == std::string_view::npos;
}

// original-recipient-address = addr-type ";" xtext ; addr-type = atom
//                                                              (RFC 3461 §4.2)
struct Orcpt {
  std::string_view type;
  std::string_view addr;
};
Result<Orcpt> CheckOrcpt(ValueCheck in) {
  std::size_t i = 0;
  while (i < in.v.size() && IsAtomChar822(in.v[i])) ++i;
  if (i == 0) {
    return Fail(Errc::kBadParamValue, in.base, "RFC 3461 §4.2 ORCPT: addr-type must be an atom");
  }
  if (i == in.v.size() || in.v[i] != ';') {
    return Fail(Errc::kBadParamValue, in.base + i,
                "RFC 3461 §4.2 ORCPT: expected \";\" after addr-type");
  }
  const std::string_view addr = in.v.substr(i + 1);
  const std::size_t bad = FindInvalidXtext(addr);
  if (bad != addr.size()) {
    return Fail(Errc::kBadXtext, in.base + i + 1 + bad, "RFC 3461 §4 xtext: invalid octet");
  }
  return Orcpt{in.v.substr(0, i), addr};
}

// Canonical NOTIFY value for a set of NotifyBits.
void AppendNotify(std::uint8_t bits, std::string* out) {
  if (bits & kNotifyNever) {
    *out += "NEVER";
    return;
  }
  bool first = true;
  const auto add = [&](std::uint8_t bit, std::string_view name) {
    if ((bits & bit) == 0) return;
    if (!first) *out += ',';
    *out += name;
    first = false;
  };
  add(kNotifySuccess, "SUCCESS");
  add(kNotifyFailure, "FAILURE");
  add(kNotifyDelay, "DELAY");
}

std::string_view StripLeadingZeros(std::string_view v) {
  while (v.size() > 1 && v[0] == '0') v.remove_prefix(1);
  return v;
}

// Value equality under the keyword's semantics (values already validated).
bool SameValue(ParamKeyword kind, std::string_view a, std::string_view b) {
  switch (kind) {
    case ParamKeyword::kSize:
      return StripLeadingZeros(a) == StripLeadingZeros(b);
    case ParamKeyword::kBody:
    case ParamKeyword::kRet:
      return EqualsIgnoreCase(a, b);
    case ParamKeyword::kNotify: {
      Result<std::uint8_t> x = CheckNotify({a, 0});
      Result<std::uint8_t> y = CheckNotify({b, 0});
      if (x.ok() && y.ok()) return *x == *y;
      return a == b;
    }
    case ParamKeyword::kOrcpt: {
      const std::size_t sa = a.find(';');
      const std::size_t sb = b.find(';');
      if (sa == std::string_view::npos || sb == std::string_view::npos) return a == b;
      return EqualsIgnoreCase(a.substr(0, sa), b.substr(0, sb)) && a.substr(sa) == b.substr(sb);
    }
    default:
      return a == b;
  }
}

// Validates the value of a known keyword and stores the decoded form.
// `kw_end` is the offset just past the keyword; `eq` the offset of "=".
std::optional<ParseError> CheckKnown(const EsmtpParam& p, std::size_t kw_end, std::size_t v_base,
                                     EsmtpParams& out) {
  if (p.kind == ParamKeyword::kSmtputf8) {
    if (p.has_value) {
      return Fail(Errc::kUnexpectedParamValue, kw_end,
                  "RFC 6531 §3.4: SMTPUTF8 does not accept a value");
    }
    out.smtputf8 = true;
    return std::nullopt;
  }
  if (!p.has_value) {
    return Fail(Errc::kMissingParamValue, kw_end, "esmtp-param: keyword requires \"=\" value");
  }
  const ValueCheck in{p.value, v_base};
  switch (p.kind) {
    case ParamKeyword::kSize: {
      Result<std::uint64_t> n = CheckSize(in);
      if (!n) return n.error();
      out.size = *n;
      break;
    }
    case ParamKeyword::kBody:
      out.body = BodyOf(p.value);
      if (out.body == BodyType::kNone) {
        return Fail(Errc::kBadParamValue, v_base,
                    "RFC 6152 §3 / RFC 3030 §3 BODY: expected 7BIT, 8BITMIME or BINARYMIME");
      }
      break;
    case ParamKeyword::kRet:
      out.ret = RetOf(p.value);
      if (out.ret == RetType::kNone) {
        return Fail(Errc::kBadParamValue, v_base, "RFC 3461 §4.3 RET: expected FULL or HDRS");
      }
      break;
    case ParamKeyword::kEnvid:
    case ParamKeyword::kAuth: {
      // RFC 4954 §5: AUTH = xtext / "<>"; "<>" is itself valid xtext.
      const std::size_t bad = FindInvalidXtext(p.value);
      if (bad != p.value.size()) {
        return Fail(Errc::kBadXtext, v_base + bad, "RFC 3461 §4 xtext: invalid octet");
      }
      if (p.kind == ParamKeyword::kEnvid) {
        if (p.value.size() > kMaxEnvid) {
          return Fail(Errc::kBadParamValue, v_base + kMaxEnvid,
                      "RFC 3461 §4.4 ENVID: longer than 100 characters");
        }
        out.envid = p.value;
      } else {
        out.auth = p.value;
      }
      break;
    }
    case ParamKeyword::kNotify: {
      Result<std::uint8_t> bits = CheckNotify(in);
      if (!bits) return bits.error();
      out.notify = *bits;
      break;
    }
    case ParamKeyword::kOrcpt: {
      Result<Orcpt> o = CheckOrcpt(in);
      if (!o) return o.error();
      out.orcpt_type = o->type;
      out.orcpt_addr = o->addr;
      break;
    }
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

bool operator==(const EsmtpParam& a, const EsmtpParam& b) {
  return a.kind == b.kind && a.has_value == b.has_value && EqualsIgnoreCase(a.keyword, b.keyword) &&
         SameValue(a.kind, a.value, b.value);
}

bool operator==(const EsmtpParams& a, const EsmtpParams& b) {
  if (a.count != b.count) return false;
  for (std::size_t i = 0; i < a.count; ++i) {
    if (!(a.items[i] == b.items[i])) return false;
  }
  return a.size == b.size && a.body == b.body && a.smtputf8 == b.smtputf8 && a.ret == b.ret &&
         a.envid == b.envid && a.auth == b.auth && a.notify == b.notify &&
         EqualsIgnoreCase(a.orcpt_type, b.orcpt_type) && a.orcpt_addr == b.orcpt_addr &&
         a.has_unknown == b.has_unknown;
}

bool HasSmtputf8Param(std::string_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    while (i < in.size() && IsWsp(in[i])) ++i;
    const std::size_t start = i;
    while (i < in.size() && !IsWsp(in[i])) ++i;
    if (EqualsIgnoreCase(in.substr(start, i - start), "SMTPUTF8")) return true;
  }
  return false;
}

Result<EsmtpParams> ParseEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                     const Limits& limits, std::size_t base_offset,
                                     Leniencies* deviations) {
  return ParseEsmtpParams(in, ctx, leniencies, limits, base_offset, deviations, false);
}

// Mail-parameters = esmtp-param *(SP esmtp-param)
// Rcpt-parameters = esmtp-param *(SP esmtp-param)
// esmtp-param     = esmtp-keyword ["=" esmtp-value]
// esmtp-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
// esmtp-value     = 1*(%d33-60 / %d62-126)                     (§4.1.2)
// esmtp-value     =/ UTF8-non-ascii                            (RFC 6531 §3.3)
Result<EsmtpParams> ParseEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                     const Limits& limits, std::size_t base_offset,
                                     Leniencies* deviations, bool utf8) {
  EsmtpParams out;
  Leniencies fired = kStrict;
  const std::size_t max_params = std::min(limits.esmtp_params, kMaxEsmtpParams);
  const bool utf8_values = utf8 || (ctx == ParamContext::kMail && HasSmtputf8Param(in));
  const std::size_t n = in.size();
  const auto at = [&](std::size_t i) { return base_offset + i; };
  // 8-bit where the grammar wants ASCII is kEightBit, a control character
  // kControlChar; anything else is `code`.
  const auto bad_octet = [&](Errc code, std::size_t i, std::string_view reason) {
    if (i < n && IsHigh(in[i])) {
      return Fail(Errc::kEightBit, at(i), "RFC 5321 §2.4: 8-bit octet in esmtp-param");
    }
    if (i < n && (static_cast<unsigned char>(in[i]) < 32 || in[i] == 127) && in[i] != '\t') {
      return Fail(Errc::kControlChar, at(i), "RFC 5321 §4.1.2: control character in esmtp-param");
    }
    return Fail(code, at(i), reason);
  };

  std::size_t i = 0;
  while (i < n) {
    const std::size_t kw_start = i;
    if (out.count == max_params) {
      return Fail(Errc::kTooManyParams, at(kw_start), "more parameters than Limits::esmtp_params");
    }
    if (!IsAlnum(in[i])) {
      return bad_octet(Errc::kBadParamSyntax, i,
                       "RFC 5321 §4.1.2 esmtp-keyword: must start with ALPHA / DIGIT");
    }
    while (i < n && (IsAlnum(in[i]) || in[i] == '-')) ++i;
    EsmtpParam p;
    p.keyword = in.substr(kw_start, i - kw_start);
    const std::size_t kw_end = i;
    std::size_t v_start = i;
    if (i < n && in[i] == '=') {
      p.has_value = true;
      v_start = ++i;
      while (i < n && !IsWsp(in[i])) {
        if (IsHigh(in[i]) && utf8_values) {
          const std::size_t len = internal::Utf8SequenceLength(in, i);
          if (len == 0) {
            return Fail(Errc::kBadUtf8, at(i), "RFC 3629 §4: ill-formed UTF-8 sequence");
          }
          i += len;
        } else if (IsValueChar(in[i])) {
          ++i;
        } else {
          return bad_octet(Errc::kBadParamSyntax, i,
                           "RFC 5321 §4.1.2 esmtp-value: octet outside %d33-60 / %d62-126");
        }
      }
      if (i == v_start) {
        return Fail(Errc::kBadParamSyntax, at(i), "RFC 5321 §4.1.2 esmtp-value: empty");
      }
      p.value = in.substr(v_start, i - v_start);
    } else if (i < n && !IsWsp(in[i])) {
      return bad_octet(Errc::kBadParamSyntax, i,
                       "RFC 5321 §4.1.2 esmtp-keyword: octet not ALPHA / DIGIT / \"-\"");
    }

    const KeywordInfo* info = FindKeyword(p.keyword);
    if (info != nullptr) {
      p.kind = info->kind;
      if (info->ctx != ctx) {
        return Fail(Errc::kParamNotAllowed, at(kw_start),
                    ctx == ParamContext::kMail ? "parameter is valid on RCPT only"
                                               : "parameter is valid on MAIL only");
      }
    }
    for (const EsmtpParam& prev : out) {
      if (EqualsIgnoreCase(prev.keyword, p.keyword)) {
        return Fail(Errc::kDuplicateParam, at(kw_start), "esmtp-param: keyword repeated");
      }
    }
    if (info != nullptr) {
      if (std::optional<ParseError> e = CheckKnown(p, at(kw_end), at(v_start), out)) return *e;
    } else {
      out.has_unknown = true;
    }
    out.items[out.count++] = p;

    if (i == n) break;
    // SP between parameters; a run of SP / HTAB with kExtraWhitespace.
    const std::size_t sep = i;
    while (i < n && IsWsp(in[i])) ++i;
    if (i == n) {
      if ((leniencies & kTrailingWhitespace) == 0) {
        return Fail(Errc::kBadParamSyntax, at(sep), "RFC 5321 §4.1.2: SP without esmtp-param");
      }
      fired |= kTrailingWhitespace;
      break;
    }
    if (in[sep] != ' ' || i - sep > 1) {
      if ((leniencies & kExtraWhitespace) == 0) {
        const std::size_t off = in[sep] != ' ' ? sep : sep + 1;
        return Fail(Errc::kBadParamSyntax, at(off),
                    "RFC 5321 §4.1.2: parameters are separated by one SP");
      }
      fired |= kExtraWhitespace;
    }
  }
  if (deviations != nullptr) *deviations |= fired;
  return out;
}

std::size_t FindInvalidXtext(std::string_view in) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (IsXchar(in[i])) continue;
    if (in[i] == '+' && i + 2 < in.size() && IsUpperHex(in[i + 1]) && IsUpperHex(in[i + 2])) {
      i += 2;
      continue;
    }
    return i;
  }
  return in.size();
}

std::string DecodeXtext(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto hex = [](char c) { return IsDigit(c) ? c - '0' : c - 'A' + 10; };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && i + 2 < in.size()) {
      out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

std::string EncodeXtext(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    if (IsXchar(c)) {
      out += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

void AppendEsmtpParams(const EsmtpParams& p, std::string* out) {
  for (const EsmtpParam& e : p) {
    *out += ' ';
    for (const char c : e.keyword) *out += ToUpper(c);
    if (!e.has_value) continue;
    *out += '=';
    switch (e.kind) {
      case ParamKeyword::kSize:
        *out += StripLeadingZeros(e.value);
        break;
      case ParamKeyword::kBody:
      case ParamKeyword::kRet:
        for (const char c : e.value) *out += ToUpper(c);
        break;
      case ParamKeyword::kNotify: {
        Result<std::uint8_t> bits = CheckNotify({e.value, 0});
        if (bits.ok()) {
          AppendNotify(*bits, out);
        } else {
          *out += e.value;
        }
        break;
      }
      default:
        *out += e.value;
        break;
    }
  }
}

}  // namespace smtp
