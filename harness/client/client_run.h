// Running the client suite (`run --client PROFILE`): for each scenario, a
// ScriptedServer on a fresh port, the profile's command for the scenario's
// mode with the placeholders filled in, the client's outcome and what it
// sent judged (JudgeClient) into the results model every report renders.
#ifndef SMTP_HARNESS_CLIENT_CLIENT_RUN_H_
#define SMTP_HARNESS_CLIENT_CLIENT_RUN_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/client/client_process.h"
#include "harness/client/client_profile.h"
#include "harness/client/client_scenario.h"
#include "harness/client/script_session.h"
#include "harness/tls_cert.h"
#include "results/results.h"

namespace smtp::client {

// The verdict of one scenario from what happened. Pure: the unit tests and
// the fuzzer's oracles call it without processes. Order: a crash, a hang,
// too slow, protocol violations, the message, the commands, the exit
// status; the first that fails decides, with expected vs actual.
struct Judgement {
  harness::Verdict verdict = harness::Verdict::kPass;
  std::string reason;
  std::optional<harness::Failure> failure;
};
Judgement JudgeClient(const ClientScenario& scenario, const ProcessOutcome& outcome,
                      const SessionRecord& record);

// Compares a message as received with the message file: nullopt when they
// are the same, also when the client only added the missing CRLF of the
// last line (§4.1.1.4) or header fields above the file's (an MUA composing
// its own header; `note` says so); else where they first differ.
std::optional<std::string> CompareMessage(std::string_view expected, std::string_view received,
                                          std::string* note = nullptr);

// Why a scenario cannot run with this profile ("" when it can): a mode the
// profile lacks, or a plaintext-auth scenario for a profile that allows it.
std::string SkipReason(const ClientProfile& profile, const ClientScenario& scenario);

struct ClientRunOptions {
  int jobs = 4;
  std::string work_dir;  // message files and the certificate; required
  Placeholders values;   // host, port, message and cafile are set per scenario
  // Once set, no new scenario starts (those running end by their own
  // deadlines) and the result says `stopped` (`stop_reason`).
  const std::atomic<bool>* stop = nullptr;
  std::function<std::string()> stop_reason;
  // Called after each scenario (from the job threads, serialized).
  std::function<void(const harness::ScenarioResult&, const harness::Counts&, int total)> progress;
};

// One scenario. `cert` is presented on STARTTLS; its PEM is in values.cafile.
harness::ScenarioResult RunClientScenario(const ClientProfile& profile,
                                          const ClientScenario& scenario,
                                          const harness::CertAndKey& cert,
                                          const ClientRunOptions& options);

// The suite, `jobs` scenarios at a time, in the scenarios' order in the
// result. Errors: the work directory or certificate cannot be made.
absl::StatusOr<harness::RunResult> RunClientSuite(const ClientProfile& profile,
                                                  const std::vector<ClientScenario>& scenarios,
                                                  const ClientRunOptions& options);

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_CLIENT_RUN_H_
