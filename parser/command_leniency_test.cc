#include "parser/command.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parser/command_test_util.h"

namespace smtp {
namespace {

using testing::Describe;
using testing::ExpectFullyConsumed;
using testing::ExpectIntoAgrees;
using testing::ExpectRoundTrip;
using testing::Parse;

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

const std::vector<LenientCase>& LenientCases() {
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

TEST(ParseCommand, LeniencyOffIsAnErrorOnIsADeviation) {
  for (const LenientCase& t : LenientCases()) {
    SCOPED_TRACE(t.line);
    Result<Command> strict = Parse(t.line);
    ASSERT_FALSE(strict.ok()) << Describe(*strict);
    EXPECT_EQ(ErrcName(strict.error().code), ErrcName(t.code));
    EXPECT_EQ(strict.error().offset, t.offset);
    Result<Command> r = Parse(t.line, t.leniencies);
    ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(Describe(*r), t.golden);
    EXPECT_EQ(r->deviations, t.deviations);
    ExpectFullyConsumed(t.line, *r);
    ExpectRoundTrip(*r, t.leniencies, false);
    // The same leniencies plus all others fire the same deviations.
    Result<Command> all = Parse(t.line, kAllLeniencies);
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(*all == *r);
    EXPECT_EQ(all->deviations, t.deviations);
  }
}

TEST(ParseCommandInto, AgreesOnLenientLines) {
  for (const LenientCase& t : LenientCases()) {
    SCOPED_TRACE(t.line);
    for (const Leniencies len : {Leniencies{kStrict}, t.leniencies, Leniencies{kAllLeniencies}}) {
      CommandOptions opts;
      opts.leniencies = len;
      ExpectIntoAgrees(t.line, opts);
    }
  }
}

}  // namespace
}  // namespace smtp
