// `smtp-harness fuzz --client PROFILE`: the fuzzer is the server, the client
// under test is started once per iteration against it (docs/clientfuzz.md).
//
// The engine is a small greybox loop of its own rather than libFuzzer's:
// an input is a reply sequence (reply_script.h), not bytes, and every
// iteration is a process, so libFuzzer's in-process machinery buys nothing.
// Feedback: the client's AFL++ edge map (__AFL_SHM_ID, fuzz/net/afl_coverage.h,
// as `--spawn` uses for servers: hit counts in AFL's buckets) and state
// feedback from what the client sent (pairs of successive commands, with
// how the client ended and the violations it made). An input that adds
// either is kept in the corpus; parents are picked with a bias to the
// newest entries, each child gets 1-4 mutations (reply_mutator.h).
//
// A verdict (client_oracle.h) is re-run three times (deterministic or flaky;
// 0/3 is unconfirmed and not a finding), minimized unit by unit while it
// still lands in its bucket (bounded in runs and time), and written to
// OUT/findings/<bucket>/: scenario.json (the minimized reply sequence as a
// client scenario), finding.json, session.json (the transcript of the
// minimized run) and stderr.txt. OUT/fuzz.json and OUT/index.html (the
// fuzz report of reports/fuzz_report.h) are rewritten every 5 s and at the
// end; the corpus is kept in OUT/corpus/ (client scenario files, for
// --seeds). Stopping: -max_total_time (default 60 s), -runs, SIGINT / SIGTERM
// (fuzz/net/run_control.h: fuzz.json complete with the reason, exit 128 + N).
#ifndef SMTP_FUZZ_CLIENT_CLIENT_FUZZER_H_
#define SMTP_FUZZ_CLIENT_CLIENT_FUZZER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/net/afl_coverage.h"
#include "harness/client/client_profile.h"

namespace smtp::fuzz::client {

struct ClientFuzzConfig {
  smtp::client::ClientProfile profile;
  std::string profile_path;  // for the replay command printed
  smtp::client::ClientMode mode = smtp::client::ClientMode::kPlain;
  std::string out_dir;
  std::chrono::seconds max_total_time{60};
  std::optional<std::uint64_t> runs;  // iterations; unset: until the time is up
  std::uint64_t seed = 1;
  std::unique_ptr<AflCoverage> afl;  // null: state feedback only
  std::size_t minimize_runs = 400;
  std::chrono::milliseconds minimize_time{20'000};
  // Client scenario files whose server scripts seed the corpus.
  std::vector<std::string> seed_files;
};

// The whole run; the exit status: 0 the budget ran out, 1 fuzz.json could
// not be written, 2 a setup error (printed), 128 + N after signal N.
int RunClientFuzzer(ClientFuzzConfig config);

// `fuzz --client PROFILE --reproduce PATH`: PATH is a finding directory
// (its scenario.json and finding.json) or a client scenario file. Runs the
// client `times` times against the reply sequence and prints each verdict.
// Exit: 0 the finding reproduced (its bucket, or for a bare scenario any
// verdict) at least once, 1 it did not, 2 an error.
int ReproduceClientFinding(const smtp::client::ClientProfile& profile,
                           std::optional<smtp::client::ClientMode> mode, const std::string& path,
                           int times);

}  // namespace smtp::fuzz::client

#endif  // SMTP_FUZZ_CLIENT_CLIENT_FUZZER_H_
