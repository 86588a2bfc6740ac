// smtp-harness list: load a suite (every file is validated, as `run` would)
// and print its scenarios.
//
//   list [--suite PATH,...] [--fragments DIR,...] [--filter GLOB,...] [--tag TAG,...] [--level
//   L,...]
//        [--profile FILE] [--markdown] [SUITE_PATH...]
//
// Plain output: one line per scenario (id, level, RFC, title). --markdown:
// the catalogue tables of docs/scenarios.md (app/catalogue.h). The count goes
// to stderr. Exit status 0, or 2 when the suite does not load (every load
// error is printed) or on a usage error.
//
// `list --client PROFILE` (or `--client all`) lists the client suite instead
// (run_client.h).
//
// --suite, --fragments, --filter, --tag, --level and --profile are the flags of `run`
// (run_cmd.cc), shared so both commands select the same scenarios.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "app/catalogue.h"
#include "app/default_suite.h"
#include "app/run_client.h"
#include "app/subcommand.h"
#include "harness/scenario/profile.h"
#include "harness/scenario/suite.h"
#include "results/absl_compat.h"

ABSL_FLAG(bool, markdown, false, "list: print the Markdown catalogue (docs/scenarios.md)");

ABSL_DECLARE_FLAG(std::vector<std::string>, suite);
ABSL_DECLARE_FLAG(std::vector<std::string>, fragments);
ABSL_DECLARE_FLAG(std::vector<std::string>, filter);
ABSL_DECLARE_FLAG(std::vector<std::string>, tag);
ABSL_DECLARE_FLAG(std::vector<std::string>, level);
ABSL_DECLARE_FLAG(std::string, profile);

namespace smtp::app {

int RunList(const std::vector<std::string>& args) {
  if (ClientRunRequested()) return ListClientScenarios(args);  // the client suite
  absl::StatusOr<scenario::SuiteFilter> filter = scenario::MakeSuiteFilter(
      absl::GetFlag(FLAGS_filter), absl::GetFlag(FLAGS_tag), absl::GetFlag(FLAGS_level));
  if (!filter.ok()) {
    std::fprintf(stderr, "smtp-harness list: %s\n", Message(filter.status()).c_str());
    return 2;
  }
  scenario::LoadOptions load;
  load.fragment_dirs = absl::GetFlag(FLAGS_fragments);
  load.fallback_fragment_dirs = ShippedFragmentDirs();
  if (const std::string path = absl::GetFlag(FLAGS_profile); !path.empty()) {
    auto profile = scenario::LoadProfile(path);
    if (!profile.ok()) {
      std::fprintf(stderr, "smtp-harness list: %s\n", Message(profile.status()).c_str());
      return 2;
    }
    load.extra_variables = profile->ExtraNames();
  }
  std::vector<std::string> suites = absl::GetFlag(FLAGS_suite);
  suites.insert(suites.end(), args.begin(), args.end());
  if (suites.empty()) {
    absl::StatusOr<std::string> shipped = DefaultSuite();
    if (!shipped.ok()) {
      std::fprintf(stderr, "smtp-harness list: %s\n", Message(shipped.status()).c_str());
      return 2;
    }
    suites.push_back(*shipped);
  }

  absl::StatusOr<scenario::Suite> suite = scenario::LoadSuite(suites, *filter, load);
  if (!suite.ok()) {
    std::fprintf(stderr, "smtp-harness list: %s\n", Message(suite.status()).c_str());
    return 2;
  }
  for (const std::string& note : scenario::FilterNotes(*suite, *filter)) {
    std::fprintf(stderr, "smtp-harness list: %s\n", note.c_str());
  }
  const std::string text = absl::GetFlag(FLAGS_markdown)
                               ? FormatMarkdownCatalogue(suite->scenarios, suites)
                               : FormatPlainList(suite->scenarios);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fprintf(stderr, "%zu scenarios (%zu files, %zu filtered out)\n", suite->scenarios.size(),
               suite->files.size(), suite->filtered_out);
  return 0;
}

}  // namespace smtp::app
