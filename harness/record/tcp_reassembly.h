// TCP stream reassembly for pcap import: the segments one side of a
// connection sent, in capture order, to the byte stream the other side
// received. No I/O; the bytes go to a caller's StreamOutput.
//
// Rules (RFC 9293 §3.4 sequence space, 32-bit wraparound included):
//   - The stream starts at the SYN's sequence number + 1, or, when no SYN
//     was seen (a capture that starts mid-stream), at the sequence number of
//     the first segment seen; `midstream()` then says so.
//   - A segment wholly before the next expected byte is a retransmission and
//     is dropped. Overlaps are resolved "first data wins": bytes already
//     delivered or already buffered are never replaced by a later copy.
//   - A segment beyond the next expected byte is buffered until the hole
//     before it fills. Buffering is bounded (Options): when a bound would be
//     passed, the hole is declared lost (OnGap with its byte count) and the
//     stream continues with the buffered data. Finish() does the same for
//     holes left at the end of the capture.
//   - Payload bytes the capture did not keep (a snapshot length shorter
//     than the frame) are lost too: OnGap, and the stream continues.
//   - The FIN ends the stream once every byte before it was delivered;
//     later data is ignored.
//   - A copy whose bytes differ from the first copy of the same sequence
//     numbers (a retransmission that does not match: a middlebox, an
//     attack, a broken stack) is reported (OnConflict) and the first copy is
//     kept. Delivered bytes are compared within the last kConflictWindow
//     bytes of the stream; buffered ones in full.
#ifndef SMTP_HARNESS_RECORD_TCP_REASSEMBLY_H_
#define SMTP_HARNESS_RECORD_TCP_REASSEMBLY_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace smtp::harness::pcap {

// Where reassembled bytes go. `data` is valid during the call only.
class StreamOutput {
 public:
  virtual ~StreamOutput() = default;
  virtual void OnData(std::string_view data) = 0;
  // `lost` bytes of the stream will never be seen; `why` says which rule.
  virtual void OnGap(std::uint64_t lost, std::string_view why) = 0;
  // A later copy of `bytes` bytes at stream offset `offset` (0: the first
  // byte after the SYN) differed from the first copy, which was kept.
  virtual void OnConflict(std::uint64_t offset, std::uint64_t bytes) {
    (void)offset;
    (void)bytes;
  }
};

struct ReassemblyOptions {
  // Out-of-order bytes and segments buffered per direction.
  std::size_t max_pending_bytes = 4 * 1024 * 1024;
  std::size_t max_pending_segments = 4096;
};

class TcpReassembler {
 public:
  using Options = ReassemblyOptions;
  // Delivered bytes kept to compare retransmissions with, per direction.
  static constexpr std::size_t kConflictWindow = 2048;
  TcpReassembler() = default;
  explicit TcpReassembler(Options options) : options_(options) {}

  // A SYN with initial sequence number `isn` (data starts at isn + 1). A
  // SYN after the stream started (a retransmitted SYN) changes nothing.
  void Syn(std::uint32_t isn);
  // A segment: `payload` is what the capture kept of its `wire_length`
  // payload bytes (wire_length >= payload.size()); `fin` its FIN flag.
  void Segment(std::uint32_t seq, std::string_view payload, std::size_t wire_length, bool fin,
               StreamOutput& out);
  // End of capture (or a reset): buffered data is delivered across the holes
  // before it, each hole reported as lost.
  void Finish(StreamOutput& out);

  bool started() const { return started_; }
  bool midstream() const { return midstream_; }
  // The FIN was reached: every byte of the stream was delivered or lost.
  bool closed() const { return closed_; }
  // Sequence number of the first stream byte (valid once started()).
  std::uint32_t first_seq() const { return first_seq_; }
  std::size_t pending_bytes() const { return pending_bytes_; }
  // Payload bytes dropped as copies of bytes already delivered or buffered.
  std::uint64_t duplicate_bytes() const { return duplicate_bytes_; }
  // Of those, the bytes that differed from the first copy.
  std::uint64_t conflicting_bytes() const { return conflicting_bytes_; }

 private:
  // A buffered piece: `data` then `missing` bytes known lost (not captured).
  struct Piece {
    std::string data;
    std::uint64_t missing = 0;
    std::uint64_t length() const { return data.size() + missing; }
  };

  void Start(std::uint32_t first, bool midstream);
  std::int64_t Abs(std::uint32_t seq) const;
  // Buffers [start, start + captured + missing) minus what is already
  // delivered or buffered.
  void Buffer(std::int64_t start, std::string_view captured, std::uint64_t missing,
              StreamOutput& out);
  // Compares `copy` (at absolute offset `start`) with the delivered bytes
  // still in the window, reporting a difference.
  void CompareDelivered(std::int64_t start, std::string_view copy, StreamOutput& out);
  void Conflict(std::int64_t at, std::string_view first, std::string_view copy, StreamOutput& out);
  void Deliver(std::string_view data, std::uint64_t missing, StreamOutput& out);
  void Drain(StreamOutput& out);
  void Lose(std::uint64_t bytes, std::string_view why, StreamOutput& out);
  void CheckFin();

  Options options_;
  bool started_ = false;
  bool midstream_ = false;
  bool closed_ = false;
  std::uint32_t first_seq_ = 0;
  std::uint32_t base_ = 0;  // sequence number of absolute offset 0
  std::int64_t next_ = 0;   // absolute offset of the next byte to deliver
  std::optional<std::int64_t> fin_;
  std::map<std::int64_t, Piece> pending_;
  std::size_t pending_bytes_ = 0;
  std::uint64_t duplicate_bytes_ = 0;
  std::uint64_t conflicting_bytes_ = 0;
  std::string window_;  // the delivered bytes [next_ - size, next_), at most kConflictWindow
};

}  // namespace smtp::harness::pcap

#endif  // SMTP_HARNESS_RECORD_TCP_REASSEMBLY_H_
