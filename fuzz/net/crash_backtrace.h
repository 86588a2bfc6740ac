// Where a spawned server built without a sanitizer crashed: its core file,
// read with gdb in batch mode. Signal names alone make every abort() one
// finding ("crashed-SIGABRT"); the crashing function tells two apart
// ("crashed-SIGABRT-in-parse_help").
//
// Only where it can work: gdb on PATH and a kernel core_pattern that writes
// a file (not a pipe to systemd-coredump or apport). The spawned server then
// gets a core size limit (its own; the fuzzer's stays), each core is read
// once and deleted. Without either, crashes are told apart by their trigger
// (fuzzer.cc: the verb and the normalized reply before it).
#ifndef SMTP_FUZZ_NET_CRASH_BACKTRACE_H_
#define SMTP_FUZZ_NET_CRASH_BACKTRACE_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtp::fuzz {

// What this host does with a crashing process's memory.
struct CoreDumps {
  bool usable = false;
  std::string why_not;    // when not usable, for the console
  std::string gdb;        // gdb's path
  std::string pattern;    // /proc/sys/kernel/core_pattern
  bool uses_pid = false;  // /proc/sys/kernel/core_uses_pid
};

// Reads the kernel's settings and looks for gdb.
CoreDumps DetectCoreDumps();

// The core file a process `pid` (executable `exe`, working directory `cwd`)
// left when it died, written at or after `since`; nullopt if none. The
// pattern's %p, %P, %e, %% are expanded; other specifiers match anything.
std::optional<std::filesystem::path> FindCoreFile(const CoreDumps& cores, const std::string& cwd,
                                                  pid_t pid, const std::string& exe,
                                                  std::filesystem::file_time_type since);

// `gdb -batch -ex bt EXE CORE`: its output (bounded), or why not (gdb
// missing, killed after `timeout`).
absl::StatusOr<std::string> GdbBacktrace(const CoreDumps& cores, const std::string& exe,
                                         const std::string& core,
                                         std::chrono::milliseconds timeout);

// The first frame of a gdb backtrace that is the program's own, not the C
// library's way to die (raise, abort, pthread_kill, __assert_fail, ...):
// "parse_help" from "#4  0x0000... in parse_help (arg=...) at s.c:12". ""
// when there is none (no symbols: every frame "??").
std::string CrashFrame(std::string_view backtrace);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_CRASH_BACKTRACE_H_
