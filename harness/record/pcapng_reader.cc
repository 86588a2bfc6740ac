#include "harness/record/pcapng_reader.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "results/absl_compat.h"

namespace smtp::harness::pcap {
namespace {

constexpr std::uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr std::uint32_t kInterface = 1;
constexpr std::uint32_t kObsoletePacket = 2;
constexpr std::uint32_t kSimplePacket = 3;
constexpr std::uint32_t kEnhancedPacket = 6;
constexpr std::uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr int kLinktypeRaw = 101;
constexpr int kDltRaw = 12;

absl::Status Bad(std::string_view why) { return absl::DataLossError(AV(why)); }

}  // namespace

bool PcapngReader::IsPcapng(std::string_view head) {
  return head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x0A &&
         static_cast<unsigned char>(head[1]) == 0x0D &&
         static_cast<unsigned char>(head[2]) == 0x0D && static_cast<unsigned char>(head[3]) == 0x0A;
}

std::uint32_t PcapngReader::U32(const unsigned char* p) const {
  return big_endian_ ? (std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 |
                        std::uint32_t{p[2]} << 8 | p[3])
                     : (std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 |
                        std::uint32_t{p[1]} << 8 | p[0]);
}

std::uint16_t PcapngReader::U16(const unsigned char* p) const {
  return static_cast<std::uint16_t>(big_endian_ ? (p[0] << 8 | p[1]) : (p[1] << 8 | p[0]));
}

std::int64_t PcapngReader::Micros(const Interface& i, std::uint64_t units) const {
  __int128 us = units;
  if (i.resol_pow2) {
    us = i.resol_exp >= 64 ? 0 : (us * 1'000'000) >> i.resol_exp;
  } else if (i.resol_exp <= 6) {
    for (int k = i.resol_exp; k < 6; ++k) us *= 10;
  } else {
    for (int k = 6; k < i.resol_exp && us != 0; ++k) us /= 10;
  }
  return static_cast<std::int64_t>(us) + i.offset_s * 1'000'000;
}

absl::Status PcapngReader::AddInterface(const unsigned char* body, std::size_t size) {
  if (size < 8) return Bad("interface description block shorter than 8 bytes");
  Interface i;
  i.link = U16(body);
  if (i.link == kLinktypeRaw) i.link = kDltRaw;
  i.snaplen = U32(body + 4);
  for (std::size_t at = 8; at + 4 <= size;) {  // options: code, length, value padded to 4
    const std::uint16_t code = U16(body + at), len = U16(body + at + 2);
    at += 4;
    if (code == 0) break;  // opt_endofopt
    if (len > size - at) return Bad("interface option runs past its block");
    if (code == 9 && len >= 1) {  // if_tsresol
      i.resol_pow2 = (body[at] & 0x80) != 0;
      i.resol_exp = body[at] & 0x7F;
    } else if (code == 14 && len >= 8) {  // if_tsoffset
      const std::uint64_t v = big_endian_
                                  ? (std::uint64_t{U32(body + at)} << 32 | U32(body + at + 4))
                                  : (std::uint64_t{U32(body + at + 4)} << 32 | U32(body + at));
      i.offset_s = static_cast<std::int64_t>(v);
    }
    at += (len + 3u) & ~3u;
  }
  interfaces_.push_back(i);
  links_seen_.push_back(i.link);
  return absl::OkStatus();
}

absl::StatusOr<bool> PcapngReader::Next(PcapngPacket* packet) {
  for (;;) {
    block_offset_ = std::ftell(file_);
    unsigned char head[12];
    const std::size_t got = std::fread(head, 1, 8, file_);
    if (got == 0) return false;
    if (got < 8) return Bad("truncated block header");
    std::uint32_t type = U32(head);
    if (type == kSectionHeader) {  // its byte order comes with it
      if (std::fread(head + 8, 1, 4, file_) != 4) return Bad("truncated section header");
      const std::uint32_t le = std::uint32_t{head[11]} << 24 | std::uint32_t{head[10]} << 16 |
                               std::uint32_t{head[9]} << 8 | head[8];
      if (le == kByteOrderMagic) {
        big_endian_ = false;
      } else if (le == 0x4D3C2B1A) {
        big_endian_ = true;
      } else {
        return Bad("section header with an unknown byte-order magic");
      }
      interfaces_.clear();
      in_section_ = true;
    } else if (!in_section_) {
      return Bad("no section header block first");
    }
    const std::uint32_t length = U32(head + 4);
    if (length < 12 || length % 4 != 0 || length > kMaxBlock) {
      return Bad(
          absl::StrCat("block length ", length, " is not a multiple of 4 between 12 and 16 MiB"));
    }
    const std::size_t already = type == kSectionHeader ? 4 : 0;  // of the body
    block_.resize(length - 8);
    if (already > 0) std::copy(head + 8, head + 12, block_.begin());
    if (std::fread(block_.data() + already, 1, block_.size() - already, file_) !=
        block_.size() - already) {
      return Bad("truncated block");
    }
    if (U32(block_.data() + block_.size() - 4) != length) {
      return Bad("block's trailing length differs from its leading length");
    }
    const unsigned char* body = block_.data();
    const std::size_t size = block_.size() - 4;
    switch (type) {
      case kInterface:
        if (absl::Status st = AddInterface(body, size); !st.ok()) return st;
        continue;
      case kEnhancedPacket:
      case kObsoletePacket: {
        const bool epb = type == kEnhancedPacket;
        if (size < 20) return Bad("packet block shorter than 20 bytes");
        const std::uint32_t id = epb ? U32(body) : U16(body);
        if (id >= interfaces_.size()) {
          return Bad(absl::StrCat("packet of interface ", id, ", which was not described"));
        }
        const std::uint64_t units = std::uint64_t{U32(body + 4)} << 32 | U32(body + 8);
        const std::uint32_t caplen = U32(body + 12);
        if (caplen > size - 20) return Bad("packet data runs past its block");
        const Interface& i = interfaces_[id];
        packet->link = i.link;
        packet->ts_us = Micros(i, units);
        packet->data = std::string_view(reinterpret_cast<const char*>(body + 20), caplen);
        packet->wire_length = std::max(U32(body + 16), caplen);
        return true;
      }
      case kSimplePacket: {
        if (size < 4) return Bad("simple packet block shorter than 4 bytes");
        if (interfaces_.empty()) return Bad("simple packet before any interface description");
        const Interface& i = interfaces_[0];
        const std::uint32_t wire = U32(body);
        std::size_t caplen = std::min<std::size_t>(wire, size - 4);
        if (i.snaplen != 0) caplen = std::min<std::size_t>(caplen, i.snaplen);
        packet->link = i.link;
        packet->ts_us = 0;  // a simple packet has no timestamp
        packet->data = std::string_view(reinterpret_cast<const char*>(body + 4), caplen);
        packet->wire_length = std::max<std::uint32_t>(wire, static_cast<std::uint32_t>(caplen));
        return true;
      }
      default:
        continue;  // section header, statistics, name resolution, custom...
    }
  }
}

}  // namespace smtp::harness::pcap
