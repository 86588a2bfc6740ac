// Decoding the EHLO reply into the set of service extensions a server
// advertises (RFC 5321 §4.1.1.1, §2.2.2), with typed fields for the
// extensions the harness drives. Decoding never fails: a malformed ehlo-line
// is kept, flagged, and the rest of the reply is still decoded.
#ifndef SMTP_PARSER_EXTENSIONS_H_
#define SMTP_PARSER_EXTENSIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/reply.h"

namespace smtp {

// One ehlo-line that has no typed field below, or that broke the grammar.
struct EhloExtension {
  std::string keyword;              // as sent (case kept)
  std::vector<std::string> params;  // ehlo-params in order
  // The line is not ehlo-keyword *( SP ehlo-param ): bad keyword characters,
  // HT or doubled / trailing SP, octets outside %d33-126 in a param. The
  // tokens above are then the SP/HT-separated words of the line.
  bool malformed = false;
  // The keyword is known but its params are wrong for it ("SIZE abc",
  // "PIPELINING x", "AUTH" with no mechanism). The typed field still records
  // that the keyword was advertised.
  bool bad_params = false;

  friend bool operator==(const EhloExtension&, const EhloExtension&) = default;
};

struct ExtensionSet {
  bool ok = false;            // the reply was 250 (otherwise nothing else is set)
  std::string domain;         // Domain on the first line
  std::string greeting;       // ehlo-greet after it ("" if none)
  bool bad_greeting = false;  // first line without a Domain

  // RFC 1870 SIZE. size_advertised without size: "SIZE" with no number, i.e.
  // no limit declared. A declared 0 also means "no fixed maximum" (§4).
  bool size_advertised = false;
  std::optional<std::uint64_t> size;

  // RFC 4954 AUTH mechanisms in order of first appearance, merged from
  // "AUTH a b" and the pre-standard "AUTH=a b" lines (deduplicated,
  // case-insensitively).
  std::vector<std::string> auth;
  bool auth_old_style = false;  // an "AUTH=" line was seen

  bool pipelining = false;           // RFC 2920
  bool chunking = false;             // RFC 3030
  bool binarymime = false;           // RFC 3030
  bool smtputf8 = false;             // RFC 6531
  bool eightbitmime = false;         // RFC 6152
  bool dsn = false;                  // RFC 3461
  bool starttls = false;             // RFC 3207
  bool enhancedstatuscodes = false;  // RFC 2034

  // Everything else (VRFY, ETRN, XCLIENT, DELIVERBY, ...) and every flagged
  // line, in order.
  std::vector<EhloExtension> others;

  // Upper-cased keywords of every well-formed ehlo-line, each once, in order
  // ("AUTH=..." lines count as AUTH).
  std::vector<std::string> keywords;
  // Upper-cased keywords that appeared on more than one line, each once.
  std::vector<std::string> duplicates;

  // Whether `keyword` (any case) was advertised on a well-formed line.
  bool Has(std::string_view keyword) const;

  friend bool operator==(const ExtensionSet&, const ExtensionSet&) = default;
};

// ehlo-ok-rsp = ( "250" SP Domain [ SP ehlo-greet ] CRLF )
//             / ( "250-" Domain [ SP ehlo-greet ] CRLF
//                 *( "250-" ehlo-line CRLF )
//                 "250" SP ehlo-line CRLF )               (RFC 5321 §4.1.1.1)
// ehlo-line    = ehlo-keyword *( SP ehlo-param )
// ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
// ehlo-param   = 1*(%d33-126)
//
// Keywords are case-insensitive (§2.4). When a keyword is repeated, it is
// listed in `duplicates` and its later line overrides typed values (SIZE);
// AUTH mechanisms accumulate. A reply code other than 250 gives a set with
// ok == false and nothing else.
ExtensionSet DecodeEhlo(const Reply& reply);

}  // namespace smtp

#endif  // SMTP_PARSER_EXTENSIONS_H_
