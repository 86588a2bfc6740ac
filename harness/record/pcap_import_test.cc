#include "harness/record/pcap_import.h"

#include <pcap/pcap.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "harness/record/pcap_test_util.h"
#include "results/absl_compat.h"

namespace smtp::harness::pcap {
namespace {

namespace fs = std::filesystem;
using namespace std::literals;
using testing::Conversation;
using ::testing::HasSubstr;
using testing::Packet;
using testing::V4;
using testing::V6;

constexpr int kEth = static_cast<int>(LinkType::kEthernet);

constexpr std::string_view kGreeting = "220 mx.example ESMTP\r\n";
constexpr std::string_view kEhlo = "EHLO client.example\r\n";
constexpr std::string_view kEhloReply = "250-mx.example\r\n250 PIPELINING\r\n";
constexpr std::string_view kQuit = "QUIT\r\n";
constexpr std::string_view kBye = "221 bye\r\n";

// The session every link-type test captures.
Conversation Simple(Endpoint client, Endpoint server) {
  Conversation c(client, server);
  c.Handshake().Server(kGreeting).Client(kEhlo).Server(kEhloReply).Client(kQuit).Server(kBye);
  c.Close();
  return c;
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("pcap_import_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `bytes` to a file and imports it; sessions land in sessions_.
  absl::Status Import(std::string_view bytes, PcapImportOptions options = {}) {
    const std::string path = (dir_ / "capture").string();
    testing::WriteFile(path, bytes);
    sessions_.clear();
    return ImportPcapFile(
        path, options,
        [this](std::size_t index, Transcript t) {
          EXPECT_EQ(sessions_.count(index), 0u);
          sessions_.emplace(index, std::move(t));
          return absl::OkStatus();
        },
        &stats_);
  }

  // The entries of kind `kind`, as texts.
  static std::vector<std::string> Events(const Transcript& t, EntryKind kind) {
    std::vector<std::string> out;
    for (const Entry& e : t.entries()) {
      if (e.kind == kind) out.push_back(e.text);
    }
    return out;
  }

  fs::path dir_;
  std::map<std::size_t, Transcript> sessions_;
  PcapImportStats stats_;
};

// Every link type, IPv4 and IPv6, pcap and pcapng: one session with the
// exact bytes of each side, its endpoints and times.
struct LinkCase {
  const char* name;
  LinkType link;
  bool vlan;
  bool v6;
  bool pcapng;
};

class LinkTypeTest : public ImportTest, public ::testing::WithParamInterface<LinkCase> {};

TEST_P(LinkTypeTest, OneSessionWithTheBytesOfEachSide) {
  const LinkCase& p = GetParam();
  const Endpoint client = p.v6 ? V6("2001:db8::1", 40000) : V4("192.0.2.1", 40000);
  const Endpoint server = p.v6 ? V6("2001:db8::25", 25) : V4("192.0.2.25", 25);
  const auto packets = Simple(client, server).Packets(static_cast<int>(p.link), p.vlan);
  const int dlt = static_cast<int>(p.link);
  ASSERT_TRUE(
      Import(p.pcapng ? testing::PcapngFile(dlt, packets) : testing::PcapFile(dlt, packets)).ok());
  ASSERT_EQ(sessions_.size(), 1u);
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  EXPECT_EQ(t.SideBytes(Direction::kServerToClient),
            std::string(kGreeting) + std::string(kEhloReply) + std::string(kBye));
  EXPECT_EQ(t.meta().source, "pcap");
  EXPECT_EQ(t.meta().client, p.v6 ? "[2001:db8::1]:40000" : "192.0.2.1:40000");
  EXPECT_EQ(t.meta().server, p.v6 ? "[2001:db8::25]:25" : "192.0.2.25:25");
  EXPECT_EQ(t.meta().started_at, "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(t.meta().ended_at, "2023-11-14T22:13:20.009000Z");  // the server's FIN
  ASSERT_FALSE(t.entries().empty());
  EXPECT_EQ(t.entries().front().kind, EntryKind::kConnect);
  EXPECT_EQ(t.entries().front().text, t.meta().server);
  EXPECT_EQ(t.entries().front().t_us, 0);
  // The greeting is the 4th packet: 3 ms after the SYN.
  EXPECT_EQ(t.ServerSide().front().get().t_us, 3000);
  EXPECT_EQ(Events(t, EntryKind::kLocalClosed), std::vector<std::string>{"fin"});
  EXPECT_EQ(Events(t, EntryKind::kPeerClosed), std::vector<std::string>{"fin"});
  EXPECT_EQ(stats_.packets, packets.size());
  EXPECT_EQ(stats_.sessions, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    AllLinks, LinkTypeTest,
    ::testing::Values(LinkCase{"Ethernet", LinkType::kEthernet, false, false, false},
                      LinkCase{"EthernetV6", LinkType::kEthernet, false, true, false},
                      LinkCase{"Vlan", LinkType::kEthernet, true, false, false},
                      LinkCase{"VlanV6", LinkType::kEthernet, true, true, false},
                      LinkCase{"Sll", LinkType::kLinuxSll, false, false, false},
                      LinkCase{"SllV6", LinkType::kLinuxSll, false, true, false},
                      LinkCase{"Sll2", LinkType::kLinuxSll2, false, false, false},
                      LinkCase{"Sll2V6", LinkType::kLinuxSll2, false, true, false},
                      LinkCase{"Null", LinkType::kNull, false, false, false},
                      LinkCase{"NullV6", LinkType::kNull, false, true, false},
                      LinkCase{"Loop", LinkType::kLoop, false, false, false},
                      LinkCase{"Raw", LinkType::kRaw, false, false, false},
                      LinkCase{"RawV6", LinkType::kRaw, false, true, false},
                      LinkCase{"Ipv4", LinkType::kIpv4, false, false, false},
                      LinkCase{"Ipv6", LinkType::kIpv6, false, true, false},
                      LinkCase{"PcapngEthernet", LinkType::kEthernet, false, false, true},
                      LinkCase{"PcapngSll2V6", LinkType::kLinuxSll2, false, true, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ImportTest, Ipv6ExtensionHeadersAreSkipped) {
  const Endpoint client = V6("::1", 40000), server = V6("::1", 587);
  // Hop-by-hop (next: destination options), destination options (next: TCP),
  // 8 bytes each.
  std::string ext("\x3c\x00\x01\x04\x00\x00\x00\x00", 8);
  ext += std::string("\x06\x00\x01\x04\x00\x00\x00\x00", 8);
  Conversation c(client, server);
  c.Handshake().Server(kGreeting);
  std::vector<Packet> packets = c.Packets(kEth);
  packets.push_back({packets.back().ts_us + 1000,
                     testing::Frame(kEth, testing::IpTcp(client, server, c.client_seq(),
                                                         c.server_seq(), kTcpAck, kQuit, ext, 0))});
  ASSERT_TRUE(Import(testing::PcapFile(kEth, packets)).ok());
  ASSERT_EQ(sessions_.size(), 1u);
  EXPECT_EQ(sessions_.at(0).SideBytes(Direction::kClientToServer), kQuit);
}

TEST_F(ImportTest, RetransmissionIsStoredOnce) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting);
  const std::uint32_t seq = c.client_seq();
  c.Client(kEhlo).Raw(true, kTcpAck, seq, kEhlo).Server(kEhloReply).Client(kQuit).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  EXPECT_EQ(t.ClientSide().size(), 2u);
}

TEST_F(ImportTest, OverlapKeepsTheFirstCopy) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting);
  const std::uint32_t seq = c.client_seq();
  // "EHLO a" then a segment from offset 4 that disagrees on "a" and goes on.
  c.Raw(true, kTcpAck, seq, "EHLO a").Raw(true, kTcpAck, seq + 4, " Bxyz\r\n");
  c.Skip(true, 11).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  EXPECT_EQ(sessions_.at(0).SideBytes(Direction::kClientToServer), "EHLO axyz\r\n");
  EXPECT_THAT(Events(sessions_.at(0), EntryKind::kNote),
              ::testing::Contains(
                  "retransmission with different bytes: 1 bytes at offset 5 of the client's "
                  "stream differ from the first copy (the first copy is kept)"));
  EXPECT_EQ(stats_.conflicting_retransmissions, 1u);
}

// The same sequence numbers, other bytes: the first copy is stored, the
// difference noted where it was seen.
TEST_F(ImportTest, RetransmissionWithDifferentBytesIsNoted) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting);
  const std::uint32_t seq = c.client_seq();
  c.Client(kEhlo).Raw(true, kTcpAck, seq, "EHLO CLIENT.example\r\n").Server(kEhloReply);
  c.Client(kQuit).Server(kBye).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  const std::vector<std::string> notes = Events(t, EntryKind::kNote);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("retransmission with different bytes: 6 bytes at offset 5 of "
                                  "the client's stream"));
  // Noted after the first copy and before the reply that followed.
  std::vector<EntryKind> kinds;
  for (const Entry& e : t.entries()) kinds.push_back(e.kind);
  const auto note = std::find(kinds.begin(), kinds.end(), EntryKind::kNote) - kinds.begin();
  EXPECT_EQ(t.entries()[note - 1].data, kEhlo);
  EXPECT_EQ(t.entries()[note + 1].data, kEhloReply);
}

