// A listening server the fuzzer starts itself (`fuzz --spawn CMD --target
// HOST:PORT`): started before fuzzing, restarted whenever it dies, stopped
// at the end. The process is an oracle, as for exec: targets: death by a
// signal or a non-zero exit while it should be listening is a crash, a
// sanitizer report in its output a sanitizer finding (also from a child it
// forked per connection, whose output goes to the same file).
//
// A crash without a sanitizer report (death by a signal) is located from
// the server's core file where this host allows (crash_backtrace.h): the
// server runs with a core size limit, and crash_frame() names the function
// it died in.
//
// Its stdout and stderr go to a log file (the run's spawned-server.log);
// after each session the fuzzer reads what was appended (bounded), so a
// chatty server never blocks on a full pipe and nothing it said is lost.
#ifndef SMTP_FUZZ_NET_SPAWNED_SERVER_H_
#define SMTP_FUZZ_NET_SPAWNED_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "fuzz/net/crash_backtrace.h"
#include "harness/transport.h"

namespace smtp::fuzz {

struct SpawnOptions {
  std::string command;     // run as /bin/sh -c COMMAND
  harness::Target listen;  // where it accepts connections (the --target)
  std::string log_path;    // its stdout and stderr, appended
  // How long a (re)started server may take to greet on `listen`.
  std::chrono::milliseconds startup_timeout{10'000};
  // Output read back after a session, at most.
  std::size_t max_output = 64 * 1024;
  // Locate crashes from core files with gdb, where the host allows.
  bool core_backtraces = true;
  // A core file larger than this is cut short by the kernel.
  std::uint64_t max_core_bytes = 512ull << 20;
};

class SpawnedServer {
 public:
  explicit SpawnedServer(SpawnOptions options);
  ~SpawnedServer();
  SpawnedServer(const SpawnedServer&) = delete;
  SpawnedServer& operator=(const SpawnedServer&) = delete;

  // Starts the command and waits until the server greets on `listen`.
  // An error says why (it exited, with the tail of its output; or no
  // greeting within the startup timeout, and then it is stopped).
  absl::Status Start();

  // Reaps the server if it has exited, without blocking, and returns its
  // state with the output it wrote since the last call in stderr_head.
  // `settle`: when the session ended badly, wait up to this long for the
  // process to finish dying (a crash closes the connection an instant
  // before the kernel lets us reap the process).
  harness::ProcessStatus Check(std::chrono::milliseconds settle = std::chrono::milliseconds(0));

  bool running() const { return pid_ > 0; }

  // Stops it (if running) and starts it again.
  absl::Status Restart();

  // SIGTERM to its process group, SIGKILL after a grace period. Idempotent;
  // the log stays open for the next Start.
  void Stop();

  int restarts() const { return restarts_; }

  // Where the last incarnation that died by a signal crashed: the first
  // own frame of its core's backtrace ("parse_help"), "" if none could be
  // had (no core, no gdb, no symbols). Cleared by Start.
  const std::string& crash_frame() const { return crash_frame_; }
  // Whether crashes can be located at all here, and if not, why.
  bool backtraces_usable() const { return cores_.usable; }
  const std::string& backtraces_why_not() const { return cores_.why_not; }
  const SpawnOptions& options() const { return o_; }

 private:
  bool Reap(bool block);
  std::string ReadNewOutput();
  // After the greeting: which process serves (the shell's child when the
  // shell did not exec it), its executable and working directory.
  void NoteServerProcess();
  // Reads (if `read`) and deletes the core the server left; sets
  // crash_frame_.
  void LocateCrash(bool read);

  SpawnOptions o_;
  pid_t pid_ = -1;
  int log_fd_ = -1;
  std::uint64_t log_offset_ = 0;
  int restarts_ = 0;
  int starts_ = 0;
  harness::ProcessStatus last_;  // of the last incarnation that ended
  CoreDumps cores_;
  pid_t server_pid_ = -1;  // the serving process (pid_ or the shell's child)
  std::string exe_, cwd_;  // its executable and working directory
  std::filesystem::file_time_type started_at_{};
  bool stopping_ = false;  // Stop's own SIGTERM is no crash
  std::string crash_frame_;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_SPAWNED_SERVER_H_
