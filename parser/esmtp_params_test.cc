#include "parser/esmtp_params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parser/ascii.h"
#include "parser/dirty_test_util.h"
#include "parser/internal/command_chars.h"

namespace smtp {
namespace {

using testing::Dirty;

constexpr ParamContext kMail = ParamContext::kMail;
constexpr ParamContext kRcpt = ParamContext::kRcpt;

// Golden form: the items as written, then every decoded field that is set.
std::string Describe(const EsmtpParams& p) {
  std::string out;
  for (const EsmtpParam& e : p) {
    if (!out.empty()) out += ' ';
    out += e.keyword;
    if (e.has_value) {
      out += '=';
      out += e.value;
    }
    if (e.kind == ParamKeyword::kUnknown) out += "(?)";
  }
  out += " |";
  if (p.size) out += " size=" + std::to_string(*p.size);
  if (p.body != BodyType::kNone) {
    out += p.body == BodyType::k7Bit       ? " body=7bit"
           : p.body == BodyType::k8BitMime ? " body=8bitmime"
                                           : " body=binarymime";
  }
  if (p.smtputf8) out += " smtputf8";
  if (p.ret != RetType::kNone) out += p.ret == RetType::kFull ? " ret=full" : " ret=hdrs";
  if (!p.envid.empty()) out += " envid=" + std::string(p.envid);
  if (!p.auth.empty()) out += " auth=" + std::string(p.auth);
  if (p.notify != 0) out += " notify=" + std::to_string(p.notify);
  if (!p.orcpt_type.empty()) {
    out += " orcpt=" + std::string(p.orcpt_type) + ";" + std::string(p.orcpt_addr);
  }
  if (p.has_unknown) out += " unknown";
  return out;
}

struct OkCase {
  std::string in;
  ParamContext ctx = kMail;
  std::string golden;
  Leniencies leniencies = kStrict;
  Leniencies deviations = kStrict;
  bool utf8 = false;
};

struct ErrCase {
  std::string in;
  ParamContext ctx;
  Errc code;
  std::size_t offset;
  Leniencies leniencies = kStrict;
  bool utf8 = false;
};

Result<EsmtpParams> Parse(std::string_view in, ParamContext ctx, Leniencies len = kStrict,
                          bool utf8 = false, Leniencies* dev = nullptr, Limits limits = {}) {
  return ParseEsmtpParams(in, ctx, len, limits, 0, dev, utf8);
}

const std::vector<OkCase>& OkCases() {
  static const std::vector<OkCase> cases = {
      {"", kMail, " |"},
      // RFC 1870 §6 SIZE.
      {"SIZE=500000", kMail, "SIZE=500000 | size=500000"},
      {"SIZE=0", kMail, "SIZE=0 | size=0"},
      {"size=007", kMail, "size=007 | size=7"},
      {"SIZE=18446744073709551615", kMail, "SIZE=18446744073709551615 | size=18446744073709551615"},
      // RFC 6152 / RFC 3030 BODY, any case.
      {"BODY=7BIT", kMail, "BODY=7BIT | body=7bit"},
      {"BODY=8BITMIME", kMail, "BODY=8BITMIME | body=8bitmime"},
      {"body=binarymime", kMail, "body=binarymime | body=binarymime"},
      // RFC 6531 SMTPUTF8.
      {"SMTPUTF8", kMail, "SMTPUTF8 | smtputf8"},
      {"smtputf8 BODY=8BITMIME", kMail, "smtputf8 BODY=8BITMIME | body=8bitmime smtputf8"},
      // RFC 3461 §4.3 / §4.4 / §6 example.
      {"RET=HDRS ENVID=QQ314159", kMail, "RET=HDRS ENVID=QQ314159 | ret=hdrs envid=QQ314159"},
      {"RET=full", kMail, "RET=full | ret=full"},
      {"ENVID=a+2Bb+3Dc", kMail, "ENVID=a+2Bb+3Dc | envid=a+2Bb+3Dc"},
      {"ENVID=" + std::string(100, 'x'), kMail,
       "ENVID=" + std::string(100, 'x') + " | envid=" + std::string(100, 'x')},
      // RFC 4954 §5 AUTH (its example, and the null identity).
      {"AUTH=e+3Dmc2@example.com", kMail, "AUTH=e+3Dmc2@example.com | auth=e+3Dmc2@example.com"},
      {"AUTH=<>", kMail, "AUTH=<> | auth=<>"},
      // RFC 3461 §4.1 / §4.2 (its §6 example).
      {"NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example", kRcpt,
       "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Dana@Ivory.example | notify=6 "
       "orcpt=rfc822;Dana@Ivory.example"},
      {"NOTIFY=NEVER", kRcpt, "NOTIFY=NEVER | notify=1"},
      {"notify=delay,success", kRcpt, "notify=delay,success | notify=10"},
      {"NOTIFY=SUCCESS,SUCCESS", kRcpt, "NOTIFY=SUCCESS,SUCCESS | notify=2"},
      {"ORCPT=rfc822;", kRcpt, "ORCPT=rfc822; | orcpt=rfc822;"},
      {"ORCPT=rfc822;a+2Bb+20c", kRcpt, "ORCPT=rfc822;a+2Bb+20c | orcpt=rfc822;a+2Bb+20c"},
      // Unknown keywords: kept, flagged, on either command.
      {"XVERP", kMail, "XVERP(?) | unknown"},
      {"X-FOO=bar 1A-2=x", kRcpt, "X-FOO=bar(?) 1A-2=x(?) | unknown"},
      {"SIZE=1 HOLDFOR=60", kMail, "SIZE=1 HOLDFOR=60(?) | size=1 unknown"},
      {"X=!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}~", kMail,
       "X=!\"#$%&'()*+,-./:;<>?@[\\]^_`{|}~(?) | unknown"},
      // RFC 6531 §3.3: UTF-8 values with SMTPUTF8 (the MAIL's own, or utf8).
      {"SMTPUTF8 X=\xC3\xA9t\xC3\xA9", kMail, "SMTPUTF8 X=\xC3\xA9t\xC3\xA9(?) | smtputf8 unknown"},
      {"X=\xE2\x82\xAC", kRcpt, "X=\xE2\x82\xAC(?) | unknown", kStrict, kStrict, true},
      // Everything at once.
      {"SIZE=1 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=e AUTH=<> X=y", kMail,
       "SIZE=1 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=e AUTH=<> X=y(?) | size=1 body=8bitmime "
       "smtputf8 ret=full envid=e auth=<> unknown"},
      // Leniencies.
      {"SIZE=1  BODY=7BIT", kMail, "SIZE=1 BODY=7BIT | size=1 body=7bit", kExtraWhitespace,
       kExtraWhitespace},
      {"SIZE=1\tBODY=7BIT", kMail, "SIZE=1 BODY=7BIT | size=1 body=7bit", kExtraWhitespace,
       kExtraWhitespace},
      {"SIZE=1 ", kMail, "SIZE=1 | size=1", kTrailingWhitespace, kTrailingWhitespace},
      {"SIZE=1 \t", kMail, "SIZE=1 | size=1", kAllLeniencies, kTrailingWhitespace},
  };
  return cases;
}

TEST(EsmtpParams, Accepts) {
  for (const OkCase& c : OkCases()) {
    SCOPED_TRACE(c.in);
    Leniencies dev = kStrict;
    Result<EsmtpParams> r = Parse(c.in, c.ctx, c.leniencies, c.utf8, &dev);
    ASSERT_TRUE(r.ok()) << ErrcName(r.error().code) << " at " << r.error().offset;
    EXPECT_EQ(Describe(*r), c.golden);
    EXPECT_EQ(dev, c.deviations);
    // Nothing left over: the last value or keyword ends where the input's
    // non-whitespace ends.
    if (r->count > 0) {
      const EsmtpParam& last = r->items[r->count - 1];
      const std::string_view tail = last.has_value ? last.value : last.keyword;
      const std::size_t end = c.in.find_last_not_of(" \t") + 1;
      EXPECT_EQ(tail.data() + tail.size(), c.in.data() + end);
    }
  }
}

TEST(EsmtpParams, RoundTripsThroughCanonicalForm) {
  for (const OkCase& c : OkCases()) {
    SCOPED_TRACE(c.in);
    Result<EsmtpParams> r = Parse(c.in, c.ctx, c.leniencies, c.utf8);
    ASSERT_TRUE(r.ok());
    std::string wire;
    AppendEsmtpParams(*r, &wire);
    if (r->count == 0) {
      EXPECT_EQ(wire, "");
      continue;
    }
    ASSERT_EQ(wire[0], ' ');
    Leniencies dev = kStrict;
    Result<EsmtpParams> again =
        Parse(std::string_view(wire).substr(1), c.ctx, kStrict, c.utf8, &dev);
    ASSERT_TRUE(again.ok()) << wire << ": " << ErrcName(again.error().code);
    EXPECT_TRUE(*again == *r) << wire;
    EXPECT_EQ(dev, kStrict);
    std::string wire2;
    AppendEsmtpParams(*again, &wire2);
    EXPECT_EQ(wire2, wire);
  }
}

TEST(EsmtpParams, CanonicalForm) {
  const struct {
    const char* in;
    ParamContext ctx;
    const char* wire;
  } cases[] = {
      {"size=007 body=8bitmime smtputf8 ret=hdrs", kMail,
       " SIZE=7 BODY=8BITMIME SMTPUTF8 RET=HDRS"},
      {"SIZE=000", kMail, " SIZE=0"},
      {"notify=delay,failure,success", kRcpt, " NOTIFY=SUCCESS,FAILURE,DELAY"},
      {"notify=never orcpt=RFC822;a+2Bb", kRcpt, " NOTIFY=NEVER ORCPT=RFC822;a+2Bb"},
      {"x-foo=BaR xyz", kMail, " X-FOO=BaR XYZ"},
      {"envid=aBc auth=<>", kMail, " ENVID=aBc AUTH=<>"},
  };
  for (const auto& c : cases) {
    Result<EsmtpParams> r = Parse(c.in, c.ctx);
    ASSERT_TRUE(r.ok()) << c.in;
    std::string wire;
    AppendEsmtpParams(*r, &wire);
    EXPECT_EQ(wire, c.wire) << c.in;
  }
}

// Lists that fail with `code` at `offset`.
const std::vector<ErrCase>& ErrCases() {
  static const std::vector<ErrCase> cases = {
      // esmtp-keyword / esmtp-value syntax (RFC 5321 §4.1.2).
      {"-X", kMail, Errc::kBadParamSyntax, 0},
      {"=1", kMail, Errc::kBadParamSyntax, 0},
      {"X_Y", kMail, Errc::kBadParamSyntax, 1},
      {"X=a=b", kMail, Errc::kBadParamSyntax, 3},
      {"X=", kMail, Errc::kBadParamSyntax, 2},
      {"X= Y", kMail, Errc::kBadParamSyntax, 2},
      {"X=a\x01", kMail, Errc::kControlChar, 3},
      {"X=a\x7F", kMail, Errc::kControlChar, 3},
      {"X\x01", kMail, Errc::kControlChar, 1},
      {"SIZE=1  BODY=7BIT", kMail, Errc::kBadParamSyntax, 7},
      {"SIZE=1\tBODY=7BIT", kMail, Errc::kBadParamSyntax, 6},
      {"SIZE=1 ", kMail, Errc::kBadParamSyntax, 6},
      {" SIZE=1", kMail, Errc::kBadParamSyntax, 0},
      // 8-bit: keywords never; values only with SMTPUTF8 / utf8.
      {"\xC3\xA9=1", kMail, Errc::kEightBit, 0},
      {"X=\xC3\xA9", kMail, Errc::kEightBit, 2},
      {"X=\xC3\xA9", kRcpt, Errc::kEightBit, 2},
      {"SMTPUTF8 X=\xC3(", kMail, Errc::kBadUtf8, 11},
      {"X=\xC0\x80", kRcpt, Errc::kBadUtf8, 2, kStrict, true},
      {"X=\xED\xA0\x80", kRcpt, Errc::kBadUtf8, 2, kStrict, true},
      {"ENVID=\xC3\xA9", kMail, Errc::kBadXtext, 6, kStrict, true},
      // SIZE (RFC 1870 §6).
      {"SIZE", kMail, Errc::kMissingParamValue, 4},
      {"SIZE=", kMail, Errc::kBadParamSyntax, 5},
      {"SIZE=-1", kMail, Errc::kBadParamValue, 5},
      {"SIZE=1a", kMail, Errc::kBadParamValue, 6},
      {"SIZE=18446744073709551616", kMail, Errc::kBadParamValue, 24},
      {"SIZE=99999999999999999999", kMail, Errc::kBadParamValue, 24},
      {"SIZE=000000000000000000001", kMail, Errc::kBadParamValue, 25},
      // BODY, SMTPUTF8, RET.
      {"BODY=8BIT", kMail, Errc::kBadParamValue, 5},
      {"BODY", kMail, Errc::kMissingParamValue, 4},
      {"SMTPUTF8=YES", kMail, Errc::kUnexpectedParamValue, 8},
      {"RET=NONE", kMail, Errc::kBadParamValue, 4},
      {"RET", kMail, Errc::kMissingParamValue, 3},
      // ENVID / AUTH xtext (RFC 3461 §4, RFC 4954 §5).
      {"ENVID=a+2bc", kMail, Errc::kBadXtext, 7},
      {"ENVID=a+", kMail, Errc::kBadXtext, 7},
      {"ENVID=a+4", kMail, Errc::kBadXtext, 7},
      {"ENVID=" + std::string(101, 'x'), kMail, Errc::kBadParamValue, 106},
      {"ENVID", kMail, Errc::kMissingParamValue, 5},
      {"AUTH=a+zz", kMail, Errc::kBadXtext, 6},
      {"AUTH", kMail, Errc::kMissingParamValue, 4},
      // NOTIFY (RFC 3461 §4.1).
      {"NOTIFY=NEVER,SUCCESS", kRcpt, Errc::kBadParamValue, 13},
      {"NOTIFY=SUCCESS,NEVER", kRcpt, Errc::kBadParamValue, 15},
      {"NOTIFY=SUCCESS,", kRcpt, Errc::kBadParamValue, 15},
      {"NOTIFY=,SUCCESS", kRcpt, Errc::kBadParamValue, 7},
      {"NOTIFY=SUCCESS,,DELAY", kRcpt, Errc::kBadParamValue, 15},
      {"NOTIFY=BOGUS", kRcpt, Errc::kBadParamValue, 7},
      {"NOTIFY", kRcpt, Errc::kMissingParamValue, 6},
      // ORCPT (RFC 3461 §4.2).
      {"ORCPT=rfc822", kRcpt, Errc::kBadParamValue, 12},
      {"ORCPT=;a", kRcpt, Errc::kBadParamValue, 6},
      {"ORCPT=rf(c;a", kRcpt, Errc::kBadParamValue, 8},
      {"ORCPT=rfc822;a+2", kRcpt, Errc::kBadXtext, 14},
      {"ORCPT", kRcpt, Errc::kMissingParamValue, 5},
      // Wrong command (checked before the value).
      {"NOTIFY=NEVER", kMail, Errc::kParamNotAllowed, 0},
      {"ORCPT=rfc822;a", kMail, Errc::kParamNotAllowed, 0},
      {"SIZE=1 notify=NEVER", kMail, Errc::kParamNotAllowed, 7},
      {"SIZE=1", kRcpt, Errc::kParamNotAllowed, 0},
      {"BODY=7BIT", kRcpt, Errc::kParamNotAllowed, 0},
      {"SMTPUTF8", kRcpt, Errc::kParamNotAllowed, 0},
      {"RET=FULL", kRcpt, Errc::kParamNotAllowed, 0},
      {"ENVID=x", kRcpt, Errc::kParamNotAllowed, 0},
      {"AUTH=<>", kRcpt, Errc::kParamNotAllowed, 0},
      // Duplicates, any case, known or not.
      {"SIZE=1 size=2", kMail, Errc::kDuplicateParam, 7},
      {"SMTPUTF8 SMTPUTF8", kMail, Errc::kDuplicateParam, 9},
      {"X-FOO X-foo=1", kMail, Errc::kDuplicateParam, 6},
      {"NOTIFY=NEVER NOTIFY=NEVER", kRcpt, Errc::kDuplicateParam, 13},
  };
  return cases;
}

TEST(EsmtpParams, Rejects) {
  for (const ErrCase& c : ErrCases()) {
    SCOPED_TRACE(c.in);
    Result<EsmtpParams> r = Parse(c.in, c.ctx, c.leniencies, c.utf8);
    ASSERT_FALSE(r.ok()) << Describe(*r);
    EXPECT_EQ(ErrcName(r.error().code), ErrcName(c.code));
    EXPECT_EQ(r.error().offset, c.offset);
    EXPECT_FALSE(r.error().reason.empty());
    // base_offset shifts every offset.
    Result<EsmtpParams> shifted =
        ParseEsmtpParams(c.in, c.ctx, c.leniencies, Limits{}, 1000, nullptr, c.utf8);
    ASSERT_FALSE(shifted.ok());
    EXPECT_EQ(shifted.error().offset, c.offset + 1000);
  }
}

// Field for field, items included.
void ExpectSameFields(const EsmtpParams& a, const EsmtpParams& b) {
  EXPECT_EQ(Describe(a), Describe(b));
  ASSERT_EQ(a.count, b.count);
  for (std::size_t i = 0; i < a.count; ++i) {
    EXPECT_EQ(a.items[i].keyword, b.items[i].keyword);
    EXPECT_EQ(a.items[i].value, b.items[i].value);
    EXPECT_EQ(a.items[i].has_value, b.items[i].has_value);
    EXPECT_EQ(a.items[i].kind, b.items[i].kind);
  }
  EXPECT_EQ(a.orcpt_addr, b.orcpt_addr);
}

// ParseEsmtpParamsInto into a dirty EsmtpParams gives ParseEsmtpParams's
// value and deviations, or its error (and then leaves `deviations` alone).
TEST(EsmtpParams, IntoAgreesWithByValue) {
  const auto check = [](std::string_view in, ParamContext ctx, Leniencies len, bool utf8) {
    SCOPED_TRACE(in);
    Leniencies dev_value = kStrict;
    const Result<EsmtpParams> r = ParseEsmtpParams(in, ctx, len, Limits{}, 5, &dev_value, utf8);
    EsmtpParams reused;
    Dirty(&reused);
    Leniencies dev_into = kNonAlphaVerb;  // a bit no parameter list fires
    const ParseError e = ParseEsmtpParamsInto(in, ctx, len, Limits{}, 5, &dev_into, utf8, &reused);
    if (r.ok()) {
      ASSERT_EQ(e.code, Errc::kOk) << ErrcName(e.code);
      ExpectSameFields(reused, *r);
      EXPECT_EQ(dev_into, dev_value | kNonAlphaVerb);
    } else {
      EXPECT_EQ(e, r.error());
      EXPECT_EQ(dev_into, kNonAlphaVerb);
    }
  };
  for (const OkCase& c : OkCases()) check(c.in, c.ctx, c.leniencies, c.utf8);
  for (const ErrCase& c : ErrCases()) check(c.in, c.ctx, c.leniencies, c.utf8);
}

TEST(EsmtpParams, ClearEmptiesTheList) {
  EsmtpParams p;
  Dirty(&p);
  p.Clear();
  ExpectSameFields(p, EsmtpParams{});
  EXPECT_EQ(p.begin(), p.end());
  EXPECT_FALSE(p.size.has_value());
  EXPECT_EQ(p.envid.data(), nullptr);
  EXPECT_TRUE(p == EsmtpParams{});
}

TEST(EsmtpParams, ParameterLimit) {
  std::string in;
  for (int i = 0; i < static_cast<int>(kMaxEsmtpParams); ++i) {
    in += (i ? " X" : "X") + std::to_string(i);
  }
  Result<EsmtpParams> full = Parse(in, kMail);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->count, kMaxEsmtpParams);
  const std::size_t next = in.size() + 1;
  Result<EsmtpParams> over = Parse(in + " Y", kMail);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::kTooManyParams);
  EXPECT_EQ(over.error().offset, next);

