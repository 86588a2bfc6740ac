#include "harness/scenario/profile.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "harness/scenario/json_source.h"
#include "harness/scenario/loader_internal.h"

namespace smtp::scenario {
namespace {

using internal::Node;

// Reuses the loader's checks and messages (unknown keys, types).
class ProfileReader {
 public:
  ProfileReader(const EnvLookup& env) : env_(env), loader_(options_) {}

  absl::StatusOr<TargetProfile> Read(const JsonSource& src) {
    TargetProfile p;
    const Node root{&src, &src.root(), "", "the profile"};
    SMTP_SCENARIO_RETURN_IF_ERROR(loader_.CheckObject(root, "", "profile", {}));
    struct Field {
      const char* key;
      std::string* out;
    };
    for (Field f :
         {Field{"host", &p.host}, Field{"client_domain", &p.client_domain}, Field{"rcpt", &p.rcpt},
          Field{"sender", &p.sender}, Field{"user", &p.user}, Field{"password", &p.password}}) {
      if (auto n = root.Find(f.key)) {
        SMTP_SCENARIO_RETURN_IF_ERROR(Value(*n, f.key, f.out, &p.secret));
      }
    }
    p.secret.insert("password");
    p.names_target = root.Find("host") || root.Find("port");
    if (auto n = root.Find("port")) {
      std::string text;
      int port = 0;
      if (n->v->is_number_integer()) {
        SMTP_SCENARIO_RETURN_IF_ERROR(loader_.ReadInt(*n, "", 1, 65535, &port));
      } else {
        SMTP_SCENARIO_RETURN_IF_ERROR(Value(*n, "port", &text, &p.secret));
        if (!absl::SimpleAtoi(text, &port) || port < 1 || port > 65535) {
          return loader_.ErrValue(*n, "",
                                  absl::StrCat("'port' must be 1..65535, got '", text, "'"));
        }
      }
      p.port = port;
    }
    if (auto n = root.Find("tls")) {
      std::string mode;
      SMTP_SCENARIO_RETURN_IF_ERROR(Value(*n, "tls", &mode, &p.secret));
      auto m = ParseTlsMode(mode);
      if (!m) {
        return loader_.ErrValue(
            *n, "", absl::StrCat("'tls' must be \"none\" or \"implicit\", got '", mode, "'"));
      }
      p.tls = *m;
    }
    if (auto vars = root.Find("vars")) {
      if (!vars->v->is_object()) {
        return loader_.ErrValue(*vars, "",
                                absl::StrCat("'vars' must be an object, got ",
                                             std::string(internal::TypeName(*vars->v))));
      }
      for (const std::string& key : vars->KeysInOrder()) {
        const Node n = *vars->Find(key);
        const bool standard =
            std::find(ProfileVariableNames().begin(), ProfileVariableNames().end(), key) !=
            ProfileVariableNames().end();
        if (!IsValidVariableName(key) || standard) {
          return loader_.ErrKey(n, "vars",
                                standard ? absl::StrCat("'", key,
                                                        "' is a standard profile key; "
                                                        "set it at the top level")
                                         : absl::StrCat("bad variable name '", key, "'"));
        }
        SMTP_SCENARIO_RETURN_IF_ERROR(Value(n, key, &p.vars[key], &p.secret));
      }
    }
    return p;
  }

 private:
  // A string, or {"env": NAME, "default": ..., "secret": ...}.
  absl::Status Value(const Node& n, const std::string& name, std::string* out,
                     std::set<std::string>* secret) {
    if (!n.v->is_object()) return loader_.ReadString(n, "", out);
    SMTP_SCENARIO_RETURN_IF_ERROR(loader_.CheckObject(n, name, "env_value", {"env"}));
    std::string var;
    const Node env = *n.Find("env");
    SMTP_SCENARIO_RETURN_IF_ERROR(loader_.ReadString(env, name, &var));
    bool is_secret = true;
    if (auto s = n.Find("secret"))
      SMTP_SCENARIO_RETURN_IF_ERROR(loader_.ReadBool(*s, name, &is_secret));
    std::optional<std::string> value = env_(var);
    if (!value) {
      if (auto d = n.Find("default")) {
        value.emplace();
        SMTP_SCENARIO_RETURN_IF_ERROR(loader_.ReadString(*d, name, &*value));
      } else {
        return loader_.ErrValue(env, name,
                                absl::StrCat("environment variable ", var, " is not set"));
      }
    }
    *out = *std::move(value);
    if (is_secret) secret->insert(name);
    return absl::OkStatus();
  }

  const EnvLookup& env_;
  LoadOptions options_;
  internal::Loader loader_;
};

}  // namespace

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Variables TargetProfile::ToVariables() const {
  Variables v;
  auto set = [&](const std::string& name, std::string value) {
    v.Set(name, std::move(value), secret.count(name) != 0 || name == "password");
  };
  set("host", host);
  set("port", std::to_string(port));
  set("tls", std::string(TlsModeName(tls)));
  set("client_domain", client_domain);
  set("rcpt", rcpt);
  // The domain of the deliverable recipient, for scenarios that need another
  // mailbox there (RFC 5321 §2.4: MiXeD.CaSe@${rcpt_domain}).
  const std::size_t at = rcpt.rfind('@');
  set("rcpt_domain", at == std::string::npos ? std::string() : rcpt.substr(at + 1));
  set("sender", sender);
  set("user", user);
  set("password", password);
  for (const auto& [name, value] : vars) set(name, value);
  return v;
}

std::vector<std::string> TargetProfile::ExtraNames() const {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  return names;
}

absl::StatusOr<TargetProfile> ParseProfile(const std::string& path, std::string text,
                                           const EnvLookup& env) {
  auto src = JsonSource::Parse(path, std::move(text));
  if (!src.ok()) return src.status();
  return ProfileReader(env).Read(*src);
}

absl::StatusOr<TargetProfile> LoadProfile(const std::string& path, const EnvLookup& env) {
  auto src = JsonSource::ReadFile(path);
  if (!src.ok()) return src.status();
  return ProfileReader(env).Read(*src);
}

}  // namespace smtp::scenario
