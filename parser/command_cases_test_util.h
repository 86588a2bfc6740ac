// The command parser's test tables (command_test.cc, command_leniency_test.cc),
// shared with command_stream_test.cc, which runs every line of them through
// ParseNextCommand against LineReader + ParseCommandInto. Test-only.
#ifndef SMTP_PARSER_COMMAND_CASES_TEST_UTIL_H_
#define SMTP_PARSER_COMMAND_CASES_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "parser/command.h"
#include "parser/parse_error.h"

namespace smtp::testing {

struct OkCase {
  std::string line;
  std::string golden;
  Leniencies leniencies = kStrict;
  Leniencies deviations = kStrict;
  bool utf8 = false;
  std::string canonical = "";  // SerializeCommand output when it is not `line`
};

// Strict lines that parse. Every one also parses identically with every
// leniency enabled, and no leniency fires.
inline const std::vector<OkCase>& StrictCases() {
  static const std::vector<OkCase> cases = {
      // RFC 5321 Appendix D.1 - D.4 client commands.
      {"EHLO bar.com\r\n", "EHLO domain=bar.com kind=name"},
      {"MAIL FROM:<Smith@bar.com>\r\n",
       "MAIL <Smith@bar.com> local=Smith domain=bar.com kind=name"},
      {"RCPT TO:<Jones@foo.com>\r\n", "RCPT <Jones@foo.com> local=Jones domain=foo.com kind=name"},
      {"RCPT TO:<Green@foo.com>\r\n", "RCPT <Green@foo.com> local=Green domain=foo.com kind=name"},
      {"RCPT TO:<Brown@foo.com>\r\n", "RCPT <Brown@foo.com> local=Brown domain=foo.com kind=name"},
      {"DATA\r\n", "DATA"},
      {"RSET\r\n", "RSET"},
      {"QUIT\r\n", "QUIT"},
      {"EHLO foo.com\r\n", "EHLO domain=foo.com kind=name"},
      {"MAIL FROM:<JQP@bar.com>\r\n", "MAIL <JQP@bar.com> local=JQP domain=bar.com kind=name"},
      {"RCPT TO:<Jones@XYZ.COM>\r\n", "RCPT <Jones@XYZ.COM> local=Jones domain=XYZ.COM kind=name"},
      {"VRFY Crispin\r\n", "VRFY text=Crispin"},
      {"MAIL FROM:<EAK@bar.com>\r\n", "MAIL <EAK@bar.com> local=EAK domain=bar.com kind=name"},
      {"RCPT TO:<Admin.MRC@foo.com>\r\n",
       "RCPT <Admin.MRC@foo.com> local=Admin.MRC domain=foo.com kind=name"},
      // HELO / EHLO / LHLO forms.
      {"HELO relay.example.org\r\n", "HELO domain=relay.example.org kind=name"},
      {"LHLO lmtp.example\r\n", "LHLO domain=lmtp.example kind=name"},
      {"EHLO [192.0.2.1]\r\n", "EHLO domain=[192.0.2.1] kind=ipv4"},
      {"EHLO [IPv6:2001:db8::1]\r\n", "EHLO domain=[IPv6:2001:db8::1] kind=ipv6"},
      {"ehlo Bar.Com\r\n", "EHLO domain=Bar.Com kind=name", 0, 0, false, "EHLO Bar.Com\r\n"},
      {"EHLO localhost\r\n", "EHLO domain=localhost kind=name"},
      // MAIL / RCPT (RFC 5321 §4.1.1.2, §4.1.1.3, §3.6.1 source route).
      {"MAIL FROM:<>\r\n", "MAIL <>"},
      {"mail from:<a@b.example>\r\n", "MAIL <a@b.example> local=a domain=b.example kind=name", 0, 0,
       false, "MAIL FROM:<a@b.example>\r\n"},
      {"MAIL FROM:<@hosta.int,@jkl.org:userc@d.bar.org>\r\n",
       "MAIL <@hosta.int,@jkl.org:userc@d.bar.org> route=@hosta.int,@jkl.org local=userc "
       "domain=d.bar.org kind=name"},
      {"MAIL FROM:<\"john doe\"@example.com>\r\n",
       "MAIL <\"john doe\"@example.com> local=\"john doe\" domain=example.com kind=name"},
      {"MAIL FROM:<\"a>b\"@example.com> SIZE=1\r\n",
       "MAIL <\"a>b\"@example.com> local=\"a>b\" domain=example.com kind=name params=SIZE=1"},
      {"RCPT TO:<Postmaster>\r\n", "RCPT <Postmaster>"},
      {"rcpt to:<postmaster>\r\n", "RCPT <Postmaster>", 0, 0, false, "RCPT TO:<Postmaster>\r\n"},
      {"RCPT TO:<Postmaster@example.com>\r\n",
       "RCPT <Postmaster@example.com> local=Postmaster domain=example.com kind=name"},
      {"RCPT TO:<a@[192.0.2.1]>\r\n", "RCPT <a@[192.0.2.1]> local=a domain=[192.0.2.1] kind=ipv4"},
      // ESMTP parameters (RFC 1870, 6152, 3461 §6, 4954 §5, 6531).
      {"MAIL FROM:<ned@thor.innosoft.com> SIZE=500000 BODY=8BITMIME\r\n",
       "MAIL <ned@thor.innosoft.com> local=ned domain=thor.innosoft.com kind=name "
       "params=SIZE=500000 BODY=8BITMIME"},
      {"MAIL FROM:<Alice@Pure.example> RET=HDRS ENVID=QQ314159\r\n",
       "MAIL <Alice@Pure.example> local=Alice domain=Pure.example kind=name "
       "params=RET=HDRS ENVID=QQ314159"},
      {"RCPT TO:<Dana@Ivory.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example\r\n",
       "RCPT <Dana@Ivory.example> local=Dana domain=Ivory.example kind=name "
       "params=NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example"},
      {"MAIL FROM:<e=mc2@example.com> AUTH=e+3Dmc2@example.com\r\n",
       "MAIL <e=mc2@example.com> local=e=mc2 domain=example.com kind=name "
       "params=AUTH=e+3Dmc2@example.com"},
      {"MAIL FROM:<a@b.example> size=007 xverp\r\n",
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=7 XVERP", 0, 0, false,
       "MAIL FROM:<a@b.example> SIZE=7 XVERP\r\n"},
      {"MAIL FROM:<\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.example> SMTPUTF8\r\n",
       "MAIL <\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.example> "
       "local=\xE7\x94\xA8\xE6\x88\xB7 domain=\xE4\xBE\x8B\xE5\xAD\x90.example kind=name utf8 "
       "params=SMTPUTF8"},
      {"RCPT TO:<j\xC3\xB6rg@example.com>\r\n",
       "RCPT <j\xC3\xB6rg@example.com> local=j\xC3\xB6rg domain=example.com kind=name utf8", 0, 0,
       true},
      // VRFY / EXPN / HELP / NOOP (RFC 5321 §4.1.1.6 - §4.1.1.9, RFC 6531 §3.7.4.2).
      {"VRFY \"Smith, John\"\r\n", "VRFY text=\"Smith, John\""},
      {"EXPN Example-People\r\n", "EXPN text=Example-People"},
      {"VRFY Crispin SMTPUTF8\r\n", "VRFY text=Crispin smtputf8"},
      {"expn J\xC3\xB6rg smtputf8\r\n", "EXPN text=J\xC3\xB6rg smtputf8", 0, 0, false,
       "EXPN J\xC3\xB6rg SMTPUTF8\r\n"},
      {"VRFY SMTPUTF8\r\n", "VRFY text=SMTPUTF8"},
      {"HELP\r\n", "HELP text="},
      {"HELP MAIL\r\n", "HELP text=MAIL"},
      {"NOOP\r\n", "NOOP text="},
      {"noop \"hello there\"\r\n", "NOOP text=\"hello there\"", 0, 0, false,
       "NOOP \"hello there\"\r\n"},
      {"STARTTLS\r\n", "STARTTLS"},
      // AUTH (RFC 4954 §4 and its §6 example).
      {"AUTH PLAIN\r\n", "AUTH mech=PLAIN"},
      {"AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n", "AUTH mech=PLAIN ir=dGVzdAB0ZXN0ADEyMzQ="},
      {"AUTH EXTERNAL =\r\n", "AUTH mech=EXTERNAL ir=="},
      {"AUTH CRAM-MD5\r\n", "AUTH mech=CRAM-MD5"},
      {"AUTH X_TEST YQ==\r\n", "AUTH mech=X_TEST ir=YQ=="},
      {"auth plain AGZvbwBiYXI=\r\n", "AUTH mech=plain ir=AGZvbwBiYXI=", 0, 0, false,
       "AUTH PLAIN AGZvbwBiYXI=\r\n"},
      {"AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n",
       "AUTH mech=SCRAM-SHA-256 ir=biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8="},
      {"AUTH ABCDEFGHIJKLMNOPQRST\r\n", "AUTH mech=ABCDEFGHIJKLMNOPQRST"},
      // BDAT (RFC 3030 §2 and its §4 examples).
      {"BDAT 86 LAST\r\n", "BDAT size=86 last"},
      {"BDAT 69\r\n", "BDAT size=69"},
      {"BDAT 0 LAST\r\n", "BDAT size=0 last"},
      {"bdat 1 last\r\n", "BDAT size=1 last", 0, 0, false, "BDAT 1 LAST\r\n"},
      {"BDAT 007\r\n", "BDAT size=7", 0, 0, false, "BDAT 7\r\n"},
      {"BDAT 18446744073709551615\r\n", "BDAT size=18446744073709551615"},
      // ETRN (RFC 1985 §5).
      {"ETRN example.com\r\n", "ETRN text=example.com"},
      {"ETRN @example.com\r\n", "ETRN text=@example.com"},
      {"ETRN #queue1\r\n", "ETRN text=#queue1"},
      // Unknown verbs are commands, not errors.
      {"XCLIENT NAME=foo ADDR=192.0.2.1\r\n", "?XCLIENT arg=NAME=foo ADDR=192.0.2.1"},
      {"XFOO\r\n", "?XFOO arg="},
      {"xfoo bar  baz\r\n", "?xfoo arg=bar  baz", 0, 0, false, "XFOO bar  baz\r\n"},
      {"XFOO  bar\r\n", "?XFOO arg= bar"},
      {"TURN\r\n", "?TURN arg="},
  };
  return cases;
}

struct ErrCase {
  std::string line;
  Errc code;
  std::size_t offset;
  bool utf8 = false;
};

// Lines that fail, strictly, with `code` at `offset`.
inline const std::vector<ErrCase>& ErrCases() {
  static const std::vector<ErrCase> cases = {
      // Framing (RFC 5321 §2.3.8).
      {"", Errc::kMissingCrlf, 0},
      {"NOOP", Errc::kMissingCrlf, 4},
      {"NOOP\n", Errc::kBareLf, 4},
      {"NOOP\r", Errc::kBareCr, 4},
      {"NO\rOP\r\n", Errc::kBareCr, 2},
      {"NO\nOP\r\n", Errc::kBareLf, 2},
      {"NOOP\r\r\n", Errc::kBareCr, 4},
      {std::string("NO\0OP\r\n", 7), Errc::kNulByte, 2},
      {"NOOP\r\nNOOP\r\n", Errc::kTrailingGarbage, 6},
      {"NOOP\r\n\r\n", Errc::kTrailingGarbage, 6},
      // Verb.
      {"\r\n", Errc::kEmptyCommand, 0},
      {"   \r\n", Errc::kEmptyCommand, 0},
      {" NOOP\r\n", Errc::kBadVerb, 0},
      {"NO0P\r\n", Errc::kBadVerb, 2},
      {"X-FOO bar\r\n", Errc::kBadVerb, 1},
      {"NOOP\x80\r\n", Errc::kEightBit, 4},
      {"NO\x01OP\r\n", Errc::kControlChar, 2},
      // EHLO / HELO / LHLO.
      {"EHLO\r\n", Errc::kMissingArgument, 4},
      {"EHLO \r\n", Errc::kTrailingGarbage, 4},
      {"EHLO -bar.com\r\n", Errc::kBadDomainArg, 5},
      {"EHLO bar-.com\r\n", Errc::kBadDomainArg, 8},
      {"EHLO bar..com\r\n", Errc::kBadDomainArg, 9},
      {"EHLO bar.com x\r\n", Errc::kTrailingGarbage, 12},
      {"EHLO bar.com;\r\n", Errc::kBadDomainArg, 12},
      {"EHLO b\xC3\xA4r.com\r\n", Errc::kEightBit, 6},
      {"EHLO bar.com\x7F\r\n", Errc::kControlChar, 12},
      {"HELO [192.0.2.1]\r\n", Errc::kBadDomainArg, 5},
      {"EHLO [192.0.2.1] x\r\n", Errc::kTrailingGarbage, 16},
      {"EHLO [192.0.2.1]x\r\n", Errc::kBadDomainArg, 16},
      {"EHLO " + std::string(256, 'a') + "\r\n", Errc::kDomainTooLong, 5 + 255},
      // MAIL / RCPT.
      {"MAIL\r\n", Errc::kMissingArgument, 4},
      {"MAIL TO:<a@b.example>\r\n", Errc::kBadFromTo, 5},
      {"MAIL FRM:<>\r\n", Errc::kBadFromTo, 7},
      {"MAIL FROM<>\r\n", Errc::kBadFromTo, 9},
      {"MAIL FROM\r\n", Errc::kBadFromTo, 9},
      {"RCPT FROM:<a@b.example>\r\n", Errc::kBadFromTo, 5},
      {"MAIL FROM:\r\n", Errc::kMissingAngle, 10},
      {"MAIL FROM:<a@b.example\r\n", Errc::kMissingAngle, 22},
      {"MAIL FROM:<a@b.example>SIZE=1\r\n", Errc::kMissingSpace, 23},
      {"MAIL FROM:<a@b.example> SIZE=1 \r\n", Errc::kTrailingGarbage, 30},
      {"MAIL FROM:<a@b.example> NOTIFY=NEVER\r\n", Errc::kParamNotAllowed, 24},
      {"RCPT TO:<a@b.example> SIZE=1\r\n", Errc::kParamNotAllowed, 22},
      {"MAIL FROM:<a@b.example> SIZE=1 size=2\r\n", Errc::kDuplicateParam, 31},
      {"MAIL FROM:<a@b.example> SMTPUTF8=1\r\n", Errc::kUnexpectedParamValue, 32},
      {"MAIL FROM:<a@b.example> SIZE=x\r\n", Errc::kBadParamValue, 29},
      {"MAIL FROM:<a@b.example> X=\xC3\xA9\r\n", Errc::kEightBit, 26},
      {"RCPT TO:<>\r\n", Errc::kEmptyPath, 8},
      {"MAIL FROM:<j\xC3\xB6rg@b.example>\r\n", Errc::kUtf8NotAllowed, 12},
      {"RCPT TO:<j\xC3\xB6rg@b.example>\r\n", Errc::kUtf8NotAllowed, 10},
      {"MAIL FROM:<j\xC3(rg@b.example> SMTPUTF8\r\n", Errc::kBadUtf8, 12},
      {"MAIL FROM:<a b@c.example>\r\n", Errc::kBadLocalPart, 12},
      // No-argument verbs (RFC 5321 §4.1.1, RFC 3207 §4).
      {"DATA x\r\n", Errc::kUnexpectedArgument, 4},
      {"DATA \r\n", Errc::kTrailingGarbage, 4},
      {"QUIT now\r\n", Errc::kUnexpectedArgument, 4},
      {"RSET x\r\n", Errc::kUnexpectedArgument, 4},
      {"STARTTLS x\r\n", Errc::kUnexpectedArgument, 8},
      // VRFY / EXPN / HELP / NOOP String.
      {"VRFY\r\n", Errc::kMissingArgument, 4},
      {"EXPN\r\n", Errc::kMissingArgument, 4},
      {"VRFY user@example.com\r\n", Errc::kBadString, 9},
      {"VRFY <a@b>\r\n", Errc::kBadString, 5},
      {"VRFY \"abc\r\n", Errc::kBadString, 9},
      {"VRFY \"a\\\x01\"\r\n", Errc::kControlChar, 8},
      {"VRFY a b\r\n", Errc::kTrailingGarbage, 6},
      {"VRFY a SMTPUTF8=x\r\n", Errc::kTrailingGarbage, 6},
      {"VRFY a SMTPUTF8 SMTPUTF8\r\n", Errc::kTrailingGarbage, 6},
      {"VRFY J\xC3\xB6rg\r\n", Errc::kEightBit, 6},
      {"VRFY J\xC3(rg SMTPUTF8\r\n", Errc::kBadUtf8, 6},
      {"NOOP J\xC3\xB6rg SMTPUTF8\r\n", Errc::kEightBit, 6},
      {"NOOP \r\n", Errc::kTrailingGarbage, 4},
      {"HELP a b\r\n", Errc::kTrailingGarbage, 6},
      // AUTH (RFC 4954 §4, RFC 4422 §3.1, RFC 4648).
      {"AUTH\r\n", Errc::kMissingArgument, 4},
      {"AUTH PL@IN\r\n", Errc::kBadAuthMechanism, 7},
      {"AUTH ABCDEFGHIJKLMNOPQRSTU\r\n", Errc::kBadAuthMechanism, 25},
      {"AUTH PLAIN dGVzdA\r\n", Errc::kBadInitialResponse, 17},
      {"AUTH PLAIN dGV*\r\n", Errc::kBadInitialResponse, 14},
      {"AUTH PLAIN ====\r\n", Errc::kBadInitialResponse, 11},
      {"AUTH PLAIN Y===\r\n", Errc::kBadInitialResponse, 12},
      {"AUTH PLAIN YQ=x\r\n", Errc::kBadInitialResponse, 14},
      {"AUTH PLAIN YR==\r\n", Errc::kBadInitialResponse, 12},
      {"AUTH PLAIN YWJ=\r\n", Errc::kBadInitialResponse, 13},
      {"AUTH PLAIN ==\r\n", Errc::kBadInitialResponse, 13},
      {"AUTH PLAIN YQ== x\r\n", Errc::kTrailingGarbage, 15},
      {"AUTH PLAIN  =\r\n", Errc::kBadInitialResponse, 11},
      {"AUTH PLAIN \xC3\xA9\r\n", Errc::kEightBit, 11},
      // BDAT (RFC 3030 §2).
      {"BDAT\r\n", Errc::kMissingArgument, 4},
      {"BDAT x\r\n", Errc::kBadChunkSize, 5},
      {"BDAT -1\r\n", Errc::kBadChunkSize, 5},
      {"BDAT 1x\r\n", Errc::kBadChunkSize, 6},
      {"BDAT 18446744073709551616\r\n", Errc::kBadChunkSize, 24},
      {"BDAT 1 LAS\r\n", Errc::kBadBdatLast, 10},
      {"BDAT 1 LASTX\r\n", Errc::kBadBdatLast, 11},
      {"BDAT 1 FIRST\r\n", Errc::kBadBdatLast, 7},
      {"BDAT 1 LAST x\r\n", Errc::kTrailingGarbage, 11},
      {"BDAT 1  LAST\r\n", Errc::kBadBdatLast, 7},
      // ETRN (RFC 1985 §5).
      {"ETRN\r\n", Errc::kMissingArgument, 4},
      {"ETRN #\r\n", Errc::kBadEtrnArg, 6},
      {"ETRN @\r\n", Errc::kBadEtrnArg, 6},
      {"ETRN -x\r\n", Errc::kBadEtrnArg, 5},
      {"ETRN a b\r\n", Errc::kTrailingGarbage, 6},
      // Unknown verbs: raw argument, but no controls and no 8-bit without utf8.
      {"XFOO\tbar\r\n", Errc::kMissingSpace, 4},
      {"XFOO b\x01r\r\n", Errc::kControlChar, 6},
      {"XFOO \xC3\xA9\r\n", Errc::kEightBit, 5},
      {"XFOO \xFF\r\n", Errc::kBadUtf8, 5, true},
  };
  return cases;
}

// Lines that need a leniency: with none they fail with `code` at `offset`;
// with `leniencies` they parse to `golden` and exactly `deviations` fire.
struct LenientCase {
  std::string line;
  Leniencies leniencies;
  Errc code;
  std::size_t offset;
  std::string golden;
  Leniencies deviations;
};

inline const std::vector<LenientCase>& LenientCases() {
  static const std::vector<LenientCase> cases = {
      {"MAIL FROM: <a@b.example>\r\n", kSpaceAfterColon, Errc::kBadFromTo, 10,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kSpaceAfterColon},
      {"RCPT TO:\t <a@b.example>\r\n", kSpaceAfterColon, Errc::kBadFromTo, 8,
       "RCPT <a@b.example> local=a domain=b.example kind=name", kSpaceAfterColon},
      {"MAIL FROM :<a@b.example>\r\n", kSpaceBeforeColon, Errc::kBadFromTo, 9,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kSpaceBeforeColon},
      {"RCPT TO : <a@b.example>\r\n", kSpaceBeforeColon | kSpaceAfterColon, Errc::kBadFromTo, 7,
       "RCPT <a@b.example> local=a domain=b.example kind=name",
       kSpaceBeforeColon | kSpaceAfterColon},
      {"MAIL FROM:a@b.example\r\n", kMissingAngleBrackets, Errc::kMissingAngle, 10,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kMissingAngleBrackets},
      {"MAIL FROM:a@b.example SIZE=10\r\n", kMissingAngleBrackets, Errc::kMissingAngle, 10,
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=10",
       kMissingAngleBrackets},
      {"NOOP \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 4,
       "NOOP text=", kTrailingWhitespace},
      {"QUIT \t \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 4, "QUIT", kTrailingWhitespace},
      {"EHLO bar.com \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 12,
       "EHLO domain=bar.com kind=name", kTrailingWhitespace},
      {"MAIL FROM:<a@b.example> \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 23,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kTrailingWhitespace},
      {"MAIL FROM:<a@b.example> SIZE=1 \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 30,
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=1", kTrailingWhitespace},
      {"VRFY Smith \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 10, "VRFY text=Smith",
       kTrailingWhitespace},
      {"BDAT 1 \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 6, "BDAT size=1",
       kTrailingWhitespace},
      {"AUTH PLAIN = \r\n", kTrailingWhitespace, Errc::kTrailingGarbage, 12,
       "AUTH mech=PLAIN ir==", kTrailingWhitespace},
      {"EHLO  bar.com\r\n", kExtraWhitespace, Errc::kBadDomainArg, 5,
       "EHLO domain=bar.com kind=name", kExtraWhitespace},
      {"EHLO\tbar.com\r\n", kExtraWhitespace, Errc::kMissingSpace, 4,
       "EHLO domain=bar.com kind=name", kExtraWhitespace},
      {"MAIL  FROM:<a@b.example>\r\n", kExtraWhitespace, Errc::kBadFromTo, 5,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kExtraWhitespace},
      {"MAIL FROM:<a@b.example>  SIZE=1\r\n", kExtraWhitespace, Errc::kBadParamSyntax, 24,
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=1", kExtraWhitespace},
      {"MAIL FROM:<a@b.example> SIZE=1  BODY=7BIT\r\n", kExtraWhitespace, Errc::kBadParamSyntax, 31,
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=1 BODY=7BIT",
       kExtraWhitespace},
      {"AUTH  PLAIN\r\n", kExtraWhitespace, Errc::kBadAuthMechanism, 5, "AUTH mech=PLAIN",
       kExtraWhitespace},
      {"AUTH PLAIN\t=\r\n", kExtraWhitespace, Errc::kMissingSpace, 10,
       "AUTH mech=PLAIN ir==", kExtraWhitespace},
      {"BDAT 1  LAST\r\n", kExtraWhitespace, Errc::kBadBdatLast, 7, "BDAT size=1 last",
       kExtraWhitespace},
      {"VRFY  Smith\r\n", kExtraWhitespace, Errc::kBadString, 5, "VRFY text=Smith",
       kExtraWhitespace},
      {"ETRN  example.com\r\n", kExtraWhitespace, Errc::kBadEtrnArg, 5, "ETRN text=example.com",
       kExtraWhitespace},
      {"XFOO\tbar\r\n", kExtraWhitespace, Errc::kMissingSpace, 4, "?XFOO arg=bar",
       kExtraWhitespace},
      {"NOOP\n", kBareLfLineEnd, Errc::kBareLf, 4, "NOOP text=", kBareLfLineEnd},
      {"MAIL FROM:<a@b.example>\n", kBareLfLineEnd, Errc::kBareLf, 23,
       "MAIL <a@b.example> local=a domain=b.example kind=name", kBareLfLineEnd},
      {"NOOP\r", kBareCrLineEnd, Errc::kBareCr, 4, "NOOP text=", kBareCrLineEnd},
      {"EHLO\r\n", kEmptyHeloArg, Errc::kMissingArgument, 4, "EHLO domain= kind=none",
       kEmptyHeloArg},
      {"HELO\r\n", kEmptyHeloArg, Errc::kMissingArgument, 4, "HELO domain= kind=none",
       kEmptyHeloArg},
      {"HELO \r\n", kEmptyHeloArg | kTrailingWhitespace, Errc::kTrailingGarbage, 4,
       "HELO domain= kind=none", kEmptyHeloArg | kTrailingWhitespace},
      {"EHLO my_host.example\r\n", kUnderscoreInDomain, Errc::kBadDomainArg, 7,
       "EHLO domain=my_host.example kind=name", kUnderscoreInDomain},
      {"ETRN @my_host.example\r\n", kUnderscoreInDomain, Errc::kBadEtrnArg, 8,
       "ETRN text=@my_host.example", kUnderscoreInDomain},
      {"MAIL FROM:<a@my_host.example>\r\n", kUnderscoreInDomain, Errc::kBadDomain, 15,
       "MAIL <a@my_host.example> local=a domain=my_host.example kind=name", kUnderscoreInDomain},
      {"EHLO bar.example.\r\n", kTrailingDotInDomain, Errc::kBadDomainArg, 17,
       "EHLO domain=bar.example. kind=name", kTrailingDotInDomain},
      {"RCPT TO:<a@b.example.>\r\n", kTrailingDotInDomain, Errc::kBadDomain, 21,
       "RCPT <a@b.example.> local=a domain=b.example. kind=name", kTrailingDotInDomain},
      {"MAIL FROM:<j\xC3\xB6rg@b.example>\r\n", kUtf8WithoutSmtputf8, Errc::kUtf8NotAllowed, 12,
       "MAIL <j\xC3\xB6rg@b.example> local=j\xC3\xB6rg domain=b.example kind=name utf8",
       kUtf8WithoutSmtputf8},
      {"MAIL FROM:<a..b@c.example>\r\n", kLooseDotString, Errc::kBadLocalPart, 13,
       "MAIL <a..b@c.example> local=a..b domain=c.example kind=name", kLooseDotString},
      {"X-FOO bar\r\n", kNonAlphaVerb, Errc::kBadVerb, 1, "?X-FOO arg=bar", kNonAlphaVerb},
      {"XFOO2\r\n", kNonAlphaVerb, Errc::kBadVerb, 4, "?XFOO2 arg=", kNonAlphaVerb},
      {"EHLO2 x\r\n", kNonAlphaVerb, Errc::kBadVerb, 4, "?EHLO2 arg=x", kNonAlphaVerb},
      // Several at once, as real clients do.
      {"mail from: <a@b.example>  size=100 \n", kAllLeniencies, Errc::kBareLf, 35,
       "MAIL <a@b.example> local=a domain=b.example kind=name params=SIZE=100",
       kSpaceAfterColon | kExtraWhitespace | kTrailingWhitespace | kBareLfLineEnd},
  };
  return cases;
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_COMMAND_CASES_TEST_UTIL_H_