  Limits two;
  two.esmtp_params = 2;
  Result<EsmtpParams> r = Parse("A B C", kMail, kStrict, false, nullptr, two);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kTooManyParams);
  EXPECT_EQ(r.error().offset, 4u);
  // A limit above the inline capacity is clamped to it.
  Limits huge;
  huge.esmtp_params = 1000;
  Result<EsmtpParams> clamped = Parse(in + " Y", kMail, kStrict, false, nullptr, huge);
  ASSERT_FALSE(clamped.ok());
  EXPECT_EQ(clamped.error().code, Errc::kTooManyParams);
}

TEST(EsmtpParams, HostileInputStaysBounded) {
  // A megabyte of parameters stops at the limit.
  std::string many;
  while (many.size() < (1u << 20)) many += "A ";
  Result<EsmtpParams> r = Parse(many, kMail);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kDuplicateParam);
  EXPECT_EQ(r.error().offset, 2u);
  // One megabyte-long value of an unknown keyword is syntax-checked once.
  const std::string big = "X=" + std::string(1u << 20, 'v');
  Result<EsmtpParams> one = Parse(big, kMail);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->items[0].value.size(), 1u << 20);
  Result<EsmtpParams> nul = Parse("X=" + std::string(1000, '\0'), kMail);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, Errc::kControlChar);
  EXPECT_EQ(nul.error().offset, 2u);
}

