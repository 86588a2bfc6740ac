#include "harness/scenario/suite.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "harness/scenario/test_util.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

std::string Msg(const absl::Status& st) { return Message(st); }

std::vector<std::string> Ids(const Suite& s) {
  std::vector<std::string> ids;
  for (const Scenario& sc : s.scenarios) ids.push_back(sc.id);
  return ids;
}

TEST(GlobMatch, Table) {
  struct Row {
    const char* pattern;
    const char* text;
    bool match;
  };
  const std::string sixty_a(60, 'a');
  const Row rows[] = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "anything", true},
      {"smtp.*", "smtp.ehlo.basic", true},
      {"smtp.*", "tls.smtp", false},
      {"*.basic", "smtp.ehlo.basic", true},
      {"*ehlo*", "smtp.ehlo.basic", true},
      {"s?tp.*", "smtp.x", true},
      {"s?tp.*", "stp.x", false},
      {"a*b*c", "aXbYc", true},
      {"a*b*c", "aXbYcZ", false},
      {"a**c", "ac", true},
      {"*a*a*a*a*b", sixty_a.c_str(), false},  // no blow-up
      {"R5321-4.2-?", "R5321-4.2-a", true},
      {"exact", "exact", true},
      {"exact", "exactly", false},
  };
  for (const Row& r : rows) EXPECT_EQ(GlobMatch(r.pattern, r.text), r.match) << r.pattern;
}

class SuiteTest : public testing::InTestdata {};

