// PLANTED BUGS (Profile::kPlanted): the whole of them is in this file; see
// planted.h for the exact triggers. Each `if` below is one condition of a
// trigger, kept apart so that coverage-guided fuzzing is rewarded for each.
#include "harness/server/planted.h"

#include <cstdio>
#include <cstdlib>

#include "harness/server/session.h"
#include "parser/ascii.h"

namespace smtp::server {

bool PlantedHelpCrashes(std::string_view line) {
  if (line.size() < 7 || !EqualsIgnoreCase(line.substr(0, 4), "HELP")) return false;
  if (line[4] != ' ') return false;
  if (line[5] != '%') return false;
  if (line[6] != 'x') return false;
  return true;  // PLANTED BUG 1
}

void PlantedDeepBug::OnHello(Verb verb) {
  stage_ = verb == Verb::kEhlo ? Stage::kEhlo : Stage::kNone;
}

void PlantedDeepBug::OnTransactionReset() {
  if (stage_ != Stage::kNone) stage_ = Stage::kEhlo;
}

void PlantedDeepBug::OnMailAccepted(const EsmtpParams& params) {
  if (stage_ != Stage::kEhlo) return;
  if (params.body != BodyType::k8BitMime) return;
  stage_ = Stage::kMail8BitMime;
}

void PlantedDeepBug::OnRcptAccepted(const EsmtpParams& params) {
  if (stage_ == Stage::kMail8BitMime) {
    if (params.notify != kNotifyNever) return;
    stage_ = Stage::kRcptNotifyNever;
    return;
  }
  if (stage_ == Stage::kRcptNotifyNever) stage_ = Stage::kArmed;
}

bool PlantedDeepBug::BdatCrashes(const Command& c) const {
  if (stage_ != Stage::kArmed) return false;
  if (!c.bdat_last) return false;
  if (c.chunk_size != 0) return false;
  return true;  // PLANTED BUG 2
}

void Session::PlantedCrash(std::string_view why) {
  if (config_.planted_crash_aborts_process) {
    std::fprintf(stderr, "smtp-harness: %.*s: abort()\n", static_cast<int>(why.size()), why.data());
    std::fflush(stderr);
    std::abort();
  }
  // What a client sees of a server process that crashed: no reply, the
  // connection closes.
  writer_.reset();
  body_open_ = false;
  SetState(SessionState::kClosed, why);
  action_ = SessionAction::kAbort;
}

}  // namespace smtp::server
