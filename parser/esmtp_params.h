// ESMTP parameters on MAIL and RCPT (RFC 5321 §4.1.2 Mail-parameters /
// Rcpt-parameters), decoded and validated for the keywords of SIZE (RFC 1870),
// BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT
// (RFC 3461) and AUTH (RFC 4954). Unknown keywords are kept, syntax-checked
// and flagged. No allocation: values are views into the caller's buffer.
#ifndef SMTP_PARSER_ESMTP_PARAMS_H_
#define SMTP_PARSER_ESMTP_PARAMS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/result.h"

namespace smtp {

enum class ParamKeyword : std::uint8_t {
  kUnknown,
  kSize,      // MAIL  SIZE=1*20DIGIT              (RFC 1870 §6)
  kBody,      // MAIL  BODY=7BIT|8BITMIME|BINARYMIME (RFC 6152 §3, RFC 3030 §3)
  kSmtputf8,  // MAIL  SMTPUTF8 (no value)         (RFC 6531 §3.4)
  kRet,       // MAIL  RET=FULL|HDRS               (RFC 3461 §4.3)
  kEnvid,     // MAIL  ENVID=xtext                 (RFC 3461 §4.4)
  kAuth,      // MAIL  AUTH=xtext / "<>"           (RFC 4954 §5)
  kNotify,    // RCPT  NOTIFY=NEVER / SUCCESS,FAILURE,DELAY (RFC 3461 §4.1)
  kOrcpt,     // RCPT  ORCPT=addr-type ";" xtext   (RFC 3461 §4.2)
};

// Stable lower-case name: "unknown", "size", "body", "smtputf8", "ret",
// "envid", "auth", "notify", "orcpt".
std::string_view ParamKeywordName(ParamKeyword k);

enum class BodyType : std::uint8_t { kNone, k7Bit, k8BitMime, kBinaryMime };
enum class RetType : std::uint8_t { kNone, kFull, kHdrs };
enum NotifyBits : std::uint8_t {
  kNotifyNever = 1,
  kNotifySuccess = 2,
  kNotifyFailure = 4,
  kNotifyDelay = 8,
};

// esmtp-param = esmtp-keyword ["=" esmtp-value]
struct EsmtpParam {
  std::string_view keyword;  // as written
  std::string_view value;    // as written (xtext still encoded)
  bool has_value = false;    // "=" present
  ParamKeyword kind = ParamKeyword::kUnknown;
  friend bool operator==(const EsmtpParam& a, const EsmtpParam& b);  // keyword case-insensitive
};

// The decoded view of a parameter list. Fields not present keep defaults.
struct EsmtpParams {
  std::array<EsmtpParam, kMaxEsmtpParams> items{};
  std::size_t count = 0;

  std::optional<std::uint64_t> size;  // SIZE
  BodyType body = BodyType::kNone;
  bool smtputf8 = false;
  RetType ret = RetType::kNone;
  std::string_view envid;       // xtext, encoded
  std::string_view auth;        // xtext or "<>", encoded
  std::uint8_t notify = 0;      // NotifyBits
  std::string_view orcpt_type;  // addr-type (e.g. "rfc822")
  std::string_view orcpt_addr;  // xtext, encoded
  bool has_unknown = false;     // at least one kUnknown keyword

  // Back to the empty list, cheaply: resets `count` and the decoded fields
  // but leaves items[count..] as they are (never read). Lets a caller reuse
  // one EsmtpParams per line without zeroing the array.
  void Clear();

  const EsmtpParam* begin() const { return items.data(); }
  const EsmtpParam* end() const { return items.data() + count; }
  friend bool operator==(const EsmtpParams& a, const EsmtpParams& b);  // same params in order
};

enum class ParamContext : std::uint8_t { kMail, kRcpt };

// Mail-parameters = esmtp-param *(SP esmtp-param)              (§4.1.2)
// `in` is the text after the path's ">" and its separating SP (may be empty).
// Errors: kBadParamSyntax, kDuplicateParam, kBadParamValue, kMissingParamValue,
// kUnexpectedParamValue, kBadXtext, kTooManyParams, kParamNotAllowed.
// `deviations` receives leniency bits that fired (kExtraWhitespace, ...).
Result<EsmtpParams> ParseEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                     const Limits& limits, std::size_t base_offset,
                                     Leniencies* deviations);

// As above; `utf8` admits UTF8-non-ascii in esmtp-value (RFC 6531 §3.3: the
// caller sets it when the transaction uses SMTPUTF8). On MAIL, the list's own
// SMTPUTF8 keyword also admits it. The overload above passes utf8 = false.
// Octets outside the grammar: kEightBit, kControlChar, kBadUtf8 (with utf8).
Result<EsmtpParams> ParseEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                     const Limits& limits, std::size_t base_offset,
                                     Leniencies* deviations, bool utf8);

// As above, into `*out`, which is cleared first (EsmtpParams::Clear): the
// in-place form for callers that reuse one EsmtpParams (no 750-octet array is
// zeroed or copied). Returns a ParseError with code kOk on success; on error
// `*out` holds unspecified partial values and `deviations` is not touched.
ParseError ParseEsmtpParamsInto(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                const Limits& limits, std::size_t base_offset,
                                Leniencies* deviations, bool utf8, EsmtpParams* out);

// True when the SP/HTAB-separated list `in` holds a bare SMTPUTF8 keyword
// (any case). Lets MAIL decide the path's UTF-8 mode before parsing the list.
bool HasSmtputf8Param(std::string_view in);

// RFC 3461 §4.4: the ENVID value (as written, xtext-encoded) is at most 100
// characters.
inline constexpr std::size_t kMaxEnvid = 100;

// xtext = *( xchar / hexchar )   hexchar = "+" 2(%x30-39 / %x41-46)  (RFC 3461 §4)
// Returns the offset of the first invalid octet, or in.size() if valid.
std::size_t FindInvalidXtext(std::string_view in);
// Decodes valid xtext (call FindInvalidXtext first).
std::string DecodeXtext(std::string_view in);
// Encodes arbitrary octets as xtext.
std::string EncodeXtext(std::string_view in);

// Canonical wire form: " KEY=VALUE" for each parameter, keywords upper-case.
void AppendEsmtpParams(const EsmtpParams& p, std::string* out);

}  // namespace smtp

#endif  // SMTP_PARSER_ESMTP_PARAMS_H_
