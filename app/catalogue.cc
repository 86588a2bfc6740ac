#include "app/catalogue.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smtp::app {
namespace {

namespace fs = std::filesystem;

// The five levels in report order (scenario.h Level).
constexpr std::array<scenario::Level, 5> kLevels = {
    scenario::Level::kMust, scenario::Level::kShould, scenario::Level::kMay,
    scenario::Level::kPolicy, scenario::Level::kSecurity};

// A Markdown table cell: '|' escaped, line breaks flattened.
std::string Cell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string Padded(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

}  // namespace

std::string CatalogueGroup(const std::string& file, const std::vector<std::string>& roots) {
  const fs::path path = fs::path(file).lexically_normal();
  for (const std::string& root : roots) {
    const fs::path rel = path.lexically_relative(fs::path(root).lexically_normal());
    if (rel.empty() || *rel.begin() == "..") continue;
    const fs::path parent = rel.parent_path();
    return parent.empty() ? "." : parent.generic_string();
  }
  const fs::path parent = path.parent_path();
  return parent.empty() ? "." : parent.generic_string();
}

std::string RfcLabel(const scenario::RfcReference& rfc) {
  if (rfc.section.empty()) return rfc.document;
  return absl::StrCat(rfc.document, " §", rfc.section);
}

std::string FormatPlainList(const std::vector<scenario::Scenario>& scenarios) {
  std::size_t id_w = 0, level_w = 0, rfc_w = 0;
  for (const scenario::Scenario& s : scenarios) {
    id_w = std::max(id_w, s.id.size());
    level_w = std::max(level_w, scenario::LevelName(s.level).size());
    rfc_w = std::max(rfc_w, RfcLabel(s.rfc).size());
  }
  std::string out;
  for (const scenario::Scenario& s : scenarios) {
    absl::StrAppend(&out, Padded(s.id, id_w), "  ", Padded(scenario::LevelName(s.level), level_w),
                    "  ", Padded(RfcLabel(s.rfc), rfc_w), "  ", s.title, "\n");
  }
  return out;
}

std::string FormatMarkdownCatalogue(const std::vector<scenario::Scenario>& scenarios,
                                    const std::vector<std::string>& roots) {
  // Groups in order of first appearance (LoadSuite returns sorted paths).
  std::vector<std::string> order;
  std::map<std::string, std::vector<const scenario::Scenario*>> groups;
  for (const scenario::Scenario& s : scenarios) {
    const std::string g = CatalogueGroup(s.file, roots);
    auto [it, fresh] = groups.try_emplace(g);
    if (fresh) order.push_back(g);
    it->second.push_back(&s);
  }

  std::string out = "| group | scenarios |";
  for (scenario::Level l : kLevels)
    absl::StrAppend(&out, " ", std::string(scenario::LevelName(l)), " |");
  out += "\n| --- | ---: |";
  for (std::size_t i = 0; i < kLevels.size(); ++i) out += " ---: |";
  out += "\n";
  std::array<std::size_t, kLevels.size()> total{};
  for (const std::string& g : order) {
    const auto& list = groups[g];
    absl::StrAppend(&out, "| ", Cell(g), " | ", list.size(), " |");
    for (std::size_t i = 0; i < kLevels.size(); ++i) {
      const auto n = static_cast<std::size_t>(
          std::count_if(list.begin(), list.end(),
                        [&](const scenario::Scenario* s) { return s->level == kLevels[i]; }));
      total[i] += n;
      absl::StrAppend(&out, " ", n, " |");
    }
    out += "\n";
  }
  absl::StrAppend(&out, "| **total** | **", scenarios.size(), "** |");
  for (std::size_t n : total) absl::StrAppend(&out, " ", n, " |");
  out += "\n";

  for (const std::string& g : order) {
    const auto& list = groups[g];
    absl::StrAppend(&out, "\n### ", g, " (", list.size(), ")\n\n",
                    "| id | level | RFC | requires | title |\n| --- | --- | --- | --- | --- |\n");
    for (const scenario::Scenario* s : list) {
      std::string rfc = Cell(RfcLabel(s->rfc));
      if (!s->rfc.url.empty()) rfc = absl::StrCat("[", rfc, "](", s->rfc.url, ")");
      absl::StrAppend(&out, "| `", s->id, "` | ", std::string(scenario::LevelName(s->level)), " | ",
                      rfc, " | ", Cell(absl::StrJoin(s->requires_extensions, " ")), " | ",
                      Cell(s->title), " |\n");
    }
  }
  return out;
}

}  // namespace smtp::app
