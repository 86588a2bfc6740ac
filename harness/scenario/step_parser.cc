// The step types of the scenario language: one parse routine per JSON step
// key. See docs/scenarios.md for the language and scenario.h for the model.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "harness/scenario/keys.h"
#include "harness/scenario/loader_internal.h"
#include "harness/scenario/strings_internal.h"

namespace smtp::scenario::internal {
namespace {

std::string JoinKeys(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

bool Contains(std::span<const std::string_view> keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

absl::Status Loader::ParseSteps(const Node& n, const std::string& prefix, std::vector<Step>* out) {
  if (!n.v->is_array()) {
    return ErrValue(n, "", absl::StrCat(n.name, " must be an array, got ", AV(TypeName(*n.v))));
  }
  for (std::size_t i = 0; i < n.v->size(); ++i) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ParseStep(n.Element(i), absl::StrCat(prefix, i + 1), out));
  }
  return absl::OkStatus();
}

absl::Status Loader::ParseStep(const Node& n, const std::string& label, std::vector<Step>* out) {
  if (!n.v->is_object()) {
    return ErrValue(n, label, absl::StrCat("a step must be an object, got ", AV(TypeName(*n.v))));
  }
  const std::vector<std::string> keys = n.KeysInOrder();
  std::string type;
  for (const std::string& key : keys) {
    if (!Contains(StepTypeKeys(), key)) continue;
    if (!type.empty()) {
      return ErrKey(*n.Find(key), label,
                    absl::StrCat("more than one step type ('", type, "' and '", key, "')"));
    }
    type = key;
  }
  const std::string ctx = type.empty() ? label : absl::StrCat(label, " (", type, ")");
  for (const std::string& key : keys) {
    if (Contains(KeysOf("step"), key)) continue;
    std::string msg = absl::StrCat("unknown key '", key, "'");
    if (std::string_view s = Suggest(key, KeysOf("step")); !s.empty()) {
      absl::StrAppend(&msg, " (did you mean '", AV(s), "'?)");
    }
    return ErrKey(*n.Find(key), ctx, msg);
  }
  if (type.empty()) {
    return ErrValue(n, label, absl::StrCat("no step type (one of ", JoinKeys(StepTypeKeys()), ")"));
  }
  const Node v = *n.Find(type);
  if (type == "include") {
    for (std::string_view common : CommonStepKeys()) {
      if (auto c = n.Find(common)) {
        return ErrKey(*c, ctx, absl::StrCat("'", AV(common), "' does not apply to include"));
      }
    }
    return IncludeFragment(v, ctx, absl::StrCat(label, " > "), out);
  }
  Step step;
  const TextPosition pos = n.src->ValuePosition(n.ptr);
  step.origin = {n.src->path(), pos.line, pos.column, label};
  if (auto t = n.Find("timeout_ms")) {
    int ms = 0;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*t, ctx, 1, kMaxTimeoutMs, &ms));
    step.timeout_ms = ms;
  }
  if (auto note = n.Find("note")) SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*note, ctx, &step.note));
  SMTP_SCENARIO_RETURN_IF_ERROR(ParseAction(v, type, ctx, label, &step));
  out->push_back(std::move(step));
  return absl::OkStatus();
}