TEST(EsmtpParams, SemanticEquality) {
  const auto same = [](const char* a, const char* b, ParamContext ctx) {
    Result<EsmtpParams> x = Parse(a, ctx);
    Result<EsmtpParams> y = Parse(b, ctx);
    EXPECT_TRUE(x.ok() && y.ok()) << a << " / " << b;
    return x.ok() && y.ok() && *x == *y;
  };
  EXPECT_TRUE(same("SIZE=007", "size=7", kMail));
  EXPECT_TRUE(same("BODY=8bitmime", "BODY=8BITMIME", kMail));
  EXPECT_TRUE(same("NOTIFY=DELAY,SUCCESS", "NOTIFY=success,delay", kRcpt));
  EXPECT_TRUE(same("ORCPT=RFC822;a", "ORCPT=rfc822;a", kRcpt));
  EXPECT_FALSE(same("ORCPT=rfc822;A", "ORCPT=rfc822;a", kRcpt));
  EXPECT_FALSE(same("SIZE=1", "SIZE=2", kMail));
  EXPECT_FALSE(same("SIZE=1 BODY=7BIT", "BODY=7BIT SIZE=1", kMail));
  EXPECT_FALSE(same("ENVID=a", "ENVID=A", kMail));
  EXPECT_FALSE(same("X=a", "X=A", kMail));
  EXPECT_FALSE(same("X", "X=1", kMail));
  EXPECT_FALSE(same("X", "X Y", kMail));
  EXPECT_TRUE(same("x-foo=1", "X-FOO=1", kMail));
}

