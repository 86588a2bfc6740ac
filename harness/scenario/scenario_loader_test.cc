#include "harness/scenario/scenario_loader.h"

#include <fstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "harness/scenario/profile.h"
#include "harness/scenario/test_util.h"
#include "results/absl_compat.h"

namespace smtp::scenario {
namespace {

using testing::InTestdata;

class LoaderTest : public InTestdata {};

template <typename T>
const T& As(const Step& step) {
  const T* p = std::get_if<T>(&step.action);
  EXPECT_NE(p, nullptr) << step.origin.label << " is " << StepTypeName(step.action);
  static const T kEmpty{};
  return p != nullptr ? *p : kEmpty;
}

std::string Msg(const absl::Status& st) { return Message(st); }

std::string Expanded(const Template& t) {
  Variables vars;
  for (const std::string& name : ProfileVariableNames()) vars.Set(name, "<" + name + ">");
  vars.Set("max_size", "<max_size>");
  auto s = t.Expand(vars);
  return s.ok() ? *s : std::string(Msg(s.status()));
}

TEST_F(LoaderTest, EveryStepType) {
  auto sc = LoadScenarioFile("good/every_step.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(sc->id, "every-step");
  EXPECT_EQ(sc->title, "Uses every step type once");
  EXPECT_EQ(sc->rfc.document, "RFC 5321");
  EXPECT_EQ(sc->rfc.section, "4.1.1.1");
  EXPECT_EQ(sc->rfc.url, "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.1");
  EXPECT_EQ(sc->level, Level::kShould);
  EXPECT_EQ(sc->tags, (std::vector<std::string>{"ehlo", "smoke"}));
  EXPECT_EQ(sc->requires_extensions, (std::vector<std::string>{"PIPELINING", "CHUNKING"}));
  EXPECT_EQ(sc->timeout_ms, 30000);
  EXPECT_EQ(sc->file, "good/every_step.json");
  ASSERT_EQ(sc->steps.size(), 19u);

  const auto& s = sc->steps;
  EXPECT_EQ(As<ConnectStep>(s[0]).tls, TlsMode::kNone);
  EXPECT_EQ(s[0].origin.file, "good/every_step.json");
  EXPECT_EQ(s[0].origin.line, 12);
  EXPECT_EQ(s[0].origin.column, 5);
  EXPECT_EQ(s[0].origin.label, "step 1");

  const Expectation& greet = As<ExpectStep>(s[1]).expect;
  EXPECT_EQ(greet.Describe(), "220, text /ESMTP/i");
  EXPECT_TRUE(greet.Match(220, std::vector<std::string>{"mx esmtp ready"}, "").matched);

  EXPECT_EQ(As<SendStep>(s[2]).line.source(), "EHLO ${client_domain}");
  EXPECT_EQ(s[2].timeout_ms, 5000);
  EXPECT_EQ(s[2].note, "hello");
  EXPECT_EQ(As<ExpectStep>(s[3]).expect.Describe(), "250 or 25x, text /^SIZE ([0-9]+)/");

  const CaptureStep& cap = As<CaptureStep>(s[4]);
  EXPECT_EQ(cap.regex.source(), "^SIZE ([0-9]+)");
  EXPECT_EQ(cap.group, 1);
  EXPECT_EQ(cap.into, "max_size");

  EXPECT_EQ(Expanded(As<SendRawStep>(s[5]).bytes),
            std::string("NOOP <max_size>\r\n\0\xff\t\\", 21));
  EXPECT_EQ(As<ExpectStep>(s[6]).expect.Describe(), "2xx");

  const PipelineStep& pipe = As<PipelineStep>(s[7]);
  ASSERT_EQ(pipe.send.size(), 2u);
  EXPECT_EQ(Expanded(pipe.send[1]), "RCPT TO:<<rcpt>>");
  ASSERT_EQ(pipe.expect.size(), 2u);
  EXPECT_EQ(pipe.expect[1].Describe(), "2xx, enhanced 2.1.x");

  const DataStep& data = As<DataStep>(s[8]);
  EXPECT_EQ(Expanded(data.body), "Subject: t\r\n\r\n.leading dot\r\n");
  EXPECT_EQ(data.accept.Describe(), "354");  // defaults
  EXPECT_EQ(data.expect.Describe(), "250");

  const DataRawStep& raw = As<DataRawStep>(s[9]);
  EXPECT_EQ(Expanded(raw.bytes), "x\r\n.\r\n");
  ASSERT_TRUE(raw.expect.has_value());
  EXPECT_EQ(raw.expect->Describe(), "250");

  const BdatStep& bdat = As<BdatStep>(s[10]);
  ASSERT_EQ(bdat.chunks.size(), 2u);
  EXPECT_EQ(Expanded(bdat.chunks[1]), "de\r\n");
  EXPECT_FALSE(bdat.last);
  EXPECT_EQ(bdat.chunk_expect.Describe(), "2xx");
  EXPECT_EQ(bdat.expect.Describe(), "250");

  EXPECT_EQ(As<StartTlsStep>(s[11]).expect.Describe(), "220");
  const AuthStep& auth = As<AuthStep>(s[12]);
  EXPECT_EQ(auth.mechanism, AuthMechanism::kCramMd5);
  EXPECT_EQ(Expanded(auth.password), "<password>");
  EXPECT_EQ(auth.expect.Describe(), "235 or 535");
  EXPECT_EQ(As<SleepStep>(s[13]).ms, 10);

  const RepeatStep& rep = As<RepeatStep>(s[14]);
  EXPECT_EQ(rep.times, 3);
  ASSERT_EQ(rep.steps.size(), 2u);
  EXPECT_EQ(rep.steps[1].origin.label, "step 15.2");
  EXPECT_EQ(As<ExpectSilenceStep>(s[15]).for_ms, 200);
  EXPECT_EQ(As<ExpectStep>(s[17]).expect.Describe(), "221, enhanced 2.0.0");
  EXPECT_EQ(As<ExpectCloseStep>(s[18]).within_ms, 1000);
  EXPECT_EQ(ExpandedStepCount(sc->steps), 18 + 6);
}

TEST_F(LoaderTest, DefaultsOfAMinimalScenario) {
  auto sc = LoadScenarioFile("good/minimal.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(sc->description, "");
  EXPECT_TRUE(sc->tags.empty());
  EXPECT_FALSE(sc->timeout_ms.has_value());
  EXPECT_FALSE(As<ConnectStep>(sc->steps[0]).tls.has_value());  // the profile decides
  EXPECT_FALSE(sc->steps[1].timeout_ms.has_value());
}

TEST_F(LoaderTest, IncludesAreInlinedWithTheirOrigin) {
  auto sc = LoadScenarioFile("good/includes.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  struct Row {
    std::string where, label, type;
  };
  const std::vector<Row> want{
      {"fragments/greet.json:4:5", "greet step 1", "connect"},
      {"fragments/greet.json:5:5", "greet step 2", "expect"},
      {"fragments/hello.json:3:5", "step 1 > hello step 1", "send"},
      {"fragments/hello.json:4:5", "step 1 > hello step 2", "expect"},
      {"fragments/noop.json:1:12", "step 1 > hello step 3 > noop step 1", "send"},
      {"fragments/noop.json:1:30", "step 1 > hello step 3 > noop step 2", "expect"},
      {"good/includes.json:9:5", "step 2", "repeat"},
  };
  ASSERT_EQ(sc->steps.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const StepOrigin& o = sc->steps[i].origin;
    EXPECT_EQ(o.file + ":" + std::to_string(o.line) + ":" + std::to_string(o.column),
              want[i].where);
    EXPECT_EQ(o.label, want[i].label);
    EXPECT_EQ(StepTypeName(sc->steps[i].action), want[i].type);
  }
  const RepeatStep& rep = As<RepeatStep>(sc->steps[6]);
  ASSERT_EQ(rep.steps.size(), 2u);
  EXPECT_EQ(rep.steps[0].origin.label, "step 2.1 > noop step 1");
}

TEST_F(LoaderTest, ExplicitFragmentDirs) {
  LoadOptions options;
  options.fragment_dirs = {"suite/fragments", "fragments"};
  auto sc = LoadScenarioFile("good/includes.json", options);
  ASSERT_TRUE(sc.ok()) << sc.status();
  // suite/fragments/greet.json shadows fragments/greet.json.
  EXPECT_EQ(sc->steps[0].origin.file, "suite/fragments/greet.json");
  EXPECT_EQ(sc->steps[2].origin.file, "fragments/hello.json");

  // Given directories come first; the nearest fragments/ still answers for
  // what they lack.
  options.fragment_dirs = {"suite/fragments"};
  auto both = LoadScenarioFile("good/includes.json", options);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->steps[0].origin.file, "suite/fragments/greet.json");
  EXPECT_EQ(both->steps[2].origin.file, "fragments/hello.json");

  // A scenario outside any tree with fragments/ finds them only through
  // fragment_dirs (regression: a suite kept outside the repository could not
  // include the shipped fragments).
  const std::string outside = ::testing::TempDir() + "/outside-suite.json";
  {
    std::ofstream f(outside);
    f << R"js({"id": "o", "title": "t", "rfc": {"document": "RFC 5321", "section": "3.3"},
      "level": "MUST", "include": "transaction-prologue", "steps": []})js";
  }
  auto lost = LoadScenarioFile(outside);
  EXPECT_NE(Msg(lost.status())
                .find("fragment 'transaction-prologue' not found (no 'fragments' "
                      "directory in or above the scenario's directory; give "
                      "--fragments DIR)"),
            std::string::npos)
      << Msg(lost.status());
  LoadOptions shipped;
  shipped.fragment_dirs = {testing::SourceDir() + "/scenarios/fragments"};
  EXPECT_TRUE(LoadScenarioFile(outside, shipped).ok());
  // The fallback (what run and list pass: the shipped fragments) is found
  // too, but only after the scenario's own fragments/.
  LoadOptions fallback;
  fallback.fallback_fragment_dirs = {testing::SourceDir() + "/scenarios/fragments"};
  EXPECT_TRUE(LoadScenarioFile(outside, fallback).ok());
  fallback.fallback_fragment_dirs = {"suite/fragments"};
  auto own_first = LoadScenarioFile("good/includes.json", fallback);
  ASSERT_TRUE(own_first.ok()) << own_first.status();
  EXPECT_EQ(own_first->steps[0].origin.file, "fragments/greet.json");
}

TEST_F(LoaderTest, RepositoryFragmentsLoad) {
  LoadOptions options;
  options.fragment_dirs = {testing::SourceDir() + "/scenarios/fragments"};
  auto sc = LoadScenarioText("prologue.json", R"js({
      "id": "p", "title": "t", "rfc": {"document": "RFC 5321", "section": "3.3"},
      "level": "MUST", "include": "transaction-prologue",
      "steps": [{"send": "DATA"}, {"expect": 354}]})js",
                             options);
  ASSERT_TRUE(sc.ok()) << sc.status();
  std::vector<std::string> sent;
  for (const Step& s : sc->steps) {
    if (const auto* send = std::get_if<SendStep>(&s.action)) sent.push_back(Expanded(send->line));
  }
  EXPECT_EQ(sent, (std::vector<std::string>{"EHLO <client_domain>", "MAIL FROM:<<sender>>",
                                            "RCPT TO:<<rcpt>>", "DATA"}));
  EXPECT_TRUE(std::holds_alternative<ConnectStep>(sc->steps[0].action));
}

