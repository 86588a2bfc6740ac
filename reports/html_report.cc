#include "reports/html_report.h"

#include <functional>
#include <ostream>
#include <utility>
#include <vector>

#include "reports/assets.h"
#include "reports/escape.h"

namespace smtp::reports {

std::string ContentSecurityPolicy(std::string_view nonce) {
  const std::string n(nonce);
  return "default-src 'none'; script-src 'nonce-" + n + "'; style-src 'nonce-" + n +
         "'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'";
}

std::string ReportScript() {
  return std::string(assets::kCommonJs) + "\n" + std::string(assets::kReportJs);
}

std::string_view ReportCss() { return assets::kReportCss; }

std::string CompareScript() {
  return std::string(assets::kCommonJs) + "\n" + std::string(assets::kCompareJs);
}

namespace {

// Receives the page piece by piece.
using Sink = std::function<void(std::string_view)>;

// The page shell to `sink`, with `data` writing the #report-data block (its
// JsonForScript text). The shell is substituted in two halves around
// {{DATA}}; Substitute never rescans values, so this is the same text as
// one Substitute over the whole template.
void WritePage(std::string_view title, std::string_view script,
               const std::function<void(const Sink&)>& data, const nlohmann::json& config,
               std::string_view nonce, const Sink& sink) {
  const std::string csp = HtmlEscape(ContentSecurityPolicy(nonce));
  const std::string esc_title = HtmlEscape(title);
  const std::string esc_nonce = HtmlEscape(nonce);
  const std::string config_text = JsonForScript(config);
  const std::initializer_list<std::pair<std::string_view, std::string_view>> vars = {
      {"CSP", csp},
      {"TITLE", esc_title},
      {"NONCE", esc_nonce},
      {"CSS", assets::kReportCss},
      {"CONFIG", config_text},
      {"JS", script}};
  const std::string_view tmpl = assets::kPageHtml;
  const std::size_t at = tmpl.find("{{DATA}}");
  sink(Substitute(tmpl.substr(0, at), vars));
  if (at == std::string_view::npos) return;
  data(sink);
  sink(Substitute(tmpl.substr(at + 8), vars));
}

// JsonForScript(harness::ToJson(run)) to `sink`: the object's members in the
// DOM's order (nlohmann sorts keys), "scenarios" element by element where it
// sorts.
void WriteRunJson(const harness::RunResult& run, const Sink& sink) {
  const nlohmann::json head = harness::HeaderJson(run);
  bool first = true;
  const auto member = [&](std::string_view key) {
    sink(first ? "{" : ",");
    first = false;
    sink(JsonForScript(nlohmann::json(key)));
    sink(":");
  };
  bool scenarios_done = false;
  const auto scenarios = [&] {
    member("scenarios");
    sink("[");
    for (std::size_t i = 0; i < run.scenarios.size(); ++i) {
      if (i > 0) sink(",");
      sink(JsonForScript(harness::ToJson(run.scenarios[i])));
    }
    sink("]");
    scenarios_done = true;
  };
  for (auto it = head.begin(); it != head.end(); ++it) {
    if (!scenarios_done && it.key() > "scenarios") scenarios();
    member(it.key());
    sink(JsonForScript(it.value()));
  }
  if (!scenarios_done) scenarios();
  sink("}");
}

void WriteReport(const harness::RunResult& run, const HtmlReportOptions& options,
                 const Sink& sink) {
  std::string title = options.title;
  if (title.empty()) {
    const std::string& who = run.target.name.empty() ? run.target.target : run.target.name;
    // A replay run decides on its "replay" results alone (harness/replay).
    const bool replay = run.fail_on == std::vector<std::string>{"replay"};
    title = std::string(replay ? "smtp-harness replay: " : "smtp-harness: ") +
            (who.empty() ? std::string("report") : who);
  }
  nlohmann::json config = nlohmann::json::object();
  if (!options.poll_url.empty() && !run.complete) {
    config["poll_url"] = options.poll_url;
    config["poll_interval_ms"] = options.poll_interval_ms;
  }
  const std::string nonce = options.nonce.empty() ? RandomNonce() : options.nonce;
  WritePage(
      title, ReportScript(), [&](const Sink& s) { WriteRunJson(run, s); }, config, nonce, sink);
}

}  // namespace

std::string RenderPage(std::string_view title, std::string_view script, const nlohmann::json& data,
                       const nlohmann::json& config, std::string_view nonce) {
  std::string out;
  WritePage(
      title, script, [&](const Sink& s) { s(JsonForScript(data)); }, config, nonce,
      [&out](std::string_view piece) { out.append(piece); });
  return out;
}

std::string RunJsonForScript(const harness::RunResult& run) {
  std::string out;
  WriteRunJson(run, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

std::string RenderHtmlReport(const harness::RunResult& run, const HtmlReportOptions& options) {
  std::string out;
  WriteReport(run, options, [&out](std::string_view piece) { out.append(piece); });
  return out;
}

void WriteHtmlReport(const harness::RunResult& run, std::ostream& out,
                     const HtmlReportOptions& options) {
  WriteReport(run, options, [&out](std::string_view piece) {
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  });
}

}  // namespace smtp::reports