TEST(EsmtpParams, HasSmtputf8Param) {
  EXPECT_TRUE(HasSmtputf8Param(" SMTPUTF8"));
  EXPECT_TRUE(HasSmtputf8Param("SIZE=1\t smtputf8 BODY=8BITMIME"));
  EXPECT_FALSE(HasSmtputf8Param("SMTPUTF8=1"));
  EXPECT_FALSE(HasSmtputf8Param("XSMTPUTF8"));
  EXPECT_FALSE(HasSmtputf8Param(""));
}

TEST(Xtext, FindInvalid) {
  const struct {
    const char* in;
    std::size_t bad;
  } cases[] = {
      {"", 0},    {"abc", 3}, {"a+2B", 4}, {"+", 0},    {"+2", 0},   {"a+2b", 1},   {"a+G0", 1},
      {"a b", 1}, {"a=b", 1}, {"!~<>", 4}, {"\x7F", 0}, {"\x80", 0}, {"+FF+00", 6},
  };
  for (const auto& c : cases) EXPECT_EQ(FindInvalidXtext(c.in), c.bad) << c.in;
}

TEST(Xtext, EncodeDecodeEveryOctet) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  const std::string enc = EncodeXtext(all);
  EXPECT_EQ(FindInvalidXtext(enc), enc.size());
  EXPECT_EQ(DecodeXtext(enc), all);
  EXPECT_EQ(EncodeXtext("e=mc2 +x"), "e+3Dmc2+20+2Bx");
  EXPECT_EQ(DecodeXtext("e+3Dmc2@example.com"), "e=mc2@example.com");
}

