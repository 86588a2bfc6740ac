#include "harness/scenario/scenario_loader.h"

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "harness/scenario/keys.h"
#include "harness/scenario/loader_internal.h"
#include "harness/scenario/strings_internal.h"

namespace smtp::scenario {
namespace internal {
namespace {

namespace fs = std::filesystem;

// [A-Za-z0-9][A-Za-z0-9._-]*, at most `max` characters.
bool IsIdentifier(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max || !absl::ascii_isalnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

// RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
bool IsEhloKeyword(std::string_view s) {
  if (s.empty() || !absl::ascii_isalnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

bool IsTag(std::string_view s) {
  if (!IsIdentifier(s, 64)) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return absl::ascii_isupper(c); });
}

}  // namespace

std::string_view TypeName(const nlohmann::json& v) {
  if (v.is_number_integer()) return "integer";
  return v.type_name();
}

Expectation ExpectCode(int code) {
  Expectation e;
  std::string why;
  e.codes.push_back(*CodePattern::Exact(code, &why));
  return e;
}

std::optional<Node> Node::Find(std::string_view key) const {
  if (!v->is_object()) return std::nullopt;
  auto it = v->find(std::string(key));
  if (it == v->end()) return std::nullopt;
  return Node{src, &*it, AppendPointer(ptr, key), absl::StrCat("'", AV(key), "'")};
}

Node Node::Element(std::size_t i) const {
  return Node{src, &(*v)[i], AppendPointer(ptr, i), absl::StrCat(name, " #", i + 1)};
}

std::vector<std::string> Node::KeysInOrder() const {
  std::vector<std::pair<std::tuple<int, int>, std::string>> keyed;
  for (const auto& [key, value] : v->items()) {
    const TextPosition p = src->KeyPosition(AppendPointer(ptr, key));
    keyed.push_back({{p.line, p.column}, key});
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> keys;
  for (auto& [pos, key] : keyed) keys.push_back(std::move(key));
  return keys;
}

std::string Loader::IncludeSuffix() const {
  std::string out;
  for (auto it = include_stack_.rbegin(); it != include_stack_.rend(); ++it) {
    absl::StrAppend(&out, it == include_stack_.rbegin() ? "; included from " : ", from ",
                    it->where);
  }
  return out;
}

namespace {
std::string Compose(std::string_view ctx, std::string_view msg, const std::string& suffix) {
  if (ctx.empty()) return absl::StrCat(AV(msg), suffix);
  return absl::StrCat(AV(ctx), ": ", AV(msg), suffix);
}
}  // namespace

absl::Status Loader::ErrKey(const Node& n, std::string_view ctx, std::string_view msg) const {
  return n.src->ErrorAt(n.src->KeyPosition(n.ptr), Compose(ctx, msg, IncludeSuffix()));
}

absl::Status Loader::ErrValue(const Node& n, std::string_view ctx, std::string_view msg) const {
  return n.src->ErrorAt(n.src->ValuePosition(n.ptr), Compose(ctx, msg, IncludeSuffix()));
}

absl::Status Loader::ErrByte(const Node& n, std::size_t index, std::string_view ctx,
                             std::string_view msg) const {
  return n.src->ErrorAt(n.src->StringBytePosition(n.ptr, index),
                        Compose(ctx, msg, IncludeSuffix()));
}

absl::Status Loader::CheckKeys(const Node& n, std::string_view ctx,
                               std::span<const std::string_view> allowed) const {
  for (const std::string& key : n.KeysInOrder()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string msg = absl::StrCat("unknown key '", key, "'");
    if (std::string_view s = Suggest(key, allowed); !s.empty()) {
      absl::StrAppend(&msg, " (did you mean '", AV(s), "'?)");
    }
    return ErrKey(*n.Find(key), ctx, msg);
  }
  return absl::OkStatus();
}

absl::Status Loader::CheckObject(const Node& n, std::string_view ctx,
                                 std::span<const std::string_view> allowed,
                                 std::span<const std::string_view> required) const {
  if (!n.v->is_object()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must be an object, got ", AV(TypeName(*n.v))));
  }
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckKeys(n, ctx, allowed));
  for (std::string_view key : required) {
    if (!n.v->contains(std::string(key))) {
      return ErrValue(n, ctx, absl::StrCat("missing key '", AV(key), "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status Loader::CheckObject(const Node& n, std::string_view ctx, std::string_view kind,
                                 std::initializer_list<std::string_view> required) const {
  return CheckObject(n, ctx, KeysOf(kind), std::span(required.begin(), required.size()));
}

absl::Status Loader::CheckNonEmptyArray(const Node& n, std::string_view ctx) const {
  if (!n.v->is_array() || n.v->empty()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must be a non-empty array"));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadString(const Node& n, std::string_view ctx, std::string* out) const {
  if (!n.v->is_string()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must be a string, got ", AV(TypeName(*n.v))));
  }
  *out = n.v->get<std::string>();
  return absl::OkStatus();
}

absl::Status Loader::ReadInt(const Node& n, std::string_view ctx, long long min, long long max,
                             int* out) const {
  if (!n.v->is_number_integer()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must be an integer, got ", AV(TypeName(*n.v))));
  }
  long long value = 0;
  if (n.v->is_number_unsigned()) {
    const auto u = n.v->get<unsigned long long>();
    value = u > static_cast<unsigned long long>(max) ? max + 1 : static_cast<long long>(u);
  } else {
    value = n.v->get<long long>();
  }
  if (value < min || value > max) {
    return ErrValue(
        n, ctx,
        absl::StrCat(n.name, " must be between ", min, " and ", max, ", got ", n.v->dump()));
  }
  *out = static_cast<int>(value);
  return absl::OkStatus();
}

absl::Status Loader::ReadBool(const Node& n, std::string_view ctx, bool* out) const {
  if (!n.v->is_boolean()) {
    return ErrValue(n, ctx,
                    absl::StrCat(n.name, " must be true or false, got ", AV(TypeName(*n.v))));
  }
  *out = n.v->get<bool>();
  return absl::OkStatus();
}

absl::Status Loader::ReadStringArray(const Node& n, std::string_view ctx,
                                     std::vector<std::string>* out, bool allow_empty) const {
  if (!n.v->is_array()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must be an array, got ", AV(TypeName(*n.v))));
  }
  if (!allow_empty && n.v->empty()) {
    return ErrValue(n, ctx, absl::StrCat(n.name, " must not be empty"));
  }
  out->clear();
  for (std::size_t i = 0; i < n.v->size(); ++i) {
    std::string s;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(n.Element(i), ctx, &s));
    out->push_back(std::move(s));
  }
  return absl::OkStatus();
}

absl::Status Loader::ReadTemplate(const Node& n, std::string_view ctx, bool raw, bool line,
                                  Template* out) const {
  std::string s;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(n, ctx, &s));
  if (const std::size_t p = s.find_first_of("\r\n"); line && p != std::string::npos) {
    return ErrByte(n, p, ctx,
                   absl::StrCat(n.name,
                                " must not contain CR or LF (CRLF is appended; use send_raw "
                                "for raw bytes)"));
  }
  std::vector<VariableRef> refs;
  if (auto err = ScanTemplate(s, &refs)) return ErrByte(n, err->offset, ctx, err->message);
  if (!options_.allow_unknown_variables) {
    for (const VariableRef& ref : refs) {
      if (known_vars_.count(ref.name) == 0) {
        std::vector<std::string_view> known(known_vars_.begin(), known_vars_.end());
        std::string hint;
        if (std::string_view s = Suggest(ref.name, known); !s.empty()) {
          hint = absl::StrCat("; did you mean '", AV(s), "'?");
        }
        return ErrByte(
            n, ref.offset, ctx,
            absl::StrCat("unknown variable '", ref.name,
                         "' (neither a profile variable nor captured earlier", hint, ")"));
      }
    }
  }
  if (auto err = Template::Parse(s, raw, out)) return ErrByte(n, err->offset, ctx, err->message);
  return absl::OkStatus();
}

absl::Status Loader::ReadExpectation(const Node& n, std::string_view ctx, Expectation* out) const {
  Expectation e;
  Node code = n;
  if (n.v->is_object()) {
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(n, ctx, "expectation", {"code"}));
    code = *n.Find("code");
    if (auto ic = n.Find("ignore_case")) {
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*ic, ctx, &e.ignore_case));
    }
    for (auto [key, into] : {std::pair{"text", &e.text}, std::pair{"not_text", &e.not_text}}) {
      if (auto text = n.Find(key)) {
        SMTP_SCENARIO_RETURN_IF_ERROR(ReadRegex(*text, ctx, e.ignore_case, into));
      }
    }
    if (auto enh = n.Find("enhanced")) {
      std::string s, why;
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*enh, ctx, &s));
      e.enhanced = EnhancedPattern::Parse(s, &why);
      if (!e.enhanced) return ErrValue(*enh, ctx, why);
    }
  }
  auto one = [&](const Node& c) -> absl::Status {
    std::string why;
    std::optional<CodePattern> p;
    if (c.v->is_number_integer()) {
      p = CodePattern::Exact(c.v->is_number_unsigned() && c.v->get<unsigned long long>() > 999
                                 ? 1000
                                 : c.v->get<long long>(),
                             &why);
    } else if (c.v->is_string()) {
      p = CodePattern::Parse(c.v->get<std::string>(), &why);
    } else {
      return ErrValue(c, ctx,
                      absl::StrCat(c.name, " must be a reply code (250), a pattern (\"2xx\")",
                                   code.v->is_array() ? "" : " or a list of them", ", got ",
                                   AV(TypeName(*c.v))));
    }
    if (!p) return ErrValue(c, ctx, why);
    e.codes.push_back(*p);
    return absl::OkStatus();
  };
  if (code.v->is_array()) {
    if (code.v->empty()) return ErrValue(code, ctx, absl::StrCat(code.name, " must not be empty"));
    for (std::size_t i = 0; i < code.v->size(); ++i) {
      SMTP_SCENARIO_RETURN_IF_ERROR(one(code.Element(i)));
    }
  } else {
    SMTP_SCENARIO_RETURN_IF_ERROR(one(code));
  }
  *out = std::move(e);
  return absl::OkStatus();
}

absl::Status Loader::ReadExpectationOr(const Node& n, std::string_view key, int code,
                                       std::string_view ctx, Expectation* out) const {
  if (auto e = n.Find(key)) return ReadExpectation(*e, ctx, out);
  *out = ExpectCode(code);
  return absl::OkStatus();
}

absl::Status Loader::ReadRegex(const Node& n, std::string_view ctx, bool ignore_case,
                               std::optional<Regex>* out) const {
  std::string source, why;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(n, ctx, &source));
  *out = Regex::Compile(source, ignore_case, &why);
  if (!*out) return ErrValue(n, ctx, why);
  return absl::OkStatus();
}

