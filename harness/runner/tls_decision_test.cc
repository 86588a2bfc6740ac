#include "harness/runner/tls_decision.h"

#include <string>

#include <gtest/gtest.h>

namespace smtp::runner {
namespace {

using scenario::TlsMode;

harness::Target MakeTarget(std::string_view spec) {
  absl::StatusOr<harness::Target> t = harness::ParseTarget(spec);
  EXPECT_TRUE(t.ok()) << spec << ": " << t.status();
  return t.ok() ? *t : harness::Target();
}

TEST(DecideTls, Table) {
  constexpr TlsMode kNone = TlsMode::kNone, kImplicit = TlsMode::kImplicit;
  const struct {
    const char* target;
    TlsMode profile;
    const char* flag;
    TlsMode want;
    bool probe_starttls;
  } kCases[] = {
      // No flag: the profile, or implicit for a tls: target.
      {"127.0.0.1:25", kNone, "", kNone, false},
      {"127.0.0.1:465", kImplicit, "", kImplicit, false},
      {"tls:127.0.0.1:465", kNone, "", kImplicit, false},
      {"exec:cat", kNone, "", kNone, false},
      // The flag overrides both.
      {"127.0.0.1:25", kNone, "implicit", kImplicit, false},
      {"127.0.0.1:465", kImplicit, "none", kNone, false},
      {"tls:127.0.0.1:465", kNone, "none", kNone, false},
      {"tls:127.0.0.1:465", kImplicit, "starttls", kNone, true},
      {"127.0.0.1:25", kNone, "starttls", kNone, true},
      {"exec:cat", kNone, "starttls", kNone, true},
      {"exec:cat", kImplicit, "none", kNone, false},
  };
  for (const auto& c : kCases) {
    const std::string label = std::string(c.target) + " profile " +
                              std::string(scenario::TlsModeName(c.profile)) + " --tls '" + c.flag +
                              "'";
    absl::StatusOr<TlsDecision> d = DecideTls(MakeTarget(c.target), c.profile, c.flag);
    ASSERT_TRUE(d.ok()) << label << ": " << d.status();
    EXPECT_EQ(d->default_tls, c.want) << label;
    EXPECT_EQ(d->probe_starttls, c.probe_starttls) << label;
  }
}

TEST(DecideTls, Refusals) {
  const struct {
    const char* target;
    TlsMode profile;
    const char* flag;
    const char* error;
  } kCases[] = {
      {"127.0.0.1:25", TlsMode::kNone, "tls", "--tls must be none, implicit or starttls"},
      {"127.0.0.1:25", TlsMode::kNone, "IMPLICIT", "--tls must be none, implicit or starttls"},
      {"exec:cat", TlsMode::kImplicit, "bogus", "--tls must be none, implicit or starttls"},
      {"exec:cat", TlsMode::kNone, "implicit", "implicit TLS is not available for exec: targets"},
      {"exec:cat", TlsMode::kImplicit, "", "implicit TLS is not available for exec: targets"},
  };
  for (const auto& c : kCases) {
    absl::StatusOr<TlsDecision> d = DecideTls(MakeTarget(c.target), c.profile, c.flag);
    ASSERT_FALSE(d.ok()) << c.target << " --tls " << c.flag;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().message(), c.error) << c.target << " --tls " << c.flag;
  }
}

}  // namespace
}  // namespace smtp::runner