// NOTIFY's values against a plain model of RFC 3461 §4.1 (split at every
// ",", compare each element ignoring case), on lists of valid, misspelt,
// truncated and empty elements: same notify bits, or the same error offset.
TEST(EsmtpParams, NotifyListsAgreeWithAModelOfTheGrammar) {
  const std::vector<std::string> elements = {
      "NEVER", "never",  "DELAY",    "Delay", "SUCCESS", "success", "FAILURE",  "FaIlUrE", "NEVERX",
      "NEVE",  "SUCCES", "FAILURES", "X",     "",        "DELAY7",  "SUCC,ESS", "@ELAY",   "NE-ER"};
  std::uint32_t rng = 3461;
  const auto next = [&] { return rng = rng * 1103515245u + 12345u, (rng >> 16) % 32768u; };
  for (int round = 0; round < 3000; ++round) {
    std::string value;
    const int n = 1 + static_cast<int>(next() % 4);
    for (int k = 0; k < n; ++k) {
      if (k > 0) value += ',';
      value += elements[next() % elements.size()];
    }
    // The model.
    std::uint8_t bits = 0;
    std::size_t want_error = std::string::npos;
    for (std::size_t pos = 0;;) {
      const std::size_t comma = std::min(value.find(',', pos), value.size());
      const std::string e = value.substr(pos, comma - pos);
      std::uint8_t bit = 0;
      if (EqualsIgnoreCase(e, "NEVER")) bit = kNotifyNever;
      if (EqualsIgnoreCase(e, "SUCCESS")) bit = kNotifySuccess;
      if (EqualsIgnoreCase(e, "FAILURE")) bit = kNotifyFailure;
      if (EqualsIgnoreCase(e, "DELAY")) bit = kNotifyDelay;
      if (bit == 0 || (bit == kNotifyNever && bits != 0) || (bits & kNotifyNever)) {
        want_error = pos;
        break;
      }
      bits |= bit;
      if (comma == value.size()) break;
      pos = comma + 1;
    }
    if (value.empty()) continue;  // "NOTIFY=": an empty value, another error
    const std::string in = "NOTIFY=" + value;
    const Result<EsmtpParams> r = ParseEsmtpParams(in, kRcpt, kStrict, Limits{}, 0, nullptr);
    if (want_error == std::string::npos) {
      ASSERT_TRUE(r.ok()) << in;
      EXPECT_EQ(r->notify, bits) << in;
    } else {
      ASSERT_FALSE(r.ok()) << in;
      EXPECT_EQ(r.error().code, Errc::kBadParamValue) << in;
      EXPECT_EQ(r.error().offset, 7 + want_error) << in;
    }
  }
}

