// Test and benchmark helpers: captures built in memory. Frames of every link
// type import-pcap reads, IPv4 / IPv6 + TCP packets, pcap and pcapng files
// written by hand (so a test can cut or corrupt them at a known byte), and a
// Conversation that numbers the segments of one TCP connection.
#ifndef SMTP_HARNESS_RECORD_PCAP_TEST_UTIL_H_
#define SMTP_HARNESS_RECORD_PCAP_TEST_UTIL_H_

#include <arpa/inet.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "harness/record/packet_decode.h"

namespace smtp::harness::pcap::testing {

inline void Put16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v & 0xFF);
}
inline void Put32(std::string& s, std::uint32_t v) {
  Put16(s, static_cast<std::uint16_t>(v >> 16));
  Put16(s, static_cast<std::uint16_t>(v & 0xFFFF));
}
inline void PutLe16(std::string& s, std::uint16_t v) {
  s += static_cast<char>(v & 0xFF);
  s += static_cast<char>(v >> 8);
}
inline void PutLe32(std::string& s, std::uint32_t v) {
  PutLe16(s, static_cast<std::uint16_t>(v & 0xFFFF));
  PutLe16(s, static_cast<std::uint16_t>(v >> 16));
}

inline Endpoint V4(std::string_view text, std::uint16_t port) {
  Endpoint e;
  inet_pton(AF_INET, std::string(text).c_str(), e.addr.data());
  e.port = port;
  return e;
}
inline Endpoint V6(std::string_view text, std::uint16_t port) {
  Endpoint e;
  e.v6 = true;
  inet_pton(AF_INET6, std::string(text).c_str(), e.addr.data());
  e.port = port;
  return e;
}

// An IPv4 or IPv6 packet (by src.v6) carrying one TCP segment. `ext`: IPv6
// extension headers to put before TCP, already encoded, with `first_ext` the
// Next Header value naming the first of them (their own Next Header fields
// must chain to 6).
inline std::string IpTcp(const Endpoint& src, const Endpoint& dst, std::uint32_t seq,
                         std::uint32_t ack, std::uint8_t flags, std::string_view payload,
                         std::string_view ext = {}, std::uint8_t first_ext = 6) {
  std::string tcp;
  Put16(tcp, src.port);
  Put16(tcp, dst.port);
  Put32(tcp, seq);
  Put32(tcp, ack);
  tcp += static_cast<char>(5 << 4);
  tcp += static_cast<char>(flags);
  Put16(tcp, 65535);  // window
  Put32(tcp, 0);      // checksum (not checked), urgent pointer
  tcp.append(payload);
  std::string ip;
  if (!src.v6) {
    ip += static_cast<char>(0x45);
    ip += '\0';
    Put16(ip, static_cast<std::uint16_t>(20 + tcp.size()));
    Put32(ip, 0x00004000);  // id 0, DF
    ip += static_cast<char>(64);
    ip += static_cast<char>(6);
    Put16(ip, 0);
    ip.append(reinterpret_cast<const char*>(src.addr.data()), 4);
    ip.append(reinterpret_cast<const char*>(dst.addr.data()), 4);
  } else {
    Put32(ip, 0x60000000);
    Put16(ip, static_cast<std::uint16_t>(ext.size() + tcp.size()));
    ip += static_cast<char>(ext.empty() ? 6 : first_ext);
    ip += static_cast<char>(64);
    ip.append(reinterpret_cast<const char*>(src.addr.data()), 16);
    ip.append(reinterpret_cast<const char*>(dst.addr.data()), 16);
    ip.append(ext);
  }
  return ip + tcp;
}

