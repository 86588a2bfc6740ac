// The step types of the scenario language: one table (kStepTypes, at the
// end) with a row per JSON step key, and one Loader::Parse specialization per
// step type. A new step type is a StepAction alternative (scenario.h), a
// Parse<> specialization and a row. See docs/scenarios.md for the language.
#include <span>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/scenario/keys.h"
#include "harness/scenario/loader_internal.h"
#include "harness/scenario/strings_internal.h"

namespace smtp::scenario::internal {

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
  const StepType* type = nullptr;
  for (const std::string& key : n.KeysInOrder()) {
    const StepType* t = FindStepType(key);
    if (t == nullptr) continue;
    if (type != nullptr) {
      return ErrKey(
          *n.Find(key), label,
          absl::StrCat("more than one step type ('", AV(type->name), "' and '", key, "')"));
    }
    type = t;
  }
  const std::string ctx = type == nullptr ? label : absl::StrCat(label, " (", AV(type->name), ")");
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckKeys(n, ctx, KeysOf("step")));
  if (type == nullptr) {
    return ErrValue(n, label,
                    absl::StrCat("no step type (one of ",
                                 absl::StrJoin(StepTypeKeys(), ", ",
                                               [](std::string* out, std::string_view k) {
                                                 absl::StrAppend(out, AV(k));
                                               }),
                                 ")"));
  }
  const Node v = *n.Find(type->name);
  if (type->parse == nullptr) {  // include
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
  if (!type->keys.empty()) {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(v, ctx, type->keys, type->required));
  }
  SMTP_SCENARIO_RETURN_IF_ERROR(type->parse(*this, v, StepSite{label, ctx}, &step.action));
  if (auto inc = n.Find("inconclusive")) {
    auto* expect = std::get_if<ExpectStep>(&step.action);
    if (expect == nullptr) return ErrKey(*inc, ctx, "'inconclusive' applies to expect only");
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(*inc, ctx, "inconclusive", {"on", "because"}));
    expect->inconclusive.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*inc->Find("on"), ctx, &*expect->inconclusive));
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*inc->Find("because"), ctx, &expect->because));
    if (expect->because.empty()) {
      return ErrValue(*inc->Find("because"), ctx,
                      "'because' must say why such a reply decides nothing");
    }
  }
  if (auto m = n.Find("or_malformed")) {
    auto* expect = std::get_if<ExpectStep>(&step.action);
    if (expect == nullptr) return ErrKey(*m, ctx, "'or_malformed' applies to expect only");
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*m, ctx, &expect->or_malformed));
    if (expect->or_malformed.empty()) {
      return ErrValue(*m, ctx, "'or_malformed' must say why a malformed reply is not the finding");
    }
  }
  out->push_back(std::move(step));
  return absl::OkStatus();
}