// The eight-at-a-time value scans against the class tables, at every start
// and with every octet value at every position of a 20-octet value.
TEST(EsmtpParams, ValueScansAgreeWithTheirClassTables) {
  std::string s = "abcdefghij0123456789";
  for (std::size_t at = 0; at < s.size(); ++at) {
    for (int c = 0; c < 256; ++c) {
      std::string t = s;
      t[at] = static_cast<char>(c);
      for (std::size_t from = 0; from <= t.size(); ++from) {
        ASSERT_EQ(internal::SkipPrintableExcept(t, from, "=", internal::kValueBit),
                  internal::SkipClass(t, from, internal::kValueBit))
            << at << " " << c;
        ASSERT_EQ(internal::SkipPrintableExcept(t, from, "=+", internal::kXcharBit),
                  internal::SkipClass(t, from, internal::kXcharBit))
            << at << " " << c;
      }
    }
  }
}

// Known keywords are matched as one folded word where eight octets are
// there, octet by octet otherwise: both ways, in any case, followed by "="
// (SMTPUTF8: SP, HTAB or the end), give the keyword's kind; any other
// keyword, including a known one with one octet changed or extended, is
// unknown (or an error, at the same offset, whichever way it was read).
TEST(EsmtpParams, KnownKeywordsMatchInEveryCaseAndLength) {
  struct Known {
    std::string_view name;
    ParamContext ctx;
    ParamKeyword kind;
    std::string_view value;  // "" for SMTPUTF8
  };
  const Known kKnown[] = {
      {"SIZE", kMail, ParamKeyword::kSize, "1"},
      {"BODY", kMail, ParamKeyword::kBody, "7BIT"},
      {"SMTPUTF8", kMail, ParamKeyword::kSmtputf8, ""},
      {"RET", kMail, ParamKeyword::kRet, "FULL"},
      {"ENVID", kMail, ParamKeyword::kEnvid, "x"},
      {"AUTH", kMail, ParamKeyword::kAuth, "<>"},
      {"NOTIFY", kRcpt, ParamKeyword::kNotify, "NEVER"},
      {"ORCPT", kRcpt, ParamKeyword::kOrcpt, "rfc822;a"},
  };
  const auto parse = [](const std::string& in, ParamContext ctx) {
    Leniencies dev = kStrict;
    return ParseEsmtpParams(in, ctx, kStrict, Limits{}, 0, &dev);
  };
  for (const Known& k : kKnown) {
    const std::string param =
        std::string(k.name) + (k.value.empty() ? "" : "=") + std::string(k.value);
    for (int variant = 0; variant < 3; ++variant) {
      std::string kw(k.name);
      for (std::size_t i = 0; i < kw.size(); ++i) {
        if (variant == 1 || (variant == 2 && i % 2 == 1)) kw[i] = static_cast<char>(kw[i] | 0x20);
      }
      const std::string p = kw + param.substr(k.name.size());
      // Alone (fewer or more than eight octets), first of two, second of two.
      for (const std::string& list : {p, p + " X-A=1", "X-A=1 " + p, p + "\tX-A=1"}) {
        Leniencies dev = kStrict;
        auto r = ParseEsmtpParams(list, k.ctx, kExtraWhitespace, Limits{}, 0, &dev);
        ASSERT_TRUE(r.ok()) << list << ": " << r.error().reason;
        const bool first = list.rfind("X-A", 0) != 0;
        EXPECT_EQ(r->items[first ? 0 : 1].kind, k.kind) << list;
        EXPECT_EQ(r->items[first ? 0 : 1].keyword, kw) << list;
      }
    }
    // One octet changed (letters to their neighbour, digits and "=" to a
    // control character that folds onto them), or the keyword extended.
    for (std::size_t i = 0; i <= k.name.size(); ++i) {
      std::string p = param + "   ";
      const char was = p[i];
      const bool control = was == '=' || (was >= '0' && was <= '9');
      p[i] = control ? static_cast<char>(was & ~0x20) : static_cast<char>(was + 1);
      auto r = parse(p, k.ctx);
      if (r.ok()) {
        EXPECT_EQ(r->items[0].kind, ParamKeyword::kUnknown) << p;
      } else if (control) {
        EXPECT_EQ(r.error().offset, i) << p;
      }
    }
    const std::string longer = std::string(k.name) + "X" + param.substr(k.name.size());
    auto l = parse(longer + " X-A=1", k.ctx);
    ASSERT_TRUE(l.ok()) << longer;
    EXPECT_EQ(l->items[0].kind, ParamKeyword::kUnknown) << longer;
  }
  // Wrong context and duplicates are found either way.
  EXPECT_EQ(parse("NOTIFY=NEVER X-A=1", kMail).error().code, Errc::kParamNotAllowed);
  EXPECT_EQ(parse("SIZE=1 size=2 X-A=1", kMail).error().code, Errc::kDuplicateParam);
  EXPECT_EQ(parse("SIZE=1 size=2 X-A=1", kMail).error().offset, 7u);
}

