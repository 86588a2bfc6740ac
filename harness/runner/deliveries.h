// Deliveries: what the target did with the mail it accepted, for scenarios
// that check the delivered message (`expect_delivery`: trace fields, dot
// unstuffing, 8-bit transparency, case preservation, non-delivery). Only a
// target whose sink the runner can read offers them — today the embedded
// server (`run` without --target keeps its messages in memory); against any
// other target such scenarios are skipped ("target offers no deliveries"),
// unless the run names the JSONL file of `smtp-harness serve --sink jsonl:`
// (`run --deliveries jsonl:PATH`, read by JsonlDeliveries).
//
// A delivery belongs to a scenario when it was sent over one of the
// scenario's connections: the server records the client address
// ("127.0.0.1:40000"), the executor knows its own (Transport::local()).
#ifndef SMTP_HARNESS_RUNNER_DELIVERIES_H_
#define SMTP_HARNESS_RUNNER_DELIVERIES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::runner {

struct Delivery {
  std::string client;                // the sending connection, "127.0.0.1:40000"
  std::string mail_from;             // reverse-path mailbox, "" for <>
  std::vector<std::string> rcpt_to;  // forward-path mailboxes, in order
  std::string content;               // the message as stored (trace fields included)
  bool truncated = false;            // the sink kept only a prefix of the content
};

class DeliveryLog {
 public:
  virtual ~DeliveryLog() = default;
  // The deliveries sent over any of `clients`, oldest first. Thread-safe:
  // the target may run on another thread.
  virtual std::vector<Delivery> From(const std::vector<std::string>& clients) const = 0;
};

// The JSONL sink of the embedded server (one object per accepted message:
// "envelope" with "client", "mail_from", "rcpt_to"; "body_b64" when the
// server ran with --sink_body_limit > 0, "body_truncated"). Re-read on every
// call; lines that are not such objects are ignored; of a file over kMaxBytes
// only the newest kMaxBytes are read.
class JsonlDeliveries : public DeliveryLog {
 public:
  static constexpr std::size_t kMaxBytes = 256u << 20;
  explicit JsonlDeliveries(std::string path) : path_(std::move(path)) {}
  std::vector<Delivery> From(const std::vector<std::string>& clients) const override;

 private:
  std::string path_;
};

// Parses `--deliveries`: "jsonl:PATH". InvalidArgument otherwise.
absl::StatusOr<std::string> ParseDeliveriesSpec(std::string_view spec);

}  // namespace smtp::runner

#endif  // SMTP_HARNESS_RUNNER_DELIVERIES_H_
