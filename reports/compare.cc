#include "reports/compare.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "reports/escape.h"
#include "reports/html_report.h"
#include "reports/reports.h"
#include "results/transcript.h"

namespace smtp::reports {
namespace {

using harness::RunResult;
using harness::ScenarioResult;
using harness::Verdict;
using nlohmann::json;

ComparisonCell CellOf(const ScenarioResult& s) {
  ComparisonCell c;
  c.verdict = s.verdict;
  c.reason = s.reason;
  if (s.failure) {
    c.message = s.failure->message;
    c.expected = s.failure->expected;
    c.actual = s.failure->actual;
  }
  return c;
}

// Text for a terminal: printable ASCII as is, everything else escaped.
std::string Safe(std::string_view s) { return harness::EscapeBytes(s); }

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

}  // namespace

std::string ColumnName(const RunResult& run, const std::string& path) {
  if (!run.target.name.empty()) return run.target.name;
  const std::filesystem::path p(path);
  if (p.filename() == "results.json" && p.has_parent_path() &&
      !p.parent_path().filename().empty()) {
    return p.parent_path().filename().string();
  }
  return p.stem().string();
}

std::string RfcSectionGroup(std::string_view document, std::string_view section) {
  if (document.empty()) return "";
  if (section.empty()) return std::string(document);
  std::string out(document);
  if (std::isalpha(static_cast<unsigned char>(section.front()))) {
    return out + " Appendix " + section.front();
  }
  const std::size_t first = section.find('.');
  const std::size_t second = first == std::string_view::npos ? first : section.find('.', first + 1);
  return out + " \u00a7" + std::string(section.substr(0, second));
}

Comparison Compare(std::vector<NamedRun> runs) {
  Comparison c;
  // Unique column names, in input order.
  std::map<std::string, int> seen;
  for (auto& r : runs) {
    const int n = ++seen[r.name];
    if (n > 1) r.name += " #" + std::to_string(n);
  }
  // Rows by first appearance; groups by first appearance.
  std::map<std::string, std::size_t> row_of;
  std::map<std::string, std::size_t> group_rank;
  for (std::size_t t = 0; t < runs.size(); ++t) {
    for (const ScenarioResult& s : runs[t].run.scenarios) {
      group_rank.try_emplace(s.group, group_rank.size());
      auto [it, fresh] = row_of.try_emplace(s.id, c.rows.size());
      if (fresh) {
        ComparisonRow row;
        row.id = s.id;
        row.title = s.title;
        row.group = s.group;
        row.level = s.level;
        row.rfc_document = s.rfc_document;
        row.rfc_section = s.rfc_section;
        row.rfc_url = s.rfc_url;
        row.rfc_group = RfcSectionGroup(s.rfc_document, s.rfc_section);
        row.cells.resize(runs.size());
        c.rows.push_back(std::move(row));
      }
      auto& cell = c.rows[it->second].cells[t];
      if (!cell) cell = CellOf(s);  // a duplicate id in one run: the first counts
    }
  }
  std::stable_sort(c.rows.begin(), c.rows.end(), [&](const auto& a, const auto& b) {
    return group_rank[a.group] < group_rank[b.group];
  });
  for (auto& row : c.rows) {
    std::set<Verdict> verdicts;
    for (const auto& cell : row.cells) {
      if (cell) {
        verdicts.insert(cell->verdict);
      } else {
        row.missing = true;
      }
    }
    row.disagree = verdicts.contains(Verdict::kPass) && verdicts.contains(Verdict::kFail);
    row.coverage = !row.disagree && verdicts.size() > 1;
    c.disagree += row.disagree;
    c.coverage += row.coverage;
    c.missing += row.missing;
  }
  for (auto& r : runs) {
    for (auto& s : r.run.scenarios) s.transcript = harness::Transcript();
  }
  c.runs = std::move(runs);
  return c;
}

std::string ReportHref(const std::string& results_file, const std::string& page_path) {
  namespace fs = std::filesystem;
  if (page_path.empty()) return "";
  std::error_code ec;
  const fs::path report = fs::path(results_file).parent_path() / kHtmlFile;
  if (!fs::is_regular_file(report, ec)) return "";
  const fs::path abs_report = fs::absolute(report, ec).lexically_normal();
  if (ec) return "";
  const fs::path page_dir = fs::absolute(page_path, ec).lexically_normal().parent_path();
  if (ec) return "";
  const fs::path rel = abs_report.lexically_relative(page_dir);
  if (!rel.empty()) return PercentEncodePath(rel.generic_string());
  return "file://" + PercentEncodePath(abs_report.generic_string());
}

json ComparisonJson(const Comparison& c, const std::string& page_path) {
  json targets = json::array();
  for (const NamedRun& r : c.runs) {
    const harness::Counts t = r.run.Totals();
    targets.push_back(
        {{"name", r.name},
         {"file", r.file},
         {"report", ReportHref(r.file, page_path)},
         {"target", r.run.target.target},
         {"banner", r.run.target.banner},
         {"complete", r.run.complete},
         {"totals", {{"pass", t.pass}, {"fail", t.fail}, {"skip", t.skip}, {"error", t.error}}}});
  }
  json rows = json::array();
  for (const ComparisonRow& row : c.rows) {
    json cells = json::array();
    for (const auto& cell : row.cells) {
      if (!cell) {
        cells.push_back(nullptr);
        continue;
      }
      cells.push_back({{"verdict", std::string(harness::VerdictName(cell->verdict))},
                       {"reason", cell->reason},
                       {"message", cell->message},
                       {"expected", cell->expected},
                       {"actual", cell->actual}});
    }
    rows.push_back({{"id", row.id},
                    {"title", row.title},
                    {"group", row.group},
                    {"level", row.level},
                    {"rfc",
                     {{"document", row.rfc_document},
                      {"section", row.rfc_section},
                      {"url", row.rfc_url},
                      {"group", row.rfc_group}}},
                    {"disagree", row.disagree},
                    {"coverage", row.coverage},
                    {"missing", row.missing},
                    {"cells", std::move(cells)}});
  }
  return {{"targets", std::move(targets)},
          {"rows", std::move(rows)},
          {"summary",
           {{"rows", c.rows.size()},
            {"disagree", c.disagree},
            {"coverage", c.coverage},
            {"missing", c.missing}}}};
}

std::string RenderCompareText(const Comparison& c) {
  std::string out = "compare: " + std::to_string(c.rows.size()) + " scenarios x " +
                    std::to_string(c.runs.size()) + " targets; " + std::to_string(c.disagree) +
                    " disagree (pass vs fail), " + std::to_string(c.missing) +
                    " missing from some target, " + std::to_string(c.coverage) +
                    " coverage differences (skip or error on some target; not a "
                    "disagreement)\n\n";
  std::size_t name_w = 6;
  for (const NamedRun& r : c.runs) name_w = std::max(name_w, Safe(r.name).size());
  out += Pad("target", name_w) + "   pass   fail   skip  error  file\n";
  for (const NamedRun& r : c.runs) {
    const harness::Counts t = r.run.Totals();
    char nums[64];
    std::snprintf(nums, sizeof nums, " %6d %6d %6d %6d  ", t.pass, t.fail, t.skip, t.error);
    out += Pad(Safe(r.name), name_w) + nums + Safe(r.file) +
           (r.run.complete ? "" : " (incomplete)") + "\n";
  }
  if (c.disagree == 0 && c.missing == 0 && c.coverage == 0) {
    out += "\nall targets agree on every scenario\n";
    return out;
  }
  std::size_t id_w = 2;
  for (const auto& row : c.rows) {
    if (row.disagree || row.missing || row.coverage) id_w = std::max(id_w, Safe(row.id).size());
  }
  std::vector<std::size_t> col_w;
  std::string head = Pad("id", id_w);
  for (const NamedRun& r : c.runs) {
    col_w.push_back(std::max<std::size_t>(7, Safe(r.name).size()));
    head += "  " + Pad(Safe(r.name), col_w.back());
  }
  head += "  rfc\n";
  // One section per kind of difference, each row in the first that fits.
  const struct {
    std::string_view title;
    bool (*in)(const ComparisonRow&);
  } kSections[] = {
      {"disagree (some target passes, another fails)",
       [](const ComparisonRow& r) { return r.disagree; }},
      {"missing from some target", [](const ComparisonRow& r) { return !r.disagree && r.missing; }},
      {"coverage only (skip or error on some target; not a disagreement)",
       [](const ComparisonRow& r) { return r.coverage && !r.missing; }},
  };
  for (const auto& section : kSections) {
    std::string lines;
    for (const auto& row : c.rows) {
      if (!section.in(row)) continue;
      std::string line = Pad(Safe(row.id), id_w);
      for (std::size_t t = 0; t < row.cells.size(); ++t) {
        const auto& cell = row.cells[t];
        line += "  " +
                Pad(cell ? std::string(harness::VerdictName(cell->verdict)) : "missing", col_w[t]);
      }
      std::string rfc = Safe(row.rfc_document);
      if (!row.rfc_section.empty())
        rfc += (rfc.empty() ? "\u00a7" : " \u00a7") + Safe(row.rfc_section);
      lines += line + "  " + rfc + "\n";
    }
    if (!lines.empty()) out += "\n" + std::string(section.title) + ":\n" + head + lines;
  }
  if (!c.differs()) out += "\nno disagreements: the targets differ in coverage only\n";
  return out;
}

std::string RenderCompareHtml(const Comparison& c, const std::string& page_path) {
  std::string title = "smtp-harness comparison:";
  for (const NamedRun& r : c.runs) title += " " + r.name;
  return RenderPage(title, CompareScript(), ComparisonJson(c, page_path), json::object(),
                    RandomNonce());
}

}  // namespace smtp::reports
