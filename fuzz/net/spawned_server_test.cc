// SpawnedServer's warm standby against a real server that is slow to
// start: crashy_smtpd (testdata/crashy_smtpd.c) behind `sleep 0.3`, killed
// by its planted abort (HELP %...).
#include "fuzz/net/spawned_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "fuzz/net/liveness.h"
#include "gtest/gtest.h"

namespace smtp::fuzz {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kStartDelay = milliseconds(300);  // the `sleep 0.3` before the server

// A listening loopback socket on a port of the kernel's choice (-1 on error).
int ListenAny(std::uint16_t* port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(s, 1) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(s);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return s;
}

std::uint16_t FreePort() {
  std::uint16_t port = 0;
  ::close(ListenAny(&port));
  return port;
}

// Sends the planted abort to the server on `port` and reads until it closes.
void KillWithHelp(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{5, 0};
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[512];
  ASSERT_GT(::read(s, buf, sizeof buf), 0);  // the greeting
  const std::string help = "HELP %a\r\n";
  ASSERT_EQ(::write(s, help.data(), help.size()), static_cast<ssize_t>(help.size()));
  while (::read(s, buf, sizeof buf) > 0) {
  }
  ::close(s);
}

class SpawnedServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(SMTP_CRASHY_SMTPD, X_OK), 0)
        << SMTP_CRASHY_SMTPD << " was not built (no C compiler at configure time)";
    dir_ = std::filesystem::temp_directory_path() /
           ("spawned-server-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  SpawnOptions Options(const std::string& port_arg, std::uint16_t port) {
    SpawnOptions o;
    o.command = "sleep 0.3; exec " + std::string(SMTP_CRASHY_SMTPD) + " " + port_arg;
    o.listen.host = "127.0.0.1";
    o.listen.port = port;
    o.log_path = (dir_ / "spawned-server.log").string();
    o.core_backtraces = false;
    return o;
  }

  // Kills the current incarnation; returns how it ended.
  harness::ProcessStatus Kill(SpawnedServer& s) {
    KillWithHelp(s.listen().port);
    EXPECT_TRUE(s.WaitForExit(milliseconds(5000)));
    return s.Check();
  }

  std::filesystem::path dir_;
};

TEST_F(SpawnedServerTest, DeathSwitchesToTheWarmStandbyWithoutWaitingForAStart) {
  const std::uint16_t port = FreePort();
  SpawnedServer s(Options("{port}", port));
  ASSERT_TRUE(s.standby_active()) << s.standby_why_not();
  ASSERT_NE(s.standby_port(), port);
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(s.listen().port, port);
  for (int round = 0; round < 3; ++round) {
    // Sessions run meanwhile; the standby starts beside them. Wait for it
    // to greet (an event, not a pause: a loaded machine starts it late).
    const std::uint16_t before = s.listen().port;
    harness::Target other = s.listen();
    other.port = before == port ? s.standby_port() : port;
    const Clock::time_point up_by = Clock::now() + std::chrono::seconds(20);
    while (!Probe(other, milliseconds(1000)).ok() && Clock::now() < up_by) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    const harness::ProcessStatus died = Kill(s);
    // The death is the serving incarnation's, with its own output.
    EXPECT_FALSE(died.running);
    EXPECT_TRUE(died.signal == SIGABRT || (died.exited && died.exit_code == 128 + SIGABRT))
        << died.signal << " " << died.exit_code;
    ASSERT_TRUE(s.Restart().ok());
    // A switch to the incarnation that was up before the death, not a start
    // (a wall-time bound would fail on a loaded machine; this cannot).
    EXPECT_EQ(s.listen().port, other.port) << "round " << round;
    EXPECT_EQ(s.standby_switches(), round + 1);
    EXPECT_TRUE(Probe(s.listen(), milliseconds(2000)).ok());
  }
  // Both ports were served, each incarnation's output in its slot's log.
  EXPECT_TRUE(std::filesystem::exists(dir_ / "spawned-server.log"));
  EXPECT_TRUE(std::filesystem::exists(s.standby_log()));
  s.Stop();
  EXPECT_FALSE(Probe(s.listen(), milliseconds(500)).ok());
}

TEST_F(SpawnedServerTest, FixedPortHasNoStandbyAndWaitsForEachStart) {
  const std::uint16_t port = FreePort();
  SpawnedServer s(Options(std::to_string(port), port));
  EXPECT_FALSE(s.standby_active());
  EXPECT_NE(s.standby_why_not().find("{port}"), std::string::npos) << s.standby_why_not();
  ASSERT_TRUE(s.Start().ok());
  std::this_thread::sleep_for(kStartDelay + milliseconds(300));
  Kill(s);
  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(s.Restart().ok());
  EXPECT_GE(Clock::now() - t0, kStartDelay);
  EXPECT_EQ(s.listen().port, port);
  EXPECT_EQ(s.standby_switches(), 0);
}

TEST_F(SpawnedServerTest, AStandbyThatCannotListenFallsBackAndIsGivenUp) {
  const std::uint16_t port = FreePort();
  std::uint16_t taken = 0;
  const int holder = ListenAny(&taken);  // the standby's port, in use: it exits 1
  ASSERT_GE(holder, 0);
  SpawnOptions o = Options("{port}", port);
  o.standby_port = taken;
  SpawnedServer s(o);
  ASSERT_TRUE(s.standby_active());
  ASSERT_TRUE(s.Start().ok());
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(kStartDelay + milliseconds(300));
    Kill(s);
    const absl::Status st = s.Restart();
    ASSERT_TRUE(st.ok()) << "round " << round << ": " << st;
    EXPECT_EQ(s.listen().port, port);  // back on the port that works
  }
  EXPECT_EQ(s.standby_switches(), 0);
  EXPECT_FALSE(s.standby_active());
  EXPECT_NE(s.standby_why_not().find("died before it was needed"), std::string::npos)
      << s.standby_why_not();
  ::close(holder);
}

}  // namespace
}  // namespace smtp::fuzz
