// Starting a child process: the one fork/exec of the project, shared by the
// exec: transport (exec_transport.cc), the client under test
// (client/client_process.h), the server `fuzz --spawn` starts
// (fuzz/net/spawned_server.h) and gdb reading a crash's core file
// (fuzz/net/crash_backtrace.h). Waiting for the child stays with each caller,
// which knows its deadline and how much output it keeps.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::harness {

// What to start and how.
struct ChildSpec {
  // execve(path, argv): no PATH search; argv[0] is what the child sees as
  // its name ("sh" or "/bin/sh" for a shell: its error messages show it).
  std::string path = {};
  std::vector<std::string> argv = {};
  // The child's whole environment, KEY=VALUE (EnvironmentWith); none: ours.
  std::optional<std::vector<std::string>> env = std::nullopt;
  // Duplicated onto the child's stdin, stdout and stderr; -1: /dev/null.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // The child's working directory; it exits 126 when it cannot change to it.
  std::string cwd = {};
  // The child gets SIGTERM when we die, even killed without running our exit
  // handlers (PR_SET_PDEATHSIG), and exits 127 at once if we died before
  // that was set.
  bool die_with_parent = false;
  // The soft RLIMIT_CORE of the child (for a crash to be located in its core
  // file); none: ours.
  std::optional<rlim_t> core_limit = std::nullopt;
};

// Forks and execs `spec`. The child leads a process group of its own (its
// pid, set on both sides of the fork so that a kill(-pid) right after this
// returns cannot miss it), has SIGPIPE at its default disposition, and holds
// none of our descriptors but its 0, 1 and 2 (everything else of ours is
// O_CLOEXEC). Everything the child uses is built before the fork: after it,
// async-signal-safe calls only. When exec fails the child exits 127. Returns
// the child's pid, or an error when the fork fails.
[[nodiscard]] absl::StatusOr<pid_t> StartChild(const ChildSpec& spec);

// Our environment as KEY=VALUE strings, sorted by key, with `set` added or
// replacing (in order: a later pair wins) and the keys in `unset` removed.
std::vector<std::string> EnvironmentWith(
    const std::vector<std::pair<std::string, std::string>>& set,
    const std::vector<std::string_view>& unset = {});

}  // namespace smtp::harness
