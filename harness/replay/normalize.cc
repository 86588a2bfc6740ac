#include "harness/replay/normalize.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "harness/scenario/regex.h"
#include "results/absl_compat.h"
#include "results/json_error.h"

namespace smtp::replay {
namespace {

using json = nlohmann::json;

struct RuleSource {
  const char* name;
  const char* pattern;
  const char* replace;
};

constexpr RuleSource kBuiltin[] = {
    {"date",
     R"((?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[+-]\d{4})?(?:\s*\([A-Za-z]+\))?)",
     "<date>"},
    {"date", R"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)",
     "<date>"},
    {"queue-id", R"((?i)(queued as|id=)\s*[A-Za-z0-9.]+)", R"(\1 <queue-id>)"},
    {"ip", R"(\[?\b\d{1,3}(?:\.\d{1,3}){3}\b\]?)", "<ip>"},
    {"ip", R"(\[(?:IPv6:)?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\])", "<ip>"},
    {"hex-id", R"(\b[0-9]*[A-Fa-f][0-9A-Fa-f]{6,}\b)", "<id>"},
    {"token-id", R"([A-Za-z0-9+/]{16,}={0,2})", "<id>"},
};

absl::StatusOr<NormalizationRule> MakeRule(std::string name, std::string_view pattern,
                                           std::string replace) {
  std::string why;
  auto regex = scenario::Regex::Compile(pattern, /*ignore_case=*/false, &why);
  if (!regex) return absl::InvalidArgumentError(why);
  if (regex->groups() < 9) {
    // A rewrite naming a missing group would silently replace nothing.
    for (std::size_t i = 0; i + 1 < replace.size(); ++i) {
      if (replace[i] == '\\' && replace[i + 1] >= '1' && replace[i + 1] <= '9' &&
          replace[i + 1] - '0' > regex->groups()) {
        return absl::InvalidArgumentError("\"replace\" names group \\" +
                                          std::string(1, replace[i + 1]) + ", the pattern has " +
                                          std::to_string(regex->groups()));
      }
    }
  }
  return NormalizationRule{std::move(name), *std::move(regex), std::move(replace)};
}

}  // namespace

std::vector<NormalizationRule> BuiltinRules() {
  std::vector<NormalizationRule> rules;
  for (const RuleSource& r : kBuiltin) {
    auto rule = MakeRule(r.name, r.pattern, r.replace);
    if (rule.ok()) rules.push_back(*std::move(rule));  // tested: all compile
  }
  return rules;
}

Normalizer::Normalizer() : rules_(BuiltinRules()) {}

absl::StatusOr<Normalizer> Normalizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open " + path);
  json j;
  try {
    j = json::parse(in, nullptr, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(path + ": not valid JSON: " + harness::DescribeParseError(e));
  }
  const auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(path + ": " + why);
  };
  if (!j.is_object()) return bad("not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "builtin" && key != "rules") return bad("unknown key \"" + key + "\"");
  }
  std::vector<NormalizationRule> rules;
  if (auto b = j.find("builtin"); b == j.end() || (b->is_boolean() && b->get<bool>())) {
    rules = BuiltinRules();
  } else if (!b->is_boolean()) {
    return bad("\"builtin\" must be true or false");
  }
  auto list = j.find("rules");
  if (list != j.end()) {
    if (!list->is_array()) return bad("\"rules\" must be an array");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const json& r = (*list)[i];
      const std::string where = "rules[" + std::to_string(i) + "]";
      if (!r.is_object() || !r.contains("pattern") || !r["pattern"].is_string() ||
          (r.contains("replace") && !r["replace"].is_string()) ||
          (r.contains("name") && !r["name"].is_string())) {
        return bad(
            where +
            ": needs \"pattern\" (a string), and optionally \"name\" and \"replace\" (strings)");
      }
      std::string name = r.value("name", where);
      auto rule = MakeRule(name, r["pattern"].get<std::string>(), r.value("replace", ""));
      if (!rule.ok()) return bad(where + " (\"" + name + "\"): " + Message(rule.status()));
      rules.push_back(*std::move(rule));
    }
  }
  return Normalizer(std::move(rules));
}

std::string Normalizer::Apply(std::string_view text, const std::vector<Name>& names) const {
  std::string out(text);
  for (const Name& n : names) {
    if (n.word.empty()) continue;
    for (std::size_t at = out.find(n.word); at != std::string::npos;
         at = out.find(n.word, at + n.placeholder.size())) {
      out.replace(at, n.word.size(), n.placeholder);
    }
  }
  for (const NormalizationRule& r : rules_) r.regex.ReplaceAll(&out, r.replace);
  return out;
}

}  // namespace smtp::replay
