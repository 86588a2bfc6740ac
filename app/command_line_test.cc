#include "app/command_line.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/time/time.h"
#include "results/absl_compat.h"

ABSL_DECLARE_FLAG(int, jobs);
ABSL_DECLARE_FLAG(bool, lenient);
ABSL_DECLARE_FLAG(std::string, line);
ABSL_DECLARE_FLAG(std::vector<std::string>, fail_on);
ABSL_DECLARE_FLAG(absl::Duration, run_timeout);

namespace smtp::app {
namespace {

const Subcommand& Sub(std::string_view name) {
  const Subcommand* s = FindSubcommand(name);
  EXPECT_NE(s, nullptr) << name;
  return *s;
}

// The message of a refused command line, or "" when it parsed.
std::string Error(std::string_view sub, std::vector<std::string> argv) {
  absl::FlagSaver saver;
  absl::StatusOr<CommandLine> cl = ParseCommandLine(Sub(sub), argv);
  return cl.ok() ? "" : Message(cl.status());
}

// Every flag of the binary belongs to some subcommand, and the table names
// only real flags: a flag added to a *_cmd.cc file but not to
// app/subcommands.cc would be refused on the command line.
TEST(CommandLine, TableAndFlagsAgree) {
  EXPECT_EQ(FlagsOfNoSubcommand(), std::vector<std::string>{});
  EXPECT_EQ(UnknownFlagsInTable(), std::vector<std::string>{});
}

TEST(CommandLine, SetsFlagsInEverySyntax) {
  absl::FlagSaver saver;
  absl::StatusOr<CommandLine> cl = ParseCommandLine(
      Sub("run"),
      {"--jobs", "7", "a", "--fail-on=MUST,SHOULD", "-run_timeout=2s", "b", "--", "--jobs", "-"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->action, CommandLine::Action::kRun);
  EXPECT_EQ(cl->args, (std::vector<std::string>{"a", "b", "--jobs", "-"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_jobs), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_fail_on), (std::vector<std::string>{"MUST", "SHOULD"}));
  EXPECT_EQ(absl::GetFlag(FLAGS_run_timeout), absl::Seconds(2));

  ASSERT_TRUE(ParseCommandLine(Sub("parse"), {"--lenient", "--line", "NOOP", "-"}).ok());
  EXPECT_TRUE(absl::GetFlag(FLAGS_lenient));
  EXPECT_EQ(absl::GetFlag(FLAGS_line), "NOOP");
  ASSERT_TRUE(ParseCommandLine(Sub("parse"), {"--nolenient"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_lenient));
  ASSERT_TRUE(ParseCommandLine(Sub("parse"), {"--lenient=true", "--no-lenient"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_lenient));
}

TEST(CommandLine, HelpAndVersionWinOverMistakes) {
  const struct {
    std::vector<std::string> argv;
    CommandLine::Action want;
  } kCases[] = {
      {{"--help"}, CommandLine::Action::kHelp},
      {{"--bogus", "-h"}, CommandLine::Action::kHelp},
      {{"--jobs=x", "--helpfull"}, CommandLine::Action::kHelp},
      {{"--version"}, CommandLine::Action::kVersion},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<CommandLine> cl = ParseCommandLine(Sub("run"), c.argv);
    ASSERT_TRUE(cl.ok()) << c.argv[0];
    EXPECT_EQ(cl->action, c.want) << c.argv[0];
  }
  // After "--" it is an argument.
  absl::StatusOr<CommandLine> cl = ParseCommandLine(Sub("run"), {"--", "--help"});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->action, CommandLine::Action::kRun);
}

TEST(CommandLine, MistakesAreNamed) {
  const struct {
    std::string_view sub;
    std::vector<std::string> argv;
    std::string want;
  } kCases[] = {
      {"parse",
       {"--target", "x"},
       "--target is a flag of 'run', 'replay' and 'fuzz', not of 'parse' (see smtp-harness parse "
       "--help)"},
      {"compare",
       {"--profile=p.json"},
       "--profile is a flag of 'run' and 'list', not of 'compare' (see smtp-harness compare "
       "--help)"},
      {"run",
       {"--targt", "x"},
       "unknown flag --targt (did you mean --target?) (see smtp-harness run --help)"},
      {"run",
       {"--fail-onn=MUST"},
       "unknown flag --fail-onn (did you mean --fail_on?) (see smtp-harness run --help)"},
      {"run", {"--zzzzzz"}, "unknown flag --zzzzzz (see smtp-harness run --help)"},
      {"run", {"--jobs=many"}, "--jobs: invalid value 'many' (see smtp-harness run --help)"},
      {"run", {"--jobs"}, "--jobs needs a value (--jobs=VALUE) (see smtp-harness run --help)"},
      {"parse", {"--nolenient=1"}, "--nolenient takes no value (see smtp-harness parse --help)"},
      {"parse",
       {"--lenient=maybe"},
       "--lenient: invalid value 'maybe' (see smtp-harness parse --help)"},
      {"parse", {"--=x"}, "malformed flag '--=x' (see smtp-harness parse --help)"},
  };
  for (const auto& c : kCases) EXPECT_EQ(Error(c.sub, c.argv), c.want) << c.argv[0];
}

// A subcommand's help shows its own flags, by group, and no other's; no
// help shows a source path.
TEST(CommandLine, HelpShowsOnlyTheSubcommandsFlags) {
  const std::string run = SubcommandHelp(Sub("run"));
  EXPECT_NE(run.find("usage: smtp-harness run [--target "), std::string::npos) << run;
  EXPECT_NE(run.find("\nTarget:\n  --target=TARGET\n"), std::string::npos) << run;
  EXPECT_NE(run.find("  --jobs=N\n      scenarios run in parallel"), std::string::npos) << run;
  EXPECT_NE(run.find("[default:\n      MUST,security]"), std::string::npos) << run;
  EXPECT_NE(run.find("\nExamples:\n  smtp-harness run "), std::string::npos) << run;
  EXPECT_EQ(run.find("--behavior"), std::string::npos) << run;
  EXPECT_EQ(run.find("--mode"), std::string::npos) << run;
  EXPECT_EQ(run.find("\n      run: "), std::string::npos) << "prefix not stripped:\n" << run;
  const std::string full = FullHelp();
  for (const Subcommand& sub : Subcommands()) {
    EXPECT_NE(full.find(SubcommandHelp(sub)), std::string::npos) << sub.name;
  }
  EXPECT_EQ(full.find(".cc"), std::string::npos);
  EXPECT_EQ(full.find("/app/"), std::string::npos);
}

}  // namespace
}  // namespace smtp::app
