// A recorded session as a scenario (docs/scenarios.md) that checks the
// server still answers it the same way: the client's commands, bodies and
// chunks as they were sent, each followed by an `expect` of the recorded
// reply's code and, where it had one, its enhanced status code (never the
// free text, which names hosts, queue ids and times).
//
// Mapping, exchange by exchange (harness/replay/exchanges.h):
//   greeting                  connect, expect
//   a command                 send (send_raw when the line is not plain
//                             printable ASCII ending in CRLF), expect
//   a pipelined group         pipeline (send_raw of the whole group and one
//                             expect per reply when a unit is not a plain line)
//   DATA, 354, body, reply    data (data_raw when the body's wire form is
//                             not the canonical dot-stuffing of its content)
//   BDAT line and chunk       send_raw, expect
//   STARTTLS answered 2xx     starttls; after a TLS start the record did not
//                             see (tls_opaque) the scenario ends there
//   AUTH with secrets shown   its lines, literally
//   AUTH with "***" secrets   an auth step with the profile's ${user} and
//                             ${password} (PLAIN, LOGIN, CRAM-MD5, XOAUTH2;
//                             skipped by the runner when the profile has no
//                             credentials); other mechanisms end the scenario
//   QUIT and the peer closed  expect_close
// It ends early where the record does: a unit not answered, a unit cut off.
// `$` is written `$$` so nothing recorded reads as a variable. Level
// "policy" (an observed behaviour, not an RFC requirement), tag "recorded"
// (and "lmtp" for an LMTP session — one that sends LHLO or is greeted with a
// text naming LMTP — which only an LMTP target runs);
// the id, title and description name the session's source, time and
// endpoints, and the description lists what was left out.
#ifndef SMTP_HARNESS_REPLAY_TO_SCENARIO_H_
#define SMTP_HARNESS_REPLAY_TO_SCENARIO_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "results/session_file.h"

namespace smtp::replay {

struct ConvertedScenario {
  std::string id;                  // also the file name, id + ".json"
  std::string json;                // the scenario file's text, with a final newline
  std::size_t steps = 0;           // top-level steps written
  std::vector<std::string> notes;  // what was left out and why (also in the description)
};

// Converts one session. FailedPrecondition ("nothing to convert: ...") when
// there is no greeting or no command the server answered.
absl::StatusOr<ConvertedScenario> ToScenario(const harness::NamedTranscript& session);

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_TO_SCENARIO_H_
