// scenarios/schema.json must describe exactly what the loader accepts: the
// same keys in every object kind (keys.h), the same step types, the same
// enumerations. A key added to the loader without the schema (or the other
// way round) fails here.
#include "harness/scenario/keys.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/scenario/scenario.h"
#include "harness/scenario/test_util.h"

namespace smtp::scenario {
namespace {

using nlohmann::json;

json LoadSchema() {
  std::ifstream in(testing::SourceDir() + "/scenarios/schema.json");
  EXPECT_TRUE(in.good());
  return json::parse(in);
}

// The property names of a definition, including those of its direct
// anyOf/oneOf branches (e.g. "expectation" is a code or an object).
std::set<std::string> Properties(const json& def) {
  std::set<std::string> keys;
  if (def.contains("properties")) {
    for (const auto& [k, v] : def["properties"].items()) keys.insert(k);
  }
  for (const char* combinator : {"anyOf", "oneOf"}) {
    if (!def.contains(combinator)) continue;
    for (const json& branch : def[combinator]) {
      if (branch.contains("properties")) {
        for (const auto& [k, v] : branch["properties"].items()) keys.insert(k);
      }
    }
  }
  return keys;
}

// Every {"$ref": "#/$defs/NAME"} in the schema.
void CollectRefs(const json& j, std::set<std::string>* refs) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "$ref" && v.is_string()) refs->insert(v.get<std::string>());
      CollectRefs(v, refs);
    }
  } else if (j.is_array()) {
    for (const json& v : j) CollectRefs(v, refs);
  }
}

TEST(Schema, IsDraft2020WithARootScenario) {
  const json schema = LoadSchema();
  EXPECT_EQ(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
  EXPECT_EQ(schema["$ref"], "#/$defs/scenario");
}

TEST(Schema, EveryLoaderKeyIsInTheSchemaAndNoOther) {
  const json schema = LoadSchema();
  const json& defs = schema["$defs"];
  for (const ObjectKeys& o : AcceptedKeys()) {
    const std::string name(o.object);
    ASSERT_TRUE(defs.contains(name)) << "schema lacks $defs/" << name;
    const std::set<std::string> in_schema = Properties(defs[name]);
    const std::set<std::string> in_loader(o.keys.begin(), o.keys.end());
    EXPECT_EQ(in_schema, in_loader) << "$defs/" << name;
  }
}

TEST(Schema, ObjectsAreClosed) {
  const json schema = LoadSchema();
  const json& defs = schema["$defs"];
  for (const ObjectKeys& o : AcceptedKeys()) {
    const json& def = defs[std::string(o.object)];
    bool closed = def.value("additionalProperties", true) == false;
    for (const char* c : {"anyOf", "oneOf"}) {
      if (!def.contains(c)) continue;
      for (const json& b : def[c])
        closed = closed || b.value("additionalProperties", true) == false;
    }
    EXPECT_TRUE(closed) << "$defs/" << o.object << " must set additionalProperties: false";
  }
}

TEST(Schema, StepRequiresExactlyOneStepType) {
  const json schema = LoadSchema();
  const json& step = schema["$defs"]["step"];
  std::set<std::string> alternatives;
  for (const json& alt : step["oneOf"]) {
    ASSERT_EQ(alt["required"].size(), 1u) << alt.dump();
    alternatives.insert(alt["required"][0].get<std::string>());
  }
  EXPECT_EQ(alternatives, std::set<std::string>(StepTypeKeys().begin(), StepTypeKeys().end()));
  // Each step type with an object body refers to the definition of that name.
  for (std::string_view type : StepTypeKeys()) {
    if (KeysOf(type).empty()) continue;
    EXPECT_EQ(step["properties"][std::string(type)]["$ref"], "#/$defs/" + std::string(type));
  }
}

TEST(Schema, EnumerationsMatchTheModel) {
  const json schema = LoadSchema();
  const json& defs = schema["$defs"];
  std::set<std::string> levels;
  for (Level l : {Level::kMust, Level::kShould, Level::kMay, Level::kPolicy, Level::kSecurity}) {
    levels.insert(std::string(LevelName(l)));
  }
  EXPECT_EQ(defs["scenario"]["properties"]["level"]["enum"].get<std::set<std::string>>(), levels);
  std::set<std::string> mechanisms;
  for (AuthMechanism m : {AuthMechanism::kPlain, AuthMechanism::kLogin, AuthMechanism::kCramMd5,
                          AuthMechanism::kXoauth2}) {
    mechanisms.insert(std::string(AuthMechanismName(m)));
  }
  EXPECT_EQ(defs["auth"]["properties"]["mechanism"]["enum"].get<std::set<std::string>>(),
            mechanisms);
  const std::set<std::string> tls{std::string(TlsModeName(TlsMode::kNone)),
                                  std::string(TlsModeName(TlsMode::kImplicit))};
  EXPECT_EQ(defs["connect"]["properties"]["tls"]["enum"].get<std::set<std::string>>(), tls);
}

TEST(Schema, EveryRefResolves) {
  const json schema = LoadSchema();
  std::set<std::string> refs;
  CollectRefs(schema, &refs);
  EXPECT_GT(refs.size(), 10u);
  for (const std::string& ref : refs) {
    ASSERT_EQ(ref.rfind("#/$defs/", 0), 0u) << ref;
    EXPECT_TRUE(schema["$defs"].contains(ref.substr(8))) << ref;
  }
}

TEST(Keys, TablesAreConsistent) {
  // The step object's keys are exactly the step types plus the common keys.
  std::set<std::string_view> step(KeysOf("step").begin(), KeysOf("step").end());
  std::set<std::string_view> want(StepTypeKeys().begin(), StepTypeKeys().end());
  want.insert(CommonStepKeys().begin(), CommonStepKeys().end());
  EXPECT_EQ(step, want);
  EXPECT_TRUE(KeysOf("no-such-object").empty());
  // The step types are distinct; StepTypeName gives each StepAction
  // alternative its own, and every step type but include names one.
  std::set<std::string_view> types(StepTypeKeys().begin(), StepTypeKeys().end());
  EXPECT_EQ(types.size(), StepTypeKeys().size());
  types.erase("include");
  std::set<std::string_view> action_names;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (action_names.insert(StepTypeName(StepAction(std::in_place_index<I>))), ...);
  }
  (std::make_index_sequence<std::variant_size_v<StepAction>>());
  EXPECT_EQ(action_names.size(), std::variant_size_v<StepAction>);
  EXPECT_EQ(action_names, types);
}

}  // namespace
}  // namespace smtp::scenario
