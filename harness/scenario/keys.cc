#include "harness/scenario/keys.h"

#include <iterator>
#include <vector>

#include "harness/scenario/loader_internal.h"

namespace smtp::scenario {
namespace {

using K = std::string_view;
using internal::StepType;
using internal::StepTypes;

// The object kinds that are not step types (those are in step_parser.cc's
// table, with their keys).
constexpr K kScenario[] = {
    "$schema",    "id",      "title",    "description",     "rfc",
    "level",      "tags",    "requires", "requires_absent", "requires_plaintext",
    "timeout_ms", "include", "steps",    "delivery"};
constexpr K kRfc[] = {"document", "section", "url"};
constexpr K kFragment[] = {"$schema", "description", "steps"};
constexpr K kCommon[] = {"timeout_ms", "note", "inconclusive", "or_malformed"};
constexpr K kInconclusive[] = {"on", "because"};
constexpr K kExpectation[] = {"code", "text", "not_text", "ignore_case", "enhanced"};
constexpr K kProfile[] = {"$schema", "host",   "port", "tls",      "client_domain",
                          "rcpt",    "sender", "user", "password", "vars"};
constexpr K kEnvValue[] = {"env", "secret", "default"};

// The step object's keys: every step type, then the common keys.
std::span<const K> StepKeys() {
  static const std::vector<K> keys = [] {
    std::vector<K> out(StepTypeKeys().begin(), StepTypeKeys().end());
    out.insert(out.end(), std::begin(kCommon), std::end(kCommon));
    return out;
  }();
  return keys;
}

}  // namespace

std::span<const ObjectKeys> AcceptedKeys() {
  static const std::vector<ObjectKeys> all = [] {
    std::vector<ObjectKeys> out{
        {"scenario", kScenario},       {"rfc", kRfc},
        {"fragment", kFragment},       {"step", StepKeys()},
        {"expectation", kExpectation}, {"profile", kProfile},
        {"env_value", kEnvValue},      {"inconclusive", kInconclusive},
    };
    for (const StepType& t : StepTypes()) {
      if (!t.keys.empty()) out.push_back({t.name, t.keys});
    }
    return out;
  }();
  return all;
}

std::span<const std::string_view> KeysOf(std::string_view object) {
  for (const ObjectKeys& o : AcceptedKeys()) {
    if (o.object == object) return o.keys;
  }
  return {};
}

std::span<const std::string_view> StepTypeKeys() {
  static const std::vector<K> names = [] {
    std::vector<K> out;
    for (const StepType& t : StepTypes()) out.push_back(t.name);
    return out;
  }();
  return names;
}

std::span<const std::string_view> CommonStepKeys() { return kCommon; }

}  // namespace smtp::scenario
