#include "harness/client/client_select.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "harness/scenario/suggest.h"

namespace smtp::client {
namespace {

std::string DidYouMean(std::string_view entry, const std::set<std::string>& names) {
  std::vector<std::string_view> views(names.begin(), names.end());
  const std::string_view s = scenario::Suggest(entry, views);
  return s.empty() ? "" : absl::StrCat(" (did you mean '", std::string(s), "'?)");
}

}  // namespace

bool ClientFilterMatches(const scenario::SuiteFilter& filter, const ClientScenario& s) {
  // The fields the filter reads, in a server scenario: one matching rule.
  scenario::Scenario view;
  view.id = s.id;
  view.tags = s.tags;
  const std::optional<scenario::Level> level = scenario::ParseLevelIgnoringCase(s.level);
  if (!level && !filter.levels.empty()) return false;  // the loader refuses such levels
  if (level) view.level = *level;
  return filter.Matches(view);
}

ClientSelection SelectClientScenarios(std::vector<ClientScenario> all,
                                      const scenario::SuiteFilter& filter) {
  ClientSelection out;
  std::set<std::string> ids, tags;
  for (const ClientScenario& s : all) {
    ids.insert(s.id);
    tags.insert(s.tags.begin(), s.tags.end());
  }
  // A misspelt id glob is compared with every id and every prefix of one
  // that ends before a '.', followed by ".*" ("client.dot-stuffing.*").
  std::set<std::string> id_names = ids;
  for (const std::string& id : ids) {
    for (std::size_t dot = id.find('.'); dot != std::string::npos; dot = id.find('.', dot + 1)) {
      id_names.insert(id.substr(0, dot) + ".*");
    }
  }
  for (const std::string& entry : filter.ids) {
    const std::string_view glob = std::string_view(entry).substr(entry.starts_with('!') ? 1 : 0);
    if (std::none_of(ids.begin(), ids.end(),
                     [&](const std::string& id) { return scenario::GlobMatch(glob, id); })) {
      out.notes.push_back(absl::StrCat("--filter '", entry, "' matches no client scenario id",
                                       DidYouMean(glob, id_names)));
    }
  }
  for (const std::string& entry : filter.tags) {
    const std::string tag = entry.substr(entry.starts_with('!') ? 1 : 0);
    if (tags.count(tag) == 0) {
      out.notes.push_back(
          absl::StrCat("--tag '", entry, "' matches no client scenario", DidYouMean(tag, tags)));
    }
  }
  for (ClientScenario& s : all) {
    if (ClientFilterMatches(filter, s)) {
      out.scenarios.push_back(std::move(s));
    } else {
      ++out.filtered_out;
    }
  }
  return out;
}

}  // namespace smtp::client
