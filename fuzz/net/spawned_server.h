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
//
// A warm standby (`{port}` in the command): the next incarnation is started
// on a second port while the current one serves, so a death costs a switch
// (a probe of a server that is already up), not a start. The two ports
// alternate; each has its own log (spawned-server.log for the --target
// port, spawned-server.PORT.log for the other). The standby takes no
// session before the current incarnation has been reaped: a death is
// charged to the session that caused it as without a standby. Without
// `{port}` (a fixed port: two processes cannot both listen there) each
// restart starts the server and waits for it, as before.
//
// Waits are on events where there is one: the server's exit through a
// pidfd (poll(2) wakes when it dies), not a sleep loop. Listening has no
// event: a (re)start probes with a short backoff (1, 2, 4 ... 16 ms).
//
// AddressSanitizer reports: when an llvm-symbolizer is installed, the
// server runs with symbolize=0 added to ASAN_OPTIONS (unless the user set
// symbolize=) and the fuzzer symbolizes the reports it reads, once per
// distinct frame (report_symbolizer.h): the server dies at once instead of
// starting a symbolizer per death.
#ifndef SMTP_FUZZ_NET_SPAWNED_SERVER_H_
#define SMTP_FUZZ_NET_SPAWNED_SERVER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fuzz/net/crash_backtrace.h"
#include "fuzz/net/report_symbolizer.h"
#include "harness/transport.h"

namespace smtp::fuzz {

struct SpawnOptions {
  // Run as /bin/sh -c COMMAND, with each "{port}" replaced by the port the
  // incarnation is to listen on.
  std::string command;
  harness::Target listen;  // where it accepts connections (the --target)
  std::string log_path;    // its stdout and stderr, appended
  // A warm standby on `standby_port` (0: a free loopback port chosen at
  // construction) when the command has "{port}".
  bool standby = true;
  std::uint16_t standby_port = 0;
  // Symbolize AddressSanitizer reports in the fuzzer (symbolize=0 for the
  // server) when an llvm-symbolizer is found.
  bool symbolize_in_fuzzer = true;
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
  // `only_if_dying`: wait only when the server is already on its way out
  // (exiting, or a zombie: after a crash closed our connection it is), not
  // the whole settle for a server that lives on.
  harness::ProcessStatus Check(std::chrono::milliseconds settle = std::chrono::milliseconds(0),
                               bool only_if_dying = false);

  bool running() const { return pid_ > 0; }

  // Waits until the server exits or `timeout` passes (an event: its pidfd);
  // true when it has exited (reaped). Its output stays for the next Check.
  bool WaitForExit(std::chrono::milliseconds timeout);

  // Where the current incarnation listens: the --target, or with a standby
  // the port of whichever incarnation serves now.
  const harness::Target& listen() const { return slots_[cur_].listen; }

  // Whether a standby is kept, and if not, why ("" when it is).
  bool standby_active() const { return standby_on_; }
  const std::string& standby_why_not() const { return standby_why_not_; }
  std::uint16_t standby_port() const { return slots_[1].listen.port; }
  const std::string& standby_log() const { return slots_[1].log_path; }
  // Times a (re)start found a standby up and switched to it.
  int standby_switches() const { return switches_; }
  // Wall time spent in Start waiting for a server to greet, in total.
  double start_wait_s() const { return std::chrono::duration<double>(start_wait_).count(); }

  // A sanitizer report from the server with its frames symbolized (the
  // server was told not to); `text` as is otherwise.
  std::string Symbolize(std::string text);
  // The symbolizer the fuzzer runs for the server's reports, "" if none
  // (none found, or the user's ASAN_OPTIONS say symbolize=).
  const std::string& symbolizer() const { return symbolizer_path_; }

  // Stops it (if running) and starts it again.
  absl::Status Restart();

  // SIGTERM to its process group, SIGKILL after a grace period; the
  // standby too. Idempotent; the logs stay open for the next Start.
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
  // One place where an incarnation listens and writes its output.
  struct Slot {
    harness::Target listen;
    std::string log_path;
    int log_fd = -1;  // read side
    std::uint64_t log_offset = 0;
  };
  // A started process: its shell's pid, a pidfd for it (-1 if the kernel
  // has none), when it started.
  struct Proc {
    pid_t pid = -1;
    int pidfd = -1;
    std::filesystem::file_time_type started_at{};
  };
  absl::StatusOr<Proc> Launch(Slot& slot);
  // Makes `p` the current incarnation (pid_, pidfd_, started_at_).
  void Adopt(const Proc& p);
  absl::Status StartCurrent();
  void LaunchStandby();
  // Stops the current incarnation (the standby stays).
  void StopCurrent();
  // Waits on `pidfd` (or sleeps, without one) for at most `timeout`.
  static void WaitOn(int pidfd, std::chrono::milliseconds timeout);
  bool Reap(bool block);
  bool Dying() const;
  std::string ReadNewOutput();
  // After the greeting: which process serves (the shell's child when the
  // shell did not exec it), its executable and working directory.
  void NoteServerProcess();
  // The newest core file of the server's written since `since`, when cores
  // are usable here (crash_backtrace.h: FindCoreFile).
  std::optional<std::filesystem::path> FindCore(std::filesystem::file_time_type since) const;
  // Reads (if `read`) and deletes the core the server left; sets
  // crash_frame_.
  void LocateCrash(bool read);
  // At Stop: deletes the cores of this run's incarnations that are still
  // there (a crash met only as the run stopped, whose death no Check saw):
  // cores are large, and none is left behind. Returns how many.
  int SweepCores();

  SpawnOptions o_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  Slot slots_[2];
  int cur_ = 0;   // the slot of the current incarnation
  Proc standby_;  // in slots_[1 - cur_]; pid -1: none
  bool standby_on_ = false;
  std::string standby_why_not_;
  int switches_ = 0;
  int standby_deaths_ = 0;  // in a row, before they were needed
  std::chrono::steady_clock::duration start_wait_{};
  std::string symbolizer_path_;
  std::string asan_options_;  // for the server; "" to leave ASAN_OPTIONS alone
  ReportSymbolizer symbolizer_{""};
  int restarts_ = 0;
  int starts_ = 0;
  harness::ProcessStatus last_;  // of the last incarnation that ended
  CoreDumps cores_;
  pid_t server_pid_ = -1;  // the serving process (pid_ or the shell's child)
  std::string exe_, cwd_;  // its executable and working directory
  std::filesystem::file_time_type started_at_{};
  std::filesystem::file_time_type first_started_at_{};  // of the first incarnation
  bool stopping_ = false;                               // Stop's own SIGTERM is no crash
  std::string crash_frame_;
};

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_SPAWNED_SERVER_H_