TEST_F(ImportTest, OutOfOrderSegmentsAreReordered) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting);
  const std::uint32_t seq = c.client_seq();
  c.Raw(true, kTcpAck, seq + 5, "client.example\r\n").Raw(true, kTcpAck, seq, "EHLO ");
  c.Skip(true, static_cast<std::uint32_t>(kEhlo.size())).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), kEhlo);
  // Delivered when the hole filled: both chunks at the time of the 2nd packet.
  ASSERT_EQ(t.ClientSide().size(), 2u);
  EXPECT_EQ(t.ClientSide()[0].get().data, "EHLO ");
  EXPECT_EQ(t.ClientSide()[0].get().t_us, t.ClientSide()[1].get().t_us);
  EXPECT_TRUE(Events(t, EntryKind::kError).empty());
}

TEST_F(ImportTest, MidStreamCaptureStartsAtTheFirstByteSeenAndSaysSo) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 2525), 1'700'000'000'000'000, 77, 99);
  c.Client("MAIL FROM:<a@b>\r\n").Server("250 ok\r\n").Client(kQuit).Server(kBye).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  ASSERT_EQ(sessions_.size(), 1u);
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.entries().front().kind, EntryKind::kNote);
  EXPECT_THAT(t.entries().front().text, HasSubstr("mid-stream"));
  EXPECT_TRUE(Events(t, EntryKind::kConnect).empty());
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "MAIL FROM:<a@b>\r\nQUIT\r\n");
  EXPECT_EQ(t.SideBytes(Direction::kServerToClient), "250 ok\r\n221 bye\r\n");
  EXPECT_EQ(t.meta().client, "10.0.0.1:40000");  // the side talking to port 2525
  EXPECT_EQ(stats_.midstream, 1u);
}