// BODY and RET values compare as folded words: every value in every case is
// accepted, and one octet changed (a letter to its neighbour, a digit to the
// control character that folds onto it) is refused at the value's start.
TEST(EsmtpParams, BodyAndRetValuesInEveryCase) {
  for (const std::string_view value : {"7BIT", "8BITMIME", "BINARYMIME", "FULL", "HDRS"}) {
    const std::string kw = value.size() == 4 && value[0] != '7' ? "RET=" : "BODY=";
    for (int variant = 0; variant < 3; ++variant) {
      std::string v(value);
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (variant == 1 || (variant == 2 && i % 2 == 0)) v[i] = static_cast<char>(v[i] | 0x20);
      }
      Leniencies dev = kStrict;
      auto r = ParseEsmtpParams(kw + v, kMail, kStrict, Limits{}, 0, &dev);
      ASSERT_TRUE(r.ok()) << kw << v;
      EXPECT_TRUE(r->body != BodyType::kNone || r->ret != RetType::kNone) << kw << v;
      for (std::size_t i = 0; i < v.size(); ++i) {
        std::string bad = v;
        bad[i] = bad[i] >= '0' && bad[i] <= '9' ? static_cast<char>(bad[i] & ~0x20)
                                                : static_cast<char>(bad[i] + 1);
        auto e = ParseEsmtpParams(kw + bad, kMail, kStrict, Limits{}, 0, &dev);
        ASSERT_FALSE(e.ok()) << kw << bad;
        const bool control = static_cast<unsigned char>(bad[i]) < 32;
        EXPECT_EQ(e.error().code, control ? Errc::kControlChar : Errc::kBadParamValue) << bad;
        EXPECT_EQ(e.error().offset, control ? kw.size() + i : kw.size()) << bad;
      }
    }
  }
}

}  // namespace
}  // namespace smtp
