#include "parser/command.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "parser/alloc_counter_test_util.h"  // replaces operator new: counts allocations
#include "parser/command_cases_test_util.h"
#include "parser/command_stream_test_util.h"
#include "parser/command_test_util.h"
#include "parser/internal/base64_check.h"

namespace smtp {
namespace {

using testing::Describe;
using testing::ErrCase;
using testing::ErrCases;
using testing::ExpectFullyConsumed;
using testing::ExpectIntoAgrees;
using testing::ExpectRoundTrip;
using testing::OkCase;
using testing::Parse;
using testing::StrictCases;

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

// Every ordered pair of table lines, under strict and lenient options: the
// second line parsed into the Command the first left (a success, or an
// error half-way through a path or the parameters) gives ParseCommand's
// fields. The parse resets the path and the parameters only when the
// previous result shows them set (command.cc, ResetForParse), so this is
// where a parse that leaves them set unseen would show.
TEST(ParseCommandInto, EveryLineAfterEveryOther) {
  std::vector<std::string> lines;
  for (const OkCase& t : StrictCases()) lines.push_back(t.line);
  for (const ErrCase& t : ErrCases()) lines.push_back(t.line);
  for (const testing::LenientCase& t : testing::LenientCases()) lines.push_back(t.line);
  ASSERT_GT(lines.size(), 200u);
  for (const Leniencies len : {Leniencies{kStrict}, Leniencies{kAllLeniencies}}) {
    for (const bool utf8 : {false, true}) {
      CommandOptions opts;
      opts.leniencies = len;
      opts.utf8 = utf8;
      std::vector<Result<Command>> fresh;
      for (const std::string& line : lines) fresh.push_back(ParseCommand(line, opts));
      for (const std::string& first : lines) {
        for (std::size_t k = 0; k < lines.size(); ++k) {
          Command reused;
          (void)ParseCommandInto(first, opts, &reused);
          const ParseError e = ParseCommandInto(lines[k], opts, &reused);
          if (fresh[k].ok()) {
            ASSERT_EQ(e.code, Errc::kOk) << first << " then " << lines[k];
            ASSERT_EQ(testing::CommandFieldsText(reused), testing::CommandFieldsText(*fresh[k]))
                << first << " then " << lines[k];
          } else {
            ASSERT_EQ(e, fresh[k].error()) << first << " then " << lines[k];
          }
        }
      }
    }
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

// AUTH scans the response's base64-chars once and has CheckBase64 start
// after them: the same result as a check from the first octet, for every
// prefix of base64-chars, on random strings of base64-chars, "=" and others.
TEST(Command, Base64CheckFromAKnownPrefixEqualsTheWholeCheck) {
  std::mt19937 rng(4648);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 14, 'A');
    for (char& c : s) c = "AQw/+09=*-\x80"[rng() % 11];
    std::size_t run = 0;
    while (run < s.size() && internal::IsC(s[run], internal::kBase64Bit)) ++run;
    const auto whole = internal::CheckBase64(s);
    for (std::size_t prefix = 0; prefix <= run; ++prefix) {
      const auto from = internal::CheckBase64(s, prefix);
      ASSERT_EQ(whole.has_value(), from.has_value()) << s << " " << prefix;
      if (whole) {
        EXPECT_EQ(whole->offset, from->offset) << s;
        EXPECT_EQ(whole->reason, from->reason) << s;
      }
    }
  }
}

}  // namespace
}  // namespace smtp