// --- the step types, in the table's order ---------------------------------------

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, ConnectStep* out) {
  if (auto tls = v.Find("tls")) {
    std::string mode;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*tls, at.ctx, &mode));
    out->tls = ParseTlsMode(mode);
    if (!out->tls) {
      return ErrValue(*tls, at.ctx,
                      absl::StrCat("'tls' must be \"none\" or \"implicit\", got '", mode, "'"));
    }
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, SendStep* out) {
  return ReadTemplate(v, at.ctx, /*raw=*/false, /*line=*/true, &out->line);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, SendRawStep* out) {
  return ReadTemplate(v, at.ctx, /*raw=*/true, /*line=*/false, &out->bytes);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, ExpectStep* out) {
  return ReadExpectation(v, at.ctx, &out->expect);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, ExpectCloseStep* out) {
  if (auto w = v.Find("within_ms")) {
    int ms = 0;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*w, at.ctx, 1, kMaxTimeoutMs, &ms));
    out->within_ms = ms;
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, ExpectSilenceStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*v.Find("for_ms"), at.ctx, 1, kMaxTimeoutMs, &out->for_ms));
  if (auto c = v.Find("or_close"))
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*c, at.ctx, &out->or_close));
  if (auto r = v.Find("or_reply")) {
    out->or_reply.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*r, at.ctx, &*out->or_reply));
  }
  if (auto n = v.Find("or_note")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*n, at.ctx, &out->or_note));
    if (!out->or_close && !out->or_reply) {
      return ErrValue(*n, at.ctx, "or_note without an alternative (or_close or or_reply)");
    }
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, PipelineStep* out) {
  const Node send = *v.Find("send");
  const Node expect = *v.Find("expect");
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckNonEmptyArray(send, at.ctx));
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckNonEmptyArray(expect, at.ctx));
  if (send.v->size() > kMaxPipelineCommands) {
    return ErrValue(send, at.ctx, absl::StrCat("more than ", kMaxPipelineCommands, " commands"));
  }
  for (std::size_t i = 0; i < send.v->size(); ++i) {
    out->send.emplace_back();
    SMTP_SCENARIO_RETURN_IF_ERROR(
        ReadTemplate(send.Element(i), at.ctx, false, true, &out->send.back()));
  }
  if (expect.v->size() != send.v->size()) {
    return ErrValue(
        expect, at.ctx,
        absl::StrCat("the pipeline sends ", send.v->size(), " command(s) but ", "expects ",
                     expect.v->size(), " reply(ies); every command gets exactly one reply"));
  }
  for (std::size_t i = 0; i < expect.v->size(); ++i) {
    out->expect.emplace_back();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(expect.Element(i), at.ctx, &out->expect.back()));
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, StartTlsStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectationOr(v, "expect", 220, at.ctx, &out->expect));
  if (auto i = v.Find("inject")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(
        ReadTemplate(*i, at.ctx, /*raw=*/true, /*line=*/false, &out->inject));
  }
  if (auto o = v.Find("if_offered")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*o, at.ctx, &out->if_offered));
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, AuthStep* out) {
  const Node mech = *v.Find("mechanism");
  std::string name;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(mech, at.ctx, &name));
  auto m = ParseAuthMechanism(name);
  if (!m) {
    return ErrValue(mech, at.ctx,
                    absl::StrCat("'mechanism' must be one of PLAIN, LOGIN, CRAM-MD5, XOAUTH2, "
                                 "got '",
                                 name, "'"));
  }
  out->mechanism = *m;
  SMTP_SCENARIO_RETURN_IF_ERROR(
      ReadTemplate(*v.Find("username"), at.ctx, false, true, &out->username));
  SMTP_SCENARIO_RETURN_IF_ERROR(
      ReadTemplate(*v.Find("password"), at.ctx, false, true, &out->password));
  return ReadExpectationOr(v, "expect", 235, at.ctx, &out->expect);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, DataStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("body"), at.ctx, false, false, &out->body));
  if (auto p = v.Find("pad_to")) {
    out->pad_to.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*p, at.ctx, false, true, &*out->pad_to));
  }
  if (auto p = v.Find("pad_extra")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*p, at.ctx, 0, kMaxPadExtra, &out->pad_extra));
  }
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectationOr(v, "accept", 354, at.ctx, &out->accept));
  return ReadExpectationOr(v, "expect", 250, at.ctx, &out->expect);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, DataRawStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(*v.Find("bytes"), at.ctx, true, false, &out->bytes));
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectationOr(v, "accept", 354, at.ctx, &out->accept));
  if (auto e = v.Find("expect")) {
    out->expect.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadExpectation(*e, at.ctx, &*out->expect));
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, BdatStep* out) {
  const Node chunks = *v.Find("chunks");
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckNonEmptyArray(chunks, at.ctx));
  for (std::size_t i = 0; i < chunks.v->size(); ++i) {
    out->chunks.emplace_back();
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadTemplate(chunks.Element(i), at.ctx, /*raw=*/true,
                                               /*line=*/false, &out->chunks.back()));
  }
  if (auto last = v.Find("last"))
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*last, at.ctx, &out->last));
  SMTP_SCENARIO_RETURN_IF_ERROR(
      ReadExpectationOr(v, "chunk_expect", 250, at.ctx, &out->chunk_expect));
  return ReadExpectationOr(v, "expect", 250, at.ctx, &out->expect);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, CaptureStep* out) {
  if (auto from = v.Find("from")) {
    std::string s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*from, at.ctx, &s));
    if (s != "last_reply") {
      return ErrValue(*from, at.ctx, absl::StrCat("'from' must be \"last_reply\", got '", s, "'"));
    }
  }
  const Node regex = *v.Find("regex");
  std::optional<Regex> re;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadRegex(regex, at.ctx, /*ignore_case=*/false, &re));
  out->regex = *std::move(re);
  const int groups = out->regex.groups();
  if (auto g = v.Find("group")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*g, at.ctx, 0, 99, &out->group));
    if (out->group > groups) {
      return ErrValue(
          *g, at.ctx,
          absl::StrCat("'group' is ", out->group, " but the regex has ", groups, " group(s)"));
    }
  } else if (groups < 1) {
    return ErrValue(regex, at.ctx,
                    "the regex has no group to capture (add parentheses or set \"group\": 0)");
  }
  const Node into = *v.Find("into");
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(into, at.ctx, &out->into));
  if (!IsValidVariableName(out->into)) {
    return ErrValue(into, at.ctx,
                    absl::StrCat("bad variable name '", out->into,
                                 "' (letters, digits and '_', not starting with a digit)"));
  }
  if (profile_vars_.count(out->into) != 0) {
    return ErrValue(into, at.ctx,
                    absl::StrCat("capture into '", out->into, "' would shadow a profile variable"));
  }
  known_vars_.insert(out->into);
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, SleepStep* out) {
  return ReadInt(*v.Find("ms"), at.ctx, 0, kMaxTimeoutMs, &out->ms);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, RepeatStep* out) {
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*v.Find("times"), at.ctx, 1, kMaxRepeatTimes, &out->times));
  const Node steps = *v.Find("steps");
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckNonEmptyArray(steps, at.ctx));
  return ParseSteps(steps, absl::StrCat(AV(at.label), "."), &out->steps);
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, ExpectDeliveryStep* out) {
  if (auto c = v.Find("count")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*c, at.ctx, 0, kMaxDeliveryCount, &out->count));
  }
  if (auto c = v.Find("rcpt_count")) {
    int n = 0;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*c, at.ctx, 0, kMaxRepeatTimes, &n));
    out->rcpt_count = n;
  }
  for (auto [key, into] :
       {std::pair{"first_line", &out->first_line}, std::pair{"line", &out->line},
        std::pair{"not_line", &out->not_line}, std::pair{"mail_from", &out->mail_from},
        std::pair{"rcpt", &out->rcpt}}) {
    if (auto n = v.Find(key)) {
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadRegex(*n, at.ctx, /*ignore_case=*/false, into));
    }
  }
  if (auto c = v.Find("contains")) {
    out->contains.emplace();
    SMTP_SCENARIO_RETURN_IF_ERROR(
        ReadTemplate(*c, at.ctx, /*raw=*/true, /*line=*/false, &*out->contains));
  }
  if (out->count == 0 && (out->first_line || out->line || out->not_line || out->contains ||
                          out->mail_from || out->rcpt || out->rcpt_count)) {
    return ErrValue(v, at.ctx, "checks on a delivery need \"count\" of at least 1");
  }
  return absl::OkStatus();
}

