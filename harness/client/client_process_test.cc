#include "harness/client/client_process.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace smtp::client {
namespace {

using std::chrono::milliseconds;

ProcessOutcome RunCommand(std::string command, milliseconds timeout = milliseconds(10'000),
                          std::size_t max_output = 64 * 1024) {
  ProcessOptions o;
  o.command = std::move(command);
  o.timeout = timeout;
  o.max_output = max_output;
  o.env = {{"HARNESS_TEST_VAR", "v1"}};
  absl::StatusOr<std::unique_ptr<ClientProcess>> p = ClientProcess::Start(o);
  EXPECT_TRUE(p.ok()) << p.status();
  return (*p)->Wait();
}

TEST(ClientProcessTest, ExitStatusAndOutput) {
  ProcessOutcome o = RunCommand("echo out; echo err >&2; echo $HARNESS_TEST_VAR; exit 3");
  EXPECT_TRUE(o.exited);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_FALSE(o.success());
  EXPECT_EQ(o.stdout_head, "out\nv1\n");
  EXPECT_EQ(o.stderr_head, "err\n");
  EXPECT_EQ(o.Describe(), "exit 3");
  EXPECT_TRUE(RunCommand("true").success());
}

TEST(ClientProcessTest, DeathBySignal) {
  ProcessOutcome o = RunCommand("kill -SEGV $$");
  EXPECT_FALSE(o.exited);
  EXPECT_EQ(o.signal, SIGSEGV);
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.Describe(), "killed by SIGSEGV");
}

TEST(ClientProcessTest, KilledAtTheTimeoutWithItsChildren) {
  const auto start = std::chrono::steady_clock::now();
  // The child ignores SIGTERM: SIGKILL after the grace ends it.
  ProcessOutcome o = RunCommand("trap '' TERM; sleep 30 & sleep 30; wait", milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(o.timed_out);
  EXPECT_FALSE(o.success());
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_NE(o.Describe().find("killed"), std::string::npos) << o.Describe();
}

TEST(ClientProcessTest, OutputIsBoundedButCounted) {
  ProcessOutcome o = RunCommand("head -c 100000 /dev/zero", milliseconds(10'000), 1000);
  EXPECT_TRUE(o.success());
  EXPECT_EQ(o.stdout_head.size(), 1000u);
  EXPECT_EQ(o.stdout_bytes, 100000u);
}

TEST(ClientProcessTest, AGrandchildHoldingThePipeDoesNotKeepUs) {
  const auto start = std::chrono::steady_clock::now();
  ProcessOutcome o = RunCommand("(sleep 20 &) ; exit 0");
  EXPECT_TRUE(o.success());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(ClientProcessTest, StopEndsItEarly) {
  ProcessOptions opts;
  opts.command = "sleep 20";
  absl::StatusOr<std::unique_ptr<ClientProcess>> p = ClientProcess::Start(opts);
  ASSERT_TRUE(p.ok());
  (*p)->Stop();
  ProcessOutcome o = (*p)->Wait();
  EXPECT_TRUE(o.timed_out);
  EXPECT_TRUE(o.stopped);
}

}  // namespace
}  // namespace smtp::client
