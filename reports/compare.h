// Cross-server comparison: the same suite run against several targets,
// as a matrix of scenarios × targets. A row "disagrees" when some target
// passed the scenario and another failed it; it is a "coverage" difference
// when the verdicts differ only because some target did not evaluate it
// (skip or error there); it is "missing" when some target has no result
// for it.
#ifndef SMTP_REPORTS_COMPARE_H_
#define SMTP_REPORTS_COMPARE_H_

#include <optional>
#include <string>
#include <string_view>
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
  std::string rfc_group;                             // RfcSectionGroup(rfc_document, rfc_section)
  std::vector<std::optional<ComparisonCell>> cells;  // one per target; empty: not run
  bool disagree = false;                             // a pass and a fail
  bool coverage = false;                             // verdicts differ, but not pass against fail
  bool missing = false;
};

struct Comparison {
  std::vector<NamedRun> runs;  // the columns, in input order (transcripts dropped)
  std::vector<ComparisonRow> rows;
  int disagree = 0;  // rows with disagree set
  int coverage = 0;  // rows with coverage set
  int missing = 0;   // rows with missing set

  // The targets differ: some row disagrees or some target lacks a scenario
  // another one has (a missing row is a difference too). `compare` then
  // exits 1. Coverage differences alone are not: a server that lacks
  // STARTTLS skips what another passes, and neither is wrong.
  bool differs() const { return disagree > 0 || missing > 0; }
};

// The column label for a run read from `path`: TargetInfo::name, else the
// file name without ".json" — or, for the conventional
// "…/NAME/results.json", the directory NAME.
std::string ColumnName(const harness::RunResult& run, const std::string& path);

// The RFC section a scenario's row is grouped under in the matrix: the
// document and the first two levels of its section ("RFC 5321", "4.1.1.4"
// -> "RFC 5321 §4.1"; "3.3" -> "RFC 5321 §3.3"), an appendix by its
// letter ("F.2" -> "RFC 5321 Appendix F"), the document alone without a
// section, "" without a document.
std::string RfcSectionGroup(std::string_view document, std::string_view section);

// Builds the matrix. Rows follow the scenarios' first appearance (first run
// first), gathered by group. Duplicate column names get " #2", " #3", ...
// Transcripts are not copied (the comparison never shows them).
Comparison Compare(std::vector<NamedRun> runs);

// The link from a page written at `page_path` to the report of the run
// read from `results_file`: the index.html beside it, relative to the
// page's directory (absolute, as a file:// URL, when no relative path
// exists), every path segment percent-encoded so that no name can be read
// as a scheme, query or fragment. "" when that index.html does not exist or
// `page_path` is empty.
std::string ReportHref(const std::string& results_file, const std::string& page_path);

// The comparison as JSON (the data of the HTML page):
//   {"targets":[{name,file,report,target,banner,complete,totals}],
//    "rows":[{id,title,group,level,rfc:{document,section,url,group},disagree,
//             coverage,missing,cells:[null | {verdict,reason,message,expected,actual}]}],
//    "summary":{rows,disagree,coverage,missing}}
// `report` is ReportHref(file, page_path).
nlohmann::json ComparisonJson(const Comparison& c, const std::string& page_path = "");

// A plain-text summary for a terminal: totals per target, then the rows
// that disagree, those missing from some target, and those that differ in
// coverage, each under its own heading, verdict per target ("missing"
// where the target has no result). Control characters in names are
// escaped, so a hostile label cannot drive the terminal.
std::string RenderCompareText(const Comparison& c);

// The self-contained comparison page (same shell and CSP as index.html),
// to be written at `page_path` (for the links to each run's report).
std::string RenderCompareHtml(const Comparison& c, const std::string& page_path = "");

}  // namespace smtp::reports

#endif  // SMTP_REPORTS_COMPARE_H_
