#include "harness/runner/progress.h"

#include <chrono>

namespace smtp::runner {

std::string ProgressLine(const harness::Counts& c, int total) {
  const std::string t = std::to_string(total);
  std::string done = std::to_string(c.total());
  if (done.size() < t.size()) done.insert(0, t.size() - done.size(), ' ');
  return "[" + done + "/" + t + "] pass " + std::to_string(c.pass) + " fail " +
         std::to_string(c.fail) + " skip " + std::to_string(c.skip) + " error " +
         std::to_string(c.error);
}

std::string SummaryLine(const harness::RunResult& run) {
  const harness::Counts c = run.Totals();
  std::string s = std::to_string(c.total()) + (c.total() == 1 ? " scenario: " : " scenarios: ") +
                  std::to_string(c.pass) + " pass, " + std::to_string(c.fail) + " fail, " +
                  std::to_string(c.skip) + " skip, " + std::to_string(c.error) + " error";
  const int must_fail = run.TotalsForLevel("MUST").fail;
  if (must_fail > 0) s += "; MUST: " + std::to_string(must_fail) + " fail";
  return s;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool enabled, int min_interval_ms)
    : out_(out), enabled_(enabled), min_interval_ms_(min_interval_ms) {}

void ProgressPrinter::Update(const harness::Counts& so_far, int total) {
  if (!enabled_) return;
  const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
  if (so_far.total() < total && last_ms_ >= 0 && now - last_ms_ < min_interval_ms_) return;
  last_ms_ = now;
  std::fprintf(out_, "\r%s\x1b[K", ProgressLine(so_far, total).c_str());
  std::fflush(out_);
  drawn_ = true;
}

void ProgressPrinter::Finish() {
  if (!drawn_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  drawn_ = false;
}

}  // namespace smtp::runner
