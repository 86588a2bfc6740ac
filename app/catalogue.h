// The scenario catalogue: a loaded suite as a plain listing (one scenario per
// line) or as the Markdown tables kept in docs/scenarios.md between the
// `<!-- catalogue:begin -->` and `<!-- catalogue:end -->` markers
// (scripts/gen-catalogue.sh regenerates them; a ctest fails when stale).
#ifndef SMTP_APP_CATALOGUE_H_
#define SMTP_APP_CATALOGUE_H_

#include <string>
#include <string_view>
#include <vector>

#include "harness/scenario/scenario.h"

namespace smtp::app {

// Where a scenario file sits below the suite root it was found under, as a
// group name: "scenarios/extensions/auth/x.json" with root "scenarios" ->
// "extensions/auth"; a file directly in the root -> "."; a file outside
// every root (given by name) -> its parent directory as written.
std::string CatalogueGroup(const std::string& file, const std::vector<std::string>& roots);

// "RFC 5321 §4.1.4", or just the document when there is no section.
std::string RfcLabel(const scenario::RfcReference& rfc);

// One line per scenario, columns aligned: id, level, RFC, title. Ends with a
// newline; empty for no scenarios.
std::string FormatPlainList(const std::vector<scenario::Scenario>& scenarios);

// Markdown: a summary table (group, scenarios, per level), then per group (in
// order of first appearance) a "### group (N)" heading and a table
// | id | level | RFC | requires | title |. Cells escape '|'; the RFC cell
// links to rfc.url when there is one. Ends with a newline.
std::string FormatMarkdownCatalogue(const std::vector<scenario::Scenario>& scenarios,
                                    const std::vector<std::string>& roots);

}  // namespace smtp::app

#endif  // SMTP_APP_CATALOGUE_H_
