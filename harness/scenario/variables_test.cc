#include "harness/scenario/variables.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

std::string Msg(const absl::Status& st) { return Message(st); }

TEST(VariableNames, Syntax) {
  for (const char* ok : {"a", "_", "user", "client_domain", "X1", "a_b_9"}) {
    EXPECT_TRUE(IsValidVariableName(ok)) << ok;
  }
  for (const char* bad : {"", "1a", "a-b", "a.b", "a b", "${a}", "é"}) {
    EXPECT_FALSE(IsValidVariableName(bad)) << bad;
  }
  EXPECT_TRUE(IsValidVariableName(std::string(kMaxVariableName, 'v')));
  EXPECT_FALSE(IsValidVariableName(std::string(kMaxVariableName + 1, 'v')));
}

struct ScanCase {
  std::string text;
  std::vector<std::pair<std::string, std::size_t>> refs;  // name, offset
  std::string error;                                      // empty: none
  std::size_t error_offset = 0;
};

TEST(ScanTemplate, Table) {
  const ScanCase cases[] = {
      {"NOOP", {}, ""},
      {"EHLO ${client_domain}", {{"client_domain", 5}}, ""},
      {"${a}${b}", {{"a", 0}, {"b", 4}}, ""},
      {"$$", {}, ""},
      {"$${a}", {}, ""},  // "$$" then literal "{a}"
      {"$$$${a}", {}, ""},
      {"$$${a}", {{"a", 2}}, ""},  // "$$" then a reference
      {"cost: $5 $", {}, ""},      // lone '$' is literal
      {"${", {}, "unterminated '${' (write $$ for a literal '$')", 0},
      {"ab ${user", {}, "unterminated '${' (write $$ for a literal '$')", 3},
      {"${}", {}, "bad variable name '' (letters, digits and '_', not starting with a digit)", 0},
      {"x${1a}",
       {},
       "bad variable name '1a' (letters, digits and '_', not starting with a digit)",
       1},
      {"${a b}",
       {},
       "bad variable name 'a b' (letters, digits and '_', not starting with a digit)",
       0},
  };
  for (const ScanCase& c : cases) {
    std::vector<VariableRef> refs;
    auto err = ScanTemplate(c.text, &refs);
    if (c.error.empty()) {
      ASSERT_FALSE(err.has_value()) << c.text << ": " << err->message;
      std::vector<std::pair<std::string, std::size_t>> got;
      for (const auto& r : refs) got.push_back({r.name, r.offset});
      EXPECT_EQ(got, c.refs) << c.text;
    } else {
      ASSERT_TRUE(err.has_value()) << c.text;
      EXPECT_EQ(err->message, c.error) << c.text;
      EXPECT_EQ(err->offset, c.error_offset) << c.text;
    }
  }
}

Variables Sample() {
  Variables v;
  v.Set("user", "alice");
  v.Set("password", "s3cret", /*secret=*/true);
  v.Set("rcpt", "bob@example.org");
  v.Set("empty", "");
  v.Set("tricky", "${user}");
  return v;
}

struct ExpandCase {
  std::string text;
  bool raw;
  std::string want;  // or the error message
  bool ok = true;
};

TEST(Template, ParseAndExpand) {
  const Variables vars = Sample();
  const ExpandCase cases[] = {
      {"RCPT TO:<${rcpt}>", false, "RCPT TO:<bob@example.org>"},
      {"${user}:${password}", false, "alice:s3cret"},
      {"[${empty}]", false, "[]"},
      {"${tricky}", false, "${user}"},  // values are not expanded again
      {"$$${user} $${user} $", false, "$alice ${user} $"},
      {"\\r\\n", false, "\\r\\n"},  // not raw: backslashes are text
      {"\\r\\n", true, "\r\n"},
      {"${user}\\x00${user}", true, std::string("alice\0alice", 11)},
      {"\\x24{user}", true, "${user}"},  // an escaped '$' never starts a reference
      {"$$\\x41", true, "$A"},
      {"${nobody}", false, "unknown variable 'nobody'", false},
  };
  for (const ExpandCase& c : cases) {
    Template t;
    auto err = Template::Parse(c.text, c.raw, &t);
    ASSERT_FALSE(err.has_value()) << c.text << ": " << err->message;
    EXPECT_EQ(t.source(), c.text);
    auto got = t.Expand(vars);
    if (c.ok) {
      ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
      EXPECT_EQ(*got, c.want) << c.text;
    } else {
      EXPECT_EQ(Msg(got.status()), c.want) << c.text;
    }
  }
}