absl::Status Loader::ParseAction(const Node& v, std::string_view type, const std::string& ctx,
                                 const std::string& label, Step* step) {
  if (type == "connect") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "connect", {}));
    ConnectStep s;
    if (auto tls = v.Find("tls")) {
      std::string mode;
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*tls, ctx, &mode));
      s.tls = ParseTlsMode(mode);
      if (!s.tls) {
        return ErrValue(*tls, ctx,
                        absl::StrCat("'tls' must be \"none\" or \"implicit\", got '", mode, "'"));
      }
    }
    step->action = s;
  } else if (type == "send") {
    SendStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(v, ctx, /*raw=*/false, /*line=*/true, &s.line));
    step->action = std::move(s);
  } else if (type == "send_raw") {
    SendRawStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(v, ctx, /*raw=*/true, /*line=*/false, &s.bytes));
    step->action = std::move(s);
  } else if (type == "expect") {
    ExpectStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(v, ctx, &s.expect));
    step->action = std::move(s);
  } else if (type == "expect_close") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "expect_close", {}));
    ExpectCloseStep s;
    if (auto w = v.Find("within_ms")) {
      int ms = 0;
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*w, ctx, 1, kMaxTimeoutMs, &ms));
      s.within_ms = ms;
    }
    step->action = s;
  } else if (type == "expect_silence") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "expect_silence", {"for_ms"}));
    ExpectSilenceStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*v.Find("for_ms"), ctx, 1, kMaxTimeoutMs, &s.for_ms));
    if (auto c = v.Find("or_close")) SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*c, ctx, &s.or_close));
    step->action = s;
  } else if (type == "pipeline") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "pipeline", {"send", "expect"}));
    const Node send = *v.Find("send");
    const Node expect = *v.Find("expect");
    PipelineStep s;
    for (const Node* arr : {&send, &expect}) {
      if (!arr->v->is_array() || arr->v->empty()) {
        return ErrValue(*arr, ctx, absl::StrCat(arr->name, " must be a non-empty array"));
      }
    }
    if (send.v->size() > kMaxPipelineCommands) {
      return ErrValue(send, ctx, absl::StrCat("more than ", kMaxPipelineCommands, " commands"));
    }
    for (std::size_t i = 0; i < send.v->size(); ++i) {
      s.send.emplace_back();
      SMTP_SCENARIO_RETURN_IF_ERROR(
          ReadTemplate(send.Element(i), ctx, false, true, &s.send.back()));
    }
    if (expect.v->size() != send.v->size()) {
      return ErrValue(
          expect, ctx,
          absl::StrCat("the pipeline sends ", send.v->size(), " command(s) but ", "expects ",
                       expect.v->size(), " reply(ies); every command gets exactly one reply"));
    }
    for (std::size_t i = 0; i < expect.v->size(); ++i) {
      s.expect.emplace_back();
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(expect.Element(i), ctx, &s.expect.back()));
    }
    step->action = std::move(s);
  } else if (type == "starttls") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "starttls", {}));
    StartTlsStep s;
    s.expect = ExpectCode(220);
    if (auto e = v.Find("expect"))
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, ctx, &s.expect));
    if (auto i = v.Find("inject")) {
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*i, ctx, /*raw=*/true, /*line=*/false, &s.inject));
    }
    if (auto o = v.Find("if_offered")) {
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*o, ctx, &s.if_offered));
    }
    step->action = std::move(s);
  } else if (type == "auth") {
    SMTP_SCENARIO_RETURN_IF_ERROR(
        CheckObject(v, ctx, "auth", {"mechanism", "username", "password"}));
    AuthStep s;
    const Node mech = *v.Find("mechanism");
    std::string name;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(mech, ctx, &name));
    auto m = ParseAuthMechanism(name);
    if (!m) {
      return ErrValue(mech, ctx,
                      absl::StrCat("'mechanism' must be one of PLAIN, LOGIN, CRAM-MD5, XOAUTH2, "
                                   "got '",
                                   name, "'"));
    }
    s.mechanism = *m;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("username"), ctx, false, true, &s.username));
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("password"), ctx, false, true, &s.password));
    s.expect = ExpectCode(235);
    if (auto e = v.Find("expect"))
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, ctx, &s.expect));
    step->action = std::move(s);
  } else if (type == "data") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "data", {"body"}));
    DataStep s{{}, ExpectCode(354), ExpectCode(250), std::nullopt, 0};
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("body"), ctx, false, false, &s.body));
    if (auto p = v.Find("pad_to")) {
      s.pad_to.emplace();
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*p, ctx, false, true, &*s.pad_to));
    }
    if (auto p = v.Find("pad_extra")) {
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*p, ctx, 0, kMaxPadExtra, &s.pad_extra));
    }
    if (auto a = v.Find("accept"))
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*a, ctx, &s.accept));
    if (auto e = v.Find("expect"))
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, ctx, &s.expect));
    step->action = std::move(s);
  } else if (type == "data_raw") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "data_raw", {"bytes"}));
    DataRawStep s{{}, ExpectCode(354), std::nullopt};
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("bytes"), ctx, true, false, &s.bytes));
    if (auto a = v.Find("accept"))
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*a, ctx, &s.accept));
    if (auto e = v.Find("expect")) {
      s.expect.emplace();
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, ctx, &*s.expect));
    }
    step->action = std::move(s);
  } else if (type == "bdat") {
    BdatStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ParseBdat(v, ctx, &s));
    step->action = std::move(s);
  } else if (type == "capture") {
    CaptureStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ParseCapture(v, ctx, &s));
    step->action = std::move(s);
  } else if (type == "sleep") {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "sleep", {"ms"}));
    SleepStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*v.Find("ms"), ctx, 0, kMaxTimeoutMs, &s.ms));
    step->action = s;
  } else if (type == "repeat") {
    RepeatStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ParseRepeat(v, ctx, label, &s));
    step->action = std::move(s);
  } else if (type == "require") {
    RequireStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(v, ctx, &s.expect));
    step->action = std::move(s);
  } else if (type == "expect_delivery") {
    ExpectDeliveryStep s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ParseExpectDelivery(v, ctx, &s));
    step->action = std::move(s);
  }
  return absl::OkStatus();
}

