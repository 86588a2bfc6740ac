// The SMTP grammar pieces the session mutator (fuzz/net/mutator.h) draws
// from: verbs, domains, paths, ESMTP parameters, boundary numbers, AUTH
// exchanges, message bodies and smuggling sequences. Each generator returns
// a valid form most of the time and an invalid or boundary one otherwise, so
// that mutated sessions mostly get past MAIL and RCPT and still probe the
// edges. Internal to the mutator; standard library and parser/ only.
#ifndef SMTP_FUZZ_NET_MUTATOR_GRAMMAR_H_
#define SMTP_FUZZ_NET_MUTATOR_GRAMMAR_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/net/rng.h"
#include "results/session_input.h"

namespace smtp::fuzz {

namespace grammar {

// The verbs parser/command.h knows ("EHLO" ... "ETRN"), from VerbName.
const std::vector<std::string_view>& KnownVerbs();
// A verb: mostly a known one, else an unknown or misspelt one.
std::string Verb(Rng& rng);
// `word` in lower, upper, or random mixed case.
std::string ChangeCase(std::string_view word, Rng& rng);

std::string Domain(Rng& rng);           // "a.example", "[127.0.0.1]", "[IPv6:::1]", UTF-8, ...
std::string HeloArgument(Rng& rng);     // Domain, or empty / junk
std::string HostileText(Rng& rng);      // format directives, traversal, a long run...
std::string Mailbox(Rng& rng);          // local@domain, quoted, UTF-8, long
std::string Path(Rng& rng, bool mail);  // "<a@b>", "<>" (MAIL), source routes, broken forms
std::string Number(Rng& rng);           // 0, 1, 999, 1000, 4294967295, 2^64, 30 digits, ...
std::string MailParam(Rng& rng);        // SIZE=, BODY=, SMTPUTF8, RET=, ENVID=, AUTH=, unknown
std::string RcptParam(Rng& rng);        // NOTIFY=, ORCPT=, unknown
// A parameter a server with the matching extension accepts (RFC 1870 SIZE,
// RFC 6152 BODY, RFC 3461 RET/ENVID/NOTIFY/ORCPT, RFC 6531 SMTPUTF8, RFC
// 4954 AUTH): the valid values only, so a transaction stays deep.
std::string ValidMailParam(Rng& rng);
std::string ValidRcptParam(Rng& rng);
std::string Base64(std::string_view in);

// One command line of `verb` with a fitting argument (no line end).
std::string CommandFor(std::string_view verb, Rng& rng);
// One command line with a random verb.
std::string AnyCommand(Rng& rng);

// An AUTH exchange: the AUTH command and its continuation lines, each a
// command step (PLAIN, LOGIN, CRAM-MD5, "*" cancel, bad base64, ...).
std::vector<SessionStep> AuthExchange(Rng& rng);

// A short message body with CRLF line ends ("Subject: ..." CRLF CRLF text).
std::string Body(Rng& rng);
// A line to put into a body: starting with '.', 8-bit, NUL, bare CR/LF, ...
std::string BodyLine(Rng& rng);
// An end-of-data look-alike: "\n.\n", "\r\n.\n", "\n.\r\n", "\r.\r", ...
std::string_view SmuggleSequence(Rng& rng);
// The commands a smuggling payload carries after the sequence (CRLF ends).
std::string SmuggledCommands(Rng& rng);

// The first word of a command line ("MAIL" of "MAIL FROM:<a@b>").
std::string_view FirstWord(std::string_view line);
// A command step whose first word is `verb` in any case.
bool IsVerb(const SessionStep& step, std::string_view verb);

// Tokens for the dictionary operator besides MutatorOptions::dictionary.
const std::vector<std::string_view>& BuiltinTokens();

}  // namespace grammar
}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_MUTATOR_GRAMMAR_H_
