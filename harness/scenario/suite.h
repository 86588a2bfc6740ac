// Loading a suite: scenario files and directories -> the scenarios to run.
#ifndef SMTP_HARNESS_SCENARIO_SUITE_H_
#define SMTP_HARNESS_SCENARIO_SUITE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_loader.h"

namespace smtp::scenario {

// At most this many load errors are listed in one LoadSuite error.
inline constexpr std::size_t kMaxReportedLoadErrors = 50;

// Shell-style glob: '*' any run of characters, '?' one character, all else
// literal. Whole-string match.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Which scenarios to keep. Each list is "any of"; an entry starting with '!'
// excludes instead (e.g. tags {"!slow"}); an empty list (or one with only
// exclusions) keeps everything not excluded. The three lists are ANDed.
struct SuiteFilter {
  std::vector<std::string> ids;   // globs over scenario ids
  std::vector<std::string> tags;  // exact tags
  std::vector<Level> levels;

  bool Matches(const Scenario& scenario) const;
  // Matches, ignoring `levels`.
  bool MatchesIgnoringLevel(const Scenario& scenario) const;
};

// The filter `run` and `list` build from their --filter, --tag and --level
// lists; level names in any case (ParseLevelIgnoringCase). InvalidArgument
// "--level: unknown level 'x'".
absl::StatusOr<SuiteFilter> MakeSuiteFilter(std::vector<std::string> ids,
                                            std::vector<std::string> tags,
                                            const std::vector<std::string>& level_names);

struct Suite {
  std::vector<Scenario> scenarios;  // kept by the filter, in load order
  std::vector<std::string> files;   // every scenario file read, in order
  std::size_t filtered_out = 0;     // loaded but not kept
  // Filter entries that no loaded scenario matches, each a line with the
  // closest name when one is near ("did you mean"):
  //   "--tag 'smugling' matches no scenario (did you mean 'smuggling'?)"
  //   "--filter 'rfc5321.greting*' matches no scenario id (did you mean 'rfc5321.greeting.*'?)"
  std::vector<std::string> unmatched_filters;
  // The scenarios that the id and tag filters keep but the level filter
  // leaves out, as "id [LEVEL]", in load order; empty unless both a level
  // and an id or tag were asked for (a level alone obviously leaves out
  // the other levels).
  std::vector<std::string> level_excluded;
};

// What a user should hear about the filters of a loaded suite, one line
// each: the unmatched filter entries, then which scenarios --level left out
// ("--level security left out 25 scenarios the other filters select: a
// [MUST], b [SHOULD], ... and 5 more (add their levels to --level to run
// them)"; at most `max_listed` ids).
std::vector<std::string> FilterNotes(const Suite& suite, const SuiteFilter& filter,
                                     std::size_t max_listed = 20);

// Loads each path: a file is loaded as a scenario; a directory is searched
// recursively for *.json, in sorted path order, skipping directories named
// "fragments" and "client" (the client suite), hidden entries and files named "schema.json". Every
// file is loaded (and must be valid) before filtering. Each scenario's suite_file is its file
// relative to the first directory in `paths` that holds it (also for a file given by name inside
// such a directory). Errors:
//   NotFound          a path does not exist
//   InvalidArgument   load errors, one per line (at most
//                     kMaxReportedLoadErrors), and duplicate ids as
//                     "b.json: duplicate id 'x' (also in a.json)"
absl::StatusOr<Suite> LoadSuite(const std::vector<std::string>& paths,
                                const SuiteFilter& filter = {}, const LoadOptions& options = {});

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_SUITE_H_
