// A recorded session as fuzz seeds: inputs for the parser fuzzers
// (fuzz/fuzz_command.cc, fuzz_reply.cc, fuzz_data.cc, each with the option
// header its comment describes, set to strict defaults) and one input for
// the network fuzzer (results/session_input.h).
#ifndef SMTP_HARNESS_REPLAY_TO_CORPUS_H_
#define SMTP_HARNESS_REPLAY_TO_CORPUS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "harness/replay/exchanges.h"
#include "results/corpus_name.h"
#include "results/session_input.h"

namespace smtp::replay {

// The network fuzzer's input for a session: the greeting is implicit; each
// command line is a command step (a SASL line too), a DATA command answered
// 354 and its body one data step when the body's wire form is the canonical
// dot-stuffing of its content (else a command step "DATA" and a raw step),
// a BDAT line in canonical form with its chunk a bdat step (else raw), a
// STARTTLS that started TLS a starttls step, the bytes the record ends in
// the middle of a raw step. Every unit after the first of an exchange is
// `pipelined`. Stops at a TLS start the record did not see.
fuzz::SessionInput ToSessionInput(const Exchanges& x);

struct CorpusSeed {
  std::string target;  // the directory: "fuzz_command", "fuzz_reply", "fuzz_data", "session"
  std::string bytes;   // the file's content, option header included
};

// Seeds of one session: each command line (fuzz_command, with its line
// end), each reply as received (fuzz_reply), each DATA body and BDAT chunk
// as sent after its command line (fuzz_data; a chunk with its size in the
// header), and the session input (session).
std::vector<CorpusSeed> CorpusSeeds(const Exchanges& x);

// Lower-case hex SHA-1 of `bytes`: the name libFuzzer gives a corpus file.
using fuzz::Sha1Hex;

// Writes each seed to DIR/<target>/<Sha1Hex(bytes)>, creating directories;
// a file that exists already holds the same bytes and is left alone.
// Returns how many files were new.
absl::StatusOr<std::size_t> WriteCorpus(const std::vector<CorpusSeed>& seeds,
                                        const std::string& dir);

}  // namespace smtp::replay

#endif  // SMTP_HARNESS_REPLAY_TO_CORPUS_H_