TEST_F(ImportTest, MidStreamFirstPacketFromTheServerStillFindsTheClient) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Server("250 ok\r\n").Client(kQuit).Server(kBye);
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.meta().client, "10.0.0.1:40000");
  EXPECT_EQ(t.meta().server, "10.0.0.2:25");
  EXPECT_THAT(Events(t, EntryKind::kNote).back(), HasSubstr("capture ended before"));
}

TEST_F(ImportTest, AGapThatNeverFillsIsAnErrorAndTheStreamGoesOn) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting).Client(kEhlo);
  c.Skip(true, 10);  // 10 client bytes never captured
  c.Client(kQuit).Server(kBye).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  ASSERT_EQ(Events(t, EntryKind::kError).size(), 1u);
  EXPECT_EQ(Events(t, EntryKind::kError)[0],
            "capture gap: 10 bytes from the client lost (never captured)");
  EXPECT_EQ(stats_.lost_bytes, 10u);
  // The FIN was reached after the gap: the client's close is still seen.
  EXPECT_EQ(Events(t, EntryKind::kLocalClosed), std::vector<std::string>{"fin"});
  EXPECT_TRUE(Events(t, EntryKind::kNote).empty());
}

TEST_F(ImportTest, AFullReorderBufferGivesUpOnTheHole) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting);
  c.Skip(true, 3);
  const std::string big(100, 'x');
  c.Client(big).Client(big).Client(big);
  PcapImportOptions options;
  options.reassembly.max_pending_bytes = 150;
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth)), options).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), big + big + big);
  ASSERT_FALSE(Events(t, EntryKind::kError).empty());
  EXPECT_EQ(Events(t, EntryKind::kError)[0],
            "capture gap: 3 bytes from the client lost (out-of-order buffer full)");
}

TEST_F(ImportTest, SnapLengthCutPayloadIsAGap) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting).Client(kEhlo).Client(kQuit);
  std::vector<Packet> packets = c.Packets(kEth);
  Packet& ehlo = packets[4];
  ehlo.wire_len = static_cast<std::uint32_t>(ehlo.frame.size());
  ehlo.frame.resize(ehlo.frame.size() - 6);  // the capture kept all but 6 bytes
  ASSERT_TRUE(Import(testing::PcapFile(kEth, packets)).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer),
            std::string(kEhlo.substr(0, kEhlo.size() - 6)) + std::string(kQuit));
  EXPECT_EQ(Events(t, EntryKind::kError),
            std::vector<std::string>{
                "capture gap: 6 bytes from the client lost (not captured (snapshot length))"});
}

TEST_F(ImportTest, SequenceNumbersWrapAround) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25), 1'700'000'000'000'000, 0xFFFFFFF0u,
                 0xFFFFFFFEu);
  c.Handshake().Server(kGreeting).Client(kEhlo).Server(kEhloReply).Client(kQuit).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  EXPECT_EQ(t.SideBytes(Direction::kServerToClient),
            std::string(kGreeting) + std::string(kEhloReply));
  EXPECT_TRUE(Events(t, EntryKind::kError).empty());
}

TEST_F(ImportTest, ResetClosesTheConnection) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting).Raw(false, kTcpRst, c.server_seq(), "");
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(Events(t, EntryKind::kPeerClosed), std::vector<std::string>{"reset"});
  EXPECT_EQ(t.entries().back().kind, EntryKind::kPeerClosed);
}

