// The one error type of the parser: a stable code, the byte offset where the
// input went wrong, and a reason that names the RFC rule.
//
// Codes are stable: they appear in JSON output and test goldens. Append new
// codes at the end of their block; never renumber or reuse one.
#ifndef SMTP_PARSER_PARSE_ERROR_H_
#define SMTP_PARSER_PARSE_ERROR_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace smtp {

enum class Errc : std::uint16_t {
  kOk = 0,
  // The input ends before the value does. The only resumable condition: feed
  // more bytes and try again.
  kNeedMore = 1,

  // --- 100: line framing (RFC 5321 §2.3.8, §4.5.3.1) ---
  kLineTooLong = 100,  // line exceeds its limit (§4.5.3.1.4/.5/.6)
  kBareLf = 101,       // LF not preceded by CR (§2.3.8)
  kBareCr = 102,       // CR not followed by LF (§2.3.8)
  kNulByte = 103,      // NUL octet in a line
  kEightBit = 104,     // octet >= 0x80 where 7-bit is required (§2.4)
  kControlChar = 105,  // other control character where the grammar forbids it

  // --- 200: commands (§4.1.1, §4.1.2) ---
  kEmptyCommand = 200,        // line holds no verb
  kBadVerb = 201,             // verb is not 1*ALPHA-like keyword text
  kMissingSpace = 202,        // SP required between verb and argument
  kUnexpectedArgument = 203,  // command takes no argument (DATA, RSET, QUIT, STARTTLS)
  kMissingArgument = 204,     // required argument absent (EHLO domain, VRFY string, ...)
  kBadFromTo = 205,           // "FROM:" / "TO:" missing or misspelt
  kTrailingGarbage = 206,     // bytes after a complete command
  kBadDomainArg = 207,        // EHLO/HELO/LHLO argument is not a Domain / address-literal
  kBadAuthMechanism = 208,    // RFC 4954 sasl-mech syntax
  kBadInitialResponse = 209,  // RFC 4954 initial-response is not base64 or "="
  kBadChunkSize = 210,        // RFC 3030 chunk-size is not 1*DIGIT or overflows
  kBadBdatLast = 211,         // RFC 3030 end-marker is not "LAST"
  kBadEtrnArg = 212,          // RFC 1985 node-name
  kBadString = 213,           // VRFY/EXPN/HELP/NOOP String / Atom
  kMissingCrlf = 214,         // ParseCommand given a line without its CRLF

  // --- 300: paths and mailboxes (§4.1.2) ---
  kMissingAngle = 300,       // Path without "<" ... ">"
  kEmptyPath = 301,          // "<>" where a Forward-path is required
  kBadLocalPart = 302,       // Dot-string / Quoted-string syntax
  kBadQuotedPair = 303,      // quoted-pairSMTP outside %d32-126
  kBadDomain = 304,          // sub-domain / Let-dig / Ldh-str
  kBadAddressLiteral = 305,  // "[" ... "]" content
  kBadIpv4 = 306,            // IPv4-address-literal
  kBadIpv6 = 307,            // IPv6-address-literal
  kBadGeneralLiteral = 308,  // General-address-literal
  kBadSourceRoute = 309,     // A-d-l syntax
  kLocalPartTooLong = 310,   // §4.5.3.1.1
  kDomainTooLong = 311,      // §4.5.3.1.2
  kPathTooLong = 312,        // §4.5.3.1.3
  kMissingAt = 313,          // Mailbox without "@" Domain (other than Postmaster)
  kBadUtf8 = 314,            // RFC 6531 / RFC 3629 invalid UTF-8
  kUtf8NotAllowed = 315,     // UTF-8 without the SMTPUTF8 option

  // --- 400: ESMTP parameters (§4.1.2 Mail-parameters, extensions) ---
  kBadParamSyntax = 400,        // esmtp-keyword ["=" esmtp-value] syntax
  kDuplicateParam = 401,        // same keyword twice
  kBadParamValue = 402,         // value invalid for a known keyword
  kMissingParamValue = 403,     // known keyword needs "=" value
  kUnexpectedParamValue = 404,  // known keyword takes no value (SMTPUTF8)
  kBadXtext = 405,              // RFC 3461 §4 xtext
  kTooManyParams = 406,         // more than Limits::esmtp_params
  kParamNotAllowed = 407,       // keyword valid only on the other command (e.g. NOTIFY on MAIL)

  // --- 500: replies (§4.2) ---
  kBadReplyCode = 500,       // not 3 digits %x32-35 %x30-35 %x30-39
  kBadReplySeparator = 501,  // after the code: not SP, "-" or CRLF
  kInconsistentCode = 502,   // multiline reply lines disagree on the code
  kTooManyReplyLines = 503,  // Limits::reply_lines
  kReplyTooLarge = 504,      // Limits::reply_bytes
  kBadEnhancedCode = 505,    // RFC 3463 status-code syntax
  kBadReplyText = 506,       // textstring outside HT / %d32-126 (strict)

  // --- 600: DATA and BDAT bodies (§4.5.2, RFC 3030) ---
  kDataLineTooLong = 600,  // text line over Limits::text_line
  kBdatOverrun = 601,      // more bytes than the chunk announced
  kDataEnded = 602,        // bytes fed after end of data
};

// A rejection: what went wrong (code), where (offset of the first offending
// octet, counted from the start of the input given to the parser or from the
// first byte ever fed to a reader) and why (a static string naming the rule).
struct ParseError {
  Errc code = Errc::kOk;
  std::size_t offset = 0;
  std::string_view reason;  // points to static storage

  friend bool operator==(const ParseError&, const ParseError&) = default;
};

// Stable snake_case name of a code, e.g. "bare_lf". Never empty.
std::string_view ErrcName(Errc code);

}  // namespace smtp

#endif  // SMTP_PARSER_PARSE_ERROR_H_