TEST_F(LoaderTest, VariablesKnownToTheLoader) {
  const std::string text = R"js({"id": "v", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"},
    "steps": [{"connect": {}}, {"send": "VRFY ${rcpt2}"}]})js";
  auto unknown = LoadScenarioText("v.json", text);
  EXPECT_EQ(Msg(unknown.status()),
            "v.json:3:47: step 2 (send): unknown variable 'rcpt2' (neither a profile variable "
            "nor captured earlier; did you mean 'rcpt'?)");
  LoadOptions extra;
  extra.extra_variables = {"rcpt2"};
  EXPECT_TRUE(LoadScenarioText("v.json", text, extra).ok());
  LoadOptions lax;
  lax.allow_unknown_variables = true;
  EXPECT_TRUE(LoadScenarioText("v.json", text, lax).ok());
}

TEST_F(LoaderTest, MissingFile) {
  auto sc = LoadScenarioFile("good/nope.json");
  EXPECT_EQ(sc.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Msg(sc.status()), "good/nope.json: cannot open file");
}

// Every kind of load error, with its exact position. Each file is in
// testdata/bad/; the position is the offending key (unknown keys) or value.
struct BadCase {
  const char* file;
  const char* message;
};

constexpr BadCase kBadCases[] = {
    // JSON syntax (nlohmann's byte position, as line:col).
    {"syntax.json",
     "bad/syntax.json:2:15: syntax error while parsing object key - unexpected ','; expected "
     "string literal"},
    {"syntax_eof.json",
     "bad/syntax_eof.json:3:1: syntax error while parsing value - unexpected end of input; "
     "expected '[', '{', or a literal"},
    {"duplicate_key.json", "bad/duplicate_key.json:3:2: duplicate key 'id'"},
    // Scenario metadata.
    {"not_object.json", "bad/not_object.json:1:1: the scenario must be an object, got array"},
    {"unknown_top_key.json",
     "bad/unknown_top_key.json:1:13: unknown key 'tittle' (did you mean 'title'?)"},
    {"missing_key.json", "bad/missing_key.json:1:1: missing key 'level'"},
    {"bad_id.json",
     "bad/bad_id.json:1:8: bad id 'has space' (letters, digits, '.', '_', '-'; starting with a "
     "letter or digit; at most 128)"},
    {"bad_level.json",
     "bad/bad_level.json:2:11: 'level' must be one of MUST, SHOULD, MAY, policy, security, got "
     "'must'"},
    {"title_type.json", "bad/title_type.json:1:22: 'title' must be a string, got integer"},
    {"bad_tag.json",
     "bad/bad_tag.json:1:108: bad tag 'Not-Lower' (lower-case letters, digits, '.', '_', '-')"},
    {"delivery_count_zero_checks.json",
     "bad/delivery_count_zero_checks.json:2:49: step 2 (expect_delivery): checks on a delivery "
     "need \"count\" of at least 1"},
    {"delivery_bad_regex.json",
     "bad/delivery_bad_regex.json:2:58: step 2 (expect_delivery): bad regex: missing ]: "
     "[unclosed"},
    {"requires_conflict.json",
     "bad/requires_conflict.json:2:42: 'DSN' is both required and required absent"},
    {"bad_not_text.json",
     "bad/bad_not_text.json:2:66: step 2 (expect): bad regex: missing ): (unclosed"},
    {"if_offered_type.json",
     "bad/if_offered_type.json:2:57: step 2 (starttls): 'if_offered' must be true or false, got "
     "string"},
    {"inject_escape.json",
     "bad/inject_escape.json:2:58: step 2 (starttls): bad escape '\\q' (known: \\r \\n \\t \\\\ "
     "\\0 \\xHH)"},
    {"bad_requires.json",
     "bad/bad_requires.json:1:118: bad EHLO keyword '8BIT MIME' (RFC 5321 ehlo-keyword: "
     "letters, digits, '-')"},
    {"bad_url.json", "bad/bad_url.json:1:82: rfc: 'url' must start with https:// or http://"},
    {"rfc_unknown_key.json",
     "bad/rfc_unknown_key.json:1:59: rfc: unknown key 'sectoin' (did you mean 'section'?)"},
    {"empty_steps.json", "bad/empty_steps.json:2:11: a scenario needs at least one step"},
    {"first_not_connect.json",
     "bad/first_not_connect.json:3:3: step 1 (send): the first step must be 'connect'"},
    {"top_include_type.json",
     "bad/top_include_type.json:1:104: 'include' must be a fragment name or a list of them, "
     "got integer"},
    // Step structure.
    {"unknown_step_key.json",
     "bad/unknown_step_key.json:5:15: step 3 (expect): unknown key 'cod' (did you mean "
     "'code'?)"},
    {"unknown_step_type.json",
     "bad/unknown_step_type.json:4:4: step 2: unknown key 'sned' (did you mean 'send'?)"},
    {"no_step_type.json",
     "bad/no_step_type.json:4:3: step 2: no step type (one of connect, send, send_raw, expect, "
     "expect_close, expect_silence, pipeline, starttls, auth, data, data_raw, bdat, capture, "
     "sleep, repeat, include, expect_delivery, require)"},
    {"two_step_types.json",
     "bad/two_step_types.json:4:20: step 2: more than one step type ('send' and 'expect')"},
    {"step_not_object.json",
     "bad/step_not_object.json:4:3: step 2: a step must be an object, got string"},
    {"timeout_range.json",
     "bad/timeout_range.json:4:34: step 2 (send): 'timeout_ms' must be between 1 and 3600000, "
     "got 0"},
    {"sleep_type.json",
     "bad/sleep_type.json:4:20: step 2 (sleep): 'ms' must be an integer, got "
     "string"},
    {"times_float.json",
     "bad/times_float.json:4:24: step 2 (repeat): 'times' must be an integer, got number"},
    {"repeat_times.json",
     "bad/repeat_times.json:4:24: step 2 (repeat): 'times' must be between 1 and 10000, got "
     "20000"},
    {"repeat_explosion.json",
     "bad/repeat_explosion.json:2:11: the scenario runs 10000001 steps once repeats multiply "
     "out (at most 1000000)"},
    {"repeat_child_error.json",
     "bad/repeat_child_error.json:6:14: step 2.2 (send): 'send' must be a string, got integer"},
    {"pipeline_mismatch.json",
     "bad/pipeline_mismatch.json:5:27: step 2 (pipeline): the pipeline sends 2 command(s) but "
     "expects 1 reply(ies); every command gets exactly one reply"},
    {"bad_tls.json",
     "bad/bad_tls.json:4:23: step 2 (connect): 'tls' must be \"none\" or \"implicit\", got "
     "'starttls'"},
    {"bad_mechanism.json",
     "bad/bad_mechanism.json:4:26: step 2 (auth): 'mechanism' must be one of PLAIN, LOGIN, "
     "CRAM-MD5, XOAUTH2, got 'plain'"},
    {"auth_missing.json", "bad/auth_missing.json:4:12: step 2 (auth): missing key 'password'"},
    // Expectations.
    {"bad_code_pattern.json",
     "bad/bad_code_pattern.json:4:31: step 2 (expect): bad code pattern '2x' (three "
     "characters, each a digit or 'x', starting 2-5 or 'x')"},
    {"bad_code_number.json",
     "bad/bad_code_number.json:4:14: step 2 (expect): bad reply code 600 (200..599)"},
    {"bad_code_type.json",
     "bad/bad_code_type.json:4:14: step 2 (expect): 'expect' must be a reply code (250), a "
     "pattern (\"2xx\") or a list of them, got boolean"},
    {"empty_code_list.json",
     "bad/empty_code_list.json:4:14: step 2 (expect): 'expect' must not be empty"},
    {"bad_enhanced.json",
     "bad/bad_enhanced.json:4:40: step 2 (expect): bad enhanced code pattern '6.1.1' "
     "(class.subject.detail: class 2, 4, 5 or x; the others 1-3 digits or x)"},
    {"bad_regex.json", "bad/bad_regex.json:4:36: step 2 (expect): bad regex: missing ]: [a-z"},
    // RE2 syntax (linear time): no backreferences, no lookaround.
    {"regex_backreference.json",
     "bad/regex_backreference.json:4:36: step 2 (expect): bad regex: invalid escape sequence: "
     "\\1 (RE2 syntax: no backreferences or lookaround)"},
    {"regex_lookahead.json",
     "bad/regex_lookahead.json:5:25: step 3 (capture): bad regex: invalid perl operator: (?= "
     "(RE2 syntax: no backreferences or lookaround)"},
    // Escapes and templates: the column is that of the offending character
    // in the file, past JSON escapes ("\u00e9" is 6 columns, 2 bytes).
    {"bad_escape.json",
     "bad/bad_escape.json:4:25: step 2 (send_raw): bad escape '\\q' (known: \\r \\n \\t \\\\ "
     "\\0 \\xHH)"},
    {"bad_hex_escape.json",
     "bad/bad_hex_escape.json:4:19: step 2 (send_raw): bad escape '\\x': expected two hex "
     "digits"},
    {"trailing_backslash.json",
     "bad/trailing_backslash.json:4:34: step 2 (bdat): backslash at end of string (write \\\\ "
     "for a literal backslash)"},
    {"unknown_variable.json",
     "bad/unknown_variable.json:4:24: step 2 (send): unknown variable 'sendr' (neither a "
     "profile variable nor captured earlier; did you mean 'sender'?)"},
    {"bad_template.json",
     "bad/bad_template.json:4:22: step 2 (send): unterminated '${' (write $$ for a literal "
     "'$')"},
    {"send_crlf.json",
     "bad/send_crlf.json:4:17: step 2 (send): 'send' must not contain CR or LF (CRLF is "
     "appended; use send_raw for raw bytes)"},
    // Captures.
    {"capture_group.json",
     "bad/capture_group.json:5:49: step 3 (capture): 'group' is 2 but the regex has 1 "
     "group(s)"},
    {"capture_no_group.json",
     "bad/capture_no_group.json:5:25: step 3 (capture): the regex has no group to capture (add "
     "parentheses or set \"group\": 0)"},
    {"capture_shadow.json",
     "bad/capture_shadow.json:5:41: step 3 (capture): capture into 'user' would shadow a "
     "profile variable"},
    {"capture_from.json",
     "bad/capture_from.json:4:24: step 2 (capture): 'from' must be \"last_reply\", got "
     "'greeting'"},
    {"capture_order.json",
     "bad/capture_order.json:4:18: step 2 (send): unknown variable 'who' (neither a profile "
     "variable nor captured earlier)"},
    // Fragments: errors inside one point into the fragment file.
    {"include_missing.json",
     "bad/include_missing.json:4:15: step 2 (include): fragment 'nonexistent' not found in "
     "fragments (give --fragments DIR)"},
    {"include_bad_name.json",
     "bad/include_bad_name.json:4:15: step 2 (include): bad fragment name '../etc/passwd' "
     "(letters, digits, '.', '_', '-'; no directories)"},
    {"include_with_note.json",
     "bad/include_with_note.json:4:23: step 2 (include): 'note' does not apply to include"},
    {"include_cycle.json",
     "fragments/cycle-b.json:3:15: step 2 > cycle-a step 1 > cycle-b step 2 (include): include "
     "cycle: cycle-a -> cycle-b -> cycle-a; included from fragments/cycle-a.json:1:24, from "
     "bad/include_cycle.json:4:15"},
    {"include_broken.json",
     "fragments/broken.json:4:17: step 2 > broken step 2 (expect): unknown key 'cod' (did you "
     "mean 'code'?); included from bad/include_broken.json:4:15"},
    {"include_bad_syntax.json",
     "fragments/bad-syntax.json:2:20: syntax error while parsing value - unexpected ','; "
     "expected '[', '{', or a literal; included from bad/include_bad_syntax.json:4:15"},
    {"include_unknown_var.json",
     "fragments/uses-capture.json:1:27: step 2 > uses-capture step 1 (send): unknown variable "
     "'who' (neither a profile variable nor captured earlier); included from "
     "bad/include_unknown_var.json:4:15"},
};

