// Shared by the scenario tests: run from harness/scenario/testdata so that
// file names in error messages are short and stable.
#ifndef SMTP_HARNESS_SCENARIO_TEST_UTIL_H_
#define SMTP_HARNESS_SCENARIO_TEST_UTIL_H_

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace smtp::scenario::testing {

class InTestdata : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = std::filesystem::current_path();
    std::filesystem::current_path(SMTP_SCENARIO_TESTDATA);
  }
  void TearDown() override { std::filesystem::current_path(saved_); }

 private:
  std::filesystem::path saved_;
};

// The repository root (for scenarios/schema.json and scenarios/fragments).
inline std::string SourceDir() { return SMTP_SOURCE_DIR; }

}  // namespace smtp::scenario::testing

#endif  // SMTP_HARNESS_SCENARIO_TEST_UTIL_H_
