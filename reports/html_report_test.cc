#include "reports/html_report.h"

#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reports/assets.h"
#include "reports/escape.h"
#include "reports/test_util.h"

namespace smtp::reports {
namespace {

using namespace smtp::reports::testing;

TEST(RenderHtmlReport, EmbedsTheRunAsJson) {
  const RunResult run =
      MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kFail)});
  const std::string html = RenderHtmlReport(run);
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_EQ(nlohmann::json::parse(JsonBlock(html, "report-data")), harness::ToJson(run));
  EXPECT_EQ(nlohmann::json::parse(JsonBlock(html, "report-config")), nlohmann::json::object());
  EXPECT_NE(html.find("<title>smtp-harness: postfix</title>"), std::string::npos);
}

// A replay run (fail_on ["replay"]) has a title of its own.
TEST(RenderHtmlReport, AReplayRunIsTitledAsOne) {
  RunResult run = MakeRun({MakeScenario("a", Verdict::kPass)});
  run.fail_on = {"replay"};
  EXPECT_NE(RenderHtmlReport(run).find("<title>smtp-harness replay: postfix</title>"),
            std::string::npos);
}

// The data block is built a scenario at a time (no DOM of the whole run),
// yet is the same text as escaping the run's whole DOM.
TEST(RunJsonForScript, SameBytesAsTheWholeDom) {
  RunResult with_tls = MakeRun({MakeScenario("a", Verdict::kPass)});
  with_tls.target.tls = harness::TlsInfo{"TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=<mx>"};
  for (const RunResult& run :
       {MakeRun({}), with_tls, HostileRun(),
        MakeRun({MakeScenario("a", Verdict::kPass), MakeScenario("b", Verdict::kFail, "G"),
                 MakeScenario("c", Verdict::kError)})}) {
    EXPECT_EQ(RunJsonForScript(run), JsonForScript(harness::ToJson(run)));
  }
}

// Streamed to a file or rendered to a string, the page is the one a single
// Substitute over the whole template with the run's whole DOM gives.
TEST(WriteHtmlReport, SameBytesAsOneSubstituteOverTheWholeDom) {
  RunResult run = HostileRun();
  run.complete = false;
  HtmlReportOptions o;
  o.nonce = "n0nce";
  o.title = "t <&>";
  o.poll_url = "results.json";
  const std::string want = Substitute(
      assets::kPageHtml, {{"CSP", HtmlEscape(ContentSecurityPolicy(o.nonce))},
                          {"TITLE", HtmlEscape(o.title)},
                          {"NONCE", o.nonce},
                          {"CSS", assets::kReportCss},
                          {"DATA", JsonForScript(harness::ToJson(run))},
                          {"CONFIG", JsonForScript({{"poll_url", "results.json"},
                                                    {"poll_interval_ms", o.poll_interval_ms}})},
                          {"JS", ReportScript()}});
  std::ostringstream out;
  WriteHtmlReport(run, out, o);
  EXPECT_EQ(out.str(), want);
  EXPECT_EQ(RenderHtmlReport(run, o), want);
}

TEST(RenderHtmlReport, LiveConfigOnlyForIncompleteRunsWithPollUrl) {
  RunResult run = MakeRun({MakeScenario("a", Verdict::kPass)});
  HtmlReportOptions live;
  live.poll_url = "results.json";
  live.poll_interval_ms = 1500;
  EXPECT_EQ(nlohmann::json::parse(JsonBlock(RenderHtmlReport(run, live), "report-config")),
            nlohmann::json::object());
  run.complete = false;
  EXPECT_EQ(nlohmann::json::parse(JsonBlock(RenderHtmlReport(run, live), "report-config")),
            (nlohmann::json{{"poll_url", "results.json"}, {"poll_interval_ms", 1500}}));
  EXPECT_EQ(nlohmann::json::parse(JsonBlock(RenderHtmlReport(run), "report-config")),
            nlohmann::json::object());
}

