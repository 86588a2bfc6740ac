#include "harness/runner/tls_decision.h"

namespace smtp::runner {

absl::StatusOr<TlsDecision> DecideTls(const harness::Target& target, scenario::TlsMode profile_tls,
                                      std::string_view tls_flag) {
  TlsDecision d;
  d.default_tls =
      target.kind == harness::Target::Kind::kTls ? scenario::TlsMode::kImplicit : profile_tls;
  if (tls_flag == "implicit") {
    d.default_tls = scenario::TlsMode::kImplicit;
  } else if (tls_flag == "starttls") {
    d.default_tls = scenario::TlsMode::kNone;
    d.probe_starttls = true;
  } else if (tls_flag == "none") {
    d.default_tls = scenario::TlsMode::kNone;
  } else if (!tls_flag.empty()) {
    return absl::InvalidArgumentError("--tls must be none, implicit or starttls");
  }
  if (d.default_tls == scenario::TlsMode::kImplicit &&
      target.kind == harness::Target::Kind::kExec) {
    return absl::InvalidArgumentError("implicit TLS is not available for exec: targets");
  }
  return d;
}

}  // namespace smtp::runner
