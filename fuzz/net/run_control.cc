#include "fuzz/net/run_control.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace smtp::fuzz {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
std::FILE* g_console = nullptr;

extern "C" void OnStopSignal(int sig) {
  if (g_stop_signal == 0) g_stop_signal = sig;
}

}  // namespace

void InstallStopHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int StopSignal() { return g_stop_signal; }

std::string StopReason(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return "interrupted by " +
         (abbrev != nullptr ? "SIG" + std::string(abbrev) : "signal " + std::to_string(sig));
}

std::FILE* Console() { return g_console != nullptr ? g_console : stderr; }

bool SendLibFuzzerOutputTo(const std::string& log_path, std::string* error) {
  const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    *error = "cannot open " + log_path + ": " + std::strerror(errno);
    return false;
  }
  const int copy = fcntl(2, F_DUPFD_CLOEXEC, 3);
  std::FILE* console = copy >= 0 ? fdopen(copy, "w") : nullptr;
  if (console == nullptr) {
    *error = std::string("cannot keep the console: ") + std::strerror(errno);
    if (copy >= 0) close(copy);
    close(log);
    return false;
  }
  std::fflush(stderr);
  if (dup2(log, 2) < 0) {
    *error = std::string("cannot redirect stderr: ") + std::strerror(errno);
    std::fclose(console);
    close(log);
    return false;
  }
  close(log);
  setvbuf(console, nullptr, _IOLBF, 0);
  g_console = console;
  return true;
}

std::optional<int> MaxTotalTime(const std::vector<std::string>& args) {
  std::optional<int> out;
  constexpr std::string_view kFlag = "-max_total_time=";
  for (const std::string& a : args) {
    if (a.rfind(kFlag, 0) != 0) continue;
    char* end = nullptr;
    const long v = std::strtol(a.c_str() + kFlag.size(), &end, 10);
    if (end != a.c_str() + kFlag.size() && *end == '\0' && v > 0 && v < (1L << 30)) {
      out = static_cast<int>(v);
    }
  }
  return out;
}

void StartStopWatchdog(std::chrono::milliseconds grace, std::function<void(int)> finish) {
  std::thread([grace, finish = std::move(finish)] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int sig = g_stop_signal;
      if (sig == 0) continue;
      std::this_thread::sleep_for(grace);
      finish(sig);
      return;
    }
  }).detach();
}

}  // namespace smtp::fuzz
