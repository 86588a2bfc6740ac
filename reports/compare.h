// Cross-server comparison: the same suite run against several targets,
// as a matrix of scenarios × targets. A row "disagrees" when the targets
// that ran the scenario did not all reach the same verdict; a row is
// "missing" when some target has no result for it.
#ifndef SMTP_REPORTS_COMPARE_H_
#define SMTP_REPORTS_COMPARE_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "results/results.h"

namespace smtp::reports {

// One input of a comparison: a run and the column label it gets.
struct NamedRun {
  std::string name;  // column label; see ColumnName()
  std::string file;  // where it was read from (for the summary)
  harness::RunResult run;
};

struct ComparisonCell {
  harness::Verdict verdict = harness::Verdict::kError;
  std::string reason;
  std::string message;   // Failure::message
  std::string expected;  // Failure::expected
  std::string actual;    // Failure::actual
};

struct ComparisonRow {
  std::string id, title, group, level;
  std::string rfc_document, rfc_section, rfc_url;
  std::vector<std::optional<ComparisonCell>> cells;  // one per target; empty: not run
  bool disagree = false;
  bool missing = false;
};

struct Comparison {
  std::vector<NamedRun> runs;  // the columns, in input order (transcripts dropped)
  std::vector<ComparisonRow> rows;
  int disagree = 0;  // rows with disagree set
  int missing = 0;   // rows with missing set

  // The targets differ: some row disagrees or some target lacks a scenario
  // another one has (a missing row is a difference too). `compare` then
  // exits 1.
  bool differs() const { return disagree > 0 || missing > 0; }
};

// The column label for a run read from `path`: TargetInfo::name, else the
// file name without ".json" — or, for the conventional
// "…/NAME/results.json", the directory NAME.
std::string ColumnName(const harness::RunResult& run, const std::string& path);

// Builds the matrix. Rows follow the scenarios' first appearance (first run
// first), gathered by group. Duplicate column names get " #2", " #3", ...
// Transcripts are not copied (the comparison never shows them).
Comparison Compare(std::vector<NamedRun> runs);

// The comparison as JSON (the data of the HTML page):
//   {"targets":[{name,file,target,banner,complete,totals}],
//    "rows":[{id,title,group,level,rfc:{document,section,url},disagree,missing,
//             cells:[null | {verdict,reason,message,expected,actual}]}],
//    "summary":{rows,disagree,missing}}
nlohmann::json ComparisonJson(const Comparison& c);

// A plain-text summary for a terminal: totals per target, then every row
// that disagrees or is missing, verdict per target ("missing" where the
// target has no result). Control characters in
// names are escaped, so a hostile label cannot drive the terminal.
std::string RenderCompareText(const Comparison& c);

// The self-contained comparison page (same shell and CSP as index.html).
std::string RenderCompareHtml(const Comparison& c);

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_COMPARE_H_
