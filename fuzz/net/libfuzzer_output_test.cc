#include "fuzz/net/libfuzzer_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace smtp::fuzz {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

off_t SizeOf(int fd) {
  struct stat st {};
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

// Runs `body` in a child whose fd 2 is a fresh file; returns the child's
// exit status (as waitpid gives it) and the file's text.
template <typename F>
std::pair<int, std::string> InChild(F body) {
  std::string path = ::testing::TempDir() + "lfoutXXXXXX";
  const int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  const pid_t pid = fork();
  if (pid == 0) {
    std::fflush(stderr);
    dup2(fd, 2);
    body(fd);  // ends the child itself
    _exit(100);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(fd);
  std::string text = Slurp(path);
  unlink(path.c_str());
  return {status, text};
}

// The child's exit codes say which expectation failed (gtest is not usable
// in it).
TEST(LibFuzzerOutput, PassesThroughUntilAskedToBatch) {
  const auto [status, text] = InChild([](int fd) {
    std::fputs("one ", stderr);
    if (SmtpLibFuzzerFflush(stderr) != 0) _exit(1);
    if (SizeOf(fd) != 4) _exit(2);  // written at once
    if (LibFuzzerOutputBatched()) _exit(3);
    _exit(0);
  });
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(text, "one ");
}

TEST(LibFuzzerOutput, BatchedKeepsTheOrderAndExitFlushes) {
  const auto [status, text] = InChild([](int fd) {
    BatchLibFuzzerOutput(std::chrono::hours(1));  // no periodic flush here
    if (!LibFuzzerOutputBatched()) _exit(1);
    std::fputs("#1 NEW cov: 1", stderr);
    SmtpLibFuzzerFflush(stderr);
    std::fputs(" ft: 2\n", stderr);
    SmtpLibFuzzerFflush(stderr);
    if (SizeOf(fd) != 0) _exit(2);  // still buffered
    // A raw write (libFuzzer's RawPrint) comes after what was printed.
    if (SmtpLibFuzzerWrite(2, "raw\n", 4) != 4) _exit(3);
    if (SizeOf(fd) != 24) _exit(4);
    std::fputs("==1== ERROR: libFuzzer: deadly signal\n", stderr);
    SmtpLibFuzzerFflush(stderr);
    SmtpLibFuzzerExit(7);  // flushes, then _Exit(7)
  });
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 7);
  EXPECT_EQ(text, "#1 NEW cov: 1 ft: 2\nraw\n==1== ERROR: libFuzzer: deadly signal\n");
}

TEST(LibFuzzerOutput, TheThreadFlushesWithinItsPeriod) {
  const auto [status, text] = InChild([](int fd) {
    BatchLibFuzzerOutput(std::chrono::milliseconds(50));
    std::fputs("#2 pulse\n", stderr);
    SmtpLibFuzzerFflush(stderr);
    // Bounded: 20 s, though 50 ms is the period.
    for (int i = 0; i < 2000 && SizeOf(fd) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    _exit(SizeOf(fd) == 9 ? 0 : 1);  // _exit: no stdio flush of its own
  });
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(text, "#2 pulse\n");
}

}  // namespace
}  // namespace smtp::fuzz