TEST_F(ImportTest, StarttlsAcceptedMakesTheRestOpaque) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 587));
  c.Handshake().Server(kGreeting).Client(kEhlo).Server("250-mx\r\n250 STARTTLS\r\n");
  c.Client("STARTTLS\r\n").Server("220 2.0.0 go ahead\r\n");
  c.Client("\x16\x03\x01\x00\x05hello"sv).Server("\x16\x03\x03\x00\x02hi"sv).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + "STARTTLS\r\n");
  EXPECT_EQ(t.SideBytes(Direction::kServerToClient),
            std::string(kGreeting) + "250-mx\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n");
  EXPECT_EQ(Events(t, EntryKind::kTlsOpaque).size(), 1u);
  EXPECT_THAT(Events(t, EntryKind::kNote).back(),
              HasSubstr("10 bytes from the client and 7 from the server, not stored"));
}

TEST_F(ImportTest, StarttlsRefusedStaysInTheClear) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 25));
  c.Handshake().Server(kGreeting).Client("STARTTLS\r\n").Server("454 4.7.0 no\r\n");
  c.Client(kQuit).Server(kBye).Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_TRUE(Events(t, EntryKind::kTlsOpaque).empty());
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "STARTTLS\r\nQUIT\r\n");
}

TEST_F(ImportTest, ImplicitTlsIsOpaqueFromTheStart) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 465));
  c.Handshake().Client("\x16\x03\x01\x00\x05hello").Server("\x16\x03\x03\x00\x02hi").Close();
  ASSERT_TRUE(Import(testing::PcapFile(kEth, c.Packets(kEth))).ok());
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), "");
  EXPECT_THAT(Events(t, EntryKind::kTlsOpaque), ::testing::ElementsAre(HasSubstr("implicit TLS")));
}

// AUTH secrets are redacted as `record` redacts them (RFC 4954: the initial
// response and the answers to 334), unless keep_secrets.
TEST_F(ImportTest, AuthSecretsAreRedactedUnlessKept) {
  constexpr std::string_view kPlain = "AGFsaWNlAHMzY3JldA==";  // \0alice\0s3cret
  constexpr std::string_view kPassword = "czNjcmV0";           // s3cret
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 587));
  c.Handshake().Server(kGreeting).Client(kEhlo).Server("250-mx\r\n250 AUTH PLAIN LOGIN\r\n");
  c.Client(absl::StrCat("AUTH PLAIN ", AV(kPlain), "\r\n")).Server("535 5.7.8 no\r\n");
  c.Client("AUTH LOGIN\r\n").Server("334 VXNlcm5hbWU6\r\n").Client("YWxpY2U=\r\n");
  c.Server("334 UGFzc3dvcmQ6\r\n").Client(absl::StrCat(AV(kPassword), "\r\n"));
  c.Server("235 2.7.0 ok\r\n").Client(kQuit).Server(kBye).Close();
  const std::string capture = testing::PcapFile(kEth, c.Packets(kEth));

  ASSERT_TRUE(Import(capture).ok());
  const std::string redacted = sessions_.at(0).SideBytes(Direction::kClientToServer);
  EXPECT_THAT(redacted, ::testing::Not(HasSubstr(kPlain)));
  EXPECT_THAT(redacted, ::testing::Not(HasSubstr(kPassword)));
  EXPECT_THAT(redacted, HasSubstr("AUTH PLAIN ***\r\n"));
  EXPECT_EQ(stats_.redacted, 1u);

  PcapImportOptions keep;
  keep.keep_secrets = true;
  ASSERT_TRUE(Import(capture, keep).ok());
  const std::string kept = sessions_.at(0).SideBytes(Direction::kClientToServer);
  EXPECT_THAT(kept, HasSubstr(absl::StrCat("AUTH PLAIN ", AV(kPlain), "\r\n")));
  EXPECT_THAT(kept, HasSubstr(kPassword));
  EXPECT_EQ(stats_.redacted, 0u);
}

// An AUTH answer too long to capture cannot be redacted: the session is not
// handed on (as `record` does not save it), and counted.
TEST_F(ImportTest, AnAuthAnswerTooLongToRedactIsNotHandedOn) {
  Conversation c(V4("10.0.0.1", 40000), V4("10.0.0.2", 587));
  c.Handshake().Server(kGreeting).Client("AUTH LOGIN\r\n").Server("334 VXNlcm5hbWU6\r\n");
  c.Client(std::string(20000, 'A') + "\r\n").Server("535 no\r\n").Close();
  const std::string capture = testing::PcapFile(kEth, c.Packets(kEth));
  ASSERT_TRUE(Import(capture).ok());
  EXPECT_TRUE(sessions_.empty());
  EXPECT_EQ(stats_.unsaved_secret, 1u);
  PcapImportOptions keep;
  keep.keep_secrets = true;
  ASSERT_TRUE(Import(capture, keep).ok());
  EXPECT_EQ(sessions_.size(), 1u);
}

