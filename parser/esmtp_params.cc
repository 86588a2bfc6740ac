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
#include <cstddef>

#include "parser/ascii.h"
#include "parser/internal/command_chars.h"
#include "parser/internal/esmtp_params_parse.h"
#include "parser/internal/path_chars.h"
#include "parser/internal/reset.h"

namespace smtp {
namespace {

constexpr bool IsAlnum(char c) { return internal::Is(c, internal::kLetDigBit); }
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsWsp(char c) { return c == ' ' || c == '\t'; }
constexpr bool IsHigh(char c) { return internal::IsHigh(c); }

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

constexpr const KeywordInfo* Keyword(std::string_view name) {
  for (const KeywordInfo& k : kKeywords) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

// `keyword` is ALPHA / DIGIT / "-" only (see FoldedEquals). The length and
// the first letter leave one candidate, compared once.
const KeywordInfo* FindKeyword(std::string_view keyword) {
  // constexpr locals: looked up at compile time, not per call.
  static constexpr const KeywordInfo* kRet = Keyword("RET");
  static constexpr const KeywordInfo* kSize = Keyword("SIZE");
  static constexpr const KeywordInfo* kBody = Keyword("BODY");
  static constexpr const KeywordInfo* kAuth = Keyword("AUTH");
  static constexpr const KeywordInfo* kEnvid = Keyword("ENVID");
  static constexpr const KeywordInfo* kOrcpt = Keyword("ORCPT");
  static constexpr const KeywordInfo* kNotify = Keyword("NOTIFY");
  static constexpr const KeywordInfo* kSmtputf8 = Keyword("SMTPUTF8");
  const KeywordInfo* k = nullptr;
  const char first = static_cast<char>(keyword.empty() ? 0 : keyword[0] | 0x20);
  switch (keyword.size()) {
    case 3:
      k = kRet;
      break;
    case 4:
      k = first == 's' ? kSize : first == 'b' ? kBody : kAuth;
      break;
    case 5:
      k = first == 'e' ? kEnvid : kOrcpt;
      break;
    case 6:
      k = kNotify;
      break;
    case 8:
      k = kSmtputf8;
      break;
    default:
      return nullptr;
  }
  return internal::FoldedEquals(keyword, k->name) ? k : nullptr;
}

// A known keyword and what ends it, matched as one folded 8-octet word:
// `len` octets of `text` (lower-case letters, then "=" or the digit of
// SMTPUTF8), letters compared with bit 0x20 set (exact for letters, see
// command_chars.h LoadFolded4), the rest exactly.
struct KeywordWord {
  std::uint64_t tag = 0;   // `text` as a little-endian word
  std::uint64_t fold = 0;  // 0x20 at each letter's octet
  std::uint64_t mask = 0;  // 0xff at each of the `len` octets
  std::size_t keyword_len = 0;
  const KeywordInfo* info = nullptr;
};

constexpr KeywordWord MakeKeywordWord(std::string_view text, std::size_t keyword_len,
                                      std::string_view name) {
  KeywordWord k;
  for (std::size_t b = 0; b < text.size(); ++b) {
    const auto c = static_cast<std::uint64_t>(static_cast<unsigned char>(text[b]));
    k.tag |= c << (8 * b);
    k.mask |= std::uint64_t{0xff} << (8 * b);
    if (c >= 'a' && c <= 'z') k.fold |= std::uint64_t{0x20} << (8 * b);
  }
  k.keyword_len = keyword_len;
  k.info = Keyword(name);
  return k;
}

// Looks up the keyword at the start of the eight octets `p` (which the
// caller may read) by its first letter: when they begin with a known
// keyword and "=" (SMTPUTF8: and SP, HTAB or, `at_end`, the end of the
// list), returns it and stores its length; nullptr otherwise. Then
// SkipClass(kKeywordBit) would end the keyword at the same octet ("=", SP
// and HTAB are not in the class) and FindKeyword would return the same
// entry: this only saves the octet-by-octet scan and compare.
const KeywordInfo* MatchKeywordWord(const char* p, bool at_end, std::size_t* keyword_len) {
  static constexpr KeywordWord kSize = MakeKeywordWord("size=", 4, "SIZE");
  static constexpr KeywordWord kSmtputf8 = MakeKeywordWord("smtputf8", 8, "SMTPUTF8");
  static constexpr KeywordWord kBody = MakeKeywordWord("body=", 4, "BODY");
  static constexpr KeywordWord kRet = MakeKeywordWord("ret=", 3, "RET");
  static constexpr KeywordWord kEnvid = MakeKeywordWord("envid=", 5, "ENVID");
  static constexpr KeywordWord kAuth = MakeKeywordWord("auth=", 4, "AUTH");
  static constexpr KeywordWord kNotify = MakeKeywordWord("notify=", 6, "NOTIFY");
  static constexpr KeywordWord kOrcpt = MakeKeywordWord("orcpt=", 5, "ORCPT");
  const std::uint64_t w = internal::Load8(p);
  const KeywordWord* k = nullptr;
  switch (static_cast<char>(w | 0x20)) {
    case 's':
      k = (((w >> 8) | 0x20) & 0xff) == 'i' ? &kSize : &kSmtputf8;
      break;
    case 'b':
      k = &kBody;
      break;
    case 'r':
      k = &kRet;
      break;
    case 'e':
      k = &kEnvid;
      break;
    case 'a':
      k = &kAuth;
      break;
    case 'n':
      k = &kNotify;
      break;
    case 'o':
      k = &kOrcpt;
      break;
    default:
      return nullptr;
  }
  if (((w | k->fold) & k->mask) != k->tag) return nullptr;
  if (k == &kSmtputf8 && !at_end && !IsWsp(p[8])) return nullptr;
  *keyword_len = k->keyword_len;
  return k->info;
}

ParseError Fail(Errc code, std::size_t at, std::string_view reason) {
  return ParseError{code, at, reason};
}

// The value checks below take the value `v` and the offset of v[0] in the
// caller's buffer (`base`), return a ParseError (code kOk when the value is
// valid) and store the decoded value through their last argument: no
// Result<> to build and copy per parameter, and every argument in a register.

// SIZE-value = 1*20DIGIT                                       (RFC 1870 §6)
ParseError CheckSize(std::string_view v, std::size_t base, std::uint64_t* size) {
  constexpr std::size_t kMaxDigits = 20;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (!IsDigit(c)) return Fail(Errc::kBadParamValue, base + i, "RFC 1870 §6 SIZE: not DIGIT");
    if (i == kMaxDigits) {
      return Fail(Errc::kBadParamValue, base + i, "RFC 1870 §6 SIZE: more than 20 digits");
    }
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - 9) / 10 && n > (UINT64_MAX - d) / 10) {
      return Fail(Errc::kBadParamValue, base + i, "RFC 1870 §6 SIZE: exceeds 2^64-1");
    }
    n = n * 10 + d;
  }
  *size = n;
  return ParseError{};
}

