// The embedded target: `smtp-harness run` without --target tests the
// embedded reference server (harness/server), started in-process for the
// run on an ephemeral loopback port, with AUTH test credentials and an
// in-memory sink the runner reads for expect_delivery steps.
//
//   absl::StatusOr<EmbeddedTarget> t = StartEmbeddedTarget();
//   ... run against t->endpoint.ToString(), profile user/password from t,
//       ExecutorOptions::deliveries = t->deliveries.get() ...
//   t->Stop();  // or let it go out of scope
#ifndef SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_
#define SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "harness/runner/deliveries.h"
#include "harness/server/server.h"

namespace smtp::run {

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
// 127.0.0.1 port with `options`' credentials. Every connection comes from
// the runner on one address, so there is no per-address connection limit,
// and the global limit leaves room for the most `--jobs` the runner allows
// (runner::kMaxJobs). Errors: the server's own (cannot bind, TLS setup).
absl::StatusOr<EmbeddedTarget> StartEmbeddedTarget(const EmbeddedTargetOptions& options = {});

}  // namespace smtp::run

#endif  // SMTP_HARNESS_RUN_EMBEDDED_TARGET_H_
