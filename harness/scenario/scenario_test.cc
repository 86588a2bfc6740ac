#include "harness/scenario/scenario.h"

#include <optional>

#include <gtest/gtest.h>

namespace smtp::scenario {
namespace {

TEST(ParseLevel, ExactNamesOnly) {
  EXPECT_EQ(ParseLevel("MUST"), Level::kMust);
  EXPECT_EQ(ParseLevel("policy"), Level::kPolicy);
  // A scenario file says the level as LevelName writes it (schema.json).
  EXPECT_EQ(ParseLevel("must"), std::nullopt);
  EXPECT_EQ(ParseLevel("Policy"), std::nullopt);
}

TEST(ParseLevelIgnoringCase, EveryCasing) {
  const struct {
    const char* name;
    std::optional<Level> want;
  } kCases[] = {
      {"MUST", Level::kMust},         {"must", Level::kMust},
      {"Must", Level::kMust},         {"SHOULD", Level::kShould},
      {"should", Level::kShould},     {"may", Level::kMay},
      {"MAY", Level::kMay},           {"policy", Level::kPolicy},
      {"POLICY", Level::kPolicy},     {"Policy", Level::kPolicy},
      {"security", Level::kSecurity}, {"SECURITY", Level::kSecurity},
      {"sEcUrItY", Level::kSecurity}, {"", std::nullopt},
      {"mus", std::nullopt},          {"musts", std::nullopt},
      {"MUST ", std::nullopt},        {"recommended", std::nullopt},
  };
  for (const auto& c : kCases) EXPECT_EQ(ParseLevelIgnoringCase(c.name), c.want) << c.name;
}

TEST(ParseLevelIgnoringCase, InverseOfLevelName) {
  for (Level l : {Level::kMust, Level::kShould, Level::kMay, Level::kPolicy, Level::kSecurity}) {
    EXPECT_EQ(ParseLevelIgnoringCase(LevelName(l)), l);
  }
}

}  // namespace
}  // namespace smtp::scenario
