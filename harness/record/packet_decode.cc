#include "harness/record/packet_decode.h"

#include <arpa/inet.h>

#include <cstring>

namespace smtp::harness::pcap {
namespace {

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86DD;
constexpr std::uint16_t kEtherVlan = 0x8100;     // 802.1Q
constexpr std::uint16_t kEtherQinQ = 0x88A8;     // 802.1ad
constexpr std::uint16_t kEtherQinQOld = 0x9100;  // pre-standard QinQ
constexpr int kMaxVlanTags = 4;
constexpr std::uint8_t kIpProtoTcp = 6;

std::uint16_t Be16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t Be32(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint32_t Le32(const unsigned char* p) {
  return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}

// A view of the frame with the position of its first byte in the frame, so
// errors name an offset in the frame.
struct Cursor {
  const unsigned char* p;
  std::size_t size;  // captured bytes from p
  std::size_t wire;  // bytes from p on the wire (>= size)
  std::size_t at;    // offset of p in the frame

  Cursor Skip(std::size_t n) const { return {p + n, size - n, wire - n, at + n}; }
};

DecodeResult Malformed(std::string_view reason, std::size_t offset) {
  DecodeResult r;
  r.status = DecodeStatus::kMalformed;
  r.reason = reason;
  r.offset = offset;
  return r;
}

DecodeResult NotTcp() { return {}; }

// A header cut by the snapshot length is not malformed, only unreadable: the
// segment's bytes are lost, which the stream notices as a gap.
DecodeResult Short(const Cursor& c, std::size_t need, std::string_view reason) {
  if (c.wire >= need) return NotTcp();
  return Malformed(reason, c.at);
}

// RFC 9293 §3.1: the TCP header; data offset in 32-bit words, at least 5.
DecodeResult DecodeTcp(Cursor c, const Endpoint& src_ip, const Endpoint& dst_ip) {
  if (c.size < 20) return Short(c, 20, "TCP header shorter than 20 bytes");
  const std::size_t hlen = static_cast<std::size_t>(c.p[12] >> 4) * 4;
  if (hlen < 20) return Malformed("TCP data offset below 5 words", c.at + 12);
  if (c.wire < hlen) return Malformed("TCP header longer than the IP payload", c.at + 12);
  if (c.size < hlen) return NotTcp();
  DecodeResult r;
  r.status = DecodeStatus::kTcp;
  TcpSegment& s = r.segment;
  s.src = src_ip;
  s.dst = dst_ip;
  s.src.port = Be16(c.p);
  s.dst.port = Be16(c.p + 2);
  s.seq = Be32(c.p + 4);
  s.ack = Be32(c.p + 8);
  s.flags = c.p[13];
  s.payload = std::string_view(reinterpret_cast<const char*>(c.p + hlen), c.size - hlen);
  s.wire_payload = c.wire - hlen;
  return r;
}

// RFC 791 §3.1. Fragments are not reassembled: a TCP segment split into IP
// fragments is skipped (its bytes become a gap in the stream).
DecodeResult DecodeIpv4(Cursor c) {
  if (c.size < 20) return Short(c, 20, "IPv4 header shorter than 20 bytes");
  const std::size_t ihl = static_cast<std::size_t>(c.p[0] & 0x0F) * 4;
  if (ihl < 20) return Malformed("IPv4 header length below 5 words", c.at);
  const std::size_t total = Be16(c.p + 2);
  if (total < ihl) return Malformed("IPv4 total length shorter than its header", c.at + 2);
  if (total > c.wire) return Malformed("IPv4 total length longer than the frame", c.at + 2);
  if (c.size < ihl) return NotTcp();
  const std::uint16_t frag = Be16(c.p + 6);
  if ((frag & 0x3FFF) != 0) return NotTcp();  // MF set or a nonzero offset
  if (c.p[9] != kIpProtoTcp) return NotTcp();
  Endpoint src, dst;
  std::memcpy(src.addr.data(), c.p + 12, 4);
  std::memcpy(dst.addr.data(), c.p + 16, 4);
  // Ethernet pads short frames: the IP length, not the frame, ends the packet.
  Cursor payload = c.Skip(ihl);
  payload.wire = total - ihl;
  if (payload.size > payload.wire) payload.size = payload.wire;
  return DecodeTcp(payload, src, dst);
}

// RFC 8200 §4: extension headers before the upper layer. Hop-by-hop (0),
// routing (43), destination options (60) and the others of the common
// (len + 1) * 8 form are skipped; AH (51) counts in 4-byte units; a
// fragment header (44) of a non-atomic fragment, ESP (50) and "no next
// header" (59) end the search.
DecodeResult DecodeIpv6(Cursor c) {
  if (c.size < 40) return Short(c, 40, "IPv6 header shorter than 40 bytes");
  const std::size_t payload_len = Be16(c.p + 4);
  if (payload_len == 0) return NotTcp();  // a jumbogram (RFC 2675); not SMTP traffic
  if (40 + payload_len > c.wire)
    return Malformed("IPv6 payload length longer than the frame", c.at + 4);
  Endpoint src, dst;
  src.v6 = dst.v6 = true;
  std::memcpy(src.addr.data(), c.p + 8, 16);
  std::memcpy(dst.addr.data(), c.p + 24, 16);
  std::uint8_t next = c.p[6];
  Cursor x = c.Skip(40);
  x.wire = payload_len;
  if (x.size > x.wire) x.size = x.wire;
  for (int hops = 0; hops < 16; ++hops) {
    switch (next) {
      case kIpProtoTcp:
        return DecodeTcp(x, src, dst);
      case 0:
      case 43:
      case 60:
      case 135:  // mobility
      case 139:  // HIP
      case 140:  // shim6
      case 51:
      case 44: {
        if (x.size < 8) return Short(x, 8, "IPv6 extension header cut short");
        std::size_t len = next == 51   ? (std::size_t{x.p[1]} + 2) * 4
                          : next == 44 ? 8
                                       : (std::size_t{x.p[1]} + 1) * 8;
        if (len > x.wire)
          return Malformed("IPv6 extension header longer than the payload", x.at + 1);
        if (next == 44 && (Be16(x.p + 2) & 0xFFF9) != 0) return NotTcp();  // a real fragment
        if (x.size < len) return NotTcp();
        next = x.p[0];
        x = x.Skip(len);
        break;
      }
      default:
        return NotTcp();  // ESP, no next header, another upper layer
    }
  }
  return Malformed("more than 16 IPv6 extension headers", x.at);
}

DecodeResult DecodeIp(Cursor c) {
  if (c.size < 1) return Short(c, 1, "no IP header");
  switch (c.p[0] >> 4) {
    case 4:
      return DecodeIpv4(c);
    case 6:
      return DecodeIpv6(c);
    default:
      return Malformed("IP version is neither 4 nor 6", c.at);
  }
}

DecodeResult DecodeEthertype(std::uint16_t type, Cursor c) {
  if (type == kEtherIpv4) {
    if (c.size >= 1 && c.p[0] >> 4 != 4) return Malformed("IPv4 ethertype, other IP version", c.at);
    return DecodeIp(c);
  }
  if (type == kEtherIpv6) {
    if (c.size >= 1 && c.p[0] >> 4 != 6) return Malformed("IPv6 ethertype, other IP version", c.at);
    return DecodeIp(c);
  }
  return NotTcp();
}

// BSD loopback: the address family as a 32-bit word in the byte order of
// the machine that captured (DLT_NULL) or in network order (DLT_LOOP).
// AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs, macOS).
DecodeResult DecodeLoopback(Cursor c, bool network_order) {
  if (c.size < 4) return Short(c, 4, "loopback header shorter than 4 bytes");
  std::uint32_t family = network_order ? Be32(c.p) : Le32(c.p);
  if (!network_order && family > 0xFFFF) family = Be32(c.p);  // captured on big-endian
  switch (family) {
    case 2:
      return DecodeEthertype(kEtherIpv4, c.Skip(4));
    case 10:
    case 24:
    case 28:
    case 30:
      return DecodeEthertype(kEtherIpv6, c.Skip(4));
    default:
      return NotTcp();
  }
}

}  // namespace

bool SupportedLinkType(int dlt) {
  switch (static_cast<LinkType>(dlt)) {
    case LinkType::kNull:
    case LinkType::kEthernet:
    case LinkType::kRaw:
    case LinkType::kRawOpenBsd:
    case LinkType::kLoop:
    case LinkType::kLinuxSll:
    case LinkType::kIpv4:
    case LinkType::kIpv6:
    case LinkType::kLinuxSll2:
      return true;
  }
  return false;
}

std::string EndpointText(const Endpoint& e) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(e.v6 ? AF_INET6 : AF_INET, e.addr.data(), buf, sizeof buf);
  std::string s = e.v6 ? "[" + std::string(buf) + "]" : std::string(buf);
  return s + ":" + std::to_string(e.port);
}

DecodeResult DecodeFrame(int link, std::string_view frame, std::size_t wire_length) {
  const Cursor c{reinterpret_cast<const unsigned char*>(frame.data()), frame.size(),
                 wire_length < frame.size() ? frame.size() : wire_length, 0};
  switch (static_cast<LinkType>(link)) {
    case LinkType::kEthernet: {
      if (c.size < 14) return Short(c, 14, "Ethernet header shorter than 14 bytes");
      std::uint16_t type = Be16(c.p + 12);
      Cursor x = c.Skip(14);
      for (int tags = 0; type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld;
           ++tags) {
        if (tags == kMaxVlanTags) return Malformed("more than 4 VLAN tags", x.at);
        if (x.size < 4) return Short(x, 4, "VLAN tag cut short");
        type = Be16(x.p + 2);
        x = x.Skip(4);
      }
      return DecodeEthertype(type, x);
    }
    case LinkType::kLinuxSll:
      // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
      if (c.size < 16) return Short(c, 16, "Linux cooked header shorter than 16 bytes");
      return DecodeEthertype(Be16(c.p + 14), c.Skip(16));
    case LinkType::kLinuxSll2:
      // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet
      // type (1), address length (1), address (8)
      if (c.size < 20) return Short(c, 20, "Linux cooked v2 header shorter than 20 bytes");
      return DecodeEthertype(Be16(c.p), c.Skip(20));
    case LinkType::kNull:
      return DecodeLoopback(c, false);
    case LinkType::kLoop:
      return DecodeLoopback(c, true);
    case LinkType::kRaw:
    case LinkType::kRawOpenBsd:
      return DecodeIp(c);
    case LinkType::kIpv4:
      return DecodeEthertype(kEtherIpv4, c);
    case LinkType::kIpv6:
      return DecodeEthertype(kEtherIpv6, c);
  }
  return Malformed("unsupported link type", 0);
}

}  // namespace smtp::harness::pcap
