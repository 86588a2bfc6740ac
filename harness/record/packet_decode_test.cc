#include "harness/record/packet_decode.h"

#include <string>

#include <gtest/gtest.h>

#include "harness/record/pcap_test_util.h"

namespace smtp::harness::pcap {
namespace {

using testing::V4;
using testing::V6;

constexpr int kEth = static_cast<int>(LinkType::kEthernet);

TEST(Decode, EthernetPaddingIsNotPayload) {
  const std::string ip = testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, kTcpAck, "");
  std::string frame = testing::Frame(kEth, ip);
  frame.append(6, '\0');  // padded to the 60-byte minimum
  const DecodeResult r = DecodeFrame(kEth, frame, frame.size());
  ASSERT_EQ(r.status, DecodeStatus::kTcp);
  EXPECT_EQ(r.segment.payload, "");
  EXPECT_EQ(r.segment.seq, 7u);
  EXPECT_EQ(r.segment.dst.port, 25);
}

TEST(Decode, SnapLengthCutPayloadKeepsTheWireLength) {
  const std::string ip =
      testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, kTcpAck, "0123456789");
  const std::string frame = testing::Frame(kEth, ip);
  const std::string cut = frame.substr(0, frame.size() - 4);  // the payload views into it
  const DecodeResult r = DecodeFrame(kEth, cut, frame.size());
  ASSERT_EQ(r.status, DecodeStatus::kTcp);
  EXPECT_EQ(r.segment.payload, "012345");
  EXPECT_EQ(r.segment.wire_payload, 10u);
}

TEST(Decode, SnapLengthCutHeaderIsSkipped) {
  const std::string frame =
      testing::Frame(kEth, testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, 0, ""));
  EXPECT_EQ(DecodeFrame(kEth, frame.substr(0, 40), frame.size()).status, DecodeStatus::kNotTcp);
}

struct Bad {
  const char* name;
  std::size_t at;  // byte of the Ethernet frame to overwrite
  unsigned char value;
  const char* reason;
  std::size_t offset;
};

class DecodeMalformed : public ::testing::TestWithParam<Bad> {};

TEST_P(DecodeMalformed, SaysWhatAndWhere) {
  const Bad& b = GetParam();
  std::string frame =
      testing::Frame(kEth, testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, 0, "x"));
  frame[b.at] = static_cast<char>(b.value);
  const DecodeResult r = DecodeFrame(kEth, frame, frame.size());
  ASSERT_EQ(r.status, DecodeStatus::kMalformed);
  EXPECT_EQ(r.reason, b.reason);
  EXPECT_EQ(r.offset, b.offset);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, DecodeMalformed,
    ::testing::Values(
        Bad{"IhlTooSmall", 14, 0x44, "IPv4 header length below 5 words", 14},
        Bad{"Version", 14, 0x75, "IPv4 ethertype, other IP version", 14},
        Bad{"TotalLengthLong", 17, 0xFF, "IPv4 total length longer than the frame", 16},
        Bad{"TotalLengthShort", 17, 0x04, "IPv4 total length shorter than its header", 16},
        Bad{"TcpOffset", 46, 0x20, "TCP data offset below 5 words", 46}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Decode, NotTcp) {
  std::string ip = testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, 0, "");
  ip[9] = 17;  // UDP
  EXPECT_EQ(DecodeFrame(kEth, testing::Frame(kEth, ip), 54).status, DecodeStatus::kNotTcp);
  std::string arp = testing::Frame(kEth, ip);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(DecodeFrame(kEth, arp, arp.size()).status, DecodeStatus::kNotTcp);
  std::string frag =
      testing::Frame(kEth, testing::IpTcp(V4("10.0.0.1", 1), V4("10.0.0.2", 25), 7, 0, 0, ""));
  frag[14 + 6] = 0x20;  // more fragments
  EXPECT_EQ(DecodeFrame(kEth, frag, frag.size()).status, DecodeStatus::kNotTcp);
}

TEST(Decode, EndpointText) {
  EXPECT_EQ(EndpointText(V4("127.0.0.1", 25)), "127.0.0.1:25");
  EXPECT_EQ(EndpointText(V6("::1", 2525)), "[::1]:2525");
  EXPECT_EQ(EndpointText(V6("2001:db8:0:0:1:0:0:1", 1)), "[2001:db8::1:0:0:1]:1");
}

TEST(Decode, LinkTypes) {
  EXPECT_TRUE(SupportedLinkType(1));
  EXPECT_TRUE(SupportedLinkType(276));
  EXPECT_FALSE(SupportedLinkType(105));
  EXPECT_FALSE(SupportedLinkType(-1));
}

}  // namespace
}  // namespace smtp::harness::pcap
