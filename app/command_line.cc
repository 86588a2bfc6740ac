#include "app/command_line.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/time/time.h"
#include "harness/runner/runner.h"
#include "harness/scenario/suggest.h"
#include "results/absl_compat.h"

namespace smtp::app {
namespace {

constexpr std::size_t kHelpWidth = 79;
constexpr std::string_view kHelpIndent = "      ";

std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// "fail-on" -> "fail_on": Abseil names cannot hold '-'.
std::string Normalize(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

absl::CommandLineFlag* Find(std::string_view name) { return absl::FindCommandLineFlag(AV(name)); }

// The subcommands that take `flag`, as "'run'" or "'report', 'compare'".
// "'run'", "'run' and 'replay'", "'run', 'replay' and 'fuzz'".
std::string Owners(std::string_view flag) {
  std::vector<std::string> names;
  for (const Subcommand& sub : Subcommands()) {
    if (sub.Takes(flag)) names.push_back("'" + std::string(sub.name) + "'");
  }
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) s += i + 1 == names.size() ? " and " : ", ";
    s += names[i];
  }
  return s;
}

absl::Status UsageError(const Subcommand& sub, const std::string& message) {
  return absl::InvalidArgumentError(message + " (see smtp-harness " + std::string(sub.name) +
                                    " --help)");
}

absl::Status UnknownFlag(const Subcommand& sub, std::string_view name) {
  std::string msg = "unknown flag --" + std::string(name);
  std::vector<std::string_view> own;
  for (const FlagGroup& g : sub.groups) own.insert(own.end(), g.flags.begin(), g.flags.end());
  const std::string normalized = Normalize(name);
  if (std::string_view s = scenario::Suggest(normalized, own); !s.empty()) {
    msg += " (did you mean --" + std::string(s) + "?)";
  } else if (sub.name == "fuzz") {
    // libFuzzer's own flags pass through with one dash.
    for (const std::string_view lf :
         {"max_total_time", "runs", "seed", "dict", "max_len", "fork", "jobs", "workers", "timeout",
          "rss_limit_mb", "print_final_stats", "use_value_profile", "only_ascii", "close_fd_mask",
          "verbosity", "artifact_prefix", "len_control"}) {
      if (name == lf || normalized == Normalize(lf)) {
        msg += " (libFuzzer flags take one dash: -" + std::string(name) + ")";
        break;
      }
    }
  }
  return UsageError(sub, msg);
}

// Sets one flag from "--name[=value]" (dashes stripped: `body`), taking
// the value from argv[*i + 1] when needed.
absl::Status SetFlag(const Subcommand& sub, std::string_view body,
                     const std::vector<std::string>& argv, std::size_t* i) {
  const std::size_t eq = body.find('=');
  const std::string_view raw_name = body.substr(0, eq);
  std::optional<std::string> value;
  if (eq != std::string_view::npos) value = std::string(body.substr(eq + 1));
  if (raw_name.empty()) return UsageError(sub, "malformed flag '" + argv[*i] + "'");

  std::string name = Normalize(raw_name);
  absl::CommandLineFlag* flag = Find(name);
  bool negated = false;
  if (flag == nullptr) {
    // --noNAME / --no-NAME for a boolean NAME.
    for (std::string_view prefix : {"no_", "no"}) {
      if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
      absl::CommandLineFlag* base = Find(std::string_view(name).substr(prefix.size()));
      if (base != nullptr && base->IsOfType<bool>()) {
        flag = base;
        name = name.substr(prefix.size());
        negated = true;
        break;
      }
    }
  }
  if (flag == nullptr || (!sub.Takes(name) && Owners(name).empty())) {
    return UnknownFlag(sub, raw_name);
  }
  if (!sub.Takes(name)) {
    return UsageError(sub, "--" + name + " is a flag of " + Owners(name) + ", not of '" +
                               std::string(sub.name) + "'");
  }
  if (negated) {
    if (value) return UsageError(sub, "--no" + name + " takes no value");
    value = "false";
  } else if (!value && flag->IsOfType<bool>()) {
    value = "true";
  } else if (!value) {
    if (*i + 1 >= argv.size()) {
      return UsageError(sub, "--" + name + " needs a value (--" + name + "=VALUE)");
    }
    value = argv[++*i];
  }
  std::string error;
  if (!flag->ParseFrom(AV(*value), &error)) {
    std::string msg = "--" + name + ": invalid value '" + *value + "'";
    // Abseil's own "Illegal value 'X' specified for flag 'F'" says nothing more.
    if (!error.empty() && error.find("Illegal value") == std::string::npos) msg += ": " + error;
    return UsageError(sub, msg);
  }
  return absl::OkStatus();
}

// A placeholder for the flag's value in --help: "N" for numbers, else the
// flag's name in capitals, as argparse does ("--target=TARGET",
// "--suite=SUITE,...").
std::string ValueName(const absl::CommandLineFlag& f, std::string_view name) {
  if (f.IsOfType<bool>()) return "";
  if (f.IsOfType<int>() || f.IsOfType<std::int64_t>() || f.IsOfType<std::uint64_t>() ||
      f.IsOfType<double>()) {
    return "N";
  }
  if (f.IsOfType<absl::Duration>()) return "DURATION";
  std::string upper = absl::AsciiStrToUpper(AV(name));
  if (f.IsOfType<std::vector<std::string>>()) upper += ",...";
  return upper;
}

// The flag's description without a leading "run: " / "report, compare: "
// naming the subcommands (the --help of one subcommand says that already).
std::string_view Description(std::string_view help) {
  const std::size_t colon = help.find(": ");
  if (colon == std::string_view::npos) return help;
  std::string_view prefix = help.substr(0, colon);
  while (!prefix.empty()) {
    const std::size_t comma = prefix.find(", ");
    if (FindSubcommand(prefix.substr(0, comma)) == nullptr) return help;
    prefix = comma == std::string_view::npos ? "" : prefix.substr(comma + 2);
  }
  return help.substr(colon + 2);
}

// `text` wrapped at kHelpWidth at spaces, each line starting with
// `indent` (the first with `first`, when given).
std::string Wrap(std::string_view text, std::string_view indent = kHelpIndent,
                 std::optional<std::string_view> first = std::nullopt) {
  std::string out, line;
  std::string_view lead = first.value_or(indent);
  auto flush = [&] {
    if (!line.empty()) out += std::string(lead) + line + "\n";
    line.clear();
    lead = indent;
  };
  while (!text.empty()) {
    const std::size_t sp = text.find(' ');
    const std::string_view word = text.substr(0, sp);
    text = sp == std::string_view::npos ? "" : text.substr(sp + 1);
    if (!line.empty() && lead.size() + line.size() + 1 + word.size() > kHelpWidth) flush();
    if (!line.empty()) line += ' ';
    line += word;
  }
  flush();
  return out;
}

std::string FlagHelp(std::string_view name) {
  const absl::CommandLineFlag* f = Find(name);
  if (f == nullptr) return "  --" + std::string(name) + "\n";  // caught by app_test
  std::string s = "  --" + std::string(name);
  if (const std::string v = ValueName(*f, name); !v.empty()) s += "=" + v;
  s += "\n";
  std::string text(Description(SV(f->Help())));
  const std::string def = f->DefaultValue();
  if (!def.empty()) text += " [default: " + def + "]";
  return s + Wrap(text);
}

}  // namespace