TEST_F(LoaderTest, EveryErrorKindWithItsPosition) {
  std::size_t files_in_dir = 0;
  for (const auto& e : std::filesystem::directory_iterator("bad")) {
    files_in_dir += e.path().extension() == ".json";
  }
  EXPECT_EQ(files_in_dir, std::size(kBadCases)) << "every file in testdata/bad has a row";
  for (const BadCase& c : kBadCases) {
    const std::string path = std::string("bad/") + c.file;
    auto sc = LoadScenarioFile(path);
    ASSERT_FALSE(sc.ok()) << path;
    EXPECT_EQ(sc.status().code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(Msg(sc.status()), c.message) << path;
  }
}

TEST_F(LoaderTest, CaptureMakesAVariableKnownToLaterStepsOnly) {
  const char* text = R"js({"id": "c", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"},
    "steps": [{"connect": {}}, {"expect": 220},
              {"capture": {"regex": "^(\\S+)", "into": "server"}},
              {"send": "EHLO ${server}"},
              {"repeat": {"times": 2, "steps": [
                  {"capture": {"regex": "(.)", "into": "inner"}}]}},
              {"send": "NOOP ${inner}"}]})js";
  auto sc = LoadScenarioText("c.json", text);
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(As<SendStep>(sc->steps[3]).line.VariableNames(), std::vector<std::string>{"server"});
}

