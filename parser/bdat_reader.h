// BdatReader: frames the payload of one BDAT chunk (RFC 3030 §2, §3). A BDAT
// chunk is exactly chunk-size octets following the command line, with no
// dot-stuffing and no end marker; whatever follows belongs to the next
// command. The reader only counts: it never copies or inspects the bytes.
#ifndef SMTP_PARSER_BDAT_READER_H_
#define SMTP_PARSER_BDAT_READER_H_

#include <cstdint>
#include <string_view>

namespace smtp {

class BdatReader {
 public:
  // chunk_size: the value parsed from "BDAT" SP chunk-size (may be 0).
  explicit BdatReader(std::uint64_t chunk_size = 0) { Reset(chunk_size); }

  // Returns the prefix of `in` that belongs to the chunk (a view into `in`,
  // zero copy); its size is the number of bytes consumed. Shorter than `in`
  // only once the chunk is complete: the rest is the next command.
  std::string_view Feed(std::string_view in) {
    const std::uint64_t take = in.size() < remaining_ ? in.size() : remaining_;
    remaining_ -= take;
    return in.substr(0, static_cast<std::size_t>(take));
  }

  // All chunk-size octets consumed.
  bool done() const { return remaining_ == 0; }
  std::uint64_t remaining() const { return remaining_; }
  std::uint64_t chunk_size() const { return chunk_size_; }
  // Octets of the chunk consumed so far.
  std::uint64_t offset() const { return chunk_size_ - remaining_; }

  // Starts the next chunk.
  void Reset(std::uint64_t chunk_size) {
    chunk_size_ = chunk_size;
    remaining_ = chunk_size;
  }

 private:
  std::uint64_t chunk_size_ = 0;
  std::uint64_t remaining_ = 0;
};

}  // namespace smtp

#endif  // SMTP_PARSER_BDAT_READER_H_
