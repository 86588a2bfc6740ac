#include "harness/scenario/scenario.h"

#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"

namespace smtp::scenario {
namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> Lookup(const std::array<std::pair<std::string_view, Enum>, N>& table,
                           std::string_view name) {
  for (const auto& [n, e] : table) {
    if (n == name) return e;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view NameOf(const std::array<std::pair<std::string_view, Enum>, N>& table, Enum e) {
  for (const auto& [n, v] : table) {
    if (v == e) return n;
  }
  return "?";
}

constexpr std::array<std::pair<std::string_view, Level>, 5> kLevels{{
    {"MUST", Level::kMust},
    {"SHOULD", Level::kShould},
    {"MAY", Level::kMay},
    {"policy", Level::kPolicy},
    {"security", Level::kSecurity},
}};
constexpr std::array<std::pair<std::string_view, TlsMode>, 2> kTlsModes{{
    {"none", TlsMode::kNone},
    {"implicit", TlsMode::kImplicit},
}};
constexpr std::array<std::pair<std::string_view, AuthMechanism>, 4> kMechanisms{{
    {"PLAIN", AuthMechanism::kPlain},
    {"LOGIN", AuthMechanism::kLogin},
    {"CRAM-MD5", AuthMechanism::kCramMd5},
    {"XOAUTH2", AuthMechanism::kXoauth2},
}};

}  // namespace

std::string_view LevelName(Level level) { return NameOf(kLevels, level); }
std::optional<Level> ParseLevel(std::string_view name) { return Lookup(kLevels, name); }
std::optional<Level> ParseLevelIgnoringCase(std::string_view name) {
  for (const auto& [n, level] : kLevels) {
    if (absl::EqualsIgnoreCase(absl::string_view(n.data(), n.size()),
                               absl::string_view(name.data(), name.size()))) {
      return level;
    }
  }
  return std::nullopt;
}
std::string_view TlsModeName(TlsMode mode) { return NameOf(kTlsModes, mode); }
std::optional<TlsMode> ParseTlsMode(std::string_view name) { return Lookup(kTlsModes, name); }
std::string_view AuthMechanismName(AuthMechanism m) { return NameOf(kMechanisms, m); }
std::optional<AuthMechanism> ParseAuthMechanism(std::string_view name) {
  return Lookup(kMechanisms, name);
}

namespace {

// `want` is upper case (Scenario::requires_extensions); `keywords` any case.
bool Advertised(const std::vector<std::string>& keywords, const std::string& want) {
  return std::any_of(keywords.begin(), keywords.end(),
                     [&](const std::string& k) { return absl::EqualsIgnoreCase(k, want); });
}

bool StepsUseTls(const std::vector<Step>& steps) {
  return std::any_of(steps.begin(), steps.end(), [](const Step& step) {
    if (std::holds_alternative<StartTlsStep>(step.action)) return true;
    if (const auto* c = std::get_if<ConnectStep>(&step.action)) return c->tls == TlsMode::kImplicit;
    if (const auto* r = std::get_if<RepeatStep>(&step.action)) return StepsUseTls(r->steps);
    return false;
  });
}

void CollectVariables(const std::vector<Step>& steps, std::vector<std::string>* out) {
  auto add = [out](const Template& t) {
    for (std::string& name : t.VariableNames()) out->push_back(std::move(name));
  };
  for (const Step& step : steps) {
    std::visit(
        [&](const auto& a) {
          using T = std::decay_t<decltype(a)>;
          if constexpr (std::is_same_v<T, SendStep>) {
            add(a.line);
          } else if constexpr (std::is_same_v<T, SendRawStep> || std::is_same_v<T, DataRawStep>) {
            add(a.bytes);
          } else if constexpr (std::is_same_v<T, PipelineStep>) {
            for (const Template& t : a.send) add(t);
          } else if constexpr (std::is_same_v<T, StartTlsStep>) {
            add(a.inject);
          } else if constexpr (std::is_same_v<T, AuthStep>) {
            add(a.username);
            add(a.password);
          } else if constexpr (std::is_same_v<T, DataStep>) {
            add(a.body);
            if (a.pad_to) add(*a.pad_to);
          } else if constexpr (std::is_same_v<T, BdatStep>) {
            for (const Template& t : a.chunks) add(t);
          } else if constexpr (std::is_same_v<T, RepeatStep>) {
            CollectVariables(a.steps, out);
          } else if constexpr (std::is_same_v<T, ExpectDeliveryStep>) {
            if (a.contains) add(*a.contains);
          }
        },
        step.action);
  }
}

}  // namespace

std::vector<std::string> ReferencedVariables(const Scenario& scenario) {
  std::vector<std::string> names;
  CollectVariables(scenario.steps, &names);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::optional<std::string> EmptyVariable(const Scenario& scenario, const Variables& vars) {
  for (const std::string& name : ReferencedVariables(scenario)) {
    const std::string* value = vars.Find(name);
    if (value != nullptr && value->empty()) {
      return "profile variable '" + name + "' is empty (the scenario uses ${" + name + "})";
    }
  }
  return std::nullopt;
}

bool UsesTls(const Scenario& scenario) { return StepsUseTls(scenario.steps); }

namespace {
bool StepsUseDeliveries(const std::vector<Step>& steps) {
  return std::any_of(steps.begin(), steps.end(), [](const Step& step) {
    if (std::holds_alternative<ExpectDeliveryStep>(step.action)) return true;
    const auto* r = std::get_if<RepeatStep>(&step.action);
    return r != nullptr && StepsUseDeliveries(r->steps);
  });
}
}  // namespace

bool UsesDeliveries(const Scenario& scenario) { return StepsUseDeliveries(scenario.steps); }

std::optional<std::string> SkipReason(const Scenario& scenario, const TargetFacts& target) {
  const bool lmtp =
      std::find(scenario.tags.begin(), scenario.tags.end(), "lmtp") != scenario.tags.end();
  if (lmtp && !target.lmtp) {
    return "LMTP scenario; the target speaks SMTP (give lmtp:HOST:PORT to test an LMTP server)";
  }
  if (!lmtp && target.lmtp) return "SMTP scenario; the target speaks LMTP";
  if (scenario.requires_plaintext && target.implicit_tls) {
    return "scenario needs a plaintext connection; the target uses implicit TLS";
  }
  if (!target.relay_trusted.empty() &&
      std::find(scenario.tags.begin(), scenario.tags.end(), "relay") != scenario.tags.end()) {
    return "inconclusive: " + target.relay_trusted;
  }
  if (!target.deliveries && UsesDeliveries(scenario)) {
    return "target offers no deliveries to check (expect_delivery: the embedded server does)";
  }
  if (!target.keywords_known) return std::nullopt;
  const bool tls_phase = UsesTls(scenario) && !target.tls_keywords.empty();
  std::vector<std::string> missing;
  for (const std::string& want : scenario.requires_extensions) {
    if (Advertised(target.plain_keywords, want)) continue;
    if (tls_phase && Advertised(target.tls_keywords, want)) continue;
    missing.push_back(want);
  }
  if (!missing.empty()) return "server does not advertise " + absl::StrJoin(missing, ", ");
  const std::vector<std::string>& last = tls_phase ? target.tls_keywords : target.plain_keywords;
  std::vector<std::string> present;
  for (const std::string& unwanted : scenario.requires_absent) {
    if (Advertised(last, unwanted)) present.push_back(unwanted);
  }
  if (!present.empty()) return "server advertises " + absl::StrJoin(present, ", ");
  return std::nullopt;
}

std::int64_t ExpandedStepCount(const std::vector<Step>& steps) {
  constexpr std::int64_t kCap = std::numeric_limits<std::int64_t>::max() / 2;
  std::int64_t total = 0;
  for (const Step& step : steps) {
    std::int64_t n = 1;
    if (const auto* r = std::get_if<RepeatStep>(&step.action)) {
      const std::int64_t inner = ExpandedStepCount(r->steps);
      n = inner > kCap / std::max(1, r->times) ? kCap : inner * r->times;
    }
    total = std::min(kCap, total + n);
  }
  return total;
}

}  // namespace smtp::scenario