// body-value = "7BIT" / "8BITMIME" / "BINARYMIME"    (RFC 6152 §3, RFC 3030 §3)
// ret-value = "FULL" / "HDRS"                                  (RFC 3461 §4.3)
// The value is already esmtp-value (%d33-60 / %d62-126, or UTF-8), so its
// octets fold exactly with | 0x20 (command_chars.h LoadFolded4: letters onto
// lower case; a digit's only alias is a control): one compare per word.
BodyType BodyOf(std::string_view v) {
  using internal::LoadFolded4;
  using internal::Tag4;
  const char* p = v.data();
  switch (v.size()) {  // one candidate per length
    case 4:
      return LoadFolded4(p) == Tag4("7bit") ? BodyType::k7Bit : BodyType::kNone;
    case 8:
      return LoadFolded4(p) == Tag4("8bit") && LoadFolded4(p + 4) == Tag4("mime")
                 ? BodyType::k8BitMime
                 : BodyType::kNone;
    case 10:
      return LoadFolded4(p) == Tag4("bina") && LoadFolded4(p + 4) == Tag4("rymi") &&
                     LoadFolded4(p + 6) == Tag4("mime")
                 ? BodyType::kBinaryMime
                 : BodyType::kNone;
    default:
      return BodyType::kNone;
  }
}

RetType RetOf(std::string_view v) {
  if (v.size() != 4) return RetType::kNone;
  const std::uint32_t w = internal::LoadFolded4(v.data());
  if (w == internal::Tag4("full")) return RetType::kFull;
  if (w == internal::Tag4("hdrs")) return RetType::kHdrs;
  return RetType::kNone;
}

