// The smtp-harness CLI is one binary with subcommands. Each subcommand lives
// in its own file, declares its own Abseil flags, and registers here.
#ifndef SMTP_APP_SUBCOMMAND_H_
#define SMTP_APP_SUBCOMMAND_H_

#include <string>
#include <string_view>
#include <vector>

namespace smtp::app {

// Runs a subcommand with its positional arguments (flags already parsed).
// Returns the process exit status.
using SubcommandFn = int (*)(const std::vector<std::string>& args);

struct Subcommand {
  std::string_view name;
  std::string_view usage;  // one line: "parse [--mode command|reply|data] ..."
  std::string_view summary;
  SubcommandFn run;
};

// The table of subcommands, in the order `--help` lists them.
const std::vector<Subcommand>& Subcommands();

// Entry points, one per subcommand file.
int RunParse(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunRun(const std::vector<std::string>& args);
int RunReport(const std::vector<std::string>& args);
int RunCompare(const std::vector<std::string>& args);
int RunList(const std::vector<std::string>& args);

}  // namespace smtp::app

#endif  // SMTP_APP_SUBCOMMAND_H_
