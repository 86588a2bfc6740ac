// The embedded target: `smtp-harness run` without --target tests the
// embedded reference server (harness/server), started in-process for the
// run on an ephemeral loopback port, with AUTH test credentials and an
// in-memory sink the runner reads for expect_delivery steps.
//
// It greets at once (ServerConfig's default), so a scenario costs no pause.
// The early-talker scenarios (runner::kEarlyTalkerTag) need a server that
// listens before it greets, as Postfix postscreen does: they go to a second
// listener of the same configuration with that pause
// (kEarlyTalkerPregreetDelay), sharing the sink.
//
//   absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
//   ... run against t->endpoint.ToString(), profile user/password from t,
//       ExecutorOptions::deliveries = t->deliveries.get() ...
//   t->Stop();  // or let it go out of scope
#ifndef SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_
#define SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "harness/runner/deliveries.h"
#include "harness/server/server.h"

namespace smtp::run {

// The early-talker listener's pause before its greeting: long enough that a
// client that talks at once (the scenario's EHLO right after connect) is
// seen talking first on a loaded machine.
inline constexpr std::chrono::milliseconds kEarlyTalkerPregreetDelay{300};

struct EmbeddedTargetOptions {
  // The AUTH credentials it accepts. Not secrets: the server exists only for
  // the run, on loopback.
  std::string user = "test";
  std::string password = "secret";
};

// A running embedded server and what a run needs to test it. Move-only;
// destroying it stops the server.
struct EmbeddedTarget {
  std::unique_ptr<server::Server> server;  // serving on its own thread
  server::Endpoint endpoint;               // 127.0.0.1 and the port it got
  // The same server with kEarlyTalkerPregreetDelay, for the early-talker
  // scenarios (see above).
  std::unique_ptr<server::Server> early_talker_server;
  server::Endpoint early_talker_endpoint;
  // The messages it accepted (kept in memory), for expect_delivery steps.
  std::unique_ptr<runner::DeliveryLog> deliveries;
  std::string user;  // the credentials it accepts
  std::string password;

  // The label of the target in reports: "embedded:strict@127.0.0.1:PORT".
  std::string Label() const;
  // Stops the server gracefully (server::Server::Stop); idempotent.
  void Stop();
};

// Starts the strict reference server (ServerConfig defaults) on an ephemeral
// 127.0.0.1 port with `options`' credentials, and its early-talker twin on
// another. Every connection comes from
// the runner on one address, so there is no per-address connection limit,
// and the global limit leaves room for the most `--jobs` the runner allows
// (runner::kMaxJobs). Errors: the server's own (cannot bind, TLS setup).
absl::StatusOr<EmbeddedTarget> StartEmbeddedTarget(const EmbeddedTargetOptions& options = {});

}  // namespace smtp::run

#endif  // SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_
