// What a scenario may deliver, read from its steps before it runs: for the
// warning `run` prints before a run against someone's server ("this run may
// deliver up to N messages, to ...") and for the no-delivery mode
// (`run --no_deliver`), which must queue nothing on any server.
//
// The client's bytes are followed as a lenient server would read them, so
// the count is an upper bound: a line DATA after a RCPT starts a message;
// a '.' alone between any line ends (CRLF, a bare CR or LF, NULs around the
// dot: every end-of-data sequence the smuggling probes try) ends it, and the
// text after it is read as commands again (a smuggled second transaction
// counts too); BDAT ... LAST ends one; a new connection discards a message
// in progress. `data` and `data_raw` steps count only when their `accept`
// expectation allows 354, `bdat` ones when their final `expect` allows 250.
#ifndef SMTP_HARNESS_SCENARIO_DELIVERY_H_
#define SMTP_HARNESS_SCENARIO_DELIVERY_H_

#include <optional>
#include <string>
#include <vector>

#include "harness/scenario/scenario.h"
#include "harness/scenario/variables.h"

namespace smtp::scenario {

struct DeliveryEstimate {
  // At most this many messages may be queued by one run of the scenario.
  int messages = 0;
  // The forward-paths of the transactions that may be delivered, expanded
  // with the run's variables (a template's text where a variable is not
  // known before the run, e.g. a captured one), each once, in order.
  std::vector<std::string> recipients;
  // Every message comes from a `data` or `bdat` step, which --no_deliver
  // can replace with RSET (the state after RSET is the state after a
  // completed transaction: no transaction).
  bool only_data_steps = true;
};

// A `data` step may deliver when its `accept` allows 354; a `bdat` step
// when it ends with LAST and its final `expect` allows 250. These are the
// steps --no_deliver replaces with RSET.
bool DataStepMayDeliver(const DataStep& step);
bool BdatStepMayDeliver(const BdatStep& step);

// The estimate of one scenario (see the file comment). Never fails: a
// template that cannot be expanded is read as written.
DeliveryEstimate EstimateDeliveries(const Scenario& scenario, const Variables& vars);

// How --no_deliver treats a scenario.
enum class NoDeliveryPlan : std::uint8_t {
  kUnchanged,  // it may deliver nothing: runs as written
  kRset,       // "delivery": "incidental": each data/bdat step becomes RSET
  kSkip,       // it needs a delivery: skipped with NoDeliverySkipReason
};
NoDeliveryPlan PlanWithoutDelivery(const Scenario& scenario, const DeliveryEstimate& estimate);

// Why --no_deliver skips `scenario` (plan kSkip), with the number of
// messages and the recipients, e.g. for a smuggling probe (tag "smuggling"):
//   "needs a delivery (--no_deliver): a smuggling probe must send an end of
//   data, and a server that ends the message there delivers it (up to 2
//   messages, the smuggled one included, to user@example.test); its verdict
//   is unknown: run it against a test server"
// and for others "...: it checks the end of a message or what follows, and
// the server may deliver that message (up to 1 message to ...); ...".
std::string NoDeliverySkipReason(const Scenario& scenario, const DeliveryEstimate& estimate);

// The prefix of every NoDeliverySkipReason: how reports and the console
// summary recognise these skips.
inline constexpr std::string_view kNeedsDeliveryPrefix = "needs a delivery (--no_deliver)";

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_DELIVERY_H_
