// Reverse-path and Forward-path of RFC 5321 §4.1.2, with RFC 6531 (SMTPUTF8)
// UTF-8 local-parts and domains. Pure functions over std::string_view: the
// returned Path holds views into the caller's buffer and allocates nothing.
#ifndef SMTP_PARSER_PATH_H_
#define SMTP_PARSER_PATH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/result.h"

namespace smtp {

// What the Domain part of a Mailbox is.
enum class DomainKind : std::uint8_t {
  kNone,            // null path or <Postmaster>
  kName,            // Domain: sub-domain *("." sub-domain), incl. U-labels
  kIpv4Literal,     // "[" IPv4-address-literal "]"
  kIpv6Literal,     // "[IPv6:" IPv6-addr "]" (any form, incl. IPv6v4)
  kGeneralLiteral,  // "[" Standardized-tag ":" 1*dcontent "]"
};

// Stable name: "none", "name", "ipv4", "ipv6", "general".
std::string_view DomainKindName(DomainKind k);

struct PathOptions {
  Leniencies leniencies = kStrict;
  Limits limits;
  // RFC 6531: UTF-8 is allowed in local-part and domain. The caller sets this
  // when the transaction uses SMTPUTF8 (MAIL carried the SMTPUTF8 parameter).
  bool utf8 = false;
};

// A parsed Reverse-path or Forward-path. All views point into the input.
struct Path {
  std::string_view raw;            // the whole path as written, brackets included
  bool is_null = false;            // "<>" (Reverse-path only)
  bool is_postmaster = false;      // "<Postmaster>" (any case, no domain)
  std::string_view source_route;   // A-d-l without the trailing ":" ("@a,@b"); empty if none
  std::string_view local_part;     // as written; Quoted-string keeps its quotes
  bool quoted_local_part = false;  // local-part is a Quoted-string
  std::string_view domain;         // as written; literals keep their brackets
  DomainKind domain_kind = DomainKind::kNone;
  bool has_utf8 = false;            // any octet >= 0x80 (valid UTF-8) in the path
  Leniencies deviations = kStrict;  // leniencies that fired

  // Semantic equality: same mailbox, same flags (ignores `raw` and `deviations`).
  // Local-part exactly, domain and source_route ASCII case-insensitively,
  // Postmaster in any spelling.
  friend bool operator==(const Path& a, const Path& b);
};

// Reverse-path = Path / "<>"                                  (§4.1.2)
// Parses exactly `in` (no surrounding spaces). Offsets in errors are relative
// to `in` plus `base_offset`.
Result<Path> ParseReversePath(std::string_view in, const PathOptions& opts = {},
                              std::size_t base_offset = 0);

// Forward-path = Path / "<Postmaster>"  (Postmaster case-insensitive) (§4.1.2)
Result<Path> ParseForwardPath(std::string_view in, const PathOptions& opts = {},
                              std::size_t base_offset = 0);

// Mailbox = Local-part "@" ( Domain / address-literal )        (§4.1.2)
// Without angle brackets; fills local_part, domain, domain_kind, has_utf8.
Result<Path> ParseMailbox(std::string_view in, const PathOptions& opts = {},
                          std::size_t base_offset = 0);

// Domain = sub-domain *("." sub-domain)                        (§4.1.2)
// Returns the number of octets consumed from the start of `in` on success.
// Also accepts U-labels when opts.utf8 (RFC 6531 §3.3).
Result<std::size_t> ParseDomain(std::string_view in, const PathOptions& opts = {},
                                std::size_t base_offset = 0);

// ParseDomain plus what it saw: the leniencies that fired (kUnderscoreInDomain,
// kTrailingDotInDomain, kUtf8WithoutSmtputf8) and whether a U-label occurred.
// ParseDomain(in) consumes exactly ScanDomain(in)->size octets.
struct DomainScan {
  std::size_t size = 0;
  bool has_utf8 = false;
  Leniencies deviations = kStrict;
};
Result<DomainScan> ScanDomain(std::string_view in, const PathOptions& opts = {},
                              std::size_t base_offset = 0);

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
//                   General-address-literal ) "]"              (§4.1.3)
// `in` includes the brackets. Returns which kind it is.
Result<DomainKind> ParseAddressLiteral(std::string_view in, std::size_t base_offset = 0);

// Canonical wire form: "<" [A-d-l ":"] Mailbox ">" , "<>" , "<Postmaster>".
std::string SerializePath(const Path& p);

// RFC 3629 UTF-8 validation (no overlongs, no surrogates, <= U+10FFFF).
// Returns the offset of the first invalid octet, or in.size() if valid.
std::size_t FindInvalidUtf8(std::string_view in);

}  // namespace smtp

#endif  // SMTP_PARSER_PATH_H_
