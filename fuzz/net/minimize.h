// Minimizing a finding: delta debugging (Zeller's ddmin) over a session's
// steps, then over the bytes of each step's payload, keeping every candidate
// for which `still_fails` holds (the same oracle fires in the same bucket).
// Bounded by a number of test runs, so a slow or flaky target cannot keep
// the fuzzer here.
#ifndef SMTP_FUZZ_NET_MINIMIZE_H_
#define SMTP_FUZZ_NET_MINIMIZE_H_

#include <cstddef>
#include <functional>

#include "results/session_input.h"

namespace smtp::fuzz {

using StillFails = std::function<bool(const SessionInput&)>;

struct MinimizeStats {
  std::size_t runs = 0;
  std::size_t steps_before = 0;
  std::size_t steps_after = 0;
  std::size_t bytes_before = 0;  // payload bytes
  std::size_t bytes_after = 0;
};

// Command level, then byte level; at most `max_runs` calls of `still_fails`.
// `input` itself is assumed to fail.
SessionInput Minimize(const SessionInput& input, const StillFails& still_fails,
                      std::size_t max_runs, MinimizeStats* stats = nullptr);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_MINIMIZE_H_
