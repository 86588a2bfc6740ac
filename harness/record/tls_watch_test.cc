#include "harness/record/tls_watch.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace smtp::harness::pcap {
namespace {

// A conversation: "C:" / "S:" chunks in capture order. `plain`: the bytes
// kept before the switch (concatenated over both sides), `opaque`: whether
// it switched.
struct Case {
  const char* name;
  std::vector<std::string> chunks;
  bool midstream;
  std::string plain;
  bool opaque;
};

class TlsWatchTable : public ::testing::TestWithParam<Case> {};

TEST_P(TlsWatchTable, FindsTheSwitch) {
  const Case& c = GetParam();
  TlsWatch w(c.midstream);
  std::string plain;
  for (const std::string& chunk : c.chunks) {
    const std::string_view data = std::string_view(chunk).substr(2);
    const std::size_t n = chunk[0] == 'C' ? w.Client(data) : w.Server(data);
    plain += data.substr(0, n);
  }
  EXPECT_EQ(plain, c.plain);
  EXPECT_EQ(w.opaque(), c.opaque);
}

INSTANTIATE_TEST_SUITE_P(
    Sessions, TlsWatchTable,
    ::testing::Values(
        Case{"Accepted",
             {"S:220 mx\r\n", "C:EHLO a\r\n", "S:250 STARTTLS\r\n", "C:STARTTLS\r\n",
              "S:220 go\r\n\x16", "C:\x16\x03"},
             false,
             "220 mx\r\nEHLO a\r\n250 STARTTLS\r\nSTARTTLS\r\n220 go\r\n",
             true},
        Case{"Refused",
             {"S:220 mx\r\n", "C:starttls\r\n", "S:454 no\r\n", "C:QUIT\r\n", "S:220 odd\r\n"},
             false,
             "220 mx\r\nstarttls\r\n454 no\r\nQUIT\r\n220 odd\r\n",
             false},
        Case{"PipelinedBefore",
             {"S:220 mx\r\n", "C:RSET\r\nSTARTTLS\r\n", "S:250 ok\r\n", "S:220 go\r\n", "C:\x16"},
             false,
             "220 mx\r\nRSET\r\nSTARTTLS\r\n250 ok\r\n220 go\r\n",
             true},
        Case{"SplitLines",
             {"S:22", "S:0 mx\r", "S:\n", "C:STAR", "C:TTLS\r\n", "S:220-a\r\n22", "S:0 b\r\nX"},
             false,
             "220 mx\r\nSTARTTLS\r\n220-a\r\n220 b\r\n",
             true},
        Case{"InADataBody",
             {"S:220 mx\r\n", "C:DATA\r\n", "S:354 go\r\n", "C:STARTTLS\r\n.\r\n",
              "S:250 queued\r\n", "C:QUIT\r\n", "S:221 bye\r\n"},
             false,
             "220 mx\r\nDATA\r\n354 go\r\nSTARTTLS\r\n.\r\n250 queued\r\nQUIT\r\n221 bye\r\n",
             false},
        Case{"InABdatChunk",
             {"S:220 mx\r\n", "C:BDAT 10 LAST\r\nSTARTTLS\r\n", "S:250 ok\r\n", "S:220 x\r\n"},
             false,
             "220 mx\r\nBDAT 10 LAST\r\nSTARTTLS\r\n250 ok\r\n220 x\r\n",
             false},
        Case{"MidStream",
             {"C:STARTTLS\r\n", "S:220 go\r\n", "C:\x16"},
             true,
             "STARTTLS\r\n220 go\r\n",
             true},
        Case{"ImplicitTls", {"C:\x16\x03\x01", "S:\x16\x03\x03"}, false, "", true},
        Case{"GreetingFirst", {"S:220 mx\r\n", "C:\x16\x03"}, false, "220 mx\r\n\x16\x03", false}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace smtp::harness::pcap