// `ip` (an IPv4 or IPv6 packet) framed for link type `dlt`; `vlan` adds an
// 802.1Q tag to an Ethernet frame.
inline std::string Frame(int dlt, const std::string& ip, bool vlan = false) {
  const bool v6 = !ip.empty() && (static_cast<unsigned char>(ip[0]) >> 4) == 6;
  const std::uint16_t ethertype = v6 ? 0x86DD : 0x0800;
  std::string f;
  switch (static_cast<LinkType>(dlt)) {
    case LinkType::kEthernet:
      f.append("\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
      if (vlan) {
        Put16(f, 0x8100);
        Put16(f, 42);
      }
      Put16(f, ethertype);
      break;
    case LinkType::kLinuxSll:
      Put16(f, 4);    // sent by us
      Put16(f, 772);  // ARPHRD_LOOPBACK
      Put16(f, 6);
      f.append(8, '\0');
      Put16(f, ethertype);
      break;
    case LinkType::kLinuxSll2:
      Put16(f, ethertype);
      Put16(f, 0);
      Put32(f, 1);  // interface index
      Put16(f, 772);
      f += '\0';  // packet type: to us
      f += static_cast<char>(6);
      f.append(8, '\0');
      break;
    case LinkType::kNull:
      PutLe32(f, v6 ? 30 : 2);  // AF_INET6 as macOS numbers it
      break;
    case LinkType::kLoop:
      Put32(f, v6 ? 24 : 2);
      break;
    default:  // raw IP
      break;
  }
  return f + ip;
}

struct Packet {
  std::int64_t ts_us = 0;
  std::string frame;
  std::uint32_t wire_len = 0;  // 0: frame.size()
};

// The LINKTYPE_ value a file stores for a DLT (they differ for raw IP).
inline std::uint32_t FileLinkType(int dlt) {
  return dlt == static_cast<int>(LinkType::kRaw) ? 101 : static_cast<std::uint32_t>(dlt);
}

// A classic pcap file (little-endian, microsecond timestamps).
inline std::string PcapFile(int dlt, const std::vector<Packet>& packets,
                            std::uint32_t snaplen = 262144) {
  std::string s;
  PutLe32(s, 0xa1b2c3d4);
  PutLe16(s, 2);
  PutLe16(s, 4);
  PutLe32(s, 0);
  PutLe32(s, 0);
  PutLe32(s, snaplen);
  PutLe32(s, FileLinkType(dlt));
  for (const Packet& p : packets) {
    PutLe32(s, static_cast<std::uint32_t>(p.ts_us / 1'000'000));
    PutLe32(s, static_cast<std::uint32_t>(p.ts_us % 1'000'000));
    PutLe32(s, static_cast<std::uint32_t>(p.frame.size()));
    PutLe32(s, p.wire_len != 0 ? p.wire_len : static_cast<std::uint32_t>(p.frame.size()));
    s += p.frame;
  }
  return s;
}

// One pcapng block (type, total length, body, total length).
inline void PutPcapngBlock(std::string& s, std::uint32_t type, const std::string& body) {
  const auto len = static_cast<std::uint32_t>(12 + body.size());
  PutLe32(s, type);
  PutLe32(s, len);
  s += body;
  PutLe32(s, len);
}

// The body of a little-endian section header block, version 1.0, section
// length unknown.
inline std::string PcapngSectionHeaderBody() {
  std::string shb;
  PutLe32(shb, 0x1A2B3C4D);
  PutLe16(shb, 1);
  PutLe16(shb, 0);
  PutLe32(shb, 0xFFFFFFFF);
  PutLe32(shb, 0xFFFFFFFF);
  return shb;
}

// A pcapng file: section header, one interface (microsecond resolution),
// one enhanced packet block per packet.
inline std::string PcapngFile(int dlt, const std::vector<Packet>& packets) {
  std::string s;
  auto block = [&s](std::uint32_t type, const std::string& body) { PutPcapngBlock(s, type, body); };
  block(0x0A0D0D0A, PcapngSectionHeaderBody());
  std::string idb;
  PutLe16(idb, static_cast<std::uint16_t>(FileLinkType(dlt)));
  PutLe16(idb, 0);
  PutLe32(idb, 262144);
  block(1, idb);
  for (const Packet& p : packets) {
    std::string epb;
    const auto ts = static_cast<std::uint64_t>(p.ts_us);
    PutLe32(epb, 0);
    PutLe32(epb, static_cast<std::uint32_t>(ts >> 32));
    PutLe32(epb, static_cast<std::uint32_t>(ts & 0xFFFFFFFF));
    PutLe32(epb, static_cast<std::uint32_t>(p.frame.size()));
    PutLe32(epb, p.wire_len != 0 ? p.wire_len : static_cast<std::uint32_t>(p.frame.size()));
    epb += p.frame;
    epb.append((4 - p.frame.size() % 4) % 4, '\0');
    block(6, epb);
  }
  return s;
}

inline void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
}

