// LineReader: an incremental, push-style framer that cuts a byte stream into
// SMTP lines (RFC 5321 §2.3.8) and bounds their length (§4.5.3.1.4 command
// lines, §4.5.3.1.5 reply lines). Used by the server for commands and by the
// client for reply lines.
//
// Beast-style contract: Feed(bytes) returns how many bytes it consumed; it
// consumes at most one line (including its terminator). When a line is
// complete, has_line() is true; otherwise every byte was consumed and the
// reader needs more. That "need more" is the only resumable condition.
//
// Memory: one internal buffer of `max_line` bytes, reserved at construction,
// holds a line only when it is split across Feed calls. A line that fits in
// one Feed is returned as a view into the caller's bytes (zero copy). No
// allocation per line.
#ifndef SMTP_PARSER_LINE_READER_H_
#define SMTP_PARSER_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "parser/leniency.h"
#include "parser/limits.h"
#include "parser/parse_error.h"

namespace smtp {

// What ended a line on the wire.
enum class LineTerminator : std::uint8_t {
  kNone,  // no line yet
  kCrLf,  // the RFC terminator
  kLf,    // bare LF (only with kBareLfLineEnd)
  kCr,    // bare CR (only with kBareCrLineEnd)
};

// Stable name: "none", "crlf", "lf", "cr".
std::string_view LineTerminatorName(LineTerminator t);

// Octets inside one line (not its terminator) that the grammar of §2.3.8 /
// §2.4 does not allow but that a reader can carry. Offsets are absolute
// stream offsets; kNone when there was no such octet.
struct LineObservations {
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

  std::size_t bare_lf = 0;  // LF not preceded by CR that did not end the line
  std::size_t bare_cr = 0;  // CR not followed by LF that did not end the line
  std::size_t nul = 0;
  std::size_t eight_bit = 0;  // octets >= 0x80
  std::size_t first_bare_lf = kNone;
  std::size_t first_bare_cr = kNone;
  std::size_t first_nul = kNone;
  std::size_t first_eight_bit = kNone;

  bool clean() const { return bare_lf == 0 && bare_cr == 0 && nul == 0 && eight_bit == 0; }
  friend bool operator==(const LineObservations&, const LineObservations&) = default;
};

struct LineReaderOptions {
  // kBareLfLineEnd: LF alone ends a line. kBareCrLineEnd: CR alone ends a
  // line. Other bits are ignored here. Strict: only CRLF ends a line.
  Leniencies leniencies = kStrict;
  // Longest line accepted, terminator included (kMaxReplyLine for replies,
  // kMaxAuthLine for SASL responses).
  std::size_t max_line = kMaxCommandLine;
};

class LineReader {
 public:
  explicit LineReader(LineReaderOptions opts = {});

  // Consumes bytes from `in` up to and including one line terminator and
  // returns how many it consumed. If has_line() is then true, the line (or
  // its error) is ready and the rest of `in` belongs to the next line;
  // otherwise all of `in` was consumed. The previous line's view becomes
  // invalid. May return 0 with has_line() true: with kBareCrLineEnd, a CR at
  // the end of the previous chunk is a terminator once the next byte is seen
  // not to be LF.
  //
  // A line longer than max_line is not stored: the reader discards bytes up
  // to the next terminator and then reports the line with error()
  // kLineTooLong and an empty line(), so a server can answer 500 and go on.
  std::size_t Feed(std::string_view in);

  // True once a full line (or an over-long line) has been consumed.
  bool has_line() const { return has_line_; }

  // The line without its terminator. Valid until the next Feed or Reset and,
  // when the line fitted in one Feed, as long as the bytes given to it.
  std::string_view line() const { return line_; }
  LineTerminator terminator() const { return terminator_; }
  // Absolute offset of the line's first byte.
  std::size_t line_offset() const { return line_start_; }
  // code kOk, or kLineTooLong with offset = line_offset() + max_line (the
  // first octet past the limit).
  const ParseError& error() const { return error_; }
  // Bits of kBareLfLineEnd / kBareCrLineEnd that this line's terminator used.
  Leniencies deviations() const { return deviations_; }
  const LineObservations& observations() const { return obs_; }

  // Bytes consumed since construction or Reset.
  std::size_t offset() const { return offset_; }
  // For tests: the internal buffer never grows past its initial reservation.
  std::size_t buffer_capacity() const { return buf_.capacity(); }
  const LineReaderOptions& options() const { return opts_; }

  // Back to the initial state (offset 0); keeps the options and the buffer.
  void Reset();

  // True when the next Feed starts a new line: nothing of a line is carried
  // (no partial line, no CR awaiting its next octet).
  bool at_line_start() const {
    return !cr_pending_ && (has_line_ || (!carrying_ && raw_len_ == 0));
  }
  // For a caller that framed a line of `n` octets itself (ParseNextCommand,
  // command_stream.h) at a line start: counts them as consumed, so that
  // offsets stay stream offsets, and starts the next line. has_line() is
  // then false.
  void SkipLine(std::size_t n);

 private:
  void StartLine();
  void Complete(LineTerminator t, std::string_view chunk, std::size_t seg_begin,
                std::size_t content_end, std::size_t crs_in_raw);
  void Observe(std::size_t& count, std::size_t& first, std::size_t off);

  LineReaderOptions opts_;
  std::size_t min_terminator_;  // 1 with a bare-terminator leniency, else 2

  std::string buf_;  // raw bytes of a line split across Feed calls
  std::size_t offset_ = 0;
  std::size_t line_start_ = 0;
  std::size_t raw_len_ = 0;  // bytes of the current line so far (terminator excluded)
  bool prev_cr_ = false;     // last raw byte is a CR that may start CRLF
  bool cr_pending_ = false;  // kBareCrLineEnd: CR consumed, LF-or-not undecided
  bool discarding_ = false;  // over-long: skipping to the next terminator
  bool carrying_ = false;    // current line began in an earlier Feed

  bool has_line_ = false;
  std::string_view line_;
  LineTerminator terminator_ = LineTerminator::kNone;
  ParseError error_;
  Leniencies deviations_ = kStrict;
  LineObservations obs_;
};

}  // namespace smtp

#endif  // SMTP_PARSER_LINE_READER_H_
