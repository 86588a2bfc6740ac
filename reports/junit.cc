#include "reports/junit.h"

#include <cstdio>
#include <map>
#include <string_view>
#include <vector>

#include "reports/escape.h"

namespace smtp::reports {
namespace {

using harness::RunResult;
using harness::ScenarioResult;
using harness::Verdict;

std::string Seconds(std::int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us < 0 ? 0 : us) / 1e6);
  return buf;
}

std::string Attr(std::string_view name, std::string_view value) {
  std::string out = " ";
  out += name;
  out += "=\"";
  out += XmlEscape(value, /*attribute=*/true);
  out += '"';
  return out;
}

std::string GroupName(const ScenarioResult& s) {
  return s.group.empty() ? std::string("(ungrouped)") : s.group;
}

// The body of a <failure> or <error>: what a CI viewer shows expanded.
std::string FailureText(const ScenarioResult& s) {
  std::string t;
  if (s.failure) {
    if (!s.failure->message.empty()) t += s.failure->message + "\n";
    if (!s.failure->step_label.empty()) t += "step:     " + s.failure->step_label + "\n";
    t += "expected: " + s.failure->expected + "\n";
    t += "actual:   " + s.failure->actual + "\n";
  } else if (!s.reason.empty()) {
    t += s.reason + "\n";
  }
  if (!s.rfc_document.empty()) {
    t += "rfc:      " + s.rfc_document;
    if (!s.rfc_section.empty()) t += " section " + s.rfc_section;
    if (!s.rfc_url.empty()) t += " <" + s.rfc_url + ">";
    t += "\n";
  }
  return t;
}

std::string Message(const ScenarioResult& s) {
  if (s.failure && !s.failure->message.empty()) return s.failure->message;
  return s.reason;
}

void AppendCase(std::string& out, const ScenarioResult& s) {
  const std::string group = GroupName(s);
  const std::string name = s.title.empty() ? s.id : s.id + ": " + s.title;
  out += "    <testcase";
  out += Attr("classname", group) + Attr("name", name) + Attr("time", Seconds(s.duration_us));
  if (!s.file.empty()) out += Attr("file", s.file);
  out += ">\n";
  switch (s.verdict) {
    case Verdict::kPass:
      break;
    case Verdict::kFail:
      out += "      <failure" + Attr("message", Message(s)) +
             Attr("type", s.level.empty() ? "fail" : s.level) + ">" + XmlEscape(FailureText(s)) +
             "</failure>\n";
      break;
    case Verdict::kError:
      out += "      <error" + Attr("message", Message(s)) + Attr("type", "error") + ">" +
             XmlEscape(FailureText(s)) + "</error>\n";
      break;
    case Verdict::kSkip:
      out += "      <skipped" + Attr("message", s.reason) + "/>\n";
      break;
  }
  if (!s.transcript.empty()) {
    out += "      <system-out>" + XmlEscape(s.transcript.DebugString()) + "</system-out>\n";
  }
  out += "    </testcase>\n";
}

void AppendCounts(std::string& out, const harness::Counts& c, std::int64_t us) {
  out += Attr("tests", std::to_string(c.total())) + Attr("failures", std::to_string(c.fail)) +
         Attr("errors", std::to_string(c.error)) + Attr("skipped", std::to_string(c.skip)) +
         Attr("time", Seconds(us));
}

}  // namespace

std::string RenderJunit(const RunResult& run) {
  // Groups in order of first appearance, each with its scenarios in order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ScenarioResult*>> groups;
  for (const auto& s : run.scenarios) {
    auto [it, fresh] = groups.try_emplace(GroupName(s));
    if (fresh) order.push_back(it->first);
    it->second.push_back(&s);
  }

  std::string props = "    <properties>\n";
  const std::pair<std::string_view, const std::string*> kProps[] = {
      {"target", &run.target.target},  {"target_name", &run.target.name},
      {"banner", &run.target.banner},  {"tool_version", &run.tool_version},
      {"started_at", &run.started_at}, {"command_line", &run.command_line},
  };
  for (const auto& [name, value] : kProps) {
    if (!value->empty())
      props += "      <property" + Attr("name", name) + Attr("value", *value) + "/>\n";
  }
  props += "    </properties>\n";

  // A run that stopped early is one more error, so that CI shows why.
  harness::Counts totals = run.Totals();
  if (!run.stopped.empty()) totals.Add(Verdict::kError);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites";
  out += Attr("name", "smtp-harness");
  AppendCounts(out, totals, run.duration_us);
  out += ">\n";
  if (!run.stopped.empty()) {
    harness::Counts one;
    one.Add(Verdict::kError);
    out += "  <testsuite" + Attr("name", "smtp-harness run");
    AppendCounts(out, one, 0);
    out += ">\n" + props + "    <testcase" + Attr("classname", "smtp-harness run") +
           Attr("name", "run stopped early") + Attr("time", "0") + ">\n      <error" +
           Attr("message", "stopped: " + run.stopped) + Attr("type", "stopped") + ">" +
           XmlEscape(std::to_string(run.scenarios.size()) + " of " + std::to_string(run.planned) +
                     " scenarios ran; stopped: " + run.stopped) +
           "</error>\n    </testcase>\n  </testsuite>\n";
  }
  for (const std::string& g : order) {
    harness::Counts counts;
    std::int64_t us = 0;
    for (const ScenarioResult* s : groups[g]) {
      counts.Add(s->verdict);
      us += s->duration_us;
    }
    out += "  <testsuite" + Attr("name", g);
    AppendCounts(out, counts, us);
    if (!run.started_at.empty()) out += Attr("timestamp", run.started_at);
    out += ">\n" + props;
    for (const ScenarioResult* s : groups[g]) AppendCase(out, *s);
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace smtp::reports
