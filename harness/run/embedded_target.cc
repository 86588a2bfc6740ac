#include "harness/run/embedded_target.h"

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "harness/runner/runner.h"
#include "harness/server/config.h"
#include "harness/server/sink.h"

namespace smtp::run {
namespace {

// Headroom over runner::kMaxJobs: the probe's connection and sessions still
// closing when the next scenario starts.
constexpr std::size_t kSpareConnections = 16;

// The server's in-memory sink as the runner's DeliveryLog.
class MemoryDeliveries : public runner::DeliveryLog {
 public:
  explicit MemoryDeliveries(std::shared_ptr<server::MemorySink> sink) : sink_(std::move(sink)) {}
  std::vector<runner::Delivery> From(const std::vector<std::string>& clients) const override {
    std::vector<runner::Delivery> out;
    for (server::StoredMessage& m : sink_->MessagesFrom(clients)) {
      const server::Envelope& e = m.info.envelope;
      out.push_back({e.client, e.mail_from, e.rcpt_to, std::move(m.body), m.truncated});
    }
    return out;
  }

 private:
  std::shared_ptr<server::MemorySink> sink_;
};

}  // namespace

std::string EmbeddedTarget::Label() const {
  return "embedded:" + std::string(server::ProfileName(server::Profile::kStrict)) + "@" +
         endpoint.ToString();
}

void EmbeddedTarget::Stop() {
  if (server) server->Stop();
  if (early_talker_server) early_talker_server->Stop();
}

absl::StatusOr<EmbeddedTarget> StartEmbeddedTarget(const EmbeddedTargetOptions& options) {
  server::ServerConfig config;
  config.credentials = {{options.user, options.password}};
  config.max_connections_per_ip = 0;
  config.max_connections =
      std::max<std::size_t>(config.max_connections, runner::kMaxJobs + kSpareConnections);
  auto sink = std::make_shared<server::MemorySink>();
  EmbeddedTarget target;
  target.deliveries = std::make_unique<MemoryDeliveries>(sink);
  server::ServerConfig early = config;
  early.pregreet_delay = kEarlyTalkerPregreetDelay;
  target.server = std::make_unique<server::Server>(std::move(config), sink);
  absl::StatusOr<server::Endpoint> endpoint = target.server->Start();
  if (!endpoint.ok()) return endpoint.status();
  target.endpoint = *std::move(endpoint);
  target.early_talker_server = std::make_unique<server::Server>(std::move(early), std::move(sink));
  absl::StatusOr<server::Endpoint> early_endpoint = target.early_talker_server->Start();
  if (!early_endpoint.ok()) return early_endpoint.status();
  target.early_talker_endpoint = *std::move(early_endpoint);
  target.user = options.user;
  target.password = options.password;
  return target;
}

}  // namespace smtp::run
