// smtp-harness: SMTP protocol test harness and fuzzer.
//   smtp-harness SUBCOMMAND [flags] [args]
//   smtp-harness SUBCOMMAND --help | --help | --helpfull | --version
// A usage error exits 2 (1 is kept for "the server failed").
// A process that `fuzz -fork/-jobs` started (its environment says so and
// argv[1] is a libFuzzer flag) is a fuzz child instead (fuzz/net/fuzz_child.h).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "app/command_line.h"
#include "app/subcommand.h"
#include "fuzz/net/fuzz_child.h"
#include "results/absl_compat.h"

int main(int argc, char** argv) {
  namespace app = smtp::app;
  if (smtp::fuzz::IsFuzzChild(argc, argv)) return smtp::fuzz::RunFuzzChild(argc, argv);
  const std::string_view first = argc < 2 ? "" : argv[1];
  if (argc < 2) {
    std::fprintf(stderr, "%s", app::MainUsage().c_str());
    return 2;
  }
  if (first == "--help" || first == "-h" || first == "-help") {
    std::fputs(app::MainUsage().c_str(), stdout);
    return 0;
  }
  if (first == "--helpfull") {
    std::fputs(app::FullHelp().c_str(), stdout);
    return 0;
  }
  if (first == "--version" || first == "-version") {
    std::fputs(app::VersionText().c_str(), stdout);
    return 0;
  }
  if (first == "help") {  // help [SUBCOMMAND]
    const app::Subcommand* sub = argc > 2 ? app::FindSubcommand(argv[2]) : nullptr;
    if (argc > 2 && sub == nullptr) {
      std::fprintf(stderr, "smtp-harness: unknown subcommand '%s'\n\n%s", argv[2],
                   app::MainUsage().c_str());
      return 2;
    }
    std::fputs(sub ? app::SubcommandHelp(*sub).c_str() : app::MainUsage().c_str(), stdout);
    return 0;
  }
  const app::Subcommand* sub = app::FindSubcommand(first);
  if (sub == nullptr) {
    std::fprintf(stderr, "smtp-harness: unknown subcommand '%.*s'\n\n%s",
                 static_cast<int>(first.size()), first.data(), app::MainUsage().c_str());
    return 2;
  }
  const std::vector<std::string> rest(argv + 2, argv + argc);
  absl::StatusOr<app::CommandLine> cl = app::ParseCommandLine(*sub, rest);
  if (!cl.ok()) {
    std::fprintf(stderr, "smtp-harness %.*s: %s\n", static_cast<int>(sub->name.size()),
                 sub->name.data(), smtp::Message(cl.status()).c_str());
    return 2;
  }
  switch (cl->action) {
    case app::CommandLine::Action::kHelp:
      std::fputs(app::SubcommandHelp(*sub).c_str(), stdout);
      return 0;
    case app::CommandLine::Action::kVersion:
      std::fputs(app::VersionText().c_str(), stdout);
      return 0;
    case app::CommandLine::Action::kRun:
      break;
  }
  return sub->run(cl->args);
}
