// Fuzz target: LoadScenarioText (harness/scenario/scenario_loader.h).
//
// No header: the whole input is the scenario file's text, so seeds are plain
// copies of scenarios/**/*.json and harness/scenario/testdata/bad/*.json.
// Both settings of LoadOptions::allow_unknown_variables run on every input.
// Fragments are looked up only in a fixed, empty temporary directory made
// once by LLVMFuzzerInitialize: every include is "not found", and the loader
// touches no other file (an empty fragment_dirs would walk up from the path).
//
// Oracles:
// - loading never throws: nothing is caught here, so an exception escaping
//   the loader (e.g. nlohmann::json's type_error) aborts as a finding;
// - every error reads "<path>:LINE:COL: <what>" with 1 <= LINE <= lines + 1
//   (lines = LF count + 1) and COL >= 1, and says what is wrong;
// - loading is deterministic: the same text loads to the same result (the
//   same message, or a scenario with the same summary);
// - allow_unknown_variables only widens: whatever loads without it loads with
//   it, to the same scenario;
// - an include is always an error here (no fragment exists): a loaded
//   scenario has no "include" key naming a fragment;
// - a loaded scenario has steps, the first to run is 'connect', and every
//   step's origin is "<path>:LINE:COL" inside the input with a label.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_util.h"
#include "harness/scenario/scenario_loader.h"
#include "results/absl_compat.h"

namespace {

namespace sc = smtp::scenario;

constexpr char kPath[] = "fuzz/scenario.json";

std::string g_fragment_dir;  // fixed and empty for the whole run

// This Abseil's StrCat takes absl::string_view, not std::string_view.
using smtp::AV;
std::string_view SV(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Parses a decimal run of digits at the front of `s`; -1 when there is none.
long long TakeNumber(std::string_view* s) {
  long long n = 0;
  std::size_t i = 0;
  while (i < s->size() && i < 12 && (*s)[i] >= '0' && (*s)[i] <= '9') {
    n = n * 10 + ((*s)[i] - '0');
    ++i;
  }
  if (i == 0) return -1;
  s->remove_prefix(i);
  return n;
}

// Checks "<kPath>:LINE:COL" at the front of `s` and returns what follows.
std::string_view CheckPosition(std::string_view s, long long lines, const char* what) {
  const std::string prefix = std::string(kPath) + ":";
  FUZZ_CHECK(s.substr(0, prefix.size()) == std::string_view(prefix), what);
  s.remove_prefix(prefix.size());
  const long long line = TakeNumber(&s);
  FUZZ_CHECK(line >= 1 && line <= lines + 1, "LINE is within the input");
  FUZZ_CHECK(!s.empty() && s[0] == ':', "LINE is followed by ':'");
  s.remove_prefix(1);
  const long long col = TakeNumber(&s);
  FUZZ_CHECK(col >= 1, "COL is at least 1");
  return s;
}

void CheckError(const absl::Status& st, long long lines) {
  FUZZ_CHECK(!st.ok(), "an error status");
  FUZZ_CHECK(st.code() == absl::StatusCode::kInvalidArgument,
             "a bad text is InvalidArgument (no file is read)");
  std::string_view rest =
      CheckPosition(SV(st.message()), lines, "the message starts with the path");
  FUZZ_CHECK(rest.size() > 2 && rest.substr(0, 2) == ": ", "\"path:LINE:COL: <what>\"");
}

void Summarize(const std::vector<sc::Step>& steps, long long lines, std::string* out) {
  for (const sc::Step& s : steps) {
    const std::string where = absl::StrCat(s.origin.file, ":", s.origin.line, ":", s.origin.column);
    CheckPosition(where, lines, "a step's origin is in the input");
    FUZZ_CHECK(!s.origin.label.empty(), "a step's origin has a label");
    absl::StrAppend(out, "[", AV(sc::StepTypeName(s.action)), " ", where, " ", s.origin.label, " ",
                    s.timeout_ms.value_or(-1), " ", s.note.size(), ":", s.note);
    if (const auto* r = std::get_if<sc::RepeatStep>(&s.action)) {
      FUZZ_CHECK(!r->steps.empty(), "a repeat has steps");
      absl::StrAppend(out, " x", r->times, " ");
      Summarize(r->steps, lines, out);
    }
    absl::StrAppend(out, "]");
  }
}

// What a loaded scenario is, for comparing two loads.
std::string Summary(const sc::Scenario& s, long long lines) {
  FUZZ_CHECK(s.file == kPath, "the scenario names its path");
  FUZZ_CHECK(!s.steps.empty(), "a loaded scenario has steps");
  const sc::Step* first = &s.steps.front();
  while (const auto* r = std::get_if<sc::RepeatStep>(&first->action)) first = &r->steps.front();
  FUZZ_CHECK(std::holds_alternative<sc::ConnectStep>(first->action),
             "the first step to run is 'connect'");
  std::string out =
      absl::StrCat(s.id.size(), ":", s.id, s.title.size(), ":", s.title, s.description.size(), ":",
                   s.description, "|", s.rfc.document, "|", s.rfc.section, "|", s.rfc.url, "|",
                   static_cast<int>(s.level), "|", s.timeout_ms.value_or(-1), "|");
  for (const std::string& t : s.tags) absl::StrAppend(&out, t, ",");
  absl::StrAppend(&out, "|");
  for (const std::string& r : s.requires_extensions) absl::StrAppend(&out, r, ",");
  absl::StrAppend(&out, "|");
  Summarize(s.steps, lines, &out);
  return out;
}

// "ok <summary>" or "error <message>", checking the oracles on the way.
std::string Load(const std::string& text, bool allow_unknown, long long lines) {
  sc::LoadOptions opts;
  opts.fragment_dirs = {g_fragment_dir};
  opts.allow_unknown_variables = allow_unknown;
  const absl::StatusOr<sc::Scenario> r = sc::LoadScenarioText(kPath, text, opts);
  if (!r.ok()) {
    CheckError(r.status(), lines);
    return absl::StrCat("error ", r.status().message());
  }
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(root.is_object(), "what loads is a JSON object");
  if (auto it = root.find("include"); it != root.end()) {
    FUZZ_CHECK(it->is_array() && it->empty(), "an include of an unknown fragment is an error");
  }
  return absl::StrCat("ok ", Summary(*r, lines));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/fuzz_scenario_loader.XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    std::perror("fuzz_scenario_loader: mkdtemp");
    std::abort();
  }
  g_fragment_dir = templ;
  std::atexit([] { rmdir(g_fragment_dir.c_str()); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  long long lines = 1;
  for (char c : text) lines += c == '\n';

  const std::string strict = Load(text, false, lines);
  FUZZ_CHECK(Load(text, false, lines) == strict, "loading the same text twice gives the same");
  const std::string lenient = Load(text, true, lines);
  if (strict.rfind("ok ", 0) == 0) {
    FUZZ_CHECK(lenient == strict, "allow_unknown_variables loads what strict loads, the same");
  }
  return 0;
}
