#include "parser/command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "parser/alloc_counter_test_util.h"  // replaces operator new: counts allocations
#include "parser/command_test_util.h"

namespace smtp {
namespace {

using testing::Describe;
using testing::ExpectFullyConsumed;
using testing::ExpectIntoAgrees;
using testing::ExpectRoundTrip;
using testing::Parse;

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
const std::vector<OkCase>& StrictCases() {
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

TEST(ParseCommand, StrictLines) {
  for (const OkCase& t : StrictCases()) {
    SCOPED_TRACE(t.line);
    Result<Command> r = Parse(t.line, t.leniencies, t.utf8);
    ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset << ": "
                        << r.error().reason;
    EXPECT_EQ(Describe(*r), t.golden);
    EXPECT_EQ(r->deviations, t.deviations);
    ExpectFullyConsumed(t.line, *r);
    EXPECT_EQ(SerializeCommand(*r), t.canonical.empty() ? t.line : t.canonical);
    ExpectRoundTrip(*r, t.leniencies, t.utf8);
    // Conforming input: enabling every leniency changes nothing.
    Result<Command> lenient = Parse(t.line, kAllLeniencies, t.utf8);
    ASSERT_TRUE(lenient.ok());
    EXPECT_TRUE(*lenient == *r);
    EXPECT_EQ(lenient->deviations, kStrict);
  }
}

TEST(ParseCommand, EveryProperPrefixIsRejected) {
  for (const OkCase& t : StrictCases()) {
    for (std::size_t k = 0; k < t.line.size(); ++k) {
      const std::string prefix = t.line.substr(0, k);
      Result<Command> r = Parse(prefix, kStrict, t.utf8);
      ASSERT_FALSE(r.ok()) << prefix;
      const bool ends_cr = k > 0 && prefix.back() == '\r';
      EXPECT_EQ(r.error().code, ends_cr ? Errc::kBareCr : Errc::kMissingCrlf) << prefix;
      EXPECT_EQ(r.error().offset, ends_cr ? k - 1 : k) << prefix;
    }
  }
}

struct ErrCase {
  std::string line;
  Errc code;
  std::size_t offset;
  bool utf8 = false;
};

// Lines that fail, strictly, with `code` at `offset`.
const std::vector<ErrCase>& ErrCases() {
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

TEST(ParseCommand, RejectsWithCodeAndOffset) {
  for (const ErrCase& t : ErrCases()) {
    SCOPED_TRACE(t.line);
    Result<Command> r = Parse(t.line, kStrict, t.utf8);
    ASSERT_FALSE(r.ok()) << Describe(*r);
    EXPECT_EQ(ErrcName(r.error().code), ErrcName(t.code)) << r.error().reason;
    EXPECT_EQ(r.error().offset, t.offset) << r.error().reason;
    EXPECT_FALSE(r.error().reason.empty());
  }
}

TEST(ParseCommand, Utf8OptionAdmitsUtf8WhereTheGrammarAllowsIt) {
  Result<Command> x = Parse("XFOO \xC3\xA9\r\n", kStrict, true);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->argument, "\xC3\xA9");
  Result<Command> v = Parse("VRFY J\xC3\xB6rg\r\n", kStrict, true);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->text, "J\xC3\xB6rg");
  Result<Command> e = Parse("EHLO b\xC3\xA4r.example\r\n", kStrict, true);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->text, "b\xC3\xA4r.example");
  Result<Command> p = Parse("RCPT TO:<a@b.example> X=\xC3\xA9\r\n", kStrict, true);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->params.items[0].value, "\xC3\xA9");
}