absl::Status Loader::ParseMetadata(const Node& root, Scenario* sc) {
  const Node id = *root.Find("id");
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(id, "", &sc->id));
  if (!IsIdentifier(sc->id, kMaxIdLength)) {
    return ErrValue(id, "",
                    absl::StrCat("bad id '", sc->id,
                                 "' (letters, digits, '.', '_', '-'; starting with a "
                                 "letter or digit; at most ",
                                 kMaxIdLength, ")"));
  }
  const Node title = *root.Find("title");
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(title, "", &sc->title));
  if (sc->title.empty()) return ErrValue(title, "", "'title' must not be empty");
  if (auto d = root.Find("description")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*d, "", &sc->description));
  }
  const Node rfc = *root.Find("rfc");
  SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(rfc, "rfc", "rfc", {"document", "section"}));
  for (auto [key, field] :
       {std::pair{"document", &sc->rfc.document}, std::pair{"section", &sc->rfc.section}}) {
    const Node n = *rfc.Find(key);
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(n, "rfc", field));
    if (field->empty()) return ErrValue(n, "rfc", absl::StrCat(n.name, " must not be empty"));
  }
  if (auto url = rfc.Find("url")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*url, "rfc", &sc->rfc.url));
    if (sc->rfc.url.rfind("https://", 0) != 0 && sc->rfc.url.rfind("http://", 0) != 0) {
      return ErrValue(*url, "rfc", "'url' must start with https:// or http://");
    }
  }
  const Node level = *root.Find("level");
  std::string level_name;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(level, "", &level_name));
  auto parsed = ParseLevel(level_name);
  if (!parsed) {
    return ErrValue(level, "",
                    absl::StrCat("'level' must be one of MUST, SHOULD, MAY, policy, "
                                 "security, got '",
                                 level_name, "'"));
  }
  sc->level = *parsed;
  if (auto tags = root.Find("tags")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadStringArray(*tags, "", &sc->tags, true));
    for (std::size_t i = 0; i < sc->tags.size(); ++i) {
      if (!IsTag(sc->tags[i])) {
        return ErrValue(tags->Element(i), "",
                        absl::StrCat("bad tag '", sc->tags[i],
                                     "' (lower-case letters, digits, '.', '_', '-')"));
      }
      if (std::find(sc->tags.begin(), sc->tags.begin() + i, sc->tags[i]) != sc->tags.begin() + i) {
        return ErrValue(tags->Element(i), "", absl::StrCat("duplicate tag '", sc->tags[i], "'"));
      }
    }
  }
  for (auto [key, into] : {std::pair{"requires", &sc->requires_extensions},
                           std::pair{"requires_absent", &sc->requires_absent}}) {
    auto req = root.Find(key);
    if (!req) continue;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadStringArray(*req, "", into, true));
    for (std::size_t i = 0; i < into->size(); ++i) {
      std::string& kw = (*into)[i];
      if (!IsEhloKeyword(kw)) {
        return ErrValue(req->Element(i), "",
                        absl::StrCat("bad EHLO keyword '", kw,
                                     "' (RFC 5321 ehlo-keyword: letters, digits, '-')"));
      }
      absl::AsciiStrToUpper(&kw);
    }
  }
  for (const std::string& kw : sc->requires_absent) {
    if (std::find(sc->requires_extensions.begin(), sc->requires_extensions.end(), kw) !=
        sc->requires_extensions.end()) {
      return ErrValue(*root.Find("requires_absent"), "",
                      absl::StrCat("'", kw, "' is both required and required absent"));
    }
  }
  if (auto p = root.Find("requires_plaintext")) {
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadBool(*p, "", &sc->requires_plaintext));
  }
  if (auto d = root.Find("delivery")) {
    std::string value;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*d, "", &value));
    if (value != "incidental" && value != "required") {
      return ErrValue(
          *d, "",
          absl::StrCat("'delivery' must be \"required\" or \"incidental\", got '", value, "'"));
    }
    sc->delivery_incidental = value == "incidental";
  }
  if (auto t = root.Find("timeout_ms")) {
    int ms = 0;
    SMTP_SCENARIO_RETURN_IF_ERROR(ReadInt(*t, "", 1, kMaxTimeoutMs, &ms));
    sc->timeout_ms = ms;
  }
  return absl::OkStatus();
}