bool Subcommand::Takes(std::string_view flag) const {
  for (const FlagGroup& g : groups) {
    if (std::find(g.flags.begin(), g.flags.end(), flag) != g.flags.end()) return true;
  }
  return false;
}

const Subcommand* FindSubcommand(std::string_view name) {
  for (const Subcommand& s : Subcommands()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<CommandLine> ParseCommandLine(const Subcommand& sub,
                                             const std::vector<std::string>& argv) {
  CommandLine cl;
  // --help and --version win over everything else, mistakes included.
  for (const std::string& a : argv) {
    if (a == "--") break;
    if (a == "--help" || a == "-h" || a == "-help" || a == "--helpfull" || a == "--helpshort") {
      cl.action = CommandLine::Action::kHelp;
      return cl;
    }
    if (a == "--version" || a == "-version") {
      cl.action = CommandLine::Action::kVersion;
      return cl;
    }
  }
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      cl.args.insert(cl.args.end(), argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {  // "-" is an argument (stdin), as usual
      cl.args.push_back(a);
      continue;
    }
    if (sub.libfuzzer_flags && a[1] != '-') {  // -max_total_time=60: libFuzzer's
      cl.args.push_back(a);
      continue;
    }
    const std::string_view body = std::string_view(a).substr(a[1] == '-' ? 2 : 1);
    if (absl::Status st = SetFlag(sub, body, argv, &i); !st.ok()) return st;
  }
  return cl;
}

std::string SubcommandHelp(const Subcommand& sub) {
  // The usage line breaks between its [...] groups, never inside one.
  std::string usage = "smtp-harness " + std::string(sub.usage);
  int depth = 0;
  for (char& c : usage) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == ' ' && depth > 0) c = '\x01';
  }
  usage = Wrap(usage, "    ", "usage: ");
  std::replace(usage.begin(), usage.end(), '\x01', ' ');
  std::string s = usage + "\n" + Wrap(sub.summary, "");
  for (const FlagGroup& g : sub.groups) {
    s += "\n" + std::string(g.title) + ":\n";
    for (std::string_view name : g.flags) s += FlagHelp(name);
  }
  if (!sub.examples.empty()) {
    s += "\nExamples:\n";
    for (std::string_view e : sub.examples) s += "  " + std::string(e) + "\n";
  }
  if (!sub.exit_status.empty()) s += "\nExit status:\n" + Wrap(sub.exit_status);
  s += "\nFlags take --name=VALUE or --name VALUE; '-' and '_' are the same in names;\n"
       "booleans: --name, --name=false, --noname.\n";
  return s;
}

