// smtp-harness: SMTP protocol test harness and fuzzer.
//   smtp-harness SUBCOMMAND [flags] [args]
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "app/subcommand.h"

namespace smtp::app {

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> table = {
      {"parse", "parse [--mode command|reply|data] [--lenient] [--line TEXT] < input",
       "parse SMTP commands, replies or a DATA body; print one JSON object per input", RunParse},
      {"serve", "serve [--listen HOST:PORT] [--behavior strict|lenient|slow|faulty] [--sink ...]",
       "run the embedded reference SMTP/LMTP server until SIGINT/SIGTERM", RunServe},
      {"run",
       "run --target HOST:PORT|tls:HOST:PORT|exec:CMD [--profile FILE] [--suite PATH,...] "
       "[--filter GLOB] [--tag TAG] [--level LEVEL] [--jobs N] [--rate N] [--out DIR]",
       "run conformance scenarios against a server; write DIR/results.json", RunRun},
      {"report", "report RESULTS.json [--html FILE] [--junit FILE] | report --serve DIR [--port N]",
       "re-render a run's index.html/junit.xml, or serve a directory of runs (live) on 127.0.0.1",
       RunReport},
      {"compare", "compare A.json B.json ... [--html FILE]",
       "compare runs against several servers: scenarios x targets, disagreements highlighted",
       RunCompare},
      {"list", "list [--suite PATH,...] [--filter GLOB] [--tag TAG] [--level LEVEL] [--markdown]",
       "load a suite (validating every file) and list its scenarios, or print the catalogue",
       RunList},
  };
  return table;
}

namespace {

std::string Usage() {
  std::string u = "usage: smtp-harness SUBCOMMAND [flags] [args]\n\nsubcommands:\n";
  for (const auto& s : Subcommands()) {
    u += "  " + std::string(s.usage) + "\n      " + std::string(s.summary) + "\n";
  }
  u += "\nRun 'smtp-harness SUBCOMMAND --help' for its flags.";
  return u;
}

}  // namespace
}  // namespace smtp::app

int main(int argc, char** argv) {
  using smtp::app::Subcommands;
  absl::SetProgramUsageMessage(smtp::app::Usage());
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h" ||
      std::string_view(argv[1]) == "help") {
    std::fprintf(argc < 2 ? stderr : stdout, "%s\n", smtp::app::Usage().c_str());
    return argc < 2 ? 2 : 0;
  }
  std::string_view name = argv[1];
  for (const auto& sub : Subcommands()) {
    if (sub.name != name) continue;
    // Hand Abseil the arguments after the subcommand name, keeping argv[0].
    std::vector<char*> rest = {argv[0]};
    for (int i = 2; i < argc; ++i) rest.push_back(argv[i]);
    std::vector<char*> positional =
        absl::ParseCommandLine(static_cast<int>(rest.size()), rest.data());
    std::vector<std::string> args;
    for (std::size_t i = 1; i < positional.size(); ++i) args.emplace_back(positional[i]);
    return sub.run(args);
  }
  std::fprintf(stderr, "smtp-harness: unknown subcommand '%.*s'\n\n%s\n",
               static_cast<int>(name.size()), name.data(), smtp::app::Usage().c_str());
  return 2;
}
