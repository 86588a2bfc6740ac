#include "fuzz/net/minimize.h"

#include <algorithm>
#include <string>
#include <vector>

namespace smtp::fuzz {
namespace {

std::size_t PayloadBytes(const SessionInput& in) {
  std::size_t n = 0;
  for (const auto& s : in.steps) n += s.bytes.size();
  return n;
}

class Minimizer {
 public:
  Minimizer(const StillFails& f, std::size_t max_runs) : f_(f), max_runs_(max_runs) {}

  bool Try(const SessionInput& candidate) {
    if (runs_ >= max_runs_) return false;
    ++runs_;
    return f_(candidate);
  }
  bool exhausted() const { return runs_ >= max_runs_; }
  std::size_t runs() const { return runs_; }

  // ddmin over a sequence: remove chunks of size n/2, n/4 ... 1 while the
  // rest still fails. `make` builds a candidate from the kept items.
  template <typename T, typename Make>
  std::vector<T> DeltaDebug(std::vector<T> items, const Make& make) {
    std::size_t chunk = std::max<std::size_t>(items.size() / 2, 1);
    while (!items.empty() && !exhausted()) {
      bool removed = false;
      for (std::size_t start = 0; start < items.size() && !exhausted();) {
        std::vector<T> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
        const std::size_t end = std::min(items.size(), start + chunk);
        rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end());
        if (Try(make(rest))) {
          items = std::move(rest);
          removed = true;  // same start: the next chunk moved here
        } else {
          start += chunk;
        }
      }
      if (chunk == 1 && !removed) break;
      if (!removed) chunk = std::max<std::size_t>(chunk / 2, 1);
    }
    return items;
  }

 private:
  const StillFails& f_;
  std::size_t max_runs_;
  std::size_t runs_ = 0;
};

}  // namespace

SessionInput Minimize(const SessionInput& input, const StillFails& still_fails,
                      std::size_t max_runs, MinimizeStats* stats) {
  Minimizer m(still_fails, max_runs);
  SessionInput best = input;
  // Command level: which steps matter.
  best.steps = m.DeltaDebug(
      best.steps, [](const std::vector<SessionStep>& steps) { return SessionInput{steps}; });
  // A pipelined flag on the first step means nothing; drop the rest where
  // the finding does not need them.
  for (std::size_t i = 0; i < best.steps.size() && !m.exhausted(); ++i) {
    if (!best.steps[i].pipelined) continue;
    SessionInput c = best;
    c.steps[i].pipelined = false;
    if (m.Try(c)) best = std::move(c);
  }
  // Byte level: each payload in turn.
  for (std::size_t i = 0; i < best.steps.size() && !m.exhausted(); ++i) {
    const std::string& bytes = best.steps[i].bytes;
    std::vector<char> chars(bytes.begin(), bytes.end());
    const std::vector<char> kept = m.DeltaDebug(chars, [&](const std::vector<char>& cs) {
      SessionInput c = best;
      c.steps[i].bytes.assign(cs.begin(), cs.end());
      return c;
    });
    best.steps[i].bytes.assign(kept.begin(), kept.end());
  }
  if (stats != nullptr) {
    stats->runs = m.runs();
    stats->steps_before = input.steps.size();
    stats->steps_after = best.steps.size();
    stats->bytes_before = PayloadBytes(input);
    stats->bytes_after = PayloadBytes(best);
  }
  return best;
}

}  // namespace smtp::fuzz
