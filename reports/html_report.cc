#include "reports/html_report.h"

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

std::string RenderPage(std::string_view title, std::string_view script, const nlohmann::json& data,
                       const nlohmann::json& config, std::string_view nonce) {
  const std::string csp = HtmlEscape(ContentSecurityPolicy(nonce));
  const std::string esc_title = HtmlEscape(title);
  const std::string esc_nonce = HtmlEscape(nonce);
  const std::string data_text = JsonForScript(data);
  const std::string config_text = JsonForScript(config);
  return Substitute(assets::kPageHtml, {{"CSP", csp},
                                        {"TITLE", esc_title},
                                        {"NONCE", esc_nonce},
                                        {"CSS", assets::kReportCss},
                                        {"DATA", data_text},
                                        {"CONFIG", config_text},
                                        {"JS", script}});
}

std::string RenderHtmlReport(const harness::RunResult& run, const HtmlReportOptions& options) {
  std::string title = options.title;
  if (title.empty()) {
    const std::string& who = run.target.name.empty() ? run.target.target : run.target.name;
    title = "smtp-harness: " + (who.empty() ? std::string("report") : who);
  }
  nlohmann::json config = nlohmann::json::object();
  if (!options.poll_url.empty() && !run.complete) {
    config["poll_url"] = options.poll_url;
    config["poll_interval_ms"] = options.poll_interval_ms;
  }
  const std::string nonce = options.nonce.empty() ? RandomNonce() : options.nonce;
  return RenderPage(title, ReportScript(), harness::ToJson(run), config, nonce);
}

}  // namespace smtp::reports