// notify-esmtp-value  = "NEVER" / 1#notify-list-element
// notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"        (RFC 3461 §4.1)
// (1#x is RFC 822's comma list: x *("," x), no empty elements here.)
ParseError CheckNotify(std::string_view v, std::size_t base, std::uint8_t* notify) {
  using internal::LoadFolded4;
  using internal::Tag4;
  std::uint8_t bits = 0;
  std::size_t pos = 0;
  for (;;) {
    // The element ends at the next "," or the end. Only elements of 5 or 7
    // letters can be valid, so instead of searching for the comma each is
    // tried where it would end: a 5-letter name followed by "," or the end
    // holds no comma, so it is the whole element (and likewise for 7);
    // anything else is an error at the element's start. Letters compare as
    // folded words (command_chars.h: exact for letters).
    const std::size_t rest = v.size() - pos;
    const char* e = v.data() + pos;
    std::uint8_t bit = 0;
    std::size_t len = 0;
    if (rest >= 5 && (rest == 5 || e[5] == ',')) {
      const std::uint32_t w = LoadFolded4(e);
      const char last = static_cast<char>(e[4] | 0x20);
      if (w == Tag4("neve") && last == 'r') bit = kNotifyNever;
      if (w == Tag4("dela") && last == 'y') bit = kNotifyDelay;
      len = 5;
    }
    if (bit == 0 && rest >= 7 && (rest == 7 || e[7] == ',')) {
      const std::uint32_t head = LoadFolded4(e);
      const std::uint32_t tail = LoadFolded4(e + 3);  // octets 3-6
      if (head == Tag4("succ") && tail == Tag4("cess")) bit = kNotifySuccess;
      if (head == Tag4("fail") && tail == Tag4("lure")) bit = kNotifyFailure;
      len = 7;
    }
    if (bit == 0) {
      return Fail(Errc::kBadParamValue, base + pos,
                  "RFC 3461 §4.1 NOTIFY: expected NEVER, SUCCESS, FAILURE or DELAY");
    }
    if ((bit == kNotifyNever && bits != 0) || (bits & kNotifyNever)) {
      return Fail(Errc::kBadParamValue, base + pos,
                  "RFC 3461 §4.1 NOTIFY: NEVER cannot be combined with other values");
    }
    bits |= bit;
    if (pos + len == v.size()) {
      *notify = bits;
      return ParseError{};
    }
    pos += len + 1;
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
ParseError CheckOrcpt(std::string_view v, std::size_t base, Orcpt* orcpt) {
  std::size_t i = 0;
  while (i < v.size() && IsAtomChar822(v[i])) ++i;
  if (i == 0) {
    return Fail(Errc::kBadParamValue, base, "RFC 3461 §4.2 ORCPT: addr-type must be an atom");
  }
  if (i == v.size() || v[i] != ';') {
    return Fail(Errc::kBadParamValue, base + i,
                "RFC 3461 §4.2 ORCPT: expected \";\" after addr-type");
  }
  const std::string_view addr = v.substr(i + 1);
  const std::size_t bad = FindInvalidXtext(addr);
  if (bad != addr.size()) {
    return Fail(Errc::kBadXtext, base + i + 1 + bad, "RFC 3461 §4 xtext: invalid octet");
  }
  *orcpt = Orcpt{v.substr(0, i), addr};
  return ParseError{};
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
      std::uint8_t x = 0;
      std::uint8_t y = 0;
      if (CheckNotify(a, 0, &x).code == Errc::kOk && CheckNotify(b, 0, &y).code == Errc::kOk) {
        return x == y;
      }
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
// The parameter's fields come as values, not re-read from the EsmtpParam just
// written (a 16-octet reload of a view stored in halves stalls).
ParseError CheckKnown(ParamKeyword kind, bool has_value, std::string_view value, std::size_t kw_end,
                      std::size_t v_base, EsmtpParams& out) {
  if (kind == ParamKeyword::kSmtputf8) {
    if (has_value) {
      return Fail(Errc::kUnexpectedParamValue, kw_end,
                  "RFC 6531 §3.4: SMTPUTF8 does not accept a value");
    }
    out.smtputf8 = true;
    return ParseError{};
  }
  if (!has_value) {
    return Fail(Errc::kMissingParamValue, kw_end, "esmtp-param: keyword requires \"=\" value");
  }
  switch (kind) {
    case ParamKeyword::kSize: {
      std::uint64_t n = 0;
      if (ParseError e = CheckSize(value, v_base, &n); e.code != Errc::kOk) return e;
      out.size = n;
      break;
    }
    case ParamKeyword::kBody:
      out.body = BodyOf(value);
      if (out.body == BodyType::kNone) {
        return Fail(Errc::kBadParamValue, v_base,
                    "RFC 6152 §3 / RFC 3030 §3 BODY: expected 7BIT, 8BITMIME or BINARYMIME");
      }
      break;
    case ParamKeyword::kRet:
      out.ret = RetOf(value);
      if (out.ret == RetType::kNone) {
        return Fail(Errc::kBadParamValue, v_base, "RFC 3461 §4.3 RET: expected FULL or HDRS");
      }
      break;
    case ParamKeyword::kEnvid:
    case ParamKeyword::kAuth: {
      // RFC 4954 §5: AUTH = xtext / "<>"; "<>" is itself valid xtext.
      const std::size_t bad = FindInvalidXtext(value);
      if (bad != value.size()) {
        return Fail(Errc::kBadXtext, v_base + bad, "RFC 3461 §4 xtext: invalid octet");
      }
      if (kind == ParamKeyword::kEnvid) {
        if (value.size() > kMaxEnvid) {
          return Fail(Errc::kBadParamValue, v_base + kMaxEnvid,
                      "RFC 3461 §4.4 ENVID: longer than 100 characters");
        }
        out.envid = value;
      } else {
        out.auth = value;
      }
      break;
    }
    case ParamKeyword::kNotify:
      return CheckNotify(value, v_base, &out.notify);
    case ParamKeyword::kOrcpt: {
      Orcpt o;
      if (ParseError e = CheckOrcpt(value, v_base, &o); e.code != Errc::kOk) return e;
      out.orcpt_type = o.type;
      out.orcpt_addr = o.addr;
      break;
    }
    default:
      break;
  }
  return ParseError{};
}

}  // namespace

void EsmtpParams::Clear() {
  // Every field from `count` on: the items come first.
  internal::ResetBytes<EsmtpParams, offsetof(EsmtpParams, count), sizeof(EsmtpParams)>(this);
}

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

Result<EsmtpParams> ParseEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                     const Limits& limits, std::size_t base_offset,
                                     Leniencies* deviations, bool utf8) {
  EsmtpParams out;
  const ParseError e =
      ParseEsmtpParamsInto(in, ctx, leniencies, limits, base_offset, deviations, utf8, &out);
  if (e.code != Errc::kOk) return e;
  return out;
}

// Mail-parameters = esmtp-param *(SP esmtp-param)
// Rcpt-parameters = esmtp-param *(SP esmtp-param)
// esmtp-param     = esmtp-keyword ["=" esmtp-value]
// esmtp-keyword   = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
// esmtp-value     = 1*(%d33-60 / %d62-126)                     (§4.1.2)
// esmtp-value     =/ UTF8-non-ascii                            (RFC 6531 §3.3)
ParseError ParseEsmtpParamsInto(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                const Limits& limits, std::size_t base_offset,
                                Leniencies* deviations, bool utf8, EsmtpParams* out) {
  out->Clear();
  return internal::ParseClearedEsmtpParams(in, ctx, leniencies, limits, base_offset, deviations,
                                           utf8, out);
}

ParseError internal::ParseClearedEsmtpParams(std::string_view in, ParamContext ctx,
                                             Leniencies leniencies, const Limits& limits,
                                             std::size_t base_offset, Leniencies* deviations,
                                             bool utf8, EsmtpParams* result) {
  EsmtpParams& out = *result;
  Leniencies fired = kStrict;
  const std::size_t max_params = std::min(limits.esmtp_params, kMaxEsmtpParams);
  // UTF-8 values need SMTPUTF8: the caller's, or on MAIL the list's own
  // keyword. The list is searched for that keyword only once a value holds
  // an 8-bit octet.
  bool utf8_values = utf8;
  bool utf8_known = utf8 || ctx != ParamContext::kMail;
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
  std::uint32_t known_seen = 0;  // 1 << ParamKeyword of each known keyword so far

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
    // A known keyword is matched as one word where eight octets (and, after
    // SMTPUTF8, the next one) are there; any other keyword octet by octet.
    const KeywordInfo* info = nullptr;
    std::size_t keyword_len = 0;
    if (n - i >= 8) info = MatchKeywordWord(in.data() + i, n - i == 8, &keyword_len);
    i = info != nullptr ? i + keyword_len : internal::SkipClass(in, i + 1, internal::kKeywordBit);
    const std::string_view keyword = in.substr(kw_start, i - kw_start);
    std::string_view value;
    bool has_value = false;
    const std::size_t kw_end = i;
    std::size_t v_start = i;
    if (i < n && in[i] == '=') {
      has_value = true;
      v_start = ++i;
      for (;;) {
        i = internal::SkipPrintableExcept(in, i, "=", internal::kValueBit);
        if (i == n || IsWsp(in[i])) break;
        if (IsHigh(in[i])) {
          if (!utf8_known) {
            utf8_values = HasSmtputf8Param(in);
            utf8_known = true;
          }
          if (utf8_values) {
            const std::size_t len = internal::Utf8SequenceLength(in, i);
            if (len == 0) {
              return Fail(Errc::kBadUtf8, at(i), "RFC 3629 §4: ill-formed UTF-8 sequence");
            }
            i += len;
            continue;
          }
        }
        return bad_octet(Errc::kBadParamSyntax, i,
                         "RFC 5321 §4.1.2 esmtp-value: octet outside %d33-60 / %d62-126");
      }
      if (i == v_start) {
        return Fail(Errc::kBadParamSyntax, at(i), "RFC 5321 §4.1.2 esmtp-value: empty");
      }
      value = in.substr(v_start, i - v_start);
    } else if (i < n && !IsWsp(in[i])) {
      return bad_octet(Errc::kBadParamSyntax, i,
                       "RFC 5321 §4.1.2 esmtp-keyword: octet not ALPHA / DIGIT / \"-\"");
    }

    if (info == nullptr) info = FindKeyword(keyword);
    const ParamKeyword kind = info != nullptr ? info->kind : ParamKeyword::kUnknown;
    if (info != nullptr) {
      if (info->ctx != ctx) {
        return Fail(Errc::kParamNotAllowed, at(kw_start),
                    ctx == ParamContext::kMail ? "parameter is valid on RCPT only"
                                               : "parameter is valid on MAIL only");
      }
    }
    // A known keyword equals (in any case) only its own spelling, so known
    // keywords are compared by kind and unknown ones by text.
    bool repeated = false;
    if (info != nullptr) {
      const std::uint32_t bit = 1u << static_cast<unsigned>(kind);
      repeated = (known_seen & bit) != 0;
      known_seen |= bit;
    } else {
      for (const EsmtpParam& prev : out) {
        if (prev.kind == ParamKeyword::kUnknown && EqualsIgnoreCase(prev.keyword, keyword)) {
          repeated = true;
          break;
        }
      }
    }
    if (repeated) return Fail(Errc::kDuplicateParam, at(kw_start), "esmtp-param: keyword repeated");
    if (info != nullptr) {
      if (ParseError e = CheckKnown(kind, has_value, value, at(kw_end), at(v_start), out);
          e.code != Errc::kOk) {
        return e;
      }
    } else {
      out.has_unknown = true;
    }
    // Field by field: GCC builds a braced temporary on the stack and copies it
    // with 16-octet loads that stall on store forwarding.
    EsmtpParam& slot = out.items[out.count++];
    slot.keyword = keyword;
    slot.value = value;
    slot.has_value = has_value;
    slot.kind = kind;

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
  return ParseError{};
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
        std::uint8_t bits = 0;
        if (CheckNotify(e.value, 0, &bits).code == Errc::kOk) {
          AppendNotify(bits, out);
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

std::string_view ParamKeywordName(ParamKeyword k) {
  switch (k) {
    case ParamKeyword::kUnknown:
      return "unknown";
    case ParamKeyword::kSize:
      return "size";
    case ParamKeyword::kBody:
      return "body";
    case ParamKeyword::kSmtputf8:
      return "smtputf8";
    case ParamKeyword::kRet:
      return "ret";
    case ParamKeyword::kEnvid:
      return "envid";
    case ParamKeyword::kAuth:
      return "auth";
    case ParamKeyword::kNotify:
      return "notify";
    case ParamKeyword::kOrcpt:
      return "orcpt";
  }
  return "unknown";
}

}  // namespace smtp