TEST_F(LoaderTest, TemplateDollarEscapes) {
  const char* text = R"js({"id": "d", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"},
    "steps": [{"connect": {}}, {"send": "A $$${user} $${x} $5"},
              {"send_raw": "\\x24{user}$${user}"}]})js";
  auto sc = LoadScenarioText("d.json", text);
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(Expanded(As<SendStep>(sc->steps[1]).line), "A $<user> ${x} $5");
  // A '$' made by an escape never starts a reference.
  EXPECT_EQ(Expanded(As<SendRawStep>(sc->steps[2]).bytes), "${user}${user}");
}

TEST_F(LoaderTest, FirstStepMayBeAConnectInsideALeadingRepeat) {
  const char* head = R"js({"id": "r", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"}, "steps": [)js";
  auto ok = LoadScenarioText(
      "r.json",
      std::string(head) +
          R"js({"repeat": {"times": 5, "steps": [{"connect": {}}, {"expect": 220}]}}]})js");
  EXPECT_TRUE(ok.ok()) << ok.status();
  auto bad = LoadScenarioText(
      "r.json",
      std::string(head) + R"js({"repeat": {"times": 5, "steps": [{"sleep": {"ms": 1}}]}}]})js");
  EXPECT_EQ(Msg(bad.status()), "r.json:2:98: step 1.1 (sleep): the first step must be 'connect'");
}

