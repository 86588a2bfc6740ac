#include "results/results.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <istream>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "results/absl_compat.h"
#include "results/atomic_file.h"
#include "results/json_error.h"

namespace smtp::harness {
namespace {

using nlohmann::json;

constexpr std::string_view kVerdictNames[] = {"pass", "fail", "skip", "error"};

// Reads an optional field of type T; a present field of the wrong type is an
// error naming the field.
template <class T>
absl::Status Get(const json& j, const char* key, T* out, bool required = false) {
  auto it = j.find(key);
  if (it == j.end()) {
    return required ? absl::InvalidArgumentError(std::string("missing field '") + key + "'")
                    : absl::OkStatus();
  }
  try {
    *out = it->get<T>();
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(std::string("field '") + key + "': " + e.what());
  }
  return absl::OkStatus();
}

#define RETURN_IF_ERROR(expr)  \
  do {                         \
    absl::Status _st = (expr); \
    if (!_st.ok()) return _st; \
  } while (0)

json FailureJson(const Failure& f) {
  return {{"step", f.step},
          {"step_label", f.step_label},
          {"expected", f.expected},
          {"actual", f.actual},
          {"message", f.message}};
}

}  // namespace

std::string_view VerdictName(Verdict v) { return kVerdictNames[static_cast<int>(v)]; }

bool ParseVerdict(std::string_view name, Verdict* v) {
  for (int i = 0; i < 4; ++i) {
    if (kVerdictNames[i] == name) {
      *v = static_cast<Verdict>(i);
      return true;
    }
  }
  return false;
}

void Counts::Add(Verdict v) {
  switch (v) {
    case Verdict::kPass:
      ++pass;
      break;
    case Verdict::kFail:
      ++fail;
      break;
    case Verdict::kSkip:
      ++skip;
      break;
    case Verdict::kError:
      ++error;
      break;
  }
}

Counts RunResult::Totals() const {
  Counts c;
  for (const auto& s : scenarios) c.Add(s.verdict);
  return c;
}

Counts RunResult::TotalsForLevel(std::string_view level) const {
  Counts c;
  for (const auto& s : scenarios) {
    if (s.level == level) c.Add(s.verdict);
  }
  return c;
}

bool RunResult::Decides(std::string_view level) const {
  return std::find(fail_on.begin(), fail_on.end(), level) != fail_on.end();
}

int RunResult::ExitStatus() const {
  if (!stopped.empty() || Totals().error > 0) return 2;
  for (const auto& s : scenarios) {
    if (s.verdict == Verdict::kFail && Decides(s.level)) return 1;
  }
  return 0;
}

json ToJson(const ScenarioResult& r) {
  json j = {{"id", r.id},
            {"title", r.title},
            {"description", r.description},
            {"file", r.file},
            {"rfc", {{"document", r.rfc_document}, {"section", r.rfc_section}, {"url", r.rfc_url}}},
            {"level", r.level},
            {"tags", r.tags},
            {"group", r.group},
            {"verdict", std::string(VerdictName(r.verdict))},
            {"reason", r.reason},
            {"start_us", r.start_us},
            {"duration_us", r.duration_us},
            {"transcript", r.transcript.ToJson()}};
  if (r.failure) j["failure"] = FailureJson(*r.failure);
  if (r.replay) {
    json rows = json::array();
    for (const ReplayRow& row : r.replay->rows) {
      rows.push_back({{"sent", EscapeBytes(row.sent)},
                      {"recorded", EscapeBytes(row.recorded)},
                      {"replayed", EscapeBytes(row.replayed)},
                      {"differs", row.differs}});
    }
    j["replay"] = {{"session", r.replay->session},
                   {"level", r.replay->level},
                   {"differences", r.replay->differences},
                   {"rows", std::move(rows)}};
  }
  return j;
}

json HeaderJson(const RunResult& r) {
  const Counts c = r.Totals();
  json target = {{"target", r.target.target},
                 {"name", r.target.name},
                 {"banner", r.target.banner},
                 {"ehlo_lines", r.target.ehlo_lines}};
  if (r.target.tls) {
    target["tls"] = {{"protocol", r.target.tls->protocol},
                     {"cipher", r.target.tls->cipher},
                     {"peer_subject", r.target.tls->peer_subject}};
  }
  json out = {
      {"schema_version", r.schema_version},
      {"tool_version", r.tool_version},
      {"started_at", r.started_at},
      {"duration_us", r.duration_us},
      {"command_line", r.command_line},
      {"complete", r.complete},
      {"stopped", r.stopped},
      {"planned", r.planned},
      {"fail_on", r.fail_on},
      {"target", std::move(target)},
      {"totals", {{"pass", c.pass}, {"fail", c.fail}, {"skip", c.skip}, {"error", c.error}}},
      {"exit_status", r.ExitStatus()}};
  if (!r.probe.entries().empty()) out["probe"] = r.probe.ToJson();
  return out;
}

json ToJson(const RunResult& r) {
  json j = HeaderJson(r);
  json scenarios = json::array();
  for (const auto& s : r.scenarios) scenarios.push_back(ToJson(s));
  j["scenarios"] = std::move(scenarios);
  return j;
}

absl::StatusOr<ScenarioResult> ScenarioResultFromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("scenario result is not an object");
  ScenarioResult r;
  RETURN_IF_ERROR(Get(j, "id", &r.id, /*required=*/true));
  RETURN_IF_ERROR(Get(j, "title", &r.title));
  RETURN_IF_ERROR(Get(j, "description", &r.description));
  RETURN_IF_ERROR(Get(j, "file", &r.file));
  if (auto it = j.find("rfc"); it != j.end() && it->is_object()) {
    RETURN_IF_ERROR(Get(*it, "document", &r.rfc_document));
    RETURN_IF_ERROR(Get(*it, "section", &r.rfc_section));
    RETURN_IF_ERROR(Get(*it, "url", &r.rfc_url));
  }
  RETURN_IF_ERROR(Get(j, "level", &r.level));
  RETURN_IF_ERROR(Get(j, "tags", &r.tags));
  RETURN_IF_ERROR(Get(j, "group", &r.group));
  std::string verdict;
  RETURN_IF_ERROR(Get(j, "verdict", &verdict, /*required=*/true));
  if (!ParseVerdict(verdict, &r.verdict)) {
    return absl::InvalidArgumentError("scenario '" + r.id + "': unknown verdict '" + verdict + "'");
  }
  RETURN_IF_ERROR(Get(j, "reason", &r.reason));
  RETURN_IF_ERROR(Get(j, "start_us", &r.start_us));
  RETURN_IF_ERROR(Get(j, "duration_us", &r.duration_us));
  if (auto it = j.find("failure"); it != j.end() && it->is_object()) {
    Failure f;
    RETURN_IF_ERROR(Get(*it, "step", &f.step));
    RETURN_IF_ERROR(Get(*it, "step_label", &f.step_label));
    RETURN_IF_ERROR(Get(*it, "expected", &f.expected));
    RETURN_IF_ERROR(Get(*it, "actual", &f.actual));
    RETURN_IF_ERROR(Get(*it, "message", &f.message));
    r.failure = std::move(f);
  }
  if (auto it = j.find("transcript"); it != j.end()) {
    auto t = Transcript::FromJson(*it);
    if (!t.ok()) {
      return absl::InvalidArgumentError("scenario '" + r.id +
                                        "': transcript: " + Message(t.status()));
    }
    r.transcript = *std::move(t);
  }
  if (auto it = j.find("replay"); it != j.end()) {
    const auto bad = [&](const std::string& what) {
      return absl::InvalidArgumentError("scenario '" + r.id + "': replay: " + what);
    };
    if (!it->is_object()) return bad("not an object");
    ReplayComparison c;
    RETURN_IF_ERROR(Get(*it, "session", &c.session));
    RETURN_IF_ERROR(Get(*it, "level", &c.level));
    RETURN_IF_ERROR(Get(*it, "differences", &c.differences));
    auto rows = it->find("rows");
    if (rows != it->end()) {
      if (!rows->is_array()) return bad("\"rows\" must be an array");
      for (const json& jr : *rows) {
        ReplayRow row;
        std::string sent, recorded, replayed;
        if (!jr.is_object()) return bad("a row is not an object");
        RETURN_IF_ERROR(Get(jr, "sent", &sent));
        RETURN_IF_ERROR(Get(jr, "recorded", &recorded));
        RETURN_IF_ERROR(Get(jr, "replayed", &replayed));
        RETURN_IF_ERROR(Get(jr, "differs", &row.differs));
        if (!UnescapeBytes(sent, &row.sent) || !UnescapeBytes(recorded, &row.recorded) ||
            !UnescapeBytes(replayed, &row.replayed)) {
          return bad("a row has a bad byte escape");
        }
        c.rows.push_back(std::move(row));
      }
    }
    r.replay = std::move(c);
  }
  return r;
}

