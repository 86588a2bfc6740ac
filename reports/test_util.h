// Synthetic runs for the reports/ tests (no runner needed).
#ifndef SMTP_REPORTS_TEST_UTIL_H_
#define SMTP_REPORTS_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "results/results.h"

namespace smtp::reports::testing {

using harness::Direction;
using harness::EntryKind;
using harness::RunResult;
using harness::ScenarioResult;
using harness::Verdict;

inline ScenarioResult MakeScenario(std::string id, Verdict v, std::string group = "RFC 5321 §4.1.1",
                                   std::string level = "MUST") {
  ScenarioResult s;
  s.id = std::move(id);
  s.title = "title of " + s.id;
  s.group = std::move(group);
  s.level = std::move(level);
  s.rfc_document = "RFC 5321";
  s.rfc_section = "4.1.1.1";
  s.tags = {"ehlo"};
  s.verdict = v;
  s.duration_us = 1500;
  if (v == Verdict::kFail) {
    s.failure = harness::Failure{.step = 1,
                                 .step_label = "step 2 (expect)",
                                 .expected = "code 250",
                                 .actual = "550 5.1.1 no such user",
                                 .message = "expected 250, got 550"};
    s.reason = "expected 250, got 550";
  } else if (v == Verdict::kSkip) {
    s.reason = "server lacks STARTTLS";
  } else if (v == Verdict::kError) {
    s.reason = "connection refused";
  }
  s.transcript.AddEventAt(0, EntryKind::kConnect, "127.0.0.1:2525");
  s.transcript.AddDataAt(800, Direction::kServerToClient, "220 mx ESMTP\r\n");
  s.transcript.AddDataAt(900, Direction::kClientToServer, "EHLO client.example\r\n");
  s.transcript.AddDataAt(950, Direction::kServerToClient, "250-mx\r\n250 PIPELINING\r\n");
  return s;
}

inline RunResult MakeRun(std::vector<ScenarioResult> scenarios, std::string name = "postfix") {
  RunResult r;
  r.tool_version = "0.1.0";
  r.started_at = "2024-05-01T12:00:00Z";
  r.duration_us = 2'000'000;
  r.command_line = "smtp-harness run --target 127.0.0.1:2525";
  r.target.target = "127.0.0.1:2525";
  r.target.name = std::move(name);
  r.target.banner = "220 mx.example ESMTP Postfix";
  r.target.ehlo_lines = {"PIPELINING", "SIZE 10240000", "8BITMIME"};
  r.scenarios = std::move(scenarios);
  return r;
}

// Payloads a hostile server (or scenario file) might plant in any string.
inline const std::vector<std::string>& HostilePayloads() {
  static constexpr char kBytes[] = "NUL\0ESC\x1b[31m\xff\xfe bad utf8 ]]> &amp; \r\n";
  static const std::vector<std::string> p = {
      "<script>window.__pwned=1;alert(1)</script>",
      "\"><img src=x onerror=\"window.__pwned=2\">",
      "</script><script>window.__pwned=3</script>",
      "<!--<script>window.__pwned=4</script>-->",
      "{{JS}}{{DATA}}",
      std::string(kBytes, sizeof kBytes - 1),
  };
  return p;
}

// A run whose every server- or scenario-controlled string carries a payload.
inline RunResult HostileRun() {
  const auto& p = HostilePayloads();
  std::string all;
  for (const auto& s : p) all += s;
  ScenarioResult s = MakeScenario(all, Verdict::kFail, all, all);
  s.title = all;
  s.description = all;
  s.file = all;
  s.rfc_document = all;
  s.rfc_section = all;
  s.rfc_url = "javascript:window.__pwned=5";
  s.tags = p;
  s.reason = all;
  s.failure->expected = all;
  s.failure->actual = all;
  s.failure->message = all;
  s.failure->step_label = all;
  s.transcript.AddDataAt(1000, Direction::kServerToClient, all);
  s.transcript.AddNote(all);
  RunResult r = MakeRun({s}, all);
  r.target.target = all;
  r.target.banner = all;
  r.target.ehlo_lines = p;
  r.target.tls = harness::TlsInfo{all, all, all};
  r.command_line = all;
  r.tool_version = all;
  r.started_at = all;
  return r;
}

// How often `needle` occurs in `hay` (overlapping occurrences counted).
inline int Occurrences(const std::string& hay, std::string_view needle) {
  int n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// The text of a page's <script type="application/json" id=ID>…</script>
// ("" when there is none).
inline std::string JsonBlock(const std::string& html, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  const auto b = html.find(open);
  if (b == std::string::npos) return {};
  const auto e = html.find("</script>", b);
  return html.substr(b + open.size(), e - b - open.size());
}

}  // namespace smtp::reports::testing

#endif  // SMTP_REPORTS_TEST_UTIL_H_
