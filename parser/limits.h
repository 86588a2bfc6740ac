// Named size limits of RFC 5321 §4.5.3.1 and the bounds this parser keeps on
// everything else. Every limit is overridable through `Limits`; exceeding one
// is an error, never a silent truncation.
#ifndef SMTP_PARSER_LIMITS_H_
#define SMTP_PARSER_LIMITS_H_

#include <cstddef>

namespace smtp {

// RFC 5321 §4.5.3.1.1: "The maximum total length of a user name or other
// local-part is 64 octets."
inline constexpr std::size_t kMaxLocalPart = 64;
// §4.5.3.1.2: "The maximum total length of a domain name or number is 255
// octets."
inline constexpr std::size_t kMaxDomain = 255;
// RFC 1035 §2.3.4: "labels 63 octets or less" (one sub-domain of a Domain;
// RFC 5321 §2.3.5 names domains as DNS does). Fixed: not part of Limits.
inline constexpr std::size_t kMaxDomainLabel = 63;
// §4.5.3.1.3: "The maximum total length of a reverse-path or forward-path is
// 256 octets (including the punctuation and element separators)."
inline constexpr std::size_t kMaxPath = 256;
// §4.5.3.1.4: "The maximum total length of a command line including the
// command word and the <CRLF> is 512 octets."
inline constexpr std::size_t kMaxCommandLine = 512;
// §4.5.3.1.5: "The maximum total length of a reply line including the reply
// code and the <CRLF> is 512 octets."
inline constexpr std::size_t kMaxReplyLine = 512;
// §4.5.3.1.6: "The maximum total length of a text line including the <CRLF>
// is 1000 octets (not counting the leading dot duplicated for transparency)."
inline constexpr std::size_t kMaxTextLine = 1000;
// §4.5.3.1.8: at least 100 recipients must be buffered.
inline constexpr std::size_t kMinRecipients = 100;

// Our own bounds (no RFC number): they keep memory finite on hostile input.
inline constexpr std::size_t kMaxReplyLines = 256;        // lines of one multiline reply
inline constexpr std::size_t kMaxReplyBytes = 64 * 1024;  // bytes of one multiline reply
inline constexpr std::size_t kMaxEsmtpParams = 16;        // parameters on one MAIL/RCPT
inline constexpr std::size_t kMaxAuthLine = 12288;        // RFC 4954 §4: AUTH line may exceed 512

// The limits a reader or parser applies. Defaults are the RFC values; a
// caller may raise or lower any of them (e.g. to test a server's tolerance).
struct Limits {
  std::size_t command_line = kMaxCommandLine;  // includes CRLF
  std::size_t text_line = kMaxTextLine;        // includes CRLF
  std::size_t reply_line = kMaxReplyLine;      // includes CRLF
  std::size_t local_part = kMaxLocalPart;
  std::size_t domain = kMaxDomain;
  std::size_t path = kMaxPath;  // includes the angle brackets
  std::size_t reply_lines = kMaxReplyLines;
  std::size_t reply_bytes = kMaxReplyBytes;
  std::size_t esmtp_params = kMaxEsmtpParams;  // must be <= kMaxEsmtpParams
};

}  // namespace smtp

#endif  // SMTP_PARSER_LIMITS_H_