std::vector<std::string> Loader::FragmentDirs(const std::string& scenario_path) const {
  // Walk up the absolute directory, but report what we find relative to the
  // working directory when the scenario path was relative.
  std::error_code ec;
  const fs::path given(scenario_path);
  const fs::path cwd = fs::current_path(ec);
  fs::path dir = fs::absolute(given, ec).parent_path();
  for (int guard = 0; guard < 256 && !dir.empty(); ++guard) {
    const fs::path candidate = dir / "fragments";
    if (fs::is_directory(candidate, ec)) {
      fs::path shown = candidate.lexically_normal();
      if (given.is_relative() && !cwd.empty()) {
        const fs::path rel = shown.lexically_relative(cwd);
        if (!rel.empty()) shown = rel;
      }
      return {shown.string()};
    }
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return {};
}

std::optional<std::string> Loader::ResolveFragment(const std::string& name) const {
  for (const std::string& dir : fragment_dirs_) {
    const std::string path = (fs::path(dir) / (name + ".json")).string();
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return path;
  }
  return std::nullopt;
}

absl::StatusOr<const JsonSource*> Loader::ReadFragment(const std::string& path) {
  auto it = fragments_.find(path);
  if (it == fragments_.end()) {
    auto src = JsonSource::ReadFile(path);
    if (!src.ok()) {
      return absl::Status(src.status().code(),
                          absl::StrCat(src.status().message(), IncludeSuffix()));
    }
    it = fragments_.emplace(path, std::make_unique<JsonSource>(*std::move(src))).first;
  }
  return it->second.get();
}

absl::Status Loader::IncludeFragment(const Node& name_node, std::string_view ctx,
                                     const std::string& prefix, std::vector<Step>* out) {
  std::string name;
  SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(name_node, ctx, &name));
  if (!IsIdentifier(name, 64)) {
    return ErrValue(name_node, ctx,
                    absl::StrCat("bad fragment name '", name,
                                 "' (letters, digits, '.', '_', '-'; no directories)"));
  }
  for (const IncludeSite& site : include_stack_) {
    if (site.name != name) continue;
    std::vector<std::string> chain;
    for (const IncludeSite& s : include_stack_) chain.push_back(s.name);
    chain.push_back(name);
    return ErrValue(name_node, ctx, absl::StrCat("include cycle: ", absl::StrJoin(chain, " -> ")));
  }
  if (include_stack_.size() >= static_cast<std::size_t>(kMaxIncludeDepth)) {
    return ErrValue(name_node, ctx,
                    absl::StrCat("fragments nested deeper than ", kMaxIncludeDepth));
  }
  const std::optional<std::string> path = ResolveFragment(name);
  if (!path) {
    return ErrValue(
        name_node, ctx,
        fragment_dirs_.empty()
            ? absl::StrCat("fragment '", name,
                           "' not found (no 'fragments' directory in or above the "
                           "scenario's directory; give --fragments DIR)")
            : absl::StrCat("fragment '", name, "' not found in ",
                           absl::StrJoin(fragment_dirs_, ", "), " (give --fragments DIR)"));
  }
  include_stack_.push_back(
      {name, name_node.src->Where(name_node.src->ValuePosition(name_node.ptr))});
  absl::Status st = [&]() -> absl::Status {
    auto src = ReadFragment(*path);
    if (!src.ok()) return src.status();
    const Node root{*src, &(*src)->root(), "", "the fragment"};
    const std::string fctx = absl::StrCat("fragment '", name, "'");
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckObject(root, fctx, "fragment", {"steps"}));
    if (auto d = root.Find("description")) {
      std::string ignored;
      SMTP_SCENARIO_RETURN_IF_ERROR(ReadString(*d, fctx, &ignored));
    }
    const Node steps = *root.Find("steps");
    SMTP_SCENARIO_RETURN_IF_ERROR(CheckNonEmptyArray(steps, fctx));
    return ParseSteps(steps, absl::StrCat(prefix, name, " step "), out);
  }();
  include_stack_.pop_back();
  return st;
}

