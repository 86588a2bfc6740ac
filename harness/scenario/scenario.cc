#include "harness/scenario/scenario.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <utility>

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

// Indexed like StepAction's alternatives.
constexpr std::array<std::string_view, std::variant_size_v<StepAction>> kStepNames{
    "connect",        "send",     "send_raw", "expect", "expect_close",
    "expect_silence", "pipeline", "starttls", "auth",   "data",
    "data_raw",       "bdat",     "capture",  "sleep",  "repeat"};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view LevelName(Level level) { return NameOf(kLevels, level); }
std::optional<Level> ParseLevel(std::string_view name) { return Lookup(kLevels, name); }
std::string_view TlsModeName(TlsMode mode) { return NameOf(kTlsModes, mode); }
std::optional<TlsMode> ParseTlsMode(std::string_view name) { return Lookup(kTlsModes, name); }
std::string_view AuthMechanismName(AuthMechanism m) { return NameOf(kMechanisms, m); }
std::optional<AuthMechanism> ParseAuthMechanism(std::string_view name) {
  return Lookup(kMechanisms, name);
}

std::string_view StepTypeName(const StepAction& action) { return kStepNames[action.index()]; }

std::optional<std::string> MissingExtensions(const Scenario& scenario,
                                             const std::vector<std::string>& advertised) {
  std::string missing;
  for (const std::string& want : scenario.requires_extensions) {
    const bool found = std::any_of(advertised.begin(), advertised.end(),
                                   [&](const std::string& a) { return Upper(a) == want; });
    if (found) continue;
    if (!missing.empty()) missing += ", ";
    missing += want;
  }
  if (missing.empty()) return std::nullopt;
  return "server does not advertise " + missing;
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
