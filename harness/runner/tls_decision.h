// How a run uses TLS: decided once from the target, the target profile and
// `run --tls`, before anything connects.
#ifndef SMTP_HARNESS_RUNNER_TLS_DECISION_H_
#define SMTP_HARNESS_RUNNER_TLS_DECISION_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "harness/scenario/scenario.h"
#include "harness/transport.h"

namespace smtp::runner {

struct TlsDecision {
  // How scenarios connect when their connect step does not say
  // (ExecutorOptions::default_tls).
  scenario::TlsMode default_tls = scenario::TlsMode::kNone;
  // The probe upgrades with STARTTLS to record the TLS details
  // (RunnerOptions::probe_starttls).
  bool probe_starttls = false;
};

// The profile's `tls`, made implicit by a tls: target; then `tls_flag`, when
// not empty, decides alone: "none", "implicit", or "starttls" (plaintext
// connections, and the probe upgrades). InvalidArgument:
//   "--tls must be none, implicit or starttls"        another flag value
//   "implicit TLS is not available for exec: targets" implicit on exec:
absl::StatusOr<TlsDecision> DecideTls(const harness::Target& target, scenario::TlsMode profile_tls,
                                      std::string_view tls_flag);

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_TLS_DECISION_H_
