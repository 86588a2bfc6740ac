// ClientProcess: one run of a client under test, `/bin/sh -c COMMAND`, in
// its own process group, stdin from /dev/null, stdout and stderr kept up to
// a bound (the rest counted), ended at a deadline (SIGTERM to the group,
// SIGKILL after a grace period). Its exit status or the signal that killed
// it is the outcome a scenario judges; the fuzzer's oracles read the same
// (a signal, a sanitizer report on stderr, a hang).
#ifndef SMTP_HARNESS_CLIENT_CLIENT_PROCESS_H_
#define SMTP_HARNESS_CLIENT_CLIENT_PROCESS_H_

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::client {

struct ProcessOptions {
  std::string command;  // run by /bin/sh -c
  std::string cwd;      // "" : the harness's
  // Set (or replaced) in the harness's own environment for the child.
  std::vector<std::pair<std::string, std::string>> env;
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds kill_grace{500};  // SIGTERM -> SIGKILL
  std::size_t max_output = 64 * 1024;         // per stream, kept
};

struct ProcessOutcome {
  bool exited = false;  // exited normally: exit_code is valid
  int exit_code = 0;
  int signal = 0;          // the signal that ended it (0: none)
  bool timed_out = false;  // we ended it at the timeout (or on Stop)
  bool stopped = false;    // ended by Stop(), not by the timeout
  std::chrono::microseconds duration{0};
  std::string stdout_head, stderr_head;  // the first max_output bytes
  std::size_t stdout_bytes = 0, stderr_bytes = 0;

  bool success() const { return exited && exit_code == 0 && !timed_out; }
  // "exit 0", "exit 3", "killed by signal 11 (SIGSEGV)", "still running
  // after 5000 ms: killed".
  std::string Describe() const;
};

class ClientProcess {
 public:
  // Forks and execs; errors: the fork or pipes failed.
  static absl::StatusOr<std::unique_ptr<ClientProcess>> Start(ProcessOptions options);
  ~ClientProcess();  // kills the group if still running, reaps
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  // Blocks until the process ended (and its output was drained, at most
  // 300 ms after it ended: a grandchild holding the pipes open does not keep
  // us) or the timeout passed, then kills what is left of the group.
  // Called once.
  ProcessOutcome Wait();
  // Thread-safe: makes Wait end the process now (outcome `stopped`).
  void Stop() { stop_.store(true); }
  pid_t pid() const { return pid_; }

 private:
  ClientProcess() = default;
  void KillGroup(int sig);

  ProcessOptions o_;
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stop_{false};
  bool reaped_ = false;
};

// The name of a signal: "SIGSEGV", or "signal N".
std::string SignalName(int sig);

}  // namespace smtp::client

#endif  // SMTP_HARNESS_CLIENT_CLIENT_PROCESS_H_
