// Packet decoding for pcap import: one captured frame (link layer, IPv4 or
// IPv6, TCP) to the TCP segment it carries. Pure functions over the caller's
// bytes: no allocation, no libpcap; the payload is a view into the frame.
//
// A frame that carries something else (ARP, UDP, an IP fragment, IPsec) is
// kNotTcp and is skipped by the importer; a frame whose headers contradict
// themselves (a version nibble that is not 4 or 6, a header length shorter
// than the minimum, a length field longer than the frame on the wire) is
// kMalformed with a reason. A frame cut short by the capture's snapshot
// length (captured < wire length) is not malformed: the segment says how
// many payload bytes the wire had and how many were captured.
#ifndef SMTP_HARNESS_RECORD_PACKET_DECODE_H_
#define SMTP_HARNESS_RECORD_PACKET_DECODE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace smtp::harness::pcap {

// The link types import-pcap reads (pcap LINKTYPE_ / DLT_ values as
// pcap_datalink() reports them).
enum class LinkType : int {
  kNull = 0,         // BSD loopback: 4-byte address family, host byte order
  kEthernet = 1,     // Ethernet II, with 802.1Q / 802.1ad VLAN tags
  kRaw = 12,         // raw IPv4 or IPv6 (DLT_RAW; LINKTYPE_RAW 101 maps here)
  kRawOpenBsd = 14,  // DLT_RAW on OpenBSD
  kLoop = 108,       // OpenBSD loopback: address family in network byte order
  kLinuxSll = 113,   // Linux cooked capture v1 (tcpdump -i any)
  kIpv4 = 228,       // raw IPv4
  kIpv6 = 229,       // raw IPv6
  kLinuxSll2 = 276,  // Linux cooked capture v2 (tcpdump -i any, libpcap >= 1.10)
};

// Whether import-pcap can read link type `dlt` (a pcap_datalink() value).
bool SupportedLinkType(int dlt);

// One side of a TCP connection: an IPv4 address (4 bytes used) or an IPv6
// address (16), and a port.
struct Endpoint {
  std::array<std::uint8_t, 16> addr{};
  bool v6 = false;
  std::uint16_t port = 0;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// "127.0.0.1:25" or "[::1]:25" (RFC 5952 text for IPv6).
std::string EndpointText(const Endpoint& e);

// TCP header flags (RFC 9293 §3.1).
inline constexpr std::uint8_t kTcpFin = 0x01;
inline constexpr std::uint8_t kTcpSyn = 0x02;
inline constexpr std::uint8_t kTcpRst = 0x04;
inline constexpr std::uint8_t kTcpAck = 0x10;

struct TcpSegment {
  Endpoint src;
  Endpoint dst;
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  // The payload bytes captured (a view into the frame), and how many the
  // segment had on the wire (more when the snapshot length cut it).
  std::string_view payload;
  std::size_t wire_payload = 0;
};

enum class DecodeStatus : std::uint8_t { kTcp, kNotTcp, kMalformed };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kNotTcp;
  TcpSegment segment;       // kTcp only
  std::string_view reason;  // kMalformed: what is wrong (a static string)
  std::size_t offset = 0;   // kMalformed: offset in the frame of the bad field
};

// Decodes one frame of link type `link` (a supported one). `frame` holds the
// captured bytes; `wire_length` is the frame's length on the wire (pcap's
// "len", >= frame.size()).
DecodeResult DecodeFrame(int link, std::string_view frame, std::size_t wire_length);

}  // namespace smtp::harness::pcap

#endif  // SMTP_HARNESS_RECORD_PACKET_DECODE_H_