absl::StatusOr<RunResult> RunResultFromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("results: not a JSON object");
  RunResult r;
  RETURN_IF_ERROR(Get(j, "schema_version", &r.schema_version, /*required=*/true));
  if (r.schema_version != kResultsSchemaVersion) {
    return absl::InvalidArgumentError("results: schema_version " +
                                      std::to_string(r.schema_version) + " is not supported (" +
                                      std::to_string(kResultsSchemaVersion) + " is)");
  }
  RETURN_IF_ERROR(Get(j, "tool_version", &r.tool_version));
  RETURN_IF_ERROR(Get(j, "started_at", &r.started_at));
  RETURN_IF_ERROR(Get(j, "duration_us", &r.duration_us));
  RETURN_IF_ERROR(Get(j, "command_line", &r.command_line));
  RETURN_IF_ERROR(Get(j, "complete", &r.complete));
  RETURN_IF_ERROR(Get(j, "stopped", &r.stopped));
  RETURN_IF_ERROR(Get(j, "planned", &r.planned));
  RETURN_IF_ERROR(Get(j, "fail_on", &r.fail_on));  // absent: the default
  if (auto it = j.find("target"); it != j.end() && it->is_object()) {
    RETURN_IF_ERROR(Get(*it, "target", &r.target.target));
    RETURN_IF_ERROR(Get(*it, "name", &r.target.name));
    RETURN_IF_ERROR(Get(*it, "banner", &r.target.banner));
    RETURN_IF_ERROR(Get(*it, "ehlo_lines", &r.target.ehlo_lines));
    if (auto t = it->find("tls"); t != it->end() && t->is_object()) {
      TlsInfo tls;
      RETURN_IF_ERROR(Get(*t, "protocol", &tls.protocol));
      RETURN_IF_ERROR(Get(*t, "cipher", &tls.cipher));
      RETURN_IF_ERROR(Get(*t, "peer_subject", &tls.peer_subject));
      r.target.tls = std::move(tls);
    }
  }
  if (auto p = j.find("probe"); p != j.end()) {
    auto t = Transcript::FromJson(*p);
    if (!t.ok()) {
      return absl::InvalidArgumentError("results: probe: " + Message(t.status()));
    }
    r.probe = *std::move(t);
  }
  auto it = j.find("scenarios");
  if (it == j.end() || !it->is_array()) {
    return absl::InvalidArgumentError("results: missing 'scenarios' array");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto s = ScenarioResultFromJson((*it)[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError("results: scenarios[" + std::to_string(i) +
                                        "]: " + Message(s.status()));
    }
    r.scenarios.push_back(*std::move(s));
  }
  return r;
}

