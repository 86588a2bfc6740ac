// The command line of one subcommand: its flags parsed, checked and
// documented from its entry in app/subcommands.cc.
//
// Abseil's own parser knows one global set of flags and exits 1 on an
// unknown one; here every mistake is a usage error the caller turns into
// exit status 2 (1 means "the server failed a MUST"), and a subcommand
// accepts only its own flags. Syntax, as Abseil's: --name=value,
// --name value, -name; booleans --name, --name=false, --noname. In flag
// names '-' and '_' are the same character (--fail-on is --fail_on).
#ifndef SMTP_APP_COMMAND_LINE_H_
#define SMTP_APP_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "app/subcommand.h"

namespace smtp::app {

struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  std::vector<std::string> args;  // positional arguments, in order
};

// Parses `argv` (what follows the subcommand name) and sets `sub`'s flags.
// --help / -h and --version anywhere before "--" give kHelp / kVersion (no
// flag is set then). InvalidArgument with a one-line message for an
// unknown flag (with "did you mean"), a flag of another subcommand (naming
// it), a missing or bad value.
absl::StatusOr<CommandLine> ParseCommandLine(const Subcommand& sub,
                                             const std::vector<std::string>& argv);

// `smtp-harness SUB --help`: usage, summary, the subcommand's flags by group
// (type, default, description), examples and exit status.
std::string SubcommandHelp(const Subcommand& sub);
// `smtp-harness --help`: the subcommands, one usage line and summary each.
std::string MainUsage();
// `smtp-harness --helpfull`: MainUsage and every subcommand's help.
std::string FullHelp();
// `smtp-harness --version`: "smtp-harness VERSION".
std::string VersionText();

// Flags registered in the binary (Abseil's own aside) that no subcommand
// takes, and names in the table that are no registered flag; both empty in
// a consistent build (app_test checks it).
std::vector<std::string> FlagsOfNoSubcommand();
std::vector<std::string> UnknownFlagsInTable();

}  // namespace smtp::app

#endif  // SMTP_APP_COMMAND_LINE_H_
