// Deterministic fault injection for Profile::kFaulty.
#ifndef SMTP_HARNESS_SERVER_PROFILE_H_
#define SMTP_HARNESS_SERVER_PROFILE_H_

#include <cstdint>

#include "harness/server/config.h"

namespace smtp::server {

enum class Fault : std::uint8_t {
  kNone,
  kTempFail,    // a 4xx reply instead of the normal one
  kShutdown,    // "421 4.3.0" and close
  kDisconnect,  // close without a reply
};

// A fault decision per fault point reached. The sequence depends only on
// (options.seed, session_id) and the order of calls, so a run can be
// reproduced. A default-constructed or disabled injector never faults.
class FaultInjector {
 public:
  FaultInjector() = default;
  FaultInjector(const FaultOptions& options, std::uint64_t session_id);

  // The fault to inject at `point` (one FaultPoint bit), or kNone. Draws one
  // number per call when the point is enabled.
  Fault Roll(FaultPoint point);

 private:
  double Next();  // uniform in [0, 1)

  bool enabled_ = false;
  FaultOptions options_;
  std::uint64_t state_ = 0;
};

}  // namespace smtp::server

#endif  // SMTP_HARNESS_SERVER_PROFILE_H_
