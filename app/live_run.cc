#include "app/live_run.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include "harness/wall_clock.h"
#include "reports/reports.h"
#include "results/absl_compat.h"

namespace smtp::app {
namespace {

using Clock = std::chrono::steady_clock;

// SIGUSR2 only wakes the watcher (from Finish and the destructor).
constexpr int kWakeSignal = SIGUSR2;

sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, kWakeSignal);
  return set;
}

// Waits at most `d` for one of `set`; returns it, or 0 on timeout.
int WaitSignal(const sigset_t& set, Clock::duration d) {
  if (d < Clock::duration::zero()) d = Clock::duration::zero();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  for (;;) {
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    if (errno == EINTR) continue;
    return 0;  // EAGAIN: timeout
  }
}

bool IsStopSignal(int sig) { return sig == SIGINT || sig == SIGTERM; }

}  // namespace

void BlockStopSignals() {
  const sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string SignalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "signal " + std::to_string(sig);
  }
}

LiveRun::LiveRun(LiveRunOptions options) : options_(std::move(options)) {
  // Blocked here, before any other thread exists, so every thread started
  // later inherits the mask and only the watcher takes these signals.
  BlockStopSignals();
  watcher_ = std::thread([this] { Watch(); });
}

LiveRun::~LiveRun() {
  done_ = true;
  if (watcher_.joinable()) {
    pthread_kill(watcher_.native_handle(), kWakeSignal);
    watcher_.join();
  }
}

void LiveRun::Watch() {
  const sigset_t set = WatchedSignals();
  auto next_snapshot = Clock::now() + options_.snapshot_interval;
  while (!done_) {
    const int sig = WaitSignal(set, next_snapshot - Clock::now());
    if (done_) return;
    if (sig == 0) {
      if (options_.tick) options_.tick();
      WriteSnapshot(/*all_reports=*/false);
      next_snapshot = Clock::now() + options_.snapshot_interval;
      continue;
    }
    if (!IsStopSignal(sig)) continue;
    signal_ = sig;
    std::fprintf(stderr, "smtp-harness: %s: stopping; reports go to %s\n", SignalName(sig).c_str(),
                 options_.out_dir.c_str());
    options_.stop("interrupted by " + SignalName(sig));
    const auto until = Clock::now() + options_.grace;
    while (!done_ && Clock::now() < until) {
      const int again = WaitSignal(
          set, std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
      if (IsStopSignal(again)) break;  // a second signal: no more grace
    }
    if (done_) return;  // Finish writes the reports
    WriteSnapshot(/*all_reports=*/true);
    std::fflush(nullptr);
    _exit(128 + sig);
  }
}

void LiveRun::WriteSnapshot(bool all_reports) {
  std::lock_guard lock(write_mu_);
  if (finished_) return;
  harness::RunResult run = options_.snapshot();
  if (options_.finalize) options_.finalize(run);
  run.complete = false;
  absl::Status st = all_reports
                        ? reports::WriteAllReports(run, options_.out_dir)
                        : harness::WriteRunResult(
                              run, options_.out_dir + "/" + std::string(reports::kResultsFile));
  if (!st.ok()) {
    std::fprintf(stderr, "smtp-harness: snapshot: %s\n", Message(st).c_str());
  }
}

int LiveRun::Finish(harness::RunResult& result) {
  done_ = true;
  if (watcher_.joinable()) {
    pthread_kill(watcher_.native_handle(), kWakeSignal);
    watcher_.join();
  }
  std::lock_guard lock(write_mu_);
  finished_ = true;
  if (options_.finalize) options_.finalize(result);
  if (signal_ != 0) result.complete = false;
  absl::Status st = reports::WriteAllReports(result, options_.out_dir);
  if (!st.ok()) {
    std::fprintf(stderr, "smtp-harness: %s\n", Message(st).c_str());
    return 2;
  }
  if (signal_ != 0) return 128 + signal_;
  return result.ExitStatus();
}

std::string MakeOutDir(const std::string& given, std::string_view prefix, std::string* error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!given.empty()) {
    fs::create_directories(given, ec);
    if (ec) {
      *error = "cannot create " + given + ": " + ec.message();
      return "";
    }
    return given;
  }
  const std::string stamp = std::string(prefix) + harness::UtcNow("-%Y%m%d-%H%M%S");
  std::string name = stamp;
  for (int i = 2; fs::exists(fs::path("out") / name); ++i) name = stamp + "-" + std::to_string(i);
  fs::create_directories(fs::path("out") / name, ec);
  if (ec) {
    *error = "cannot create out/" + name + ": " + ec.message();
    return "";
  }
  const fs::path latest = fs::path("out") / "latest";
  fs::remove(latest, ec);
  fs::create_directory_symlink(name, latest, ec);  // best effort
  return (fs::path("out") / name).string();
}

}  // namespace smtp::app
