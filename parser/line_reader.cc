#include "parser/line_reader.h"

#include <array>

#include "parser/byte_scan.h"

namespace smtp {
namespace {

enum ByteClass : std::uint8_t { kOrdinary, kLfByte, kCrByte, kNulByte, kHighByte };

constexpr std::array<std::uint8_t, 256> MakeClassTable() {
  std::array<std::uint8_t, 256> t{};
  t['\n'] = kLfByte;
  t['\r'] = kCrByte;
  t[0] = kNulByte;
  for (int c = 0x80; c < 0x100; ++c) t[c] = kHighByte;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClass = MakeClassTable();

constexpr std::string_view kTooLongReason =
    "line longer than its limit, terminator included (RFC 5321 §4.5.3.1.4/.5)";

}  // namespace

std::string_view LineTerminatorName(LineTerminator t) {
  switch (t) {
    case LineTerminator::kNone:
      return "none";
    case LineTerminator::kCrLf:
      return "crlf";
    case LineTerminator::kLf:
      return "lf";
    case LineTerminator::kCr:
      return "cr";
  }
  return "none";
}

LineReader::LineReader(LineReaderOptions opts)
    : opts_(opts), min_terminator_((opts.leniencies & (kBareLfLineEnd | kBareCrLineEnd)) ? 1 : 2) {
  buf_.reserve(opts_.max_line);
  StartLine();
}

void LineReader::Reset() {
  offset_ = 0;
  cr_pending_ = false;
  StartLine();
}

void LineReader::SkipLine(std::size_t n) {
  offset_ += n;
  StartLine();
}

void LineReader::StartLine() {
  has_line_ = false;
  line_ = {};
  terminator_ = LineTerminator::kNone;
  error_ = {};
  deviations_ = kStrict;
  obs_ = {};
  line_start_ = offset_;
  raw_len_ = 0;
  prev_cr_ = false;
  discarding_ = false;
  carrying_ = false;
  buf_.clear();
}

void LineReader::Observe(std::size_t& count, std::size_t& first, std::size_t off) {
  ++count;
  if (first == LineObservations::kNone) first = off;
}

// `chunk[seg_begin, seg_end)` are this Feed's raw bytes of the line (the
// terminator excluded); `content_len` is the line's length over all Feeds
// without the terminator.
void LineReader::Complete(LineTerminator t, std::string_view chunk, std::size_t seg_begin,
                          std::size_t seg_end, std::size_t content_len) {
  has_line_ = true;
  terminator_ = t;
  const std::size_t term_len = t == LineTerminator::kCrLf ? 2 : 1;
  if (!discarding_ && content_len + term_len > opts_.max_line) {
    discarding_ = true;
    error_ = {Errc::kLineTooLong, line_start_ + opts_.max_line, kTooLongReason};
  }
  if (discarding_) {
    line_ = {};
    buf_.clear();
    return;
  }
  if (carrying_) {
    buf_.append(chunk.data() + seg_begin, seg_end - seg_begin);
    line_ = std::string_view(buf_).substr(0, content_len);
  } else {
    line_ = chunk.substr(seg_begin, content_len);
  }
}

// line = *( any octet ) terminator            ; RFC 5321 §2.3.8
// terminator = CRLF                            ; strict
//            / LF / CR                         ; kBareLfLineEnd / kBareCrLineEnd
// A lone CR or LF that does not end the line is carried and observed.
std::size_t LineReader::Feed(std::string_view in) {
  if (has_line_) StartLine();
  const std::size_t n = in.size();
  if (n == 0) return 0;

  if (cr_pending_) {
    // The previous Feed ended with a CR that may be half of CRLF.
    cr_pending_ = false;
    if (in[0] == '\n') {
      Complete(LineTerminator::kCrLf, in, 0, 0, raw_len_);
      offset_ += 1;
      return 1;
    }
    deviations_ |= kBareCrLineEnd;
    Complete(LineTerminator::kCr, in, 0, 0, raw_len_);
    return 0;
  }

  const bool lf_ends = (opts_.leniencies & kBareLfLineEnd) != 0;
  const bool cr_ends = (opts_.leniencies & kBareCrLineEnd) != 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!prev_cr_) {
      // Ordinary octets in bulk (byte_scan.h): only line ends, NUL and
      // 8-bit octets need a look of their own. The length check is
      // monotonic, so checking once after the run is the same as per octet.
      const std::size_t k =
          static_cast<std::size_t>(FindLineSpecial(in.data() + i, in.data() + n) - (in.data() + i));
      if (k > 0) {
        raw_len_ += k;
        if (!discarding_ && raw_len_ + min_terminator_ > opts_.max_line) {
          discarding_ = true;
          error_ = {Errc::kLineTooLong, line_start_ + opts_.max_line, kTooLongReason};
          buf_.clear();
        }
        i += k;
        if (i == n) break;
      }
    }
    const auto c = static_cast<unsigned char>(in[i]);
    const std::size_t off = offset_ + i;
    if (prev_cr_) {
      prev_cr_ = false;
      if (c == '\n') {
        Complete(LineTerminator::kCrLf, in, 0, i, raw_len_ - 1);
        offset_ += i + 1;
        return i + 1;
      }
      Observe(obs_.bare_cr, obs_.first_bare_cr, off - 1);
    }
    switch (kClass[c]) {
      case kLfByte:
        if (lf_ends) {
          deviations_ |= kBareLfLineEnd;
          Complete(LineTerminator::kLf, in, 0, i, raw_len_);
          offset_ += i + 1;
          return i + 1;
        }
        Observe(obs_.bare_lf, obs_.first_bare_lf, off);
        break;
      case kCrByte:
        if (cr_ends) {
          if (i + 1 == n) {  // decide when the next byte arrives
            if (!discarding_) buf_.append(in.data(), i);
            carrying_ = true;
            cr_pending_ = true;
            offset_ += n;
            return n;
          }
          if (in[i + 1] == '\n') {
            Complete(LineTerminator::kCrLf, in, 0, i, raw_len_);
            offset_ += i + 2;
            return i + 2;
          }
          deviations_ |= kBareCrLineEnd;
          Complete(LineTerminator::kCr, in, 0, i, raw_len_);
          offset_ += i + 1;
          return i + 1;
        }
        prev_cr_ = true;
        break;
      case kNulByte:
        Observe(obs_.nul, obs_.first_nul, off);
        break;
      case kHighByte:
        Observe(obs_.eight_bit, obs_.first_eight_bit, off);
        break;
      default:
        break;
    }
    ++raw_len_;
    // A trailing CR may still be the terminator's first half; everything else
    // is content, and the shortest terminator must still fit.
    if (!discarding_ && raw_len_ - (prev_cr_ ? 1 : 0) + min_terminator_ > opts_.max_line) {
      discarding_ = true;
      error_ = {Errc::kLineTooLong, line_start_ + opts_.max_line, kTooLongReason};
      buf_.clear();
    }
  }
  // No terminator in this chunk: keep the raw bytes (bounded by max_line).
  if (!discarding_) buf_.append(in.data(), n);
  carrying_ = true;
  offset_ += n;
  return n;
}

}  // namespace smtp