TEST_F(SuiteTest, DirectoryIsWalkedRecursivelyInSortedOrder) {
  auto suite = LoadSuite({"suite"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  // fragments/, schema.json, hidden entries and non-JSON files are skipped.
  EXPECT_EQ(suite->files, (std::vector<std::string>{"suite/a.json", "suite/sub/b.json",
                                                    "suite/sub/c.json", "suite/sub/d.json"}));
  EXPECT_EQ(Ids(*suite), (std::vector<std::string>{"smtp.ehlo.basic", "smtp.mail.null-sender",
                                                   "tls.starttls.after-ehlo", "policy.vrfy"}));
  EXPECT_EQ(suite->filtered_out, 0u);
  // c.json's include resolved in suite/fragments.
  EXPECT_EQ(suite->scenarios[2].steps[0].origin.file, "suite/fragments/greet.json");
}

TEST_F(SuiteTest, FilesAndDirectoriesMixWithoutDuplicates) {
  auto suite = LoadSuite({"suite/sub/d.json", "suite", "./suite/a.json"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(Ids(*suite),
            (std::vector<std::string>{"policy.vrfy", "smtp.ehlo.basic", "smtp.mail.null-sender",
                                      "tls.starttls.after-ehlo"}));
}

std::vector<std::string> SuiteFiles(const Suite& s) {
  std::vector<std::string> files;
  for (const Scenario& sc : s.scenarios) files.push_back(sc.suite_file);
  return files;
}

TEST_F(SuiteTest, ScenarioFilesAreRelativeToTheirSuiteDirectory) {
  auto suite = LoadSuite({"suite"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(SuiteFiles(*suite),
            (std::vector<std::string>{"a.json", "sub/b.json", "sub/c.json", "sub/d.json"}));
  EXPECT_EQ(suite->scenarios[0].file, "suite/a.json");  // the path it was read from stays

  // The first directory given that holds the file wins, also for a file
  // named on its own; a file under no directory given has none.
  suite = LoadSuite({"suite/sub/d.json", "suite/sub", "suite"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(SuiteFiles(*suite), (std::vector<std::string>{"d.json", "b.json", "c.json", "a.json"}));
  suite = LoadSuite({"suite", "suite/sub"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(SuiteFiles(*suite),
            (std::vector<std::string>{"a.json", "sub/b.json", "sub/c.json", "sub/d.json"}));
  suite = LoadSuite({"suite/sub/d.json", "suite/a.json"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(SuiteFiles(*suite), (std::vector<std::string>{"", ""}));
  EXPECT_EQ(suite->scenarios[0].file, "suite/sub/d.json");
}

TEST(MakeSuiteFilter, LevelsInAnyCase) {
  auto filter = MakeSuiteFilter({"smtp.*"}, {"!slow"}, {"must", "Security", "POLICY"});
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_EQ(filter->ids, (std::vector<std::string>{"smtp.*"}));
  EXPECT_EQ(filter->tags, (std::vector<std::string>{"!slow"}));
  EXPECT_EQ(filter->levels, (std::vector<Level>{Level::kMust, Level::kSecurity, Level::kPolicy}));
  filter = MakeSuiteFilter({}, {}, {"MUST", "often"});
  EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(filter.status()), "--level: unknown level 'often'");
  EXPECT_EQ(Msg(MakeSuiteFilter({}, {}, {"securty"}).status()),
            "--level: unknown level 'securty' (did you mean 'security'?)");
  EXPECT_EQ(Msg(MakeSuiteFilter({}, {}, {"SHOLD"}).status()),
            "--level: unknown level 'SHOLD' (did you mean 'SHOULD'?)");
}

struct FilterCase {
  SuiteFilter filter;
  std::vector<std::string> ids;
};

TEST_F(SuiteTest, Filters) {
  const std::vector<FilterCase> cases{
      {{}, {"smtp.ehlo.basic", "smtp.mail.null-sender", "tls.starttls.after-ehlo", "policy.vrfy"}},
      {{{"smtp.*"}, {}, {}}, {"smtp.ehlo.basic", "smtp.mail.null-sender"}},
      {{{"*.basic", "policy.*"}, {}, {}}, {"smtp.ehlo.basic", "policy.vrfy"}},
      {{{"!smtp.*"}, {}, {}}, {"tls.starttls.after-ehlo", "policy.vrfy"}},
      {{{"smtp.*", "!*.basic"}, {}, {}}, {"smtp.mail.null-sender"}},
      {{{}, {"ehlo"}, {}}, {"smtp.ehlo.basic"}},
      {{{}, {"mail", "tls"}, {}}, {"smtp.mail.null-sender", "tls.starttls.after-ehlo"}},
      {{{}, {"!slow"}, {}}, {"smtp.ehlo.basic", "smtp.mail.null-sender", "policy.vrfy"}},
      {{{}, {}, {Level::kMust, Level::kSecurity}}, {"smtp.ehlo.basic", "tls.starttls.after-ehlo"}},
      {{{"*"}, {"smoke", "mail"}, {Level::kShould}}, {"smtp.mail.null-sender"}},
      {{{"nothing"}, {}, {}}, {}},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto suite = LoadSuite({"suite"}, cases[i].filter);
    ASSERT_TRUE(suite.ok()) << suite.status();
    EXPECT_EQ(Ids(*suite), cases[i].ids) << "case " << i;
    EXPECT_EQ(suite->filtered_out, 4 - cases[i].ids.size()) << "case " << i;
  }
}

// What run and list print about the filters: entries that match nothing
// (with the nearest name) and which scenarios --level left out.
TEST_F(SuiteTest, FilterNotes) {
  struct Row {
    SuiteFilter filter;
    std::vector<std::string> notes;
  };
  const Row rows[] = {
      {{}, {}},
      {{{"smtp.*"}, {"ehlo"}, {}}, {}},
      {{{}, {"ehol", "!slwo", "mail"}, {}},
       {"--tag 'ehol' matches no scenario (did you mean 'ehlo'?)",
        "--tag '!slwo' matches no scenario (did you mean 'slow'?)"}},
      {{{}, {"nothing-like-it"}, {}}, {"--tag 'nothing-like-it' matches no scenario"}},
      {{{"smtp.ehlo.basci", "smpt.*", "!polcy.*"}, {}, {}},
       {"--filter 'smtp.ehlo.basci' matches no scenario id (did you mean 'smtp.ehlo.basic'?)",
        "--filter 'smpt.*' matches no scenario id (did you mean 'smtp.*'?)",
        "--filter '!polcy.*' matches no scenario id (did you mean 'policy.*'?)"}},
      // A level with a tag: the tagged scenarios of other levels are named.
      {{{}, {"mail", "tls"}, {Level::kSecurity}},
       {"--level security left out 1 scenario the other filters select: smtp.mail.null-sender "
        "[SHOULD] (add their levels to --level to run them)"}},
      {{{"*"}, {}, {Level::kPolicy}},
       {"--level policy left out 3 scenarios the other filters select: smtp.ehlo.basic [MUST], "
        "smtp.mail.null-sender [SHOULD] ... and 1 more (add their levels to --level to run them)"}},
      // A level alone leaves out the others by design: nothing to say.
      {{{}, {}, {Level::kMust}}, {}},
  };
  for (const Row& r : rows) {
    auto suite = LoadSuite({"suite"}, r.filter);
    ASSERT_TRUE(suite.ok()) << suite.status();
    EXPECT_EQ(FilterNotes(*suite, r.filter, 2), r.notes);
  }
}

TEST_F(SuiteTest, DuplicateIdsNameBothFiles) {
  auto suite = LoadSuite({"dup"});
  EXPECT_EQ(suite.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(suite.status()), "dup/b.json: duplicate id 'same' (also in dup/a.json)");
  // Even when the filter would drop one of them.
  SuiteFilter f;
  f.ids = {"other"};
  EXPECT_FALSE(LoadSuite({"dup"}, f).ok());
}

TEST_F(SuiteTest, MissingPath) {
  auto suite = LoadSuite({"suite", "nope"});
  EXPECT_EQ(suite.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Msg(suite.status()), "nope: no such file or directory");
}

TEST_F(SuiteTest, AllLoadErrorsAreListedUpToACap) {
  auto suite = LoadSuite({"bad"});
  ASSERT_FALSE(suite.ok());
  const std::string msg = Msg(suite.status());
  std::vector<std::string> lines;
  for (std::size_t start = 0; start <= msg.size();) {
    std::size_t end = msg.find('\n', start);
    if (end == std::string::npos) end = msg.size();
    lines.push_back(msg.substr(start, end - start));
    start = end + 1;
  }
  ASSERT_EQ(lines.size(), kMaxReportedLoadErrors + 1);
  EXPECT_EQ(lines[0], "bad/auth_missing.json:4:12: step 2 (auth): missing key 'password'");
  EXPECT_EQ(lines.back(), "... and 13 more errors");
}

TEST_F(SuiteTest, GoodDirectoryLoads) {
  auto suite = LoadSuite({"good"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(Ids(*suite), (std::vector<std::string>{"conditions", "delivery", "every-step",
                                                   "includes", "minimal"}));
}

// The shipped suite's texts are prose for reports: a quotation inside a
// quotation uses single quotes, never an escaped double quote that JSON
// decodes to a literal backslash-quote (issue 14 item 10).
TEST(ShippedSuite, TextsHaveNoLiteralBackslashQuote) {
  auto suite = LoadSuite({testing::SourceDir() + "/scenarios"});
  ASSERT_TRUE(suite.ok()) << suite.status();
  ASSERT_GT(suite->scenarios.size(), 100u);
  for (const Scenario& s : suite->scenarios) {
    EXPECT_EQ(s.title.find("\\\""), std::string::npos) << s.file << ": title: " << s.title;
    EXPECT_EQ(s.description.find("\\\""), std::string::npos)
        << s.file << ": description: " << s.description;
    for (const Step& step : s.steps) {
      EXPECT_EQ(step.note.find("\\\""), std::string::npos) << s.file << ": note: " << step.note;
    }
  }
}

}  // namespace
}  // namespace smtp::scenario