TEST(RenderHtmlReport, CspAllowsOnlyItsOwnNonce) {
  HtmlReportOptions opts;
  opts.nonce = "abcDEF123_-";
  const std::string html = RenderHtmlReport(MakeRun({}), opts);
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                      "&#39;none&#39;; script-src &#39;nonce-abcDEF123_-&#39;; style-src "
                      "&#39;nonce-abcDEF123_-&#39;; img-src data:; connect-src &#39;self&#39;;"),
            std::string::npos);
  EXPECT_NE(html.find("<script nonce=\"abcDEF123_-\">"), std::string::npos);
  EXPECT_NE(html.find("<style nonce=\"abcDEF123_-\">"), std::string::npos);
  // A fresh nonce per page otherwise.
  const std::regex nonce_re("script nonce=\"([^\"]+)\"");
  std::smatch m1, m2;
  const std::string h1 = RenderHtmlReport(MakeRun({})), h2 = RenderHtmlReport(MakeRun({}));
  ASSERT_TRUE(std::regex_search(h1, m1, nonce_re));
  ASSERT_TRUE(std::regex_search(h2, m2, nonce_re));
  EXPECT_NE(m1[1].str(), m2[1].str());
}

// Server text anywhere in the run stays inside the JSON block: the page has
// exactly the template's elements, and the data parses back unchanged.
TEST(RenderHtmlReport, HostileRunAddsNoMarkup) {
  const RunResult run = HostileRun();
  const std::string html = RenderHtmlReport(run);
  const std::string empty = RenderHtmlReport(MakeRun({}));
  for (std::string_view tag :
       {"<script", "</script", "<style", "<img", "<!--", "<meta", "<title"}) {
    EXPECT_EQ(Occurrences(html, tag), Occurrences(empty, tag)) << tag;
  }
  EXPECT_EQ(Occurrences(html, "<script"), 3);
  EXPECT_EQ(Occurrences(html, "<!--"), 0);
  // Payload text appears only escaped: as JSON (\u003c) or as HTML text (&lt;).
  for (std::string_view raw : {"<script>window", "<img src", "onerror=\"", "<svg"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  const nlohmann::json data = nlohmann::json::parse(JsonBlock(html, "report-data"));
  EXPECT_NE(data["target"]["banner"].get<std::string>().find("<script>window.__pwned=1"),
            std::string::npos);
  // The title is escaped text.
  EXPECT_NE(html.find("<title>smtp-harness: &lt;script&gt;window.__pwned=1"), std::string::npos);
}

// The assets are what the page trusts; keep them honest.
TEST(Assets, NoHtmlParsingSinksNoExternalRequestsNoEarlyEnds) {
  const std::string js = ReportScript() + CompareScript();
  for (std::string_view sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                                "eval(", "new Function", "setAttribute('on", "srcdoc"}) {
    EXPECT_EQ(js.find(sink), std::string::npos) << sink;
  }
  for (std::string_view bad : {"</script", "</SCRIPT", "<!--"}) {
    EXPECT_EQ(js.find(bad), std::string::npos) << bad;
  }
  EXPECT_EQ(std::string(assets::kReportCss).find("</style"), std::string::npos);
  EXPECT_EQ(std::string(assets::kReportCss).find("url("), std::string::npos);
  EXPECT_EQ(std::string(assets::kReportCss).find("@import"), std::string::npos);
  // The only absolute URL is the RFC link base (navigation, not a request).
  const std::regex url("https?://[^'\"\\s)]+");
  for (auto it = std::sregex_iterator(js.begin(), js.end(), url); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ(it->str(), "https://www.rfc-editor.org/rfc/rfc");
  }
  EXPECT_EQ(std::string(assets::kPageHtml).find("http:"), std::string::npos);
  EXPECT_EQ(std::string(assets::kPageHtml).find("https:"), std::string::npos);
  // Placeholders are all filled.
  EXPECT_EQ(RenderHtmlReport(MakeRun({})).find("{{"), std::string::npos);
}

}  // namespace
}  // namespace smtp::reports
