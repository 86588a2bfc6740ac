#include "harness/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace smtp::harness {
namespace {

using Clock = std::chrono::steady_clock;

struct Ended {
  bool ended = false;  // false: still running after 10 s (killed)
  int status = 0;      // waitpid's
  std::string out;     // stdout and stderr, at most 64 KiB
};

// Runs `spec` with stdout and stderr into one pipe; reads it to EOF and
// reaps the child, all within 10 s (then the child's group is killed).
Ended RunToEnd(ChildSpec spec) {
  Ended e;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return e;
  spec.stdout_fd = spec.stderr_fd = fds[1];
  const absl::StatusOr<pid_t> pid = StartChild(spec);
  ::close(fds[1]);
  EXPECT_TRUE(pid.ok()) << pid.status();
  if (!pid.ok()) {
    ::close(fds[0]);
    return e;
  }
  const Clock::time_point end = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < end) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    if (e.out.size() < 64 * 1024) e.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  while (Clock::now() < end && !e.ended) {
    e.ended = ::waitpid(*pid, &e.status, WNOHANG) == *pid;
    if (!e.ended) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!e.ended) {
    ::kill(-*pid, SIGKILL);
    ::waitpid(*pid, &e.status, 0);
  }
  return e;
}

ChildSpec Sh(std::string script) { return {.path = "/bin/sh", .argv = {"sh", "-c", script}}; }

int ExitCode(const Ended& e) { return e.ended && WIFEXITED(e.status) ? WEXITSTATUS(e.status) : -1; }

TEST(StartChild, RunsArgvWithItsOwnNameAndOutputs) {
  const Ended e = RunToEnd(Sh("echo \"$0 $1\"; echo err >&2; exit 3"));
  EXPECT_EQ(ExitCode(e), 3);
  EXPECT_EQ(e.out, "sh \nerr\n");
}

// Reaps `pid` within 10 s, else kills its group first; waitpid's status.
int Reap(pid_t pid) {
  int status = 0;
  const Clock::time_point end = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < end) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

TEST(StartChild, LeadsItsOwnProcessGroupAtOnce) {
  // A grandchild too: a kill of the group right after the start ends both.
  const absl::StatusOr<pid_t> pid = StartChild(Sh("sleep 30 & sleep 30"));
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(::getpgid(*pid), *pid);
  EXPECT_NE(::getpgrp(), *pid);
  ASSERT_EQ(::kill(-*pid, SIGKILL), 0);
  const int status = Reap(*pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST(StartChild, StdinIsDevNullUnlessGiven) {
  EXPECT_EQ(RunToEnd(Sh("wc -c")).out, "0\n");
  int in[2];
  ASSERT_EQ(::pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(::write(in[1], "abc", 3), 3);
  ::close(in[1]);
  ChildSpec spec = Sh("wc -c");
  spec.stdin_fd = in[0];
  const Ended e = RunToEnd(spec);
  ::close(in[0]);
  EXPECT_EQ(e.out, "3\n");
}

TEST(StartChild, EnvironmentAndWorkingDirectory) {
  ::setenv("SMTP_CHILD_TEST_KEEP", "kept", 1);
  ::setenv("SMTP_CHILD_TEST_DROP", "dropped", 1);
  ChildSpec spec =
      Sh("echo \"$SMTP_CHILD_TEST_KEEP,$SMTP_CHILD_TEST_DROP,$SMTP_CHILD_TEST_NEW\"; pwd");
  spec.env = EnvironmentWith({{"SMTP_CHILD_TEST_NEW", "a"}, {"SMTP_CHILD_TEST_NEW", "b"}},
                             {"SMTP_CHILD_TEST_DROP"});
  spec.cwd = "/";
  EXPECT_EQ(RunToEnd(spec).out, "kept,,b\n/\n");
  // Without `env`, ours.
  EXPECT_EQ(RunToEnd(Sh("echo $SMTP_CHILD_TEST_DROP")).out, "dropped\n");
  ::unsetenv("SMTP_CHILD_TEST_KEEP");
  ::unsetenv("SMTP_CHILD_TEST_DROP");
}

TEST(StartChild, ExitCodesForWhatFailsBeforeTheProgramRuns) {
  ChildSpec missing_dir = Sh("echo ran");
  missing_dir.cwd = "/nonexistent/smtp-child-test";
  const Ended a = RunToEnd(missing_dir);
  EXPECT_EQ(ExitCode(a), 126);
  EXPECT_EQ(a.out, "");
  const Ended b = RunToEnd({.path = "/nonexistent/smtp-child-test", .argv = {"x"}});
  EXPECT_EQ(ExitCode(b), 127);
}

TEST(StartChild, SigpipeIsAtItsDefaultInTheChild) {
  // We ignore SIGPIPE (as the harness does); the child must not inherit
  // that: its write into a pipe nobody reads kills it, as it would anywhere
  // else (with SIGPIPE ignored it would go on and exit 0).
  struct sigaction old {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);
  ChildSpec spec = Sh("echo x; exit 0");
  spec.stdout_fd = fds[1];
  const absl::StatusOr<pid_t> pid = StartChild(spec);
  ::close(fds[1]);
  ::sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(pid.ok()) << pid.status();
  const int status = Reap(*pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) << status;
}

TEST(StartChild, CoreLimitIsSetInTheChildOnly) {
  struct rlimit ours {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &ours), 0);
  ChildSpec spec = Sh("grep 'Max core file size' /proc/self/limits");
  spec.core_limit = 0;
  const Ended zero = RunToEnd(spec);
  EXPECT_NE(zero.out.find("Max core file size        0 "), std::string::npos) << zero.out;
  if (ours.rlim_max == RLIM_INFINITY || ours.rlim_max >= 4096) {
    spec.core_limit = 4096;
    const Ended some = RunToEnd(spec);
    EXPECT_NE(some.out.find("Max core file size        4096 "), std::string::npos) << some.out;
  }
  struct rlimit after {};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &after), 0);
  EXPECT_EQ(after.rlim_cur, ours.rlim_cur);
}

}  // namespace
}  // namespace smtp::harness