// expect_silence's allowed alternatives: or_reply is an expectation, or_note
// needs an alternative to describe.
TEST_F(LoaderTest, SilenceAlternatives) {
  const std::string head = R"js({"id": "s", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"}, "steps": [{"connect": {}}, )js";
  auto ok = LoadScenarioText(
      "s.json", head + R"js({"expect_silence": {"for_ms": 5, "or_reply": ["4xx", "5xx"],
      "or_close": true, "or_note": "Refused: fine."}}]})js");
  ASSERT_TRUE(ok.ok()) << ok.status();
  const ExpectSilenceStep& silence = As<ExpectSilenceStep>(ok->steps[1]);
  EXPECT_TRUE(silence.or_close);
  ASSERT_TRUE(silence.or_reply.has_value());
  EXPECT_EQ(silence.or_reply->Describe(), "4xx or 5xx");
  EXPECT_EQ(silence.or_note, "Refused: fine.");

  auto lone = LoadScenarioText("s.json",
                               head + R"js({"expect_silence": {"for_ms": 5, "or_note": "x"}}]})js");
  EXPECT_EQ(Msg(lone.status()),
            "s.json:2:125: step 2 (expect_silence): or_note without an alternative (or_close or "
            "or_reply)");
  auto bad = LoadScenarioText(
      "s.json", head + R"js({"expect_silence": {"for_ms": 5, "or_reply": "2x"}}]})js");
  EXPECT_FALSE(bad.ok());
}