TEST(ParseCommand, VerbsAreCaseInsensitive) {
  const char* verbs[] = {"EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA",     "BDAT", "RSET",
                         "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "STARTTLS", "AUTH", "ETRN"};
  for (const char* name : verbs) {
    std::string lower = name;
    for (char& ch : lower) ch = static_cast<char>(ch - 'A' + 'a');
    std::string mixed = lower;
    mixed[0] = name[0];
    const std::string la = std::string(name) + "\r\n";
    const std::string lb = lower + "\r\n";
    const std::string lc = mixed + "\r\n";
    Result<Command> a = Parse(la, kAllLeniencies);
    Result<Command> b = Parse(lb, kAllLeniencies);
    Result<Command> c = Parse(lc, kAllLeniencies);
    // Some need arguments; either way all spellings agree.
    ASSERT_EQ(a.ok(), b.ok()) << name;
    ASSERT_EQ(a.ok(), c.ok()) << name;
    if (!a.ok()) {
      EXPECT_EQ(a.error(), b.error()) << name;
      continue;
    }
    EXPECT_EQ(VerbName(a->verb), name);
    EXPECT_EQ(b->verb, a->verb);
    EXPECT_EQ(c->verb, a->verb);
    EXPECT_EQ(b->verb_text, lower);
  }
  EXPECT_EQ(VerbName(Verb::kUnknown), "");
}

std::string NoopOfLength(std::size_t total) {  // "NOOP " Atom CRLF, `total` octets
  return "NOOP " + std::string(total - 7, 'a') + "\r\n";
}

TEST(ParseCommand, LineLengthLimit) {
  ASSERT_TRUE(Parse(NoopOfLength(kMaxCommandLine)).ok());
  Result<Command> over = Parse(NoopOfLength(kMaxCommandLine + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::kLineTooLong);
  EXPECT_EQ(over.error().offset, kMaxCommandLine);  // the LF is the 513th octet
  // The limit counts a lone LF terminator as one octet.
  std::string lf = NoopOfLength(kMaxCommandLine + 1);
  lf.erase(lf.size() - 2, 1);
  EXPECT_TRUE(Parse(lf, kBareLfLineEnd).ok());
  // A caller-chosen limit.
  CommandOptions small;
  small.limits.command_line = 10;
  EXPECT_TRUE(ParseCommand("NOOP abc\r\n", small).ok());
  Result<Command> r = ParseCommand("NOOP abcd\r\n", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kLineTooLong);
  EXPECT_EQ(r.error().offset, 10u);
  // AUTH lines may be up to kMaxAuthLine (RFC 4954 §4): exactly that fits.
  const std::string prefix = "AUTH NTLM ";
  const std::string response(kMaxAuthLine - prefix.size() - 2, 'A');
  ASSERT_EQ(response.size() % 4, 0u);
  Result<Command> a = Parse(prefix + response + "\r\n");
  ASSERT_TRUE(a.ok()) << ErrcName(a.error().code);
  EXPECT_EQ(a->auth_initial_response.size(), response.size());
  Result<Command> a_over = Parse(prefix + response + "AAAA\r\n");
  ASSERT_FALSE(a_over.ok());
  EXPECT_EQ(a_over.error().code, Errc::kLineTooLong);
  EXPECT_EQ(a_over.error().offset, kMaxAuthLine);
  // Only AUTH gets the larger limit.
  Result<Command> x = Parse("AUTHX " + std::string(600, 'a') + "\r\n");
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.error().offset, kMaxCommandLine);
}

TEST(ParseCommand, HostileInputStaysBounded) {
  const std::string mb(1u << 20, 'A');
  const struct {
    std::string line;
    Errc code;
    std::size_t offset;
  } cases[] = {
      {mb, Errc::kLineTooLong, kMaxCommandLine},
      {"NOOP " + mb + "\r\n", Errc::kLineTooLong, kMaxCommandLine},
      {"AUTH PLAIN " + mb + "\r\n", Errc::kLineTooLong, kMaxAuthLine},
      {"MAIL FROM:<" + mb + "@b>\r\n", Errc::kLineTooLong, kMaxCommandLine},
      {std::string(1u << 20, '\0'), Errc::kNulByte, 0},
      {"NOOP " + std::string(1u << 20, '\0'), Errc::kNulByte, 5},
      {std::string(1u << 20, '\r'), Errc::kBareCr, 0},
      {std::string(1u << 20, '\n'), Errc::kBareLf, 0},
      {std::string(1u << 20, ' '), Errc::kLineTooLong, kMaxCommandLine},
  };
  for (const auto& t : cases) {
    Result<Command> r = Parse(t.line, kStrict);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, t.code);
    EXPECT_EQ(r.error().offset, t.offset);
  }
  // With a raised limit a megabyte line is parsed once, linearly.
  CommandOptions big;
  big.limits.command_line = 2u << 20;
  Result<Command> r = ParseCommand("NOOP " + mb + "\r\n", big);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text.size(), mb.size());
  Result<Command> x = ParseCommand("XFOO " + mb + "\r\n", big);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->argument.size(), mb.size());
}

TEST(ParseCommand, AllocatesNothing) {
  std::vector<std::string> lines;
  for (const OkCase& t : StrictCases()) lines.push_back(t.line);
  lines.push_back("MAIL FROM:<a@b.example> X0 X1 X2 X3 X4 X5 X6 X7 X8 X9 XA XB XC XD XE XF\r\n");
  lines.push_back("MAIL FROM:<a@b.example> SIZE=1 SIZE=2\r\n");
  CommandOptions opts;
  opts.leniencies = kAllLeniencies;
  Command reused;
  const std::size_t before = testing::AllocationCount();
  for (const std::string& line : lines) {
    Result<Command> r = ParseCommand(line, opts);
    (void)r;
    (void)ParseCommandInto(line, opts, &reused);
  }
  EXPECT_EQ(testing::AllocationCount() - before, 0u);
}