absl::Status Loader::ParseBdat(const Node& v, const std::string& ctx, BdatStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "bdat", {"chunks"}));
  const Node chunks = *v.Find("chunks");
  if (!chunks.v->is_array() || chunks.v->empty()) {
    return ErrValue(chunks, ctx, "'chunks' must be a non-empty array");
  }
  for (std::size_t i = 0; i < chunks.v->size(); ++i) {
    out->chunks.emplace_back();
    SMTP_SCENARIO_RETURN_IF_ERROR(
        ReadTemplate(chunks.Element(i), ctx, /*raw=*/true, /*line=*/false, &out->chunks.back()));
  }
  if (auto last = v.Find("last")) SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*last, ctx, &out->last));
  out->chunk_expect = ExpectCode(250);
  out->expect = ExpectCode(250);
  if (auto c = v.Find("chunk_expect")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*c, ctx, &out->chunk_expect));
  }
  if (auto e = v.Find("expect"))
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, ctx, &out->expect));
  return absl::OkStatus();
}

absl::Status Loader::ParseCapture(const Node& v, const std::string& ctx, CaptureStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "capture", {"regex", "into"}));
  if (auto from = v.Find("from")) {
    std::string s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*from, ctx, &s));
    if (s != "last_reply") {
      return ErrValue(*from, ctx, absl::StrCat("'from' must be \"last_reply\", got '", s, "'"));
    }
  }
  const Node regex = *v.Find("regex");
  std::string source, why;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(regex, ctx, &source));
  auto re = Regex::Compile(source, /*ignore_case=*/false, &why);
  if (!re) return ErrValue(regex, ctx, why);
  out->regex = *std::move(re);
  const int groups = out->regex.groups();
  if (auto g = v.Find("group")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*g, ctx, 0, 99, &out->group));
    if (out->group > groups) {
      return ErrValue(
          *g, ctx,
          absl::StrCat("'group' is ", out->group, " but the regex has ", groups, " group(s)"));
    }
  } else if (groups < 1) {
    return ErrValue(regex, ctx,
                    "the regex has no group to capture (add parentheses or set \"group\": 0)");
  }
  const Node into = *v.Find("into");
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(into, ctx, &out->into));
  if (!IsValidVariableName(out->into)) {
    return ErrValue(into, ctx,
                    absl::StrCat("bad variable name '", out->into,
                                 "' (letters, digits and '_', not starting with a digit)"));
  }
  if (profile_vars_.count(out->into) != 0) {
    return ErrValue(into, ctx,
                    absl::StrCat("capture into '", out->into, "' would shadow a profile variable"));
  }
  known_vars_.insert(out->into);
  return absl::OkStatus();
}

absl::Status Loader::ParseExpectDelivery(const Node& v, const std::string& ctx,
                                         ExpectDeliveryStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "expect_delivery", {}));
  if (auto c = v.Find("count")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*c, ctx, 0, kMaxDeliveryCount, &out->count));
  }
  if (auto c = v.Find("rcpt_count")) {
    int n = 0;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*c, ctx, 0, kMaxRepeatTimes, &n));
    out->rcpt_count = n;
  }
  for (auto [key, into] :
       {std::pair{"first_line", &out->first_line}, std::pair{"line", &out->line},
        std::pair{"not_line", &out->not_line}, std::pair{"mail_from", &out->mail_from},
        std::pair{"rcpt", &out->rcpt}}) {
    auto n = v.Find(key);
    if (!n) continue;
    std::string source, why;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*n, ctx, &source));
    *into = Regex::Compile(source, /*ignore_case=*/false, &why);
    if (!*into) return ErrValue(*n, ctx, why);
  }
  if (auto c = v.Find("contains")) {
    out->contains.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(
        ReadTemplate(*c, ctx, /*raw=*/true, /*line=*/false, &*out->contains));
  }
  if (out->count == 0 && (out->first_line || out->line || out->not_line || out->contains ||
                          out->mail_from || out->rcpt || out->rcpt_count)) {
    return ErrValue(v, ctx, "checks on a delivery need \"count\" of at least 1");
  }
  return absl::OkStatus();
}

absl::Status Loader::ParseRepeat(const Node& v, const std::string& ctx, const std::string& label,
                                 RepeatStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, "repeat", {"times", "steps"}));
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*v.Find("times"), ctx, 1, kMaxRepeatTimes, &out->times));
  const Node steps = *v.Find("steps");
  if (!steps.v->is_array() || steps.v->empty()) {
    return ErrValue(steps, ctx, "'steps' must be a non-empty array");
  }
  return ParseSteps(steps, absl::StrCat(label, "."), &out->steps);
}

}  // namespace smtp::scenario::internal