// expect's "inconclusive": an expectation and a reason, on expect only.
TEST_F(LoaderTest, ExpectInconclusive) {
  const std::string head = R"js({"id": "s", "title": "t", "level": "MUST",
    "rfc": {"document": "RFC 5321", "section": "3"}, "steps": [{"connect": {}}, )js";
  auto ok = LoadScenarioText(
      "s.json", head + R"js({"expect": 252, "inconclusive": {"on": "4xx", "because": "why"}}]})js");
  ASSERT_TRUE(ok.ok()) << ok.status();
  const ExpectStep& e = As<ExpectStep>(ok->steps[1]);
  ASSERT_TRUE(e.inconclusive.has_value());
  EXPECT_EQ(e.inconclusive->Describe(), "4xx");
  EXPECT_EQ(e.because, "why");
  EXPECT_FALSE(
      As<ExpectStep>(LoadScenarioText("s.json", head + R"js({"expect": 252}]})js")->steps[1])
          .inconclusive.has_value());

  auto not_expect = LoadScenarioText(
      "s.json", head + R"js({"send": "X", "inconclusive": {"on": "4xx", "because": "w"}}]})js");
  EXPECT_NE(Msg(not_expect.status()).find("'inconclusive' applies to expect only"),
            std::string::npos)
      << Msg(not_expect.status());
  auto no_because =
      LoadScenarioText("s.json", head + R"js({"expect": 252, "inconclusive": {"on": "4xx"}}]})js");
  EXPECT_FALSE(no_because.ok());
  auto empty_because = LoadScenarioText(
      "s.json", head + R"js({"expect": 252, "inconclusive": {"on": "4xx", "because": ""}}]})js");
  EXPECT_FALSE(empty_because.ok());
  auto bad_key = LoadScenarioText(
      "s.json",
      head + R"js({"expect": 252, "inconclusive": {"on": "4xx", "because": "w", "x": 1}}]})js");
  EXPECT_FALSE(bad_key.ok());
}

