// Where the shipped scenario suite is when no --suite is given, wherever
// the binary is run from.
#ifndef SMTP_APP_DEFAULT_SUITE_H_
#define SMTP_APP_DEFAULT_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::app {

// The places looked at, in order:
//   1. EXE_DIR/../share/smtp-harness/scenarios: an installed layout
//      (cmake --install: PREFIX/bin/smtp-harness beside
//      PREFIX/share/smtp-harness/scenarios);
//   2. the source tree the binary was built from (its scenarios/);
//   3. ./scenarios, relative to the working directory.
// EXE_DIR is the directory of /proc/self/exe (symlinks resolved).
std::vector<std::string> DefaultSuiteCandidates();

// The first candidate that is a directory; NotFound naming every place
// looked at (and --suite) when there is none.
absl::StatusOr<std::string> DefaultSuite();

// The shipped suite's fragments directory as a one-element list, for
// scenario::LoadOptions::fallback_fragment_dirs (a user's own suite can
// include "greeting" without a fragments/ of its own); empty when the
// shipped suite is not found.
std::vector<std::string> ShippedFragmentDirs();

// The shipped seeds of `fuzz` (session inputs): share/smtp-harness/seeds
// when installed, else corpus/fuzz_server_session of the source tree or of
// the working directory; "" when none is found.
std::string DefaultFuzzSeeds();
// The shipped libFuzzer dictionary (fuzz/smtp.dict, or share/smtp-harness/
// smtp.dict when installed); "" when none is found.
std::string DefaultFuzzDictionary();

}  // namespace smtp::app

#endif  // SMTP_APP_DEFAULT_SUITE_H_