TEST(Template, EscapeErrorOffsetsPointIntoTheSourceText) {
  struct Row {
    std::string text;
    std::size_t offset;
  };
  // "$$" is two source bytes but one literal byte; offsets must still point
  // at the backslash in the source.
  const Row rows[] = {
      {"\\q", 0}, {"ab\\q", 2}, {"$$$$\\q", 4}, {"${user}x\\q", 8}, {"${user}\\", 7}};
  for (const Row& r : rows) {
    Template t;
    auto err = Template::Parse(r.text, /*byte_escapes=*/true, &t);
    ASSERT_TRUE(err.has_value()) << r.text;
    EXPECT_EQ(err->offset, r.offset) << r.text;
  }
}

TEST(Template, LiteralAndNames) {
  Template t = Template::Literal("${not_a_ref}");
  EXPECT_EQ(*t.Expand(Variables()), "${not_a_ref}");
  EXPECT_TRUE(t.VariableNames().empty());
  Template u;
  ASSERT_FALSE(Template::Parse("${a}-${b}-${a}", false, &u));
  EXPECT_EQ(u.VariableNames(), (std::vector<std::string>{"a", "b", "a"}));
}

TEST(Template, ExpansionIsBounded) {
  Variables v;
  v.Set("big", std::string(kMaxExpandedBytes / 2 + 1, 'x'));
  Template t;
  ASSERT_FALSE(Template::Parse("${big}${big}", false, &t));
  EXPECT_EQ(Msg(t.Expand(v).status()), "expansion longer than 1048576 bytes");
  EXPECT_EQ(Msg(v.Expand("${big}${big}").status()), "expansion longer than 1048576 bytes");
}

TEST(Variables, ExpandString) {
  const Variables v = Sample();
  EXPECT_EQ(*v.Expand("AUTH ${user} $$ $x"), "AUTH alice $ $x");
  EXPECT_EQ(Msg(v.Expand("a ${who}").status()), "unknown variable 'who' at offset 2");
  EXPECT_EQ(Msg(v.Expand("a ${").status()), "bad variable reference at offset 2");
}

TEST(Variables, SetFindAndSecrets) {
  Variables v = Sample();
  ASSERT_NE(v.Find("user"), nullptr);
  EXPECT_EQ(*v.Find("user"), "alice");
  EXPECT_EQ(v.Find("nobody"), nullptr);
  EXPECT_TRUE(v.IsSecret("password"));
  EXPECT_FALSE(v.IsSecret("user"));
  v.Set("user", "carol", true);  // replacing also replaces the secret flag
  EXPECT_TRUE(v.IsSecret("user"));
  EXPECT_EQ(v.Names(), (std::vector<std::string>{"empty", "password", "rcpt", "tricky", "user"}));
}

struct RedactCase {
  std::string text;
  std::string want;
};

TEST(Variables, Redact) {
  Variables v;
  v.Set("user", "alice");  // not secret
  v.Set("password", "pass", true);
  v.Set("token", "passport", true);  // longer secret containing a shorter one
  v.Set("blank", "", true);          // empty secrets redact nothing
  v.AddSecretValue("AHBhc3M=");      // e.g. a base64 AUTH blob
  v.AddSecretValue("");
  const RedactCase cases[] = {
      {"", ""},
      {"nothing here", "nothing here"},
      {"alice:pass", "alice:***"},
      {"passport", "***"},  // longest first: one redaction, not "***port"
      {"passpass", "******"},
      {"pas", "pas"},
      {"AUTH PLAIN AHBhc3M=\r\n", "AUTH PLAIN ***\r\n"},
      {"xpassportpassx", "x******x"},
  };
  for (const RedactCase& c : cases) EXPECT_EQ(v.Redact(c.text), c.want) << c.text;
  EXPECT_EQ(Variables().Redact("pass"), "pass");
}

}  // namespace
}  // namespace smtp::scenario
