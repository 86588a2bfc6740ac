// The results model: what a run found, rendered by every report (JSON,
// JUnit, HTML, comparison) and produced by every feature that talks to a
// server (conformance runner, network fuzzer findings, replay diffs).
//
// results.json is this model's JSON form; its schema is versioned
// (kResultsSchemaVersion) and documented in docs/results.md. Readers accept
// any file whose "schema_version" major number they know.
//
// Depends on the Transcript type only: no Boost, no sockets, so reports/
// can link it without the I/O layers.
#ifndef SMTP_RESULTS_RESULTS_H_
#define SMTP_RESULTS_RESULTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "results/transcript.h"

namespace smtp::harness {

inline constexpr int kResultsSchemaVersion = 1;

// Verdicts are kept distinct: a server contradicting the expectation (kFail)
// is a finding about the server; kError is our side or the environment
// (connection refused, time budget exhausted, bad scenario).
enum class Verdict : std::uint8_t { kPass, kFail, kSkip, kError };
std::string_view VerdictName(Verdict v);  // "pass", "fail", "skip", "error"
bool ParseVerdict(std::string_view name, Verdict* v);

// Where a failure happened and why, for "expected versus actual".
struct Failure {
  int step = -1;           // 0-based index into the scenario's executed steps
  std::string step_label;  // e.g. "step 4 (expect)" or "step 2 > ehlo step 1"
  std::string expected;    // e.g. "code 250 or 251"
  std::string actual;      // e.g. "550 5.1.1 no such user"
  std::string message;     // one-line summary a person reads first
};

// A replayed session (`smtp-harness replay`): the recorded replies beside
// the replayed ones, one row per exchange (what the client sent before
// waiting, and the replies that answered it), for the side-by-side diff.
struct ReplayRow {
  std::string sent;      // the bytes sent (empty for the greeting)
  std::string recorded;  // the recorded replies, as the server sent them
  std::string replayed;  // the replies the target sent this time
  // The first level at which the two differ: "" (the same), "code",
  // "enhanced" (same codes, enhanced codes differ) or "text" (same codes,
  // normalized text differs).
  std::string differs;
  friend bool operator==(const ReplayRow&, const ReplayRow&) = default;
};

struct ReplayComparison {
  std::string session;  // the session file (or results.json#id) replayed
  std::string level;    // the level compared at: "code", "enhanced" or "text"
  int differences = 0;  // rows that differ at `level` or below
  std::vector<ReplayRow> rows;
  friend bool operator==(const ReplayComparison&, const ReplayComparison&) = default;
};

struct ScenarioResult {
  // Scenario metadata, copied so a report needs nothing but results.json.
  std::string id;
  std::string title;
  std::string description;
  std::string file;          // scenario file, relative to the suite root
  std::string rfc_document;  // "RFC 5321"
  std::string rfc_section;   // "4.1.1.1"
  std::string rfc_url;       // link to the clause; may be empty
  std::string level;         // "MUST", "SHOULD", "MAY", "policy", "security"
  std::vector<std::string> tags;
  std::string group;  // report grouping, e.g. "RFC 5321 §4.1" or "smuggling"

  Verdict verdict = Verdict::kError;
  std::string reason;              // skip reason, error text, or failure summary
  std::optional<Failure> failure;  // for kFail (and kError when a step is to blame)
  std::int64_t start_us = 0;       // since the run started
  std::int64_t duration_us = 0;
  Transcript transcript;
  std::optional<ReplayComparison> replay;  // results of `replay` only
};

// What we learnt about the server under test.
struct TargetInfo {
  std::string target;                   // as given: "127.0.0.1:2525", "exec:...", "embedded:strict"
  std::string name;                     // label for comparisons: "postfix", "aiosmtpd", ...
  std::string banner;                   // the greeting reply text, first line
  std::vector<std::string> ehlo_lines;  // EHLO reply lines after the domain line
  std::optional<TlsInfo> tls;
};

struct Counts {
  int pass = 0, fail = 0, skip = 0, error = 0;
  int total() const { return pass + fail + skip + error; }
  void Add(Verdict v);
};

struct RunResult {
  int schema_version = kResultsSchemaVersion;
  std::string tool_version;
  std::string started_at;  // ISO 8601 UTC
  std::int64_t duration_us = 0;
  std::string command_line;  // secrets redacted
  TargetInfo target;
  std::vector<ScenarioResult> scenarios;
  bool complete = true;  // false while a run is in progress (live reports)
  // Why the run ended before every scenario ran ("" when it did not): an
  // interruption ("interrupted by SIGINT"), the whole-run deadline, or a
  // target that cannot be tested at all (no greeting, unreadable EHLO).
  // Scenarios that never started are not in `scenarios`; `planned` counts
  // them all.
  std::string stopped;
  int planned = 0;  // scenarios the run meant to run (0: unknown, as before)
  // The probe's conversation before the scenarios (greeting, EHLO, ...),
  // redacted; empty when there was no probe.
  Transcript probe;
  // The levels whose failures decide the exit status (`run --fail-on`);
  // failures of the other levels are reported as findings only.
  std::vector<std::string> fail_on = DefaultFailOn();

  static std::vector<std::string> DefaultFailOn() { return {"MUST", "security"}; }
  // Whether a failure at `level` decides the exit status (is in `fail_on`).
  bool Decides(std::string_view level) const;

  // Totals over `scenarios`, and per level.
  Counts Totals() const;
  Counts TotalsForLevel(std::string_view level) const;

  // The process exit status for `smtp-harness run`: 0 when every scenario
  // of a `fail_on` level passed or was skipped (and nothing errored), 1 when
  // one of them failed, 2 on harness errors and on a run that stopped early
  // (`stopped`).
  int ExitStatus() const;
};

nlohmann::json ToJson(const ScenarioResult& r);
nlohmann::json ToJson(const RunResult& r);
absl::StatusOr<ScenarioResult> ScenarioResultFromJson(const nlohmann::json& j);
absl::StatusOr<RunResult> RunResultFromJson(const nlohmann::json& j);

// ToJson(r) without its "scenarios" member, for writers that emit the
// scenarios one at a time.
nlohmann::json HeaderJson(const RunResult& r);

// Parses results.json text from `in` without holding the DOM of the whole
// run (it takes several times the file's size): each element of
// "scenarios" becomes a ScenarioResult as soon as it is parsed and its DOM
// is dropped. Errors: "not valid JSON: parse error at line L, column C:
// ... (byte B)", else those of RunResultFromJson. A read error of `in` shows
// as invalid JSON at the point it stopped; callers that can tell (a file)
// check their stream.
absl::StatusOr<RunResult> ParseRunResult(std::istream& in);

// File helpers: pretty JSON with a trailing newline; errors name the file
// and, for I/O, the system's reason (strerror).
absl::Status WriteRunResult(const RunResult& r, const std::string& path);
absl::StatusOr<RunResult> ReadRunResult(const std::string& path);

}  // namespace smtp::harness

#endif  // SMTP_RESULTS_RESULTS_H_
