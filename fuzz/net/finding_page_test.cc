#include "fuzz/net/finding_page.h"

#include <gtest/gtest.h>

#include "fuzz/net/fuzzer.h"

namespace smtp::fuzz {
namespace {

using Lines = std::vector<std::pair<std::size_t, std::size_t>>;

// A transcript with the server's chunks as given (client lines between
// them, which TripLines skips).
harness::Transcript Server(const std::vector<std::string>& chunks) {
  harness::Transcript t;
  t.AddEvent(harness::EntryKind::kConnect, "127.0.0.1:25");
  for (const std::string& c : chunks) {
    t.AddData(harness::Direction::kServerToClient, c);
    t.AddData(harness::Direction::kClientToServer, "NOOP\r\n");
  }
  return t;
}

TEST(TripLinesTest, Table) {
  // Entries: 0 connect, 1 s2c, 2 c2s, 3 s2c, 4 c2s, 5 s2c, 6 c2s, ...
  const harness::Transcript t = Server({
      "220 mx ESMTP\r\n",                              // reply 0
      "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n",  // reply 1: three lines
      "250 2.1.0 Ok\r\n503 5.5.1 Error: nested\r\n",   // replies 2 and 3, one chunk
      "250-split acr",                                 // reply 4, across two chunks
      "oss chunks\r\n250 done\r\n",                    //
      "503 Unsupported option \rQUIT\r\n",             // malformed (bare CR): as 5
      "221 2.0.0 Bye\r\n",                             // reply 5 after it
  });
  const struct {
    std::size_t reply;
    Lines want;
  } cases[] = {
      {0, {{1, 0}}},
      {1, {{3, 0}, {3, 1}, {3, 2}}},
      {2, {{5, 0}}},
      {3, {{5, 1}}},
      {4, {{7, 0}, {9, 0}, {9, 1}}},
      // The malformed reply holds number 5 (it is not counted), and so does
      // the reply after it; the first one met is the malformed one.
      {5, {{11, 0}}},
      {6, {}},
      {99, {}},
  };
  for (const auto& c : cases) EXPECT_EQ(TripLines(t, c.reply), c.want) << c.reply;
}

// End to end in process: the planted bug drops the connection at HELP %x;
// the verdict names the last reply before it (EHLO's, reply 1) and the
// lines found are those of that reply in the recorded transcript.
TEST(TripLinesTest, TheRecordedVerdictPointsAtItsReply) {
  std::string error;
  auto target = MakeEmbeddedTarget({.profile = "planted"}, &error);
  ASSERT_NE(target, nullptr) << error;
  SessionInput in{{{.kind = StepKind::kCommand, .bytes = "EHLO c"},
                   {.kind = StepKind::kCommand, .bytes = "HELP %x"}}};
  Verdict v;
  const harness::Transcript t = target->Record(in, &v);
  ASSERT_EQ(v.kind, VerdictKind::kDropped) << v.detail;
  EXPECT_EQ(v.reply_index, 1u);
  const Lines lines = TripLines(t, v.reply_index);
  ASSERT_FALSE(lines.empty());
  for (const auto& [entry, line] : lines) {
    const harness::Entry& e = t.entries()[entry];
    EXPECT_EQ(e.kind, harness::EntryKind::kServerToClient);
    EXPECT_EQ(e.data.substr(0, 4), "250-") << e.data;  // EHLO's multiline reply
  }
  // A desync trips at the unasked reply: the lenient server ends DATA at a
  // bare-LF dot and answers the smuggled NOOP.
  auto lenient = MakeEmbeddedTarget({.profile = "lenient"}, &error);
  ASSERT_NE(lenient, nullptr) << error;
  SessionInput smuggle{{{.kind = StepKind::kCommand, .bytes = "EHLO c"},
                        {.kind = StepKind::kCommand, .bytes = "MAIL FROM:<a@example.com>"},
                        {.kind = StepKind::kCommand, .bytes = "RCPT TO:<b@example.com>"},
                        {.kind = StepKind::kData, .bytes = "Subject: t\r\n\r\nhi\n.\nNOOP\r\n"}}};
  const harness::Transcript t2 = lenient->Record(smuggle, &v);
  ASSERT_EQ(v.kind, VerdictKind::kDesync) << v.detail;
  const Lines desync = TripLines(t2, v.reply_index);
  ASSERT_EQ(desync.size(), 1u);
  const std::string& data = t2.entries()[desync[0].first].data;
  // The unasked reply is the one after the message's 250: the NOOP's.
  std::size_t at = 0;
  for (std::size_t i = 0; i < desync[0].second; ++i) at = data.find('\n', at) + 1;
  EXPECT_EQ(data.substr(at, 3), std::to_string(v.reply_code)) << data;
  EXPECT_EQ(v.reply_index, 6u);  // 220, EHLO, MAIL, RCPT, 354, 250 queued, then it
}

TEST(StepsTextTest, ShowsWhatWasSent) {
  SessionInput in{{{.kind = StepKind::kCommand, .bytes = "EHLO x"},
                   {.kind = StepKind::kCommand, .bytes = "RCPT TO:<a@b>", .pipelined = true},
                   {.kind = StepKind::kRaw, .bytes = "HELP \"%\"\r\n"},
                   {.kind = StepKind::kStartTls, .bytes = {}}}};
  EXPECT_EQ(StepsText(in),
            "command EHLO x\n| command RCPT TO:<a@b>\nraw \"HELP \\\"%\\\"\\r\\n\"\nstarttls\n");
}

TEST(RawReproductionTest, OnlyForHostPort) {
  harness::Transcript t;
  t.AddData(harness::Direction::kServerToClient, "220 x\r\n");
  t.AddData(harness::Direction::kClientToServer, "HELP '%'\r\n");
  const std::string py = RawReproduction(t, "127.0.0.1:2525");
  EXPECT_NE(py.find("socket.create_connection(('127.0.0.1', 2525))"), std::string::npos) << py;
  EXPECT_NE(py.find("b'HELP \\'%\\'\\x0d\\x0a'"), std::string::npos) << py;
  EXPECT_EQ(RawReproduction(t, "embedded:planted"), "");
  EXPECT_EQ(RawReproduction(t, "exec:./srv -"), "");
}

// A Postfix smtpd crash left its master throttling for 60 s: the finding's
// re-recording got no session, and the "reproduction" wrote nothing.
TEST(RawReproductionTest, NoneFromARecordingThatSentNothing) {
  harness::Transcript t;
  EXPECT_EQ(RawReproduction(t, "127.0.0.1:2525"), "");
  t.AddData(harness::Direction::kServerToClient, "421 busy\r\n");
  EXPECT_EQ(RawReproduction(t, "127.0.0.1:2525"), "");
}

}  // namespace
}  // namespace smtp::fuzz
