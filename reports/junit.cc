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

// How a scenario shows in JUnit: only a failure at a level that decides the
// exit status is a <failure>; a failure at another level is a finding,
// shown as <skipped> so that it is listed with its message without marking
// the build failed.
enum class Shape { kPass, kFailure, kFinding, kError, kSkip };

Shape ShapeOf(const RunResult& run, const ScenarioResult& s) {
  switch (s.verdict) {
    case Verdict::kPass:
      return Shape::kPass;
    case Verdict::kFail:
      return run.Decides(s.level) ? Shape::kFailure : Shape::kFinding;
    case Verdict::kError:
      return Shape::kError;
    case Verdict::kSkip:
      return Shape::kSkip;
  }
  return Shape::kError;
}

// The testsuite(s) attributes, counted by shape.
struct JunitCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  void Add(Shape shape) {
    ++tests;
    failures += shape == Shape::kFailure;
    errors += shape == Shape::kError;
    skipped += shape == Shape::kFinding || shape == Shape::kSkip;
  }
};

// "MUST,security"; "(none)" when no level fails the run.
std::string JoinFailOn(const RunResult& run) {
  std::string out;
  for (const std::string& level : run.fail_on) out += (out.empty() ? "" : ",") + level;
  return out.empty() ? "(none)" : out;
}

// The body of a <failure>, <error> or finding: what a CI viewer shows
// expanded.
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

// The transcript as text, cut after `max` bytes (0: no limit) at the last
// line end before it, or else at a UTF-8 character boundary.
std::string TranscriptText(const ScenarioResult& s, std::size_t max) {
  std::string text = s.transcript.DebugString();
  if (max == 0 || text.size() <= max) return text;
  std::size_t cut = text.rfind('\n', max - 1);
  if (cut == std::string::npos || cut < max / 2) {
    cut = max;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  } else {
    ++cut;
  }
  const std::size_t total = text.size();
  text.resize(cut);
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "[transcript cut: " + std::to_string(cut) + " of " + std::to_string(total) +
          " bytes shown; results.json and index.html have all of it]\n";
  return text;
}

void AppendCase(std::string& out, const RunResult& run, const ScenarioResult& s,
                const JunitOptions& options) {
  const Shape shape = ShapeOf(run, s);
  const std::string name = s.title.empty() ? s.id : s.id + " \u2014 " + s.title;
  out += "    <testcase";
  out += Attr("classname", JunitClassName(s.group)) + Attr("name", name) +
         Attr("time", Seconds(s.duration_us));
  if (!s.file.empty()) out += Attr("file", s.file);
  out += ">\n";
  switch (shape) {
    case Shape::kPass:
      break;
    case Shape::kFailure:
      out += "      <failure" + Attr("message", Message(s)) +
             Attr("type", s.level.empty() ? "fail" : s.level) + ">" + XmlEscape(FailureText(s)) +
             "</failure>\n";
      break;
    case Shape::kFinding: {
      const std::string level = s.level.empty() ? "unlevelled" : s.level;
      out += "      <skipped" +
             Attr("message", level + " finding (not in fail-on " + JoinFailOn(run) +
                                 "; the run does not fail on it): " + Message(s)) +
             ">" + XmlEscape(FailureText(s)) + "</skipped>\n";
      break;
    }
    case Shape::kError:
      out += "      <error" + Attr("message", Message(s)) + Attr("type", "error") + ">" +
             XmlEscape(FailureText(s)) + "</error>\n";
      break;
    case Shape::kSkip:
      out += "      <skipped" + Attr("message", s.reason) + "/>\n";
      break;
  }
  const bool transcript =
      options.passing_transcripts || (shape != Shape::kPass && shape != Shape::kSkip);
  if (transcript && !s.transcript.empty()) {
    out += "      <system-out>" + XmlEscape(TranscriptText(s, options.max_transcript_bytes)) +
           "</system-out>\n";
  }
  out += "    </testcase>\n";
}

void AppendCounts(std::string& out, const JunitCounts& c, std::int64_t us) {
  out += Attr("tests", std::to_string(c.tests)) + Attr("failures", std::to_string(c.failures)) +
         Attr("errors", std::to_string(c.errors)) + Attr("skipped", std::to_string(c.skipped)) +
         Attr("time", Seconds(us));
}

}  // namespace

std::string JunitClassName(std::string_view group) {
  std::string out = "smtp-harness.";
  if (group.empty()) return out + "(ungrouped)";
  for (char c : group) out += c == '.' ? '_' : c;
  return out;
}

std::string RenderJunit(const RunResult& run, const JunitOptions& options) {
  // Groups in order of first appearance, each with its scenarios in order.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ScenarioResult*>> groups;
  for (const auto& s : run.scenarios) {
    auto [it, fresh] = groups.try_emplace(GroupName(s));
    if (fresh) order.push_back(it->first);
    it->second.push_back(&s);
  }

  std::string props = "    <properties>\n";
  const std::string fail_on = JoinFailOn(run);
  const std::pair<std::string_view, const std::string*> kProps[] = {
      {"target", &run.target.target},  {"target_name", &run.target.name},
      {"banner", &run.target.banner},  {"tool_version", &run.tool_version},
      {"started_at", &run.started_at}, {"command_line", &run.command_line},
      {"fail_on", &fail_on},
  };
  for (const auto& [name, value] : kProps) {
    if (!value->empty())
      props += "      <property" + Attr("name", name) + Attr("value", *value) + "/>\n";
  }
  props += "    </properties>\n";

  // A run that stopped early is one more error, so that CI shows why.
  JunitCounts totals;
  for (const auto& s : run.scenarios) totals.Add(ShapeOf(run, s));
  if (!run.stopped.empty()) totals.Add(Shape::kError);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites";
  out += Attr("name", "smtp-harness");
  AppendCounts(out, totals, run.duration_us);
  out += ">\n";
  if (!run.stopped.empty()) {
    JunitCounts one;
    one.Add(Shape::kError);
    out += "  <testsuite" + Attr("name", "smtp-harness run");
    AppendCounts(out, one, 0);
    out += ">\n" + props + "    <testcase" + Attr("classname", "smtp-harness.run") +
           Attr("name", "run stopped early") + Attr("time", "0") + ">\n      <error" +
           Attr("message", "stopped: " + run.stopped) + Attr("type", "stopped") + ">" +
           XmlEscape(std::to_string(run.scenarios.size()) + " of " + std::to_string(run.planned) +
                     " scenarios ran; stopped: " + run.stopped) +
           "</error>\n    </testcase>\n  </testsuite>\n";
  }
  for (const std::string& g : order) {
    JunitCounts counts;
    std::int64_t us = 0;
    for (const ScenarioResult* s : groups[g]) {
      counts.Add(ShapeOf(run, *s));
      us += s->duration_us;
    }
    out += "  <testsuite" + Attr("name", g);
    AppendCounts(out, counts, us);
    if (!run.started_at.empty()) out += Attr("timestamp", run.started_at);
    out += ">\n" + props;
    for (const ScenarioResult* s : groups[g]) AppendCase(out, run, *s, options);
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace smtp::reports