// One TCP connection's packets, numbered: each call appends a packet one
// millisecond (by default) after the previous one and advances the sender's
// sequence number.
class Conversation {
 public:
  Conversation(Endpoint client, Endpoint server, std::int64_t t0_us = 1'700'000'000'000'000,
               std::uint32_t client_isn = 1000, std::uint32_t server_isn = 5000)
      : client_(client), server_(server), t_(t0_us), cseq_(client_isn), sseq_(server_isn) {}

  // SYN, SYN-ACK, ACK.
  Conversation& Handshake() {
    Add(true, kTcpSyn, "", cseq_++);
    Add(false, kTcpSyn | kTcpAck, "", sseq_++);
    Add(true, kTcpAck, "", cseq_);
    return *this;
  }
  Conversation& Client(std::string_view data) { return Send(true, data); }
  Conversation& Server(std::string_view data) { return Send(false, data); }
  // FIN from both sides, client first, and the last ACK.
  Conversation& Close() {
    Add(true, kTcpFin | kTcpAck, "", cseq_++);
    Add(false, kTcpFin | kTcpAck, "", sseq_++);
    Add(true, kTcpAck, "", cseq_);
    return *this;
  }
  // A raw segment; does not move the sequence numbers.
  Conversation& Raw(bool from_client, std::uint8_t flags, std::uint32_t seq,
                    std::string_view data) {
    Add(from_client, flags, data, seq);
    return *this;
  }
  // Advances a sender's sequence number without a packet (bytes never captured).
  Conversation& Skip(bool from_client, std::uint32_t bytes) {
    (from_client ? cseq_ : sseq_) += bytes;
    return *this;
  }

  std::uint32_t client_seq() const { return cseq_; }
  std::uint32_t server_seq() const { return sseq_; }
  // The IP packets so far.
  const std::vector<std::pair<std::int64_t, std::string>>& ip_packets() const { return ip_; }
  // Framed for `dlt`.
  std::vector<Packet> Packets(int dlt, bool vlan = false) const {
    std::vector<Packet> out;
    for (const auto& [ts, ip] : ip_) out.push_back({ts, Frame(dlt, ip, vlan)});
    return out;
  }
  std::int64_t step_us = 1000;

 private:
  Conversation& Send(bool from_client, std::string_view data) {
    std::uint32_t& seq = from_client ? cseq_ : sseq_;
    Add(from_client, kTcpAck | 0x08 /* PSH */, data, seq);
    seq += static_cast<std::uint32_t>(data.size());
    return *this;
  }
  void Add(bool from_client, std::uint8_t flags, std::string_view data, std::uint32_t seq) {
    const Endpoint& src = from_client ? client_ : server_;
    const Endpoint& dst = from_client ? server_ : client_;
    ip_.emplace_back(t_, IpTcp(src, dst, seq, from_client ? sseq_ : cseq_, flags, data));
    t_ += step_us;
  }

  Endpoint client_, server_;
  std::int64_t t_;
  std::uint32_t cseq_, sseq_;
  std::vector<std::pair<std::int64_t, std::string>> ip_;
};

}  // namespace smtp::harness::pcap::testing

#endif  // SMTP_HARNESS_RECORD_PCAP_TEST_UTIL_H_
