#include "harness/runner/progress.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "harness/scenario/delivery.h"

namespace smtp::runner {
namespace {

// The order in which ExitSummaryLines lists levels (scenario::Level's).
constexpr std::array<std::string_view, 5> kLevelOrder = {"MUST", "SHOULD", "MAY", "policy",
                                                         "security"};

}  // namespace

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

std::vector<std::string> ExitSummaryLines(const harness::RunResult& run, int exit_status) {
  std::vector<std::string> levels(kLevelOrder.begin(), kLevelOrder.end());
  for (const harness::ScenarioResult& s : run.scenarios) {
    if (std::find(levels.begin(), levels.end(), s.level) == levels.end()) levels.push_back(s.level);
  }
  std::vector<std::string> lines;
  for (const std::string& level : levels) {
    const harness::Counts c = run.TotalsForLevel(level);
    if (c.total() == 0) continue;
    std::string line =
        level + ": " + std::to_string(c.fail) + " fail of " + std::to_string(c.total());
    if (run.Decides(level)) {
      if (c.fail > 0) line += " -> exit 1";
    } else if (c.fail > 0) {
      line += " (finding only, not in --fail_on)";
    }
    lines.push_back(std::move(line));
  }
  if (const int errors = run.Totals().error; errors > 0) {
    lines.push_back("error: " + std::to_string(errors) +
                    (errors == 1 ? " scenario" : " scenarios") +
                    " -> exit 2 (the harness could not judge them; see their reasons)");
  }
  for (const harness::ScenarioResult& s : run.scenarios) {
    if (s.id != "preflight.relay-trusted") continue;
    int skipped = 0;
    for (const harness::ScenarioResult& r : run.scenarios) {
      if (&r != &s && r.verdict == harness::Verdict::kSkip &&
          std::find(r.tags.begin(), r.tags.end(), "relay") != r.tags.end()) {
        ++skipped;
      }
    }
    lines.push_back("relay: " + std::to_string(skipped) + (skipped == 1 ? " check" : " checks") +
                    " skipped as " + s.reason);
  }
  int needs_delivery = 0, smuggling = 0;
  for (const harness::ScenarioResult& r : run.scenarios) {
    if (r.verdict != harness::Verdict::kSkip ||
        !r.reason.starts_with(scenario::kNeedsDeliveryPrefix))
      continue;
    ++needs_delivery;
    if (std::find(r.tags.begin(), r.tags.end(), "smuggling") != r.tags.end()) ++smuggling;
  }
  if (needs_delivery > 0) {
    std::string line = "no delivery: " + std::to_string(needs_delivery) +
                       (needs_delivery == 1 ? " scenario" : " scenarios") +
                       " that need one skipped (--no_deliver)";
    if (smuggling > 0) {
      line += ", " + std::to_string(smuggling) +
              " of them smuggling probes: their verdicts are "
              "unknown until they run against a server that may deliver";
    }
    lines.push_back(std::move(line));
  }
  const std::string status = std::to_string(exit_status);
  if (!run.stopped.empty()) lines.push_back("stopped: " + run.stopped + " -> exit " + status);
  lines.push_back("exit status " + status);
  return lines;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, ProgressStyle style,
                                 std::chrono::milliseconds min_interval)
    : out_(out), style_(style), min_interval_(min_interval), last_(start_) {}

ProgressPrinter::ProgressPrinter(std::FILE* out, ProgressStyle style)
    : ProgressPrinter(out, style,
                      style == ProgressStyle::kLog ? std::chrono::milliseconds(5'000)
                                                   : std::chrono::milliseconds(100)) {}

void ProgressPrinter::Update(const harness::Counts& so_far, int total) {
  if (style_ == ProgressStyle::kNone) return;
  std::lock_guard lock(mu_);
  counts_ = so_far;
  total_ = total;
  have_counts_ = true;
  const Clock::time_point now = Clock::now();
  const bool last_one = style_ == ProgressStyle::kTerminal && so_far.total() >= total;
  const bool first_draw = style_ == ProgressStyle::kTerminal && !drawn_;
  if (!last_one && !first_draw && now - last_ < min_interval_) return;
  PrintLocked(now);
}

void ProgressPrinter::Tick() {
  if (style_ != ProgressStyle::kLog) return;
  std::lock_guard lock(mu_);
  const Clock::time_point now = Clock::now();
  if (!have_counts_ || now - last_ < min_interval_) return;
  PrintLocked(now);
}

void ProgressPrinter::PrintLocked(Clock::time_point now) {
  last_ = now;
  const std::string line = ProgressLine(counts_, total_);
  if (style_ == ProgressStyle::kTerminal) {
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    drawn_ = true;
  } else {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
    std::fprintf(out_, "progress: %s (%llds)\n", line.c_str(), static_cast<long long>(secs));
  }
  std::fflush(out_);
}

void ProgressPrinter::Finish() {
  std::lock_guard lock(mu_);
  if (!drawn_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  drawn_ = false;
}

ProgressPrinter ProgressPrinter::For(std::FILE* out, std::chrono::milliseconds log_every) {
  if (isatty(fileno(out)) != 0) return ProgressPrinter(out, ProgressStyle::kTerminal);
  return ProgressPrinter(
      out,
      log_every > std::chrono::milliseconds::zero() ? ProgressStyle::kLog : ProgressStyle::kNone,
      log_every);
}

}  // namespace smtp::runner
