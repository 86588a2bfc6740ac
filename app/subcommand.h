// The smtp-harness CLI is one binary with subcommands. Each subcommand lives
// in its own file and declares its own Abseil flags; app/subcommands.cc
// lists them with the flags each one takes (app/command_line.h parses and
// documents a subcommand's flags from that list).
#ifndef SMTP_APP_SUBCOMMAND_H_
#define SMTP_APP_SUBCOMMAND_H_

#include <string>
#include <string_view>
#include <vector>

namespace smtp::app {

// Runs a subcommand with its positional arguments (flags already parsed).
// Returns the process exit status.
using SubcommandFn = int (*)(const std::vector<std::string>& args);

// Flags shown together in a subcommand's --help, by Abseil name.
struct FlagGroup {
  std::string_view title;  // "Target", "Selection", ...
  std::vector<std::string_view> flags;
};

struct Subcommand {
  std::string_view name;
  std::string_view usage;  // one line: "parse [--mode command|reply|data] ..."
  std::string_view summary;
  SubcommandFn run;
  // The only flags this subcommand accepts, grouped for --help. A flag may
  // belong to several subcommands (list shares run's selection flags).
  std::vector<FlagGroup> groups;
  std::vector<std::string_view> examples;  // full command lines
  std::string_view exit_status;            // "0 ..., 1 ..., 2 ..."
  // Arguments with one dash ("-max_total_time=60") are libFuzzer's and pass
  // through as arguments (`fuzz`); ours take two dashes there.
  bool libfuzzer_flags = false;

  // Whether `flag` (an Abseil name) is one of this subcommand's flags.
  bool Takes(std::string_view flag) const;
};

// The table of subcommands, in the order `--help` lists them.
const std::vector<Subcommand>& Subcommands();
// The subcommand called `name`, or null.
const Subcommand* FindSubcommand(std::string_view name);

// Entry points, one per subcommand file.
int RunParse(const std::vector<std::string>& args);
int RunServe(const std::vector<std::string>& args);
int RunRun(const std::vector<std::string>& args);
int RunReport(const std::vector<std::string>& args);
int RunCompare(const std::vector<std::string>& args);
int RunList(const std::vector<std::string>& args);
int RunReplay(const std::vector<std::string>& args);
int RunConvert(const std::vector<std::string>& args);
int RunImportPcap(const std::vector<std::string>& args);
int RunRecord(const std::vector<std::string>& args);
int RunFuzz(const std::vector<std::string>& args);

}  // namespace smtp::app

#endif  // SMTP_APP_SUBCOMMAND_H_