TEST_F(ImportTest, SessionsAreNumberedByTheirFirstPacket) {
  // Connection B starts second but closes first; a third reuses A's tuple.
  Conversation a(V4("10.0.0.1", 40000), V4("10.0.0.2", 25), 1'700'000'000'000'000);
  a.Handshake().Server(kGreeting).Close();
  Conversation b(V4("10.0.0.3", 40001), V4("10.0.0.2", 25), 1'700'000'000'000'500);
  b.Handshake().Close();
  Conversation a2(V4("10.0.0.1", 40000), V4("10.0.0.2", 25), 1'700'000'000'100'000, 9000, 9000);
  a2.Handshake().Server(kBye).Close();
  std::vector<Packet> all = a.Packets(kEth);
  for (Packet& p : b.Packets(kEth)) all.push_back(p);
  for (Packet& p : a2.Packets(kEth)) all.push_back(p);
  std::stable_sort(all.begin(), all.end(),
                   [](const Packet& x, const Packet& y) { return x.ts_us < y.ts_us; });
  ASSERT_TRUE(Import(testing::PcapFile(kEth, all)).ok());
  // B carried no byte: no session, but its number stays taken.
  ASSERT_EQ(sessions_.size(), 2u);
  EXPECT_EQ(sessions_.at(0).SideBytes(Direction::kServerToClient), kGreeting);
  EXPECT_EQ(sessions_.count(1), 0u);
  EXPECT_EQ(sessions_.at(2).SideBytes(Direction::kServerToClient), kBye);
  EXPECT_EQ(stats_.empty_connections, 1u);
}

// 20,000 bare SYNs (a scan, a flood) around one real session: no session
// for them, and they push out neither the real session (open across the
// flood, with room for only 2 connections that carry data) nor each other's
// memory bounds: they are small pending records, the oldest forgotten.
TEST_F(ImportTest, BareSynsLeaveNoSessionAndDoNotPushOutRealOnes) {
  constexpr int kSyns = 20'000;
  Conversation real(V4("10.0.0.1", 40000), V4("10.0.0.2", 25), 1'700'000'000'000'000);
  real.Handshake().Server(kGreeting).Client(kEhlo);
  std::vector<Packet> all = real.Packets(kEth);
  for (int i = 0; i < kSyns; ++i) {
    Conversation c(V4("10.9.0.1", static_cast<std::uint16_t>(1024 + i % 60000)),
                   V4("10.0.0.2", static_cast<std::uint16_t>(i < 60000 ? 25 : 587)),
                   1'700'000'001'000'000 + i);
    c.Raw(true, kTcpSyn, 1000, {});
    for (Packet& p : c.Packets(kEth)) all.push_back(p);
  }
  Conversation rest(V4("10.0.0.1", 40000), V4("10.0.0.2", 25), 1'700'000'002'000'000,
                    1000 + 1 + static_cast<std::uint32_t>(kEhlo.size()),
                    5000 + 1 + static_cast<std::uint32_t>(kGreeting.size()));
  rest.Server(kEhloReply).Client(kQuit).Server(kBye).Close();
  for (Packet& p : rest.Packets(kEth)) all.push_back(p);
  PcapImportOptions options;
  options.max_open_connections = 2;
  options.max_pending_connections = 100;
  ASSERT_TRUE(Import(testing::PcapFile(kEth, all), options).ok());
  ASSERT_EQ(sessions_.size(), 1u);
  const Transcript& t = sessions_.begin()->second;
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), std::string(kEhlo) + std::string(kQuit));
  EXPECT_EQ(t.SideBytes(Direction::kServerToClient),
            std::string(kGreeting) + std::string(kEhloReply) + std::string(kBye));
  EXPECT_TRUE(Events(t, EntryKind::kNote).empty());
  EXPECT_EQ(stats_.empty_connections, static_cast<std::uint64_t>(kSyns));
}

// HTTP on an SMTP port: the server's first bytes are not a reply.
TEST_F(ImportTest, AServerThatDoesNotOpenWithAReplyIsNotASession) {
  Conversation web(V4("10.0.0.1", 40000), V4("10.0.0.2", 2525));
  web.Handshake().Client("GET / HTTP/1.0\r\n\r\n").Server("HTTP/1.0 200 OK\r\n\r\n").Close();
  const absl::Status st = Import(testing::PcapFile(kEth, web.Packets(kEth)));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(Message(st), HasSubstr("1 carried something else than SMTP"));
  EXPECT_TRUE(sessions_.empty());
  EXPECT_EQ(stats_.not_smtp, 1u);
}

TEST_F(ImportTest, OtherPortsAreIgnored) {
  Conversation web(V4("10.0.0.1", 40000), V4("10.0.0.2", 80));
  web.Handshake().Client("GET / HTTP/1.0\r\n\r\n").Close();
  std::vector<Packet> all = web.Packets(kEth);
  for (Packet& p : Simple(V4("10.0.0.1", 40001), V4("10.0.0.2", 25)).Packets(kEth)) {
    all.push_back(p);
  }
  ASSERT_TRUE(Import(testing::PcapFile(kEth, all)).ok());
  EXPECT_EQ(sessions_.size(), 1u);
  PcapImportOptions only80;
  only80.ports = {80};
  ASSERT_TRUE(Import(testing::PcapFile(kEth, all), only80).ok());
  ASSERT_EQ(sessions_.size(), 1u);
  EXPECT_EQ(sessions_.at(0).SideBytes(Direction::kClientToServer), "GET / HTTP/1.0\r\n\r\n");
}

TEST_F(ImportTest, NoSmtpConnectionIsAnError) {
  Conversation web(V4("10.0.0.1", 40000), V4("10.0.0.2", 80));
  web.Handshake().Close();
  const absl::Status st = Import(testing::PcapFile(kEth, web.Packets(kEth)));
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(Message(st), HasSubstr("no SMTP session on TCP port 25,465,587,2525 in 6 packets"));
}

TEST_F(ImportTest, TruncatedFileNamesThePacketAndKeepsWhatCameBefore) {
  const auto packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  std::string file = testing::PcapFile(kEth, packets);
  file.resize(file.size() - 10);  // the last packet (the 11th, the final ACK) loses 10 bytes
  const absl::Status st = Import(file);
  ASSERT_FALSE(st.ok());
  const std::size_t last_offset = file.size() + 10 - 16 - packets.back().frame.size();
  EXPECT_THAT(Message(st),
              HasSubstr("packet 11 (byte offset " + std::to_string(last_offset) + ")"));
  EXPECT_THAT(Message(st), HasSubstr("truncated"));
  ASSERT_EQ(sessions_.size(), 1u);  // recovered
  EXPECT_EQ(sessions_.at(0).SideBytes(Direction::kClientToServer),
            std::string(kEhlo) + std::string(kQuit));
}

TEST_F(ImportTest, TruncatedInTheMiddleOfASessionKeepsItsStart) {
  const auto packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  std::string file =
      testing::PcapFile(kEth, std::vector<Packet>(packets.begin(), packets.begin() + 5));
  file += testing::PcapFile(kEth, {packets[5]}).substr(24, 20);  // header and 4 bytes of #6
  const absl::Status st = Import(file);
  EXPECT_THAT(Message(st), HasSubstr("packet 6 "));
  ASSERT_EQ(sessions_.size(), 1u);
  const Transcript& t = sessions_.at(0);
  EXPECT_EQ(t.SideBytes(Direction::kClientToServer), kEhlo);
  EXPECT_THAT(Events(t, EntryKind::kNote).back(), HasSubstr("capture ended before"));
}

TEST_F(ImportTest, MalformedPacketNamesItsNumber) {
  auto packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  packets[6].frame[14] = 0x43;  // IPv4 header length 3 words
  const absl::Status st = Import(testing::PcapFile(kEth, packets));
  EXPECT_THAT(Message(st), HasSubstr("packet 7 (byte offset "));
  EXPECT_THAT(Message(st), HasSubstr("IPv4 header length below 5 words (at byte 14 of the frame)"));
  EXPECT_EQ(sessions_.size(), 1u);
}

TEST_F(ImportTest, GarbageIsNotACapture) {
  for (std::string_view bytes :
       {std::string_view("hello, this is not a capture file at all\n"), std::string_view(""),
        std::string_view("\xd4\xc3\xb2\xa1\x02\x00", 6)}) {
    const absl::Status st = Import(bytes);
    EXPECT_FALSE(st.ok()) << bytes;
    EXPECT_THAT(Message(st), HasSubstr("cannot read as a pcap or pcapng capture"));
  }
}

// Every prefix of a capture, and captures with random bytes overwritten:
// each imports or fails with a message that says where, never crashes (ASan
// runs this in CI).
TEST_F(ImportTest, EveryPrefixAndCorruptionFailsCleanly) {
  Conversation c(V6("2001:db8::1", 40000), V6("2001:db8::25", 25));
  c.Handshake().Server(kGreeting).Client(kEhlo).Server(kEhloReply).Client(kQuit).Close();
  const std::string file = testing::PcapFile(static_cast<int>(LinkType::kLinuxSll2),
                                             c.Packets(static_cast<int>(LinkType::kLinuxSll2)));
  auto check = [&](const std::string& bytes) {
    const absl::Status st = Import(bytes);
    if (st.ok()) return;
    const std::string m = Message(st);
    EXPECT_TRUE(m.find(": packet ") != std::string::npos ||
                m.find("cannot read as a pcap") != std::string::npos ||
                m.find("no SMTP session") != std::string::npos ||
                m.find("is not supported") != std::string::npos)
        << m;
  };
  for (std::size_t n = 0; n <= file.size(); ++n) check(file.substr(0, n));
  std::uint32_t rng = 12345;
  for (int i = 0; i < 300; ++i) {
    std::string bytes = file;
    for (int k = 0; k < 1 + i % 8; ++k) {
      rng = rng * 1103515245u + 12345u;
      bytes[(rng >> 8) % bytes.size()] = static_cast<char>(rng >> 24);
    }
    check(bytes);
  }
}

// A pcapng of several interfaces with their own link types and timestamp
// resolutions (dumpcap -i eth0 -i lo): libpcap refuses it at the second
// interface ("an interface has a type ... different from the type of the
// first interface"); it is read per interface, as Wireshark does, and the
// packets of an interface we cannot decode are skipped.
struct NgInterface {
  std::uint32_t linktype;
  int resol_exp;  // if_tsresol as 10^-resol_exp; -1: no option (microseconds)
};
struct NgPacket {
  std::uint32_t iface;
  Packet packet;
};
std::string MixedPcapng(const std::vector<NgInterface>& ifaces,
                        const std::vector<NgPacket>& packets) {
  using testing::PutLe16;
  using testing::PutLe32;
  std::string s;
  auto block = [&s](std::uint32_t type, const std::string& body) {
    testing::PutPcapngBlock(s, type, body);
  };
  block(0x0A0D0D0A, testing::PcapngSectionHeaderBody());
  for (const NgInterface& i : ifaces) {
    std::string idb;
    PutLe16(idb, static_cast<std::uint16_t>(i.linktype));
    PutLe16(idb, 0);
    PutLe32(idb, 262144);
    if (i.resol_exp >= 0) {
      PutLe16(idb, 9);  // if_tsresol
      PutLe16(idb, 1);
      idb += static_cast<char>(i.resol_exp);
      idb.append(3, '\0');
      PutLe32(idb, 0);  // opt_endofopt
    }
    block(1, idb);
  }
  for (const NgPacket& np : packets) {
    const Packet& p = np.packet;
    std::uint64_t units = static_cast<std::uint64_t>(p.ts_us);
    if (ifaces[np.iface].resol_exp == 9) units *= 1000;
    std::string epb;
    PutLe32(epb, np.iface);
    PutLe32(epb, static_cast<std::uint32_t>(units >> 32));
    PutLe32(epb, static_cast<std::uint32_t>(units & 0xFFFFFFFF));
    PutLe32(epb, static_cast<std::uint32_t>(p.frame.size()));
    PutLe32(epb, static_cast<std::uint32_t>(p.frame.size()));
    epb += p.frame;
    epb.append((4 - p.frame.size() % 4) % 4, '\0');
    block(6, epb);
  }
  return s;
}

TEST_F(ImportTest, MixedLinkTypePcapngIsReadPerInterface) {
  const int sll = static_cast<int>(LinkType::kLinuxSll);
  const int raw = static_cast<int>(LinkType::kRaw);
  const std::vector<NgInterface> ifaces = {{1, -1}, {113, 9}, {105, -1}, {101, 6}};
  std::vector<NgPacket> all;
  const auto eth_packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  Conversation lo(V4("127.0.0.1", 50000), V4("127.0.0.1", 2525), 1'700'000'000'000'500);
  lo.Handshake().Server(kGreeting).Client(kQuit).Server(kBye).Close();
  const auto lo_packets = lo.Packets(sll);
  Conversation v6(V6("::1", 50001), V6("::1", 587), 1'700'000'000'000'700);
  v6.Handshake().Server(kGreeting).Client(kQuit).Server(kBye).Close();
  const auto raw_packets = v6.Packets(raw);
  for (std::size_t i = 0; i < std::max(eth_packets.size(), lo_packets.size()); ++i) {
    if (i < eth_packets.size()) all.push_back({0, eth_packets[i]});
    if (i < lo_packets.size()) all.push_back({1, lo_packets[i]});
    if (i < raw_packets.size()) all.push_back({3, raw_packets[i]});
    if (i == 2) all.push_back({2, Packet{1'700'000'000'000'600, std::string(40, 'x')}});
  }
  const std::string file = MixedPcapng(ifaces, all);
  const std::string path = (dir_ / "mixed.pcapng").string();
  testing::WriteFile(path, file);
  // What libpcap makes of it (the reason for our own reader).
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc = 1;
  while (rc == 1) rc = pcap_next_ex(p, &h, &data);
  const std::string libpcap_says = rc == PCAP_ERROR ? pcap_geterr(p) : "";
  pcap_close(p);
  EXPECT_THAT(libpcap_says, HasSubstr("different from the type of the first interface"));

  ASSERT_TRUE(Import(file).ok());
  ASSERT_EQ(sessions_.size(), 3u);
  std::map<std::string, const Transcript*> by_client;
  for (const auto& [i, t] : sessions_) by_client[t.meta().client] = &t;
  ASSERT_EQ(by_client.count("10.0.0.1:40000"), 1u);
  ASSERT_EQ(by_client.count("127.0.0.1:50000"), 1u);
  ASSERT_EQ(by_client.count("[::1]:50001"), 1u);
  EXPECT_EQ(by_client["10.0.0.1:40000"]->SideBytes(Direction::kClientToServer),
            std::string(kEhlo) + std::string(kQuit));
  const Transcript& l = *by_client["127.0.0.1:50000"];
  EXPECT_EQ(l.SideBytes(Direction::kServerToClient), std::string(kGreeting) + std::string(kBye));
  // Nanosecond timestamps of interface 1 read as such.
  EXPECT_EQ(l.meta().started_at, "2023-11-14T22:13:20.000500Z");
  EXPECT_EQ(by_client["[::1]:50001"]->SideBytes(Direction::kClientToServer), kQuit);
  EXPECT_EQ(stats_.packets, all.size());
}

// pcapng errors name the packet and the block's byte offset, as pcap ones do.
TEST_F(ImportTest, TruncatedPcapngNamesThePacketAndKeepsWhatCameBefore) {
  const auto packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  std::string file = testing::PcapngFile(kEth, packets);
  const std::size_t full = file.size();
  file.resize(full - 10);
  const absl::Status st = Import(file);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(Message(st), HasSubstr("packet 11 (byte offset "));
  EXPECT_THAT(Message(st), HasSubstr("truncated block"));
  ASSERT_EQ(sessions_.size(), 1u);
}

// A compressed capture gets a hint instead of libpcap's "unknown file format" alone.
TEST_F(ImportTest, CompressedCaptureGetsAHint) {
  const std::string pcap = testing::PcapFile(kEth, {});
  const absl::Status st = Import("\x1f\x8b\x08\x00" + pcap);
  EXPECT_THAT(Message(st), HasSubstr("cannot read as a pcap or pcapng capture"));
  EXPECT_THAT(Message(st),
              HasSubstr("(the file is gzip-compressed: decompress it first, e.g. gunzip -k FILE)"));
  EXPECT_THAT(Message(Import(std::string("\x28\xb5\x2f\xfd", 4) + pcap)), HasSubstr("zstd"));
}

TEST_F(ImportTest, UnsupportedLinkTypeIsAnError) {
  const absl::Status st = Import(testing::PcapFile(105 /* IEEE 802.11 */, {}));
  EXPECT_THAT(Message(st), HasSubstr("link type IEEE802_11 (105) is not supported"));
}

TEST_F(ImportTest, MissingFileIsAnError) {
  const absl::Status st = ImportPcapFile((dir_ / "nope.pcap").string(), {},
                                         [](std::size_t, Transcript) { return absl::OkStatus(); });
  EXPECT_THAT(Message(st), HasSubstr("nope.pcap: cannot read"));
}

TEST_F(ImportTest, ASinkErrorStopsTheImport) {
  const auto packets = Simple(V4("10.0.0.1", 40000), V4("10.0.0.2", 25)).Packets(kEth);
  const std::string path = (dir_ / "c.pcap").string();
  testing::WriteFile(path, testing::PcapFile(kEth, packets));
  const absl::Status st = ImportPcapFile(
      path, {}, [](std::size_t, Transcript) { return absl::UnavailableError("disk full"); });
  EXPECT_EQ(Message(st), "disk full");
}

TEST_F(ImportTest, TooManyOpenConnectionsCutsTheOldest) {
  std::vector<Packet> all;
  for (std::uint16_t i = 0; i < 3; ++i) {
    Conversation c(V4("10.0.0.1", static_cast<std::uint16_t>(40000 + i)), V4("10.0.0.2", 25),
                   1'700'000'000'000'000 + i * 10);
    c.Handshake().Server(kGreeting);
    for (Packet& p : c.Packets(kEth)) all.push_back(p);
  }
  PcapImportOptions options;
  options.max_open_connections = 2;
  ASSERT_TRUE(Import(testing::PcapFile(kEth, all), options).ok());
  ASSERT_EQ(sessions_.size(), 3u);
  EXPECT_THAT(Events(sessions_.at(0), EntryKind::kNote),
              ::testing::Contains(HasSubstr("more than 2 connections open at once")));
}

}  // namespace
}  // namespace smtp::harness::pcap