TEST_F(LoaderTest, ConditionalKeys) {
  auto sc = LoadScenarioFile("good/conditions.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(sc->requires_extensions, (std::vector<std::string>{"STARTTLS"}));
  EXPECT_EQ(sc->requires_absent, (std::vector<std::string>{"AUTH", "DSN"}));
  EXPECT_TRUE(sc->requires_plaintext);
  const auto& s = sc->steps;
  ASSERT_EQ(s.size(), 7u);
  const Expectation& ehlo = As<ExpectStep>(s[3]).expect;
  EXPECT_EQ(ehlo.Describe(), "250, no text /^auth/i");
  EXPECT_TRUE(ehlo.Match(250, std::vector<std::string>{"mx", "SIZE 10"}, "").matched);
  const MatchResult hit = ehlo.Match(250, std::vector<std::string>{"mx", "AUTH PLAIN"}, "");
  EXPECT_FALSE(hit.matched);
  EXPECT_EQ(hit.description,
            "expected no line matching /^auth/i, got line 2 of 250 \"mx | AUTH PLAIN\"");
  EXPECT_TRUE(As<StartTlsStep>(s[4]).if_offered);
  EXPECT_EQ(Expanded(As<StartTlsStep>(s[4]).inject), "");
  const StartTlsStep& inject = As<StartTlsStep>(s[5]);
  EXPECT_FALSE(inject.if_offered);
  EXPECT_EQ(Expanded(inject.inject), "NOOP <rcpt>\r\n");
  EXPECT_EQ(inject.expect.Describe(), "220 or 454");
  EXPECT_TRUE(As<ExpectSilenceStep>(s[6]).or_close);
}

// SkipReason: which scenarios apply to a target, by the keywords of the
// phases each scenario reaches.
TEST(SkipReason, ByPhaseKeywordsAndTransport) {
  auto make = [](std::vector<std::string> req, std::vector<std::string> absent, bool starttls,
                 bool plaintext) {
    Scenario sc;
    sc.requires_extensions = std::move(req);
    sc.requires_absent = std::move(absent);
    sc.requires_plaintext = plaintext;
    sc.steps.push_back(Step{ConnectStep{}, {}, {}, {}});
    if (starttls) {
      RepeatStep r;
      r.steps.push_back(Step{StartTlsStep{}, {}, {}, {}});
      sc.steps.push_back(Step{std::move(r), {}, {}, {}});
    }
    return sc;
  };
  // Offers STARTTLS in plaintext and AUTH only after it.
  const TargetFacts tls_auth{{"STARTTLS", "Pipelining", "DSN"}, {"AUTH", "PIPELINING"}, false};
  const TargetFacts implicit{{"AUTH"}, {}, true};
  struct Case {
    const char* name;
    Scenario sc;
    TargetFacts target;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"plaintext scenario, keyword only after TLS", make({"AUTH"}, {}, false, false), tls_auth,
       "server does not advertise AUTH"},
      {"starttls scenario sees the TLS phase", make({"AUTH"}, {}, true, false), tls_auth,
       std::nullopt},
      {"starttls scenario still needs STARTTLS itself", make({"STARTTLS", "AUTH"}, {}, true, false),
       tls_auth, std::nullopt},
      {"case-insensitive, several missing",
       make({"STARTTLS", "CHUNKING", "SIZE"}, {}, false, false), tls_auth,
       "server does not advertise CHUNKING, SIZE"},
      {"no TLS phase learnt: plain keywords only", make({"AUTH"}, {}, true, false),
       TargetFacts{{"STARTTLS"}, {}, false}, "server does not advertise AUTH"},
      {"absent keyword advertised", make({}, {"DSN"}, false, false), tls_auth,
       "server advertises DSN"},
      {"absent keyword checked in the last phase", make({}, {"DSN"}, true, false), tls_auth,
       std::nullopt},
      {"absent keyword not advertised", make({}, {"CHUNKING"}, false, false), tls_auth,
       std::nullopt},
      {"plaintext scenario on implicit TLS", make({}, {}, false, true), implicit,
       "scenario needs a plaintext connection; the target uses implicit TLS"},
      {"plaintext scenario on a plaintext target", make({}, {}, false, true), tls_auth,
       std::nullopt},
      {"nothing required", make({}, {}, false, false), TargetFacts{}, std::nullopt},
      {"no probe: keywords unknown, not checked", make({"AUTH"}, {"DSN"}, false, false),
       TargetFacts{{}, {}, false, false, /*keywords_known=*/false}, std::nullopt},
      {"no probe: still plaintext-only", make({"AUTH"}, {}, false, true),
       TargetFacts{{}, {}, true, false, /*keywords_known=*/false},
       "scenario needs a plaintext connection; the target uses implicit TLS"},
  };
  for (const Case& c : cases) EXPECT_EQ(SkipReason(c.sc, c.target), c.want) << c.name;
  // LMTP scenarios run against LMTP targets only, and only they do.
  Scenario lmtp_scenario = make({}, {}, false, false);
  lmtp_scenario.tags = {"lmtp"};
  TargetFacts lmtp_target;
  lmtp_target.lmtp = true;
  EXPECT_EQ(SkipReason(lmtp_scenario, TargetFacts{}),
            "LMTP scenario; the target speaks SMTP (give lmtp:HOST:PORT to test an LMTP server)");
  EXPECT_EQ(SkipReason(lmtp_scenario, lmtp_target), std::nullopt);
  EXPECT_EQ(SkipReason(make({}, {}, false, false), lmtp_target),
            "SMTP scenario; the target speaks LMTP");
  EXPECT_TRUE(UsesTls(make({}, {}, true, false)));
  EXPECT_FALSE(UsesTls(make({}, {}, false, false)));
  Scenario implicit_connect;
  implicit_connect.steps.push_back(Step{ConnectStep{TlsMode::kImplicit}, {}, {}, {}});
  EXPECT_TRUE(UsesTls(implicit_connect));
}