template <>
absl::Status Loader::Parse(const Node& v, const StepSite& at, RequireStep* out) {
  return ReadExpectation(v, at.ctx, &out->expect);
}

// --- the table ------------------------------------------------------------------

namespace {

using K = std::string_view;

// The keys of each object-valued step type (schema_test checks them against
// scenarios/schema.json) and those it must have.
constexpr K kConnect[] = {"tls"};
constexpr K kExpectClose[] = {"within_ms"};
constexpr K kExpectSilence[] = {"for_ms", "or_close", "or_reply", "or_note"};
constexpr K kExpectSilenceNeeds[] = {"for_ms"};
constexpr K kPipeline[] = {"send", "expect"};
constexpr K kStartTls[] = {"expect", "inject", "if_offered"};
constexpr K kAuth[] = {"mechanism", "username", "password", "expect"};
constexpr K kAuthNeeds[] = {"mechanism", "username", "password"};
constexpr K kData[] = {"body", "accept", "expect", "pad_to", "pad_extra"};
constexpr K kDataNeeds[] = {"body"};
constexpr K kDataRaw[] = {"bytes", "accept", "expect"};
constexpr K kDataRawNeeds[] = {"bytes"};
constexpr K kBdat[] = {"chunks", "last", "chunk_expect", "expect"};
constexpr K kBdatNeeds[] = {"chunks"};
constexpr K kCapture[] = {"from", "regex", "group", "into"};
constexpr K kCaptureNeeds[] = {"regex", "into"};
constexpr K kSleep[] = {"ms"};
constexpr K kRepeat[] = {"times", "steps"};
constexpr K kExpectDelivery[] = {"count",    "first_line", "line", "not_line",
                                 "contains", "mail_from",  "rcpt", "rcpt_count"};

// The index of alternative A in StepAction (a compile error if it is none).
template <typename A, std::size_t I = 0>
constexpr std::size_t ActionIndex() {
  if constexpr (std::is_same_v<A, std::variant_alternative_t<I, StepAction>>) {
    return I;
  } else {
    return ActionIndex<A, I + 1>();
  }
}

template <typename A>
absl::Status ParseAs(Loader& loader, const Node& v, const StepSite& at, StepAction* out) {
  return loader.Parse(v, at, &out->emplace<A>());
}

// The row of a step type that makes a StepAction of type A.
template <typename A>
constexpr StepType Row(std::string_view name, std::span<const K> keys = {},
                       std::span<const K> required = {}) {
  return {name, keys, required, ActionIndex<A>(), &ParseAs<A>};
}

// One row per step type; this order is the order of "no step type (one of
// ...)" and of the keys "did you mean" picks from.
constexpr StepType kStepTypes[] = {
    Row<ConnectStep>("connect", kConnect),
    Row<SendStep>("send"),
    Row<SendRawStep>("send_raw"),
    Row<ExpectStep>("expect"),
    Row<ExpectCloseStep>("expect_close", kExpectClose),
    Row<ExpectSilenceStep>("expect_silence", kExpectSilence, kExpectSilenceNeeds),
    Row<PipelineStep>("pipeline", kPipeline, kPipeline),
    Row<StartTlsStep>("starttls", kStartTls),
    Row<AuthStep>("auth", kAuth, kAuthNeeds),
    Row<DataStep>("data", kData, kDataNeeds),
    Row<DataRawStep>("data_raw", kDataRaw, kDataRawNeeds),
    Row<BdatStep>("bdat", kBdat, kBdatNeeds),
    Row<CaptureStep>("capture", kCapture, kCaptureNeeds),
    Row<SleepStep>("sleep", kSleep, kSleep),
    Row<RepeatStep>("repeat", kRepeat, kRepeat),
    {.name = "include"},  // a fragment name: ParseStep inlines its steps
    Row<ExpectDeliveryStep>("expect_delivery", kExpectDelivery),
    Row<RequireStep>("require"),
};

}  // namespace

std::span<const StepType> StepTypes() { return kStepTypes; }

const StepType* FindStepType(std::string_view name) {
  for (const StepType& t : kStepTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace smtp::scenario::internal

namespace smtp::scenario {

std::string_view StepTypeName(const StepAction& action) {
  for (const internal::StepType& t : internal::kStepTypes) {
    if (t.action == action.index()) return t.name;
  }
  return "?";  // unreachable: schema_test checks that every alternative has a row
}

}  // namespace smtp::scenario
