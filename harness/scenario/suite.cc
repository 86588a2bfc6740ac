#include "harness/scenario/suite.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/scenario/suggest.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

namespace fs = std::filesystem;

// Applies one "any of, '!' excludes" list.
template <typename T, typename Pred>
bool Keep(const std::vector<T>& list, Pred matches) {
  bool any_positive = false;
  bool positive_hit = false;
  for (const T& entry : list) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!entry.empty() && entry[0] == '!') {
        if (matches(std::string_view(entry).substr(1))) return false;
        continue;
      }
      any_positive = true;
      positive_hit = positive_hit || matches(std::string_view(entry));
    } else {
      any_positive = true;
      positive_hit = positive_hit || matches(entry);
    }
  }
  return !any_positive || positive_hit;
}

bool Skipped(const fs::path& p) {
  const std::string name = p.filename().string();
  return name.empty() || name[0] == '.';
}

// Appends the scenario files under `dir`, sorted.
absl::Status Walk(const fs::path& dir, std::vector<std::string>* files) {
  std::error_code ec;
  std::vector<std::string> found;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return absl::NotFoundError(absl::StrCat(dir.string(), ": ", ec.message()));
  for (; it != end; it.increment(ec)) {
    if (ec) return absl::DataLossError(absl::StrCat(dir.string(), ": ", ec.message()));
    const fs::path& p = it->path();
    if (it->is_directory(ec)) {
      // client/ holds the client suite (harness/client/, `run --client`):
      // another format, loaded by LoadClientSuite.
      if (Skipped(p) || p.filename() == "fragments" || p.filename() == "client") {
        it.disable_recursion_pending();
      }
      continue;
    }
    if (Skipped(p) || p.extension() != ".json" || p.filename() == "schema.json") continue;
    if (it->is_regular_file(ec)) found.push_back(p.lexically_normal().string());
  }
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return absl::OkStatus();
}

// `file` relative to the first of `dirs` that holds it, or "".
std::string RelativeToFirst(const std::string& file, const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    const fs::path rel = fs::path(file).lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") return rel.string();
  }
  return "";
}

bool HasPositive(const std::vector<std::string>& list) {
  return std::any_of(list.begin(), list.end(),
                     [](const std::string& e) { return !e.empty() && e[0] != '!'; });
}

// The names a misspelt id glob is compared with: every id, and every prefix
// of one that ends before a '.', followed by ".*" ("rfc5321.greeting.*").
std::vector<std::string> IdCandidates(const std::vector<std::string>& ids) {
  std::set<std::string> out(ids.begin(), ids.end());
  for (const std::string& id : ids) {
    for (std::size_t dot = id.find('.'); dot != std::string::npos; dot = id.find('.', dot + 1)) {
      out.insert(id.substr(0, dot) + ".*");
    }
  }
  return {out.begin(), out.end()};
}

std::string DidYouMean(std::string_view entry, const std::vector<std::string>& names) {
  std::vector<std::string_view> views(names.begin(), names.end());
  const std::string_view s = Suggest(entry, views);
  return s.empty() ? "" : absl::StrCat(" (did you mean '", AV(s), "'?)");
}

// Suite::unmatched_filters.
std::vector<std::string> UnmatchedFilters(const SuiteFilter& filter,
                                          const std::vector<std::string>& ids,
                                          const std::set<std::string>& tags) {
  std::vector<std::string> out;
  const std::vector<std::string> id_names = IdCandidates(ids);
  for (const std::string& entry : filter.ids) {
    const std::string_view glob = std::string_view(entry).substr(entry.starts_with('!') ? 1 : 0);
    if (std::any_of(ids.begin(), ids.end(),
                    [&](const std::string& id) { return GlobMatch(glob, id); })) {
      continue;
    }
    out.push_back(
        absl::StrCat("--filter '", entry, "' matches no scenario id", DidYouMean(glob, id_names)));
  }
  const std::vector<std::string> tag_names(tags.begin(), tags.end());
  for (const std::string& entry : filter.tags) {
    const std::string tag = entry.substr(entry.starts_with('!') ? 1 : 0);
    if (tags.count(tag) != 0) continue;
    out.push_back(
        absl::StrCat("--tag '", entry, "' matches no scenario", DidYouMean(tag, tag_names)));
  }
  return out;
}

}  // namespace