absl::StatusOr<Scenario> Loader::Load(const JsonSource& src) {
  Scenario sc;
  sc.file = src.path();
  // The given directories first, then the nearest "fragments" directory (a
  // suite kept outside the repository includes the shipped fragments by
  // naming them; its own fragments/ still works).
  fragment_dirs_ = options_.fragment_dirs;
  for (const std::string& dir : FragmentDirs(src.path())) {
    if (std::find(fragment_dirs_.begin(), fragment_dirs_.end(), dir) == fragment_dirs_.end()) {
      fragment_dirs_.push_back(dir);
    }
  }
  for (const std::string& dir : options_.fallback_fragment_dirs) {
    if (std::find(fragment_dirs_.begin(), fragment_dirs_.end(), dir) == fragment_dirs_.end()) {
      fragment_dirs_.push_back(dir);
    }
  }
  for (const std::string& v : ProfileVariableNames()) profile_vars_.insert(v);
  for (const std::string& v : options_.extra_variables) profile_vars_.insert(v);
  known_vars_ = profile_vars_;

  const Node root{&src, &src.root(), "", "the scenario"};
  SMTP_SCENARIO_RETURN_IF_ERROR(
      CheckObject(root, "", "scenario", {"id", "title", "rfc", "level", "steps"}));
  SMTP_SCENARIO_RETURN_IF_ERROR(ParseMetadata(root, &sc));
  if (auto inc = root.Find("include")) {
    if (!inc->v->is_array() && !inc->v->is_string()) {
      return ErrValue(*inc, "",
                      absl::StrCat("'include' must be a fragment name or a list of them, got ",
                                   AV(TypeName(*inc->v))));
    }
    if (inc->v->is_array()) {
      for (std::size_t i = 0; i < inc->v->size(); ++i) {
        SMTP_SCENARIO_RETURN_IF_ERROR(IncludeFragment(inc->Element(i), "include", "", &sc.steps));
      }
    } else {
      SMTP_SCENARIO_RETURN_IF_ERROR(IncludeFragment(*inc, "include", "", &sc.steps));
    }
  }
  const Node steps = *root.Find("steps");
  if (!steps.v->is_array()) {
    return ErrValue(steps, "",
                    absl::StrCat("'steps' must be an array, got ", AV(TypeName(*steps.v))));
  }
  SMTP_SCENARIO_RETURN_IF_ERROR(ParseSteps(steps, "step ", &sc.steps));
  if (sc.steps.empty()) return ErrValue(steps, "", "a scenario needs at least one step");
  // The first step to run (inside a leading repeat, its first step).
  const Step* first_ptr = &sc.steps.front();
  while (const auto* r = std::get_if<RepeatStep>(&first_ptr->action)) first_ptr = &r->steps.front();
  const Step& first = *first_ptr;
  if (!std::holds_alternative<ConnectStep>(first.action)) {
    return absl::InvalidArgumentError(absl::StrCat(first.origin.file, ":", first.origin.line, ":",
                                                   first.origin.column, ": ", first.origin.label,
                                                   " (", AV(StepTypeName(first.action)),
                                                   "): the first step must be 'connect'"));
  }
  if (const std::int64_t n = ExpandedStepCount(sc.steps); n > kMaxExpandedSteps) {
    return ErrValue(steps, "",
                    absl::StrCat("the scenario runs ", n, " steps once repeats multiply out ",
                                 "(at most ", kMaxExpandedSteps, ")"));
  }
  return sc;
}

}  // namespace internal

const std::vector<std::string>& ProfileVariableNames() {
  static const std::vector<std::string> kNames{
      "host", "port", "tls", "client_domain", "rcpt", "rcpt_domain", "sender", "user", "password"};
  return kNames;
}

absl::StatusOr<Scenario> LoadScenarioText(const std::string& path, std::string text,
                                          const LoadOptions& options) {
  auto src = JsonSource::Parse(path, std::move(text));
  if (!src.ok()) return src.status();
  return internal::Loader(options).Load(*src);
}

absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path, const LoadOptions& options) {
  auto src = JsonSource::ReadFile(path);
  if (!src.ok()) return src.status();
  return internal::Loader(options).Load(*src);
}

}  // namespace smtp::scenario