// ParseCommandInto, into a Command dirtied beforehand, gives ParseCommand's
// fields on every line of the tables, strictly and with every leniency.
TEST(ParseCommandInto, AgreesWithParseCommand) {
  for (const OkCase& t : StrictCases()) {
    SCOPED_TRACE(t.line);
    for (const Leniencies len : {t.leniencies, Leniencies{kAllLeniencies}}) {
      CommandOptions opts;
      opts.leniencies = len;
      opts.utf8 = t.utf8;
      ExpectIntoAgrees(t.line, opts);
    }
  }
  for (const ErrCase& t : ErrCases()) {
    SCOPED_TRACE(t.line);
    for (const Leniencies len : {Leniencies{kStrict}, Leniencies{kAllLeniencies}}) {
      CommandOptions opts;
      opts.leniencies = len;
      opts.utf8 = t.utf8;
      ExpectIntoAgrees(t.line, opts);
    }
  }
}

// One Command through a whole session, as a server uses it: whatever the
// previous line (a MAIL with parameters, an error half-way) left, the next
// parse is exact.
TEST(ParseCommandInto, ReusesOneCommandLineAfterLine) {
  std::vector<std::string> lines;
  for (const OkCase& t : StrictCases()) {
    if (!t.utf8 && t.leniencies == kStrict) lines.push_back(t.line);
  }
  for (const ErrCase& t : ErrCases()) {
    if (!t.utf8) lines.push_back(t.line);
  }
  ASSERT_GT(lines.size(), 100u);
  const CommandOptions opts;
  Command reused;
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& line : lines) {
      SCOPED_TRACE(line);
      const Result<Command> r = ParseCommand(line, opts);
      const ParseError e = ParseCommandInto(line, opts, &reused);
      if (r.ok()) {
        ASSERT_EQ(e.code, Errc::kOk);
        testing::ExpectSameFields(reused, *r);
      } else {
        EXPECT_EQ(e, r.error());
      }
    }
    std::reverse(lines.begin(), lines.end());
  }
}

TEST(Command, ClearResetsEveryField) {
  Command c;
  testing::Dirty(&c);
  c.Clear();
  testing::ExpectSameFields(c, Command{});
  // Views are null again, not merely empty.
  EXPECT_EQ(c.verb_text.data(), nullptr);
  EXPECT_EQ(c.path.raw.data(), nullptr);
  EXPECT_EQ(c.params.envid.data(), nullptr);
  EXPECT_EQ(c.auth_initial_response.data(), nullptr);
  EXPECT_FALSE(c.params.size.has_value());
  EXPECT_EQ(c.params.begin(), c.params.end());
  EXPECT_TRUE(c == Command{});
}

TEST(CommandEquality, IsSemantic) {
  const auto eq = [](const char* a, const char* b) {
    Result<Command> x = Parse(a, kAllLeniencies);
    Result<Command> y = Parse(b, kAllLeniencies);
    EXPECT_TRUE(x.ok() && y.ok()) << a << " / " << b;
    return x.ok() && y.ok() && *x == *y;
  };
  EXPECT_TRUE(eq("mail from:<a@B.example>\r\n", "MAIL FROM: <a@b.example>\r\n"));
  EXPECT_TRUE(eq("xfoo bar\r\n", "XFOO bar\r\n"));
  EXPECT_TRUE(eq("AUTH plain\r\n", "AUTH PLAIN\r\n"));
  EXPECT_TRUE(eq("BDAT 010\r\n", "BDAT 10\r\n"));
  EXPECT_FALSE(eq("MAIL FROM:<A@b.example>\r\n", "MAIL FROM:<a@b.example>\r\n"));
  EXPECT_FALSE(eq("MAIL FROM:<a@b.example>\r\n", "MAIL FROM:<a@b.example> SIZE=1\r\n"));
  EXPECT_FALSE(eq("MAIL FROM:<a@b.example>\r\n", "RCPT TO:<a@b.example>\r\n"));
  EXPECT_FALSE(eq("XFOO bar\r\n", "XFOO Bar\r\n"));
  EXPECT_FALSE(eq("XFOO bar\r\n", "XBAR bar\r\n"));
  EXPECT_FALSE(eq("AUTH PLAIN\r\n", "AUTH PLAIN =\r\n"));
  EXPECT_FALSE(eq("BDAT 1\r\n", "BDAT 1 LAST\r\n"));
  EXPECT_FALSE(eq("VRFY a\r\n", "VRFY a SMTPUTF8\r\n"));
  EXPECT_FALSE(eq("EHLO [192.0.2.1]\r\n", "EHLO [192.0.2.2]\r\n"));
  EXPECT_FALSE(eq("ETRN a.example\r\n", "ETRN @a.example\r\n"));
}

}  // namespace
}  // namespace smtp
