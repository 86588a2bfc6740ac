// SMTP commands: RFC 5321 §4.1.1 and the verbs of STARTTLS (RFC 3207), AUTH
// (RFC 4954), BDAT (RFC 3030), LHLO (RFC 2033) and ETRN (RFC 1985).
// ParseCommand is a pure function over one line; it allocates nothing: the
// Command holds views into that line. ParseCommandInto is the same parse into
// a Command the caller keeps and reuses (no 960-octet value zeroed or copied
// per line): the form for a server's or a harness's hot path.
#ifndef SMTP_PARSER_COMMAND_H_
#define SMTP_PARSER_COMMAND_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "parser/esmtp_params.h"
#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/path.h"
#include "parser/result.h"

namespace smtp {

enum class Verb : std::uint8_t {
  kUnknown,
  kEhlo,
  kHelo,
  kLhlo,
  kMail,
  kRcpt,
  kData,
  kBdat,
  kRset,
  kVrfy,
  kExpn,
  kHelp,
  kNoop,
  kQuit,
  kStarttls,
  kAuth,
  kEtrn,
};

// Upper-case canonical name ("EHLO"); "" for kUnknown.
std::string_view VerbName(Verb v);

// The verb a line's first word names (compared case-insensitively; the word
// ends at SP, HTAB, CR or LF), kUnknown if none: for lines the parser
// refused, or has not seen, whose verb is still wanted.
Verb VerbOfFirstWord(std::string_view line);

struct CommandOptions {
  Leniencies leniencies = kStrict;
  Limits limits;
  // Transaction uses SMTPUTF8 (set by the caller for RCPT after a MAIL that
  // carried SMTPUTF8). MAIL decides from its own parameters.
  bool utf8 = false;
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string_view verb_text;  // as written ("mail", "XCLIENT", ...)
  std::string_view argument;   // everything after verb SP, before CRLF (raw)

  // EHLO / HELO / LHLO: Domain or address-literal. ETRN: node argument.
  // VRFY / EXPN / HELP / NOOP: the String argument (may be empty for HELP/NOOP).
  std::string_view text;
  DomainKind domain_kind = DomainKind::kNone;  // EHLO/HELO/LHLO
  bool smtputf8 = false;  // VRFY / EXPN: trailing SP "SMTPUTF8" (RFC 6531 §3.7.4.2)

  Path path;           // MAIL (Reverse-path) / RCPT (Forward-path)
  EsmtpParams params;  // MAIL / RCPT

  std::string_view auth_mechanism;         // AUTH
  std::string_view auth_initial_response;  // AUTH: base64 or "="; empty if none
  bool has_initial_response = false;

  std::uint64_t chunk_size = 0;  // BDAT
  bool bdat_last = false;        // BDAT ... LAST

  Leniencies deviations = kStrict;  // every leniency that fired, incl. path/params

  // Back to the default-constructed state, cheaply: every field is reset but
  // params.items, whose slots beyond params.count are never read (see
  // EsmtpParams::Clear).
  void Clear();

  // Semantic equality: verb (case-insensitive text for unknown verbs), and the
  // parsed fields. Ignores `argument` spelling and `deviations`.
  friend bool operator==(const Command& a, const Command& b);
};

// Parses one command line. `line` must end with CRLF (or LF / CR alone when
// the matching leniency is set); the terminator is not part of any field.
// Errors carry offsets relative to the start of `line`.
Result<Command> ParseCommand(std::string_view line, const CommandOptions& opts = {});

// ParseCommand into `*out`, which is reset first (to what Command::Clear
// gives) and may be reused from line to line. Returns a ParseError with code
// kOk on success and then `*out` equals, field for field, what ParseCommand
// returns; on error `*out` holds unspecified values, still fit for reuse.
// Allocates nothing.
// The reset skips the path and the parameters' decoded fields when
// `path.raw` is empty and `params.count` is 0 (most lines: 11 fewer stores),
// so it assumes what every Command that default construction, Clear or this
// parse leaves satisfies: with those two empty, the Path and EsmtpParams hold
// only defaults. A caller that writes fields of a Command itself calls
// Clear() before parsing into it again.
ParseError ParseCommandInto(std::string_view line, const CommandOptions& opts, Command* out);

// Canonical wire form including CRLF: upper-case verb, single SP, "FROM:" /
// "TO:" with no SP, canonical path and parameters. For any strict-parsed c:
// ParseCommand(SerializeCommand(c)) == c.
std::string SerializeCommand(const Command& c);

}  // namespace smtp

#endif  // SMTP_PARSER_COMMAND_H_
