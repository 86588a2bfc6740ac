#include "fuzz/client/client_oracle.h"

#include <signal.h>

#include <gtest/gtest.h>

namespace smtp::fuzz::client {
namespace {

Iteration Clean() {
  Iteration it;
  it.outcome.exited = true;
  it.record.commands = {"EHLO", "MAIL", "RCPT"};
  return it;
}

TEST(ClientOracle, SanitizerReportFirst) {
  Iteration it = Clean();
  it.outcome.exit_code = 1;
  it.outcome.stderr_head =
      "=================================================================\n"
      "==42==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ff\n";
  const std::optional<Verdict> v = Judge(it, ServerScript{}, "");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->bucket, "sanitizer-stack-buffer-overflow-RCPT");
  EXPECT_EQ(SanitizerKind("x.c:3:4: runtime error: signed integer overflow"), "undefined-behavior");
  EXPECT_EQ(SanitizerKind("==1==ERROR: LeakSanitizer: detected memory leaks"), "memory-leak");
  EXPECT_EQ(SanitizerKind("all fine"), "");
  // With a stack, the crash site names the bucket.
  it.outcome.stderr_head +=
      "WRITE of size 64 at 0x7fff2005fd20 thread T0\n"
      "    #0 0x55a201e899f6  (/b/buggy_client_afl+0x8f9f6) (BuildId: c2cd)\n"
      "    #1 0x55a201edb2fc  (/b/buggy_client_afl+0xe12fc) (BuildId: c2cd)\n"
      "    #2 0x55a201eda28c  (/b/buggy_client_afl+0xe028c) (BuildId: c2cd)\n";
  EXPECT_EQ(Judge(it, ServerScript{}, "")->bucket, "sanitizer-stack-buffer-overflow-8f9f6.e12fc");
  EXPECT_EQ(CrashSite("    #0 0x4 in __interceptor_strcpy asan.cpp:1\n"
                      "    #1 0x5 in read_reply /b/c.c:97:5\n"),
            "strcpy.read_reply");
  EXPECT_EQ(CrashSite("no stack"), "none");
}

TEST(ClientOracle, SignalHangAndOurOwnKill) {
  Iteration it = Clean();
  it.outcome.exited = false;
  it.outcome.signal = SIGSEGV;
  ASSERT_TRUE(Judge(it, ServerScript{}, ""));
  EXPECT_EQ(Judge(it, ServerScript{}, "")->bucket, "signal-SIGSEGV-RCPT");
  it.outcome.signal = 0;
  it.outcome.timed_out = true;
  ASSERT_TRUE(Judge(it, ServerScript{}, ""));
  EXPECT_EQ(Judge(it, ServerScript{}, "")->oracle, "hang");
  it.outcome.stopped = true;  // ended by a stop request: nothing to judge
  EXPECT_FALSE(Judge(it, ServerScript{}, ""));
}

TEST(ClientOracle, ViolationsAndMessage) {
  Iteration it = Clean();
  EXPECT_FALSE(Judge(it, ServerScript{}, "M\r\n"));
  it.record.violations.push_back({"early-command", "RFC 5321 §4.2.1", "x"});
  ASSERT_TRUE(Judge(it, ServerScript{}, ""));
  EXPECT_EQ(Judge(it, ServerScript{}, "")->bucket, "violation-early-command-RCPT");
  // A malformed scripted reply may end early for the client: not judged.
  ServerScript odd;
  odd.replies["MAIL"] = {smtp::client::ReplyBytes("250 a\r\n250-b\r\n")};
  EXPECT_FALSE(Judge(it, odd, ""));
  it.record.violations.push_back({"line-end", "RFC 5321 §2.3.8", "bare LF"});
  ASSERT_TRUE(Judge(it, odd, ""));
  EXPECT_EQ(Judge(it, odd, "")->kind, "line-end");
  Iteration m = Clean();
  smtp::client::ReceivedMessage got;
  got.body = "A\r\n.B\r\n";
  m.record.messages.push_back(got);
  EXPECT_FALSE(Judge(m, ServerScript{}, "A\r\n.B\r\n"));
  ASSERT_TRUE(Judge(m, ServerScript{}, "A\r\n..B\r\n"));
  EXPECT_EQ(Judge(m, ServerScript{}, "A\r\n..B\r\n")->oracle, "message");
}

TEST(ClientOracle, WellFormedReply) {
  EXPECT_TRUE(WellFormedReply("250-a\r\n250 b\r\n"));
  EXPECT_TRUE(WellFormedReply("250\r\n"));
  EXPECT_FALSE(WellFormedReply("250 a\r\n250-b\r\n"));
  EXPECT_FALSE(WellFormedReply("250-a\r\n550 b\r\n"));
  EXPECT_FALSE(WellFormedReply("250 a\n"));
  EXPECT_FALSE(WellFormedReply("250 a"));
  EXPECT_FALSE(WellFormedReply("25x a\r\n"));
}

}  // namespace
}  // namespace smtp::fuzz::client