TEST_F(LoaderTest, ExpectDelivery) {
  auto sc = LoadScenarioFile("good/delivery.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  ASSERT_EQ(sc->steps.size(), 4u);
  EXPECT_TRUE(UsesDeliveries(*sc));
  EXPECT_EQ(As<ExpectDeliveryStep>(sc->steps[1]).count, 0);
  const ExpectDeliveryStep& d = As<ExpectDeliveryStep>(sc->steps[2]);
  EXPECT_EQ(d.count, 1);  // default
  ASSERT_TRUE(d.first_line && d.line && d.not_line && d.mail_from && d.rcpt && d.contains);
  EXPECT_EQ(d.first_line->source(), "^Received: ");
  EXPECT_EQ(d.not_line->source(), "^\\.\\.");
  EXPECT_EQ(Expanded(*d.contains), "caf\xc3\xa9 <rcpt>");
  EXPECT_EQ(d.rcpt_count, 3);
  EXPECT_EQ(StepTypeName(sc->steps[2].action), "expect_delivery");
  EXPECT_EQ(ReferencedVariables(*sc), (std::vector<std::string>{"rcpt"}));
  auto minimal = LoadScenarioFile("good/minimal.json");
  ASSERT_TRUE(minimal.ok());
  EXPECT_FALSE(UsesDeliveries(*minimal));
  EXPECT_EQ(SkipReason(*sc, TargetFacts{}),
            "target offers no deliveries to check (expect_delivery: the embedded server does)");
  TargetFacts with;
  with.deliveries = true;
  EXPECT_EQ(SkipReason(*sc, with), std::nullopt);
}

TEST_F(LoaderTest, ReferencedAndEmptyVariables) {
  auto sc = LoadScenarioFile("good/every_step.json");
  ASSERT_TRUE(sc.ok()) << sc.status();
  EXPECT_EQ(ReferencedVariables(*sc),
            (std::vector<std::string>{"client_domain", "max_size", "password", "rcpt", "sender",
                                      "user"}));
  TargetProfile profile;  // no credentials
  const Variables without = profile.ToVariables();
  EXPECT_EQ(EmptyVariable(*sc, without),
            "profile variable 'password' is empty (the scenario uses ${password})");
  profile.user = "alice";
  profile.password = "pw";
  EXPECT_EQ(EmptyVariable(*sc, profile.ToVariables()), std::nullopt);
  auto minimal = LoadScenarioFile("good/minimal.json");
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(EmptyVariable(*minimal, without), std::nullopt);
}

TEST(Names, RoundTrip) {
  for (Level l : {Level::kMust, Level::kShould, Level::kMay, Level::kPolicy, Level::kSecurity}) {
    EXPECT_EQ(ParseLevel(LevelName(l)), l);
  }
  for (AuthMechanism m : {AuthMechanism::kPlain, AuthMechanism::kLogin, AuthMechanism::kCramMd5,
                          AuthMechanism::kXoauth2}) {
    EXPECT_EQ(ParseAuthMechanism(AuthMechanismName(m)), m);
  }
  EXPECT_EQ(ParseLevel("must"), std::nullopt);
  EXPECT_EQ(ParseTlsMode("starttls"), std::nullopt);
}

}  // namespace
}  // namespace smtp::scenario
