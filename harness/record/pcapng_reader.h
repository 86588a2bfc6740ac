// A pcapng reader of our own, for import-pcap. libpcap reads a pcapng file
// only while all of its interfaces share the first one's link type: a
// capture of several interfaces (dumpcap -i eth0 -i lo: Ethernet and Linux
// cooked or loopback frames in one file) fails at the second interface's
// description with "an interface has a type N different from the type of
// the first interface". Wireshark reads such a file per interface, and so
// does this reader: each packet comes with its own interface's link type
// and timestamp resolution.
//
// Blocks (draft-ietf-opsawg-pcapng): Section Header (either byte order; a
// new section forgets the interfaces), Interface Description (link type,
// snapshot length, options if_tsresol and if_tsoffset), Enhanced Packet,
// Simple Packet and the obsolete Packet block; every other block is
// skipped. Bounded: a block is at most kMaxBlock bytes and is read into one
// buffer reused for the next.
#ifndef SMTP_HARNESS_RECORD_PCAPNG_READER_H_
#define SMTP_HARNESS_RECORD_PCAPNG_READER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace smtp::harness::pcap {

// One packet: `link` is the DLT value of its interface (as pcap_datalink()
// would say: LINKTYPE_RAW 101 is DLT_RAW 12), `data` valid until the next
// Next().
struct PcapngPacket {
  int link = 0;
  std::int64_t ts_us = 0;  // microseconds since the Unix epoch
  std::string_view data;
  std::uint32_t wire_length = 0;
};

class PcapngReader {
 public:
  static constexpr std::uint32_t kMaxBlock = 16u << 20;

  // Whether a file starting with `head` (its first 4 bytes or more) is pcapng.
  static bool IsPcapng(std::string_view head);

  // Reads `file` (not owned) from its current position, the start.
  explicit PcapngReader(std::FILE* file) : file_(file) {}

  // The next packet: true, or false at the end of the file. An error says
  // what is wrong with the block at byte offset block_offset().
  absl::StatusOr<bool> Next(PcapngPacket* packet);

  // Of the block Next() read last.
  long block_offset() const { return block_offset_; }
  // The link types of the interfaces seen so far, in order (DLT values).
  const std::vector<int>& links_seen() const { return links_seen_; }

 private:
  struct Interface {
    int link = 0;
    std::uint32_t snaplen = 0;
    bool resol_pow2 = false;
    std::uint8_t resol_exp = 6;  // 10^-6 s by default
    std::int64_t offset_s = 0;   // if_tsoffset
  };

  std::uint32_t U32(const unsigned char* p) const;
  std::uint16_t U16(const unsigned char* p) const;
  std::int64_t Micros(const Interface& i, std::uint64_t units) const;
  absl::Status AddInterface(const unsigned char* body, std::size_t size);

  std::FILE* file_;
  bool big_endian_ = false;
  bool in_section_ = false;
  long block_offset_ = 0;
  std::vector<Interface> interfaces_;
  std::vector<int> links_seen_;
  std::vector<unsigned char> block_;
};

}  // namespace smtp::harness::pcap

#endif  // SMTP_HARNESS_RECORD_PCAPNG_READER_H_
