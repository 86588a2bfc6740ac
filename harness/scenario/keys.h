// The keys the loader accepts in each kind of JSON object, used by the loader
// to reject unknown keys and by schema_test to check that
// scenarios/schema.json describes exactly these keys: each `object` here is
// the name of a definition under the schema's "$defs". The step types, and
// the keys of those whose value is an object, come from the one table of
// step types (step_parser.cc); keys.cc holds the other kinds.
#ifndef SMTP_HARNESS_SCENARIO_KEYS_H_
#define SMTP_HARNESS_SCENARIO_KEYS_H_

#include <span>
#include <string_view>

namespace smtp::scenario {

struct ObjectKeys {
  std::string_view object;  // "scenario", "step", "expect", ...
  std::span<const std::string_view> keys;
};

// Every object kind and its keys.
std::span<const ObjectKeys> AcceptedKeys();
// The keys of one kind; empty for an unknown kind.
std::span<const std::string_view> KeysOf(std::string_view object);

// The step-type keys (exactly one per step), including "include", in the
// table's order.
std::span<const std::string_view> StepTypeKeys();
// Keys a step may carry besides its type ("inconclusive", "or_malformed" only with
// "expect").
std::span<const std::string_view> CommonStepKeys();

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_KEYS_H_
