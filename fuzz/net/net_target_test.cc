#include "fuzz/net/net_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "fuzz/net/fuzzer.h"
#include "harness/transport.h"
#include "results/session_input.h"

namespace smtp::fuzz {
namespace {

// A listening socket on loopback that never accepts: connections wait in
// its queue and no greeting ever comes (Dovecot LMTP past its
// process_limit, or throttled after a crash).
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

SessionInput OneCommand() {
  const std::string bytes = std::string("\x01\x04NOOP", 6);  // kind 1 (command), 4 bytes
  return ParseSessionInput(bytes);
}

// Dovecot LMTP at its process_limit gave `hang-none`, "deterministic 3/3",
// minimized to 5 steps that a healthy Dovecot answers: the input played no
// part, nothing of it had been sent. Such a session is a target that takes
// none (the liveness check reports it once, "unresponsive"), not a hang.
TEST(NetTarget, NoGreetingWithNothingSentIsATargetThatTakesNoSession) {
  SilentListener server;
  ASSERT_NE(server.port(), 0);
  absl::StatusOr<harness::Target> target =
      harness::ParseTarget("127.0.0.1:" + std::to_string(server.port()));
  ASSERT_TRUE(target.ok()) << target.status();
  NetTargetOptions options;
  options.reply_timeout = std::chrono::milliseconds(100);
  options.greeting_timeout = std::chrono::milliseconds(200);
  options.session_timeout = std::chrono::milliseconds(2000);
  options.patient_reply_timeout = std::chrono::milliseconds(0);
  std::unique_ptr<SessionTarget> t = MakeNetTarget(*target, options);
  const SessionInput input = OneCommand();
  ASSERT_EQ(input.steps.size(), 1u);
  const auto start = std::chrono::steady_clock::now();
  const SessionResult r = t->Run(input, /*wire=*/false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(r.connect_failed) << VerdictName(r.verdict.kind) << ": " << r.verdict.detail;
  EXPECT_EQ(r.bytes_sent, 0u);
  EXPECT_NE(r.verdict.detail.find("no greeting"), std::string::npos) << r.verdict.detail;
}

}  // namespace
}  // namespace smtp::fuzz