absl::Status WriteRunResult(const RunResult& r, const std::string& path) {
  // Atomic, so a reader (the live report server) never sees a half file.
  return WriteFileAtomicWith(path, [&r](std::ostream& out) {
    out << ToJson(r).dump(1, ' ', false, json::error_handler_t::replace) << '\n';
  });
}

absl::StatusOr<RunResult> ParseRunResult(std::istream& in) {
  // The parser's callback sees every value as it completes; an element of
  // the top-level "scenarios" array (depth 2) is converted and discarded, so
  // the DOM keeps only the run's header.
  std::vector<ScenarioResult> scenarios;
  absl::Status scenario_error;
  std::string top_key;  // the last key of the top-level object
  bool in_scenarios = false;
  const json::parser_callback_t collect = [&](int depth, json::parse_event_t event, json& parsed) {
    using E = json::parse_event_t;
    if (depth == 1) {
      if (event == E::key) {
        top_key = parsed.get<std::string>();
      } else if (event == E::array_start && top_key == "scenarios") {
        in_scenarios = true;
        scenarios.clear();  // a repeated key: the last one counts, as in the DOM
        scenario_error = absl::OkStatus();
      } else if (event == E::array_end) {
        in_scenarios = false;
      }
      return true;
    }
    if (depth != 2 || !in_scenarios ||
        (event != E::object_end && event != E::array_end && event != E::value)) {
      return true;
    }
    if (scenario_error.ok()) {
      auto s = ScenarioResultFromJson(parsed);
      if (s.ok()) {
        scenarios.push_back(*std::move(s));
      } else {
        scenario_error =
            absl::InvalidArgumentError("results: scenarios[" + std::to_string(scenarios.size()) +
                                       "]: " + std::string(s.status().message()));
      }
    }
    return false;  // drop its DOM
  };
  json header;
  try {
    header = json::parse(in, collect, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError("not valid JSON: " + DescribeParseError(e));
  }
  // The header's errors first, as RunResultFromJson reports them in order.
  auto r = RunResultFromJson(header);
  if (!r.ok()) return r.status();
  if (!scenario_error.ok()) return scenario_error;
  r->scenarios = std::move(scenarios);
  return r;
}

absl::StatusOr<RunResult> ReadRunResult(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path + ": " + std::strerror(errno));
  auto r = ParseRunResult(in);
  if (in.bad()) return absl::UnavailableError("cannot read " + path + ": " + std::strerror(errno));
  if (!r.ok()) return absl::InvalidArgumentError(path + ": " + Message(r.status()));
  return r;
}

}  // namespace smtp::harness