std::string MainUsage() {
  std::string u = "usage: smtp-harness SUBCOMMAND [flags] [args]\n\nsubcommands:\n";
  for (const Subcommand& s : Subcommands()) {
    u += "  " + std::string(s.usage) + "\n      " + std::string(s.summary) + "\n";
  }
  u += "\nRun 'smtp-harness SUBCOMMAND --help' for its flags, 'smtp-harness --helpfull' for all,\n"
       "'smtp-harness --version' for the version.\n";
  return u;
}

std::string FullHelp() {
  std::string s = MainUsage();
  for (const Subcommand& sub : Subcommands()) {
    s += "\n" + std::string(kHelpWidth, '-') + "\n" + SubcommandHelp(sub);
  }
  return s;
}

std::string VersionText() { return std::string("smtp-harness ") + runner::ToolVersion() + "\n"; }

std::vector<std::string> FlagsOfNoSubcommand() {
  std::vector<std::string> out;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const std::string file = flag->Filename();
    if (file.find("absl/") != std::string::npos) continue;  // Abseil's own
    bool taken = false;
    for (const Subcommand& sub : Subcommands()) taken = taken || sub.Takes(SV(name));
    if (!taken) out.emplace_back(SV(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> UnknownFlagsInTable() {
  std::vector<std::string> out;
  for (const Subcommand& sub : Subcommands()) {
    for (const FlagGroup& g : sub.groups) {
      for (std::string_view name : g.flags) {
        if (Find(name) == nullptr) out.push_back(std::string(sub.name) + " --" + std::string(name));
      }
    }
  }
  return out;
}

}  // namespace smtp::app
