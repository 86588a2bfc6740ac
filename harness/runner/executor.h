// The step executor: runs one Scenario (harness/scenario/scenario.h) over the
// Session engine and turns what the server did into a ScenarioResult
// (results/results.h) with a verdict, the failing step, and the transcript.
//
// Verdicts:
//   pass   every step met its expectation;
//   fail   the server contradicted an expectation: a wrong reply, no reply
//          within the step's deadline, a malformed reply, an unexpected close
//          or reset, bytes where silence was expected, a failed STARTTLS
//          handshake, plaintext injected after the 220 to STARTTLS;
//   error  our side or the environment: the connection could not be opened
//          (refused, unreachable, connect timeout), the scenario's whole time
//          budget ran out, a template could not be expanded, the transport
//          cannot do what the step asks (STARTTLS over exec:/memory);
//   skip   decided by the runner before the executor starts (`requires`,
//          ...), or by a step that finds the requirement does not apply to
//          this server (a `data` step whose `pad_to` is "" or 0).
//
// Deadlines are absolute: each step gets min(now + step timeout, scenario
// budget); a slow drip of bytes cannot stretch either. When the budget is
// what expired the verdict is error ("time budget exhausted"), otherwise the
// step's own deadline expired and the server is to blame (fail).
//
// Secrets: every value the Variables mark secret, and every value derived
// from one here (AUTH blobs, CRAM-MD5 answers, literal auth passwords), is
// replaced by "***" in the transcript, the reason and the failure before the
// result is returned (RedactResult).
#ifndef SMTP_HARNESS_RUNNER_EXECUTOR_H_
#define SMTP_HARNESS_RUNNER_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "absl/status/status.h"
#include "harness/runner/deliveries.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/variables.h"
#include "harness/session.h"
#include "harness/transport.h"
#include "results/results.h"

namespace smtp::runner {

namespace asio = boost::asio;

// Opens the connection of a `connect` step on `session` (Session::Connect or
// Session::Attach), with TLS from the first byte when `implicit_tls`. An
// error status is an environment error (refused, unreachable, timeout).
using Connector = std::function<asio::awaitable<absl::Status>(
    harness::Session& session, bool implicit_tls, harness::Deadline deadline)>;

// A Connector for a real target: tcp/tls host:port (implicit_tls picks TLS
// or plain on the same host and port) or exec:COMMAND (no implicit TLS).
Connector TargetConnector(harness::Target target);

class RateLimiter;

struct ExecutorOptions {
  // Deadline of each step that sets no timeout_ms.
  std::chrono::milliseconds step_timeout{10'000};
  // Budget of a scenario that sets no timeout_ms.
  std::chrono::milliseconds scenario_timeout{120'000};
  // Mode of `connect` steps that do not say "tls".
  scenario::TlsMode default_tls = scenario::TlsMode::kNone;
  // Closing our side at the end of a scenario.
  std::chrono::milliseconds close_timeout{2'000};
  harness::SessionOptions session;
  // Connection-rate limit shared by every scenario of a run; may be null.
  // The first connect of a scenario takes its token before the scenario's
  // budget starts, so waiting for the limiter never counts against it.
  RateLimiter* limiter = nullptr;
  // What the target delivered (deliveries.h); null: `expect_delivery`
  // scenarios are skipped by the runner.
  const DeliveryLog* deliveries = nullptr;
  // run --no_deliver: a `data` or `bdat` step that may deliver
  // (scenario::DataStepMayDeliver, BdatStepMayDeliver) sends RSET instead
  // and expects 250, so the transaction ends with no message. The runner
  // skips the scenarios whose messages come otherwise or that are not
  // marked "delivery": "incidental" (scenario/delivery.h).
  bool no_deliver = false;
  // The whole run's deadline: every scenario budget ends there at the latest.
  harness::Deadline run_deadline = harness::Deadline::max();
  // Set when the run is being stopped: no further step starts (the scenario
  // ends as an error) and closing is brief. May be null.
  const std::atomic<bool>* stop = nullptr;
};

// The metadata part of a ScenarioResult (id, title, rfc, level, tags, file,
// group); verdict kError and no transcript. `file` is the scenario's
// suite_file when LoadSuite set one, else its file. `group` is "<document>
// §<first two section numbers>", e.g. "RFC 5321 §4.1".
harness::ScenarioResult DescribeScenario(const scenario::Scenario& s);

// Runs `s` with variables `vars` (profile values; captures are added to a
// copy). Never throws for server behaviour; an exception from our code is
// turned into an error verdict. The result's transcript is redacted.
asio::awaitable<harness::ScenarioResult> RunScenario(const scenario::Scenario& s,
                                                     const scenario::Variables& vars,
                                                     const Connector& connector,
                                                     const ExecutorOptions& options);

// Replaces every secret of `vars` (Variables::SecretValues) with "***" in the
// result's reason, failure and transcript, by results/redact.h's rules: the
// transcript's data is redacted per direction as one stream, so a secret the
// server echoed in many small writes is found across chunks
// (Transcript::RedactStreams); the texts are redacted with the secrets'
// escaped forms too. Byte totals of the transcript stay those of the wire.
void RedactResult(const scenario::Variables& vars, harness::ScenarioResult* result);

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_EXECUTOR_H_
