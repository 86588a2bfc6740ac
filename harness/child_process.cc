#include "harness/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace smtp::harness {

absl::StatusOr<pid_t> StartChild(const ChildSpec& spec) {
  // Everything the child needs, built before the fork.
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  if (spec.env) {
    for (const std::string& kv : *spec.env) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
  }
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int in = spec.stdin_fd >= 0 ? spec.stdin_fd : devnull;
  const int out = spec.stdout_fd >= 0 ? spec.stdout_fd : devnull;
  const int err = spec.stderr_fd >= 0 ? spec.stderr_fd : devnull;
  struct rlimit core {};
  const bool set_core = spec.core_limit && ::getrlimit(RLIMIT_CORE, &core) == 0;
  if (set_core) core.rlim_cur = *spec.core_limit;
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int fork_errno = errno;
    if (devnull >= 0) ::close(devnull);
    return absl::InternalError(std::string("fork: ") + std::strerror(fork_errno));
  }
  if (pid == 0) {
    // Child: async-signal-safe calls only. dup2 clears O_CLOEXEC on 0..2.
    ::setpgid(0, 0);
    if (spec.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
    }
    ::signal(SIGPIPE, SIG_DFL);
    if (set_core) ::setrlimit(RLIMIT_CORE, &core);
    // (Without /dev/null, which only a broken system lacks, the child keeps
    // ours for what it was not given.)
    if ((in >= 0 && ::dup2(in, 0) < 0) || (out >= 0 && ::dup2(out, 1) < 0) ||
        (err >= 0 && ::dup2(err, 2) < 0)) {
      ::_exit(127);
    }
    if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ::_exit(126);
    if (spec.env) {
      ::execve(spec.path.c_str(), argv.data(), envp.data());
    } else {
      ::execv(spec.path.c_str(), argv.data());
    }
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  if (devnull >= 0) ::close(devnull);
  return pid;
}

std::vector<std::string> EnvironmentWith(
    const std::vector<std::pair<std::string, std::string>>& set,
    const std::vector<std::string_view>& unset) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const std::size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env[std::string(kv.substr(0, eq))] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : set) env[k] = v;
  for (const std::string_view k : unset) env.erase(std::string(k));
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace smtp::harness
