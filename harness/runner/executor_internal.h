// Internal to harness/runner/executor*.cc: the per-scenario executor state.
// executor.cc holds the framework and the simple steps; executor_exchanges.cc
// the multi-reply exchanges (starttls, auth, data, data_raw, bdat).
#ifndef SMTP_HARNESS_RUNNER_EXECUTOR_INTERNAL_H_
#define SMTP_HARNESS_RUNNER_EXECUTOR_INTERNAL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/runner/executor.h"
#include "parser/reply.h"

namespace smtp::runner::internal {

using harness::Clock;
using harness::Deadline;
using harness::Verdict;

// Unexpected bytes quoted in a failure are cut to this many.
inline constexpr std::size_t kMaxQuotedBytes = 256;
// A `data` body padded with `pad_to` is at most this long.
inline constexpr std::uint64_t kMaxPaddedBody = 256u << 20;

// What one step (or one part of an exchange) came to.
struct Outcome {
  Verdict verdict = Verdict::kPass;
  std::string expected;
  std::string actual;
  std::string message;
  // kPass only: an allowed alternative answer (expect_silence's or_close,
  // or_reply) ends the scenario here, passed; `message` is then its reason.
  bool ends_scenario = false;
  bool malformed = false;  // a reply arrived that the strict reader rejects
  int malformed_code = 0;  // with `malformed`: its reply code, when it began with one
  bool ok() const { return verdict == Verdict::kPass; }
};
Outcome Pass();
Outcome Fail(std::string expected, std::string actual, std::string message);
Outcome Error(std::string message);
// The requirement does not apply to this server (found out while running).
Outcome NotApplicable(std::string message);

// Pads `body` with filler lines to more than pad_to + extra octets (a `data`
// step's pad_to after expansion). Not applicable when pad_to is "" or 0 or
// over kMaxPaddedBody; an error when it is not a decimal number.
Outcome Pad(std::string_view pad_to, int extra, std::string* body);
// Waits (without reading) until `until`.
asio::awaitable<void> SleepUntil(Deadline until);
// The last hello command among the lines of `bytes` (a write).
enum class HelloKind : std::uint8_t { kNone, kBasic, kExtended };  // -, HELO, EHLO/LHLO
HelloKind FindHello(std::string_view bytes);
// Escaped (transcript notation) and cut to kMaxQuotedBytes.
std::string Quote(std::string_view bytes);
// "250-mx\n250 SIZE 10": the reply as received, one line per line.
std::string ReplyText(const Reply& reply);

class Executor {
 public:
  Executor(const scenario::Scenario& s, const scenario::Variables& vars, const Connector& connector,
           const ExecutorOptions& options);

  asio::awaitable<harness::ScenarioResult> Run();

 private:
  // Runs `steps` until one does not pass; false then, with failure_ set.
  asio::awaitable<bool> RunSteps(const std::vector<scenario::Step>& steps, Deadline outer,
                                 const std::string& iteration);

  // One step. `d` is its deadline, `outer` the enclosing one (scenario
  // budget or a timed repeat).
  asio::awaitable<Outcome> Do(const scenario::ConnectStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::SendStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::SendRawStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::ExpectStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::ExpectCloseStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::ExpectSilenceStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::PipelineStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::StartTlsStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::AuthStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::DataStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::DataRawStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::BdatStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::CaptureStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::SleepStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::RepeatStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::ExpectDeliveryStep& a, Deadline d, Deadline outer);
  asio::awaitable<Outcome> Do(const scenario::RequireStep& a, Deadline d, Deadline outer);
  // Checks one delivery against the step; `what` names it ("delivery 1/2: ").
  Outcome CheckDelivery(const scenario::ExpectDeliveryStep& a, const Delivery& got,
                        const std::string& contains, std::string_view what) const;
  // This scenario's deliveries so far (each connection's, oldest first).
  std::vector<Delivery> Deliveries() const;

  // Sends `bytes`; a lost connection is a failure, a blocked write past the
  // deadline a timeout (TimedOut).
  asio::awaitable<Outcome> SendBytes(std::string_view bytes, Deadline d);
  // Reads one reply into last_reply_ and, when `expect` is given, checks it.
  // `what` prefixes messages ("pipeline reply 2/3: ").
  asio::awaitable<Outcome> Read(Deadline d, const scenario::Expectation* expect,
                                std::string_view what = {});
  // expect_silence's allowed alternative `what` happened: passes, ends the
  // scenario, and records the step's or_note.
  Outcome Alternative(const scenario::ExpectSilenceStep& a, std::string_view what);
  // Reads an intermediate reply of an exchange: 334 (`*more` = true) goes on;
  // anything else ends the exchange and is checked against `final`.
  asio::awaitable<Outcome> ReadChallenge(Deadline d, const scenario::Expectation& final,
                                         bool* more);
  // --no_deliver: RSET and 250 instead of a data or bdat step's message.
  asio::awaitable<Outcome> RsetInsteadOfMessage(Deadline d);
  // DATA and its first reply; `*go_on` when it was 354.
  asio::awaitable<Outcome> StartData(const scenario::Expectation& accept, Deadline d, bool* go_on);

  Outcome Check(const scenario::Expectation& expect, const Reply& reply, std::string_view what,
                std::string expected = {}) const;
  // A deadline passed: error when it was the scenario budget, else fail with
  // "<what> within N ms".
  Outcome TimedOut(Deadline d, std::string expected, std::string actual,
                   std::string_view what) const;
  // Expands a template; on error `*out` is untouched and an error returned.
  Outcome Expand(const scenario::Template& t, std::string* out) const;
  std::string StepMs(Deadline d) const;

  const scenario::Scenario& scenario_;
  scenario::Variables vars_;
  const Connector& connector_;
  const ExecutorOptions& options_;
  harness::Session session_;
  Clock::duration budget_len_{};
  Deadline budget_{};
  Clock::time_point step_start_{};
  std::optional<Reply> last_reply_;
  // The last write began with EHLO/LHLO: its reply says whether STARTTLS is
  // offered on this connection (for `starttls` with `if_offered`).
  bool ehlo_pending_ = false;
  bool starttls_offered_ = false;
  // Our end of every connection this scenario opened (Transport::local()),
  // to find its deliveries, with the number of deliveries the log already
  // held for that address when the connection opened.
  struct Client {
    std::string address;
    std::size_t deliveries_before = 0;
  };
  std::vector<Client> clients_;
  const bool uses_deliveries_;  // scenario::UsesDeliveries(scenario_)
  int executed_ = -1;           // index of the step running
  bool prepaid_connect_ = false;
  Verdict verdict_ = Verdict::kPass;
  std::optional<harness::Failure> failure_;
  std::string skip_reason_;  // verdict_ is kSkip: why the requirement does not apply
  // A step ended the scenario early, passed (Outcome::ends_scenario), and why.
  bool ended_ = false;
  std::string pass_reason_;
};

}  // namespace smtp::runner::internal

#endif  // SMTP_HARNESS_RUNNER_EXECUTOR_INTERNAL_H_