std::vector<std::string> FilterNotes(const Suite& suite, const SuiteFilter& filter,
                                     std::size_t max_listed) {
  std::vector<std::string> notes = suite.unmatched_filters;
  if (suite.level_excluded.empty()) return notes;
  std::vector<std::string> levels;
  for (Level l : filter.levels) levels.emplace_back(LevelName(l));
  const std::size_t n = suite.level_excluded.size();
  std::vector<std::string> listed(
      suite.level_excluded.begin(),
      suite.level_excluded.begin() + static_cast<std::ptrdiff_t>(std::min(n, max_listed)));
  std::string line = absl::StrCat("--level ", absl::StrJoin(levels, ","), " left out ", n,
                                  n == 1 ? " scenario" : " scenarios",
                                  " the other filters select: ", absl::StrJoin(listed, ", "));
  if (n > max_listed) absl::StrAppend(&line, " ... and ", n - max_listed, " more");
  absl::StrAppend(&line, " (add their levels to --level to run them)");
  notes.push_back(std::move(line));
  return notes;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point (the last '*').
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool SuiteFilter::Matches(const Scenario& s) const {
  return Keep(ids, [&](std::string_view g) { return GlobMatch(g, s.id); }) &&
         Keep(tags,
              [&](std::string_view t) {
                return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end();
              }) &&
         Keep(levels, [&](Level l) { return l == s.level; });
}

bool SuiteFilter::MatchesIgnoringLevel(const Scenario& s) const {
  SuiteFilter no_level = *this;
  no_level.levels.clear();
  return no_level.Matches(s);
}

absl::StatusOr<SuiteFilter> MakeSuiteFilter(std::vector<std::string> ids,
                                            std::vector<std::string> tags,
                                            const std::vector<std::string>& level_names) {
  SuiteFilter filter;
  filter.ids = std::move(ids);
  filter.tags = std::move(tags);
  for (const std::string& name : level_names) {
    const std::optional<Level> level = ParseLevelIgnoringCase(name);
    if (!level) {
      // Compared in lower case, named as written in scenario files.
      constexpr std::string_view kLower[] = {"must", "should", "may", "policy", "security"};
      const std::string lower = absl::AsciiStrToLower(name);
      std::string hint;
      if (const std::string_view s = Suggest(lower, kLower); !s.empty()) {
        hint = absl::StrCat(" (did you mean '", AV(LevelName(*ParseLevelIgnoringCase(s))), "'?)");
      }
      return absl::InvalidArgumentError(absl::StrCat("--level: unknown level '", name, "'", hint));
    }
    filter.levels.push_back(*level);
  }
  return filter;
}

absl::StatusOr<Suite> LoadSuite(const std::vector<std::string>& paths, const SuiteFilter& filter,
                                const LoadOptions& options) {
  std::vector<std::string> files;
  std::vector<std::string> dirs;  // the paths that are directories, in order
  for (const std::string& path : paths) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (ec || !fs::exists(st)) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file or directory"));
    }
    if (fs::is_directory(st)) {
      dirs.push_back(path);
      if (auto s = Walk(path, &files); !s.ok()) return s;
    } else {
      files.push_back(fs::path(path).lexically_normal().string());
    }
  }
  Suite suite;
  std::vector<std::string> ids;  // of every scenario loaded
  std::set<std::string> tags;    // of every scenario loaded
  const bool select_levels =
      !filter.levels.empty() && (HasPositive(filter.ids) || HasPositive(filter.tags));
  std::set<std::string> seen_files;
  std::map<std::string, std::string> id_file;
  std::vector<std::string> errors;
  std::size_t error_count = 0;
  auto add_error = [&](std::string e) {
    if (++error_count <= kMaxReportedLoadErrors) errors.push_back(std::move(e));
  };
  for (const std::string& file : files) {
    std::error_code ec;
    const std::string key = fs::weakly_canonical(file, ec).string();
    if (!seen_files.insert(ec ? file : key).second) continue;
    suite.files.push_back(file);
    auto sc = LoadScenarioFile(file, options);
    if (!sc.ok()) {
      add_error(Message(sc.status()));
      continue;
    }
    auto [it, inserted] = id_file.emplace(sc->id, file);
    if (!inserted) {
      add_error(absl::StrCat(file, ": duplicate id '", sc->id, "' (also in ", it->second, ")"));
      continue;
    }
    sc->suite_file = RelativeToFirst(file, dirs);
    ids.push_back(sc->id);
    tags.insert(sc->tags.begin(), sc->tags.end());
    if (select_levels && !filter.Matches(*sc) && filter.MatchesIgnoringLevel(*sc)) {
      suite.level_excluded.push_back(absl::StrCat(sc->id, " [", AV(LevelName(sc->level)), "]"));
    }
    if (filter.Matches(*sc)) {
      suite.scenarios.push_back(*std::move(sc));
    } else {
      ++suite.filtered_out;
    }
  }
  if (error_count > kMaxReportedLoadErrors) {
    errors.push_back(
        absl::StrCat("... and ", error_count - kMaxReportedLoadErrors, " more errors"));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "\n"));
  suite.unmatched_filters = UnmatchedFilters(filter, ids, tags);
  return suite;
}

}  // namespace smtp::scenario
