#include "parser/data_reader.h"

#include "parser/byte_scan.h"

#include <algorithm>
#include <cstring>

namespace smtp {
namespace {

constexpr std::string_view kCrRun =
    "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r";

void EmitCrs(const BodySink& sink, std::size_t n) {
  while (n > 0) {
    const std::size_t k = std::min(n, kCrRun.size());
    sink(kCrRun.substr(0, k));
    n -= k;
  }
}

// <prefix>.<CR> not followed by LF.
DataEventKind DotCrKind(WireEnd prefix) {
  switch (prefix) {
    case WireEnd::kLf:
      return DataEventKind::kLfDotCr;
    case WireEnd::kCr:
      return DataEventKind::kCrDotCr;
    default:
      return DataEventKind::kCrLfDotCr;
  }
}

}  // namespace

std::string_view DataEndModeName(DataEndMode m) {
  switch (m) {
    case DataEndMode::kStrict:
      return "strict";
    case DataEndMode::kLfLinesStrictEnd:
      return "lf_lines_strict_end";
    case DataEndMode::kBareLf:
      return "bare_lf";
    case DataEndMode::kBareLfStripCr:
      return "bare_lf_strip_cr";
    case DataEndMode::kAnyLineEnd:
      return "any_line_end";
  }
  return "strict";
}

std::string_view DataEventKindName(DataEventKind k) {
  switch (k) {
    case DataEventKind::kBareCr:
      return "bare_cr";
    case DataEventKind::kBareLf:
      return "bare_lf";
    case DataEventKind::kLfDotLf:
      return "lf_dot_lf";
    case DataEventKind::kLfDotCrLf:
      return "lf_dot_cr_lf";
    case DataEventKind::kLfDotCr:
      return "lf_dot_cr";
    case DataEventKind::kCrDotLf:
      return "cr_dot_lf";
    case DataEventKind::kCrDotCrLf:
      return "cr_dot_cr_lf";
    case DataEventKind::kCrDotCr:
      return "cr_dot_cr";
    case DataEventKind::kCrLfDotLf:
      return "cr_lf_dot_lf";
    case DataEventKind::kCrLfDotCr:
      return "cr_lf_dot_cr";
    case DataEventKind::kDotCrCrLf:
      return "dot_cr_cr_lf";
    case DataEventKind::kDotNul:
      return "dot_nul";
    case DataEventKind::kNulDot:
      return "nul_dot";
    case DataEventKind::kLineTooLong:
      return "line_too_long";
  }
  return "unknown";
}

std::string_view WireEndName(WireEnd e) {
  switch (e) {
    case WireEnd::kCrLf:
      return "crlf";
    case WireEnd::kLf:
      return "lf";
    case WireEnd::kCr:
      return "cr";
    case WireEnd::kCrsLf:
      return "crs_lf";
  }
  return "crlf";
}

DataReader::DataReader(DataReaderOptions opts)
    : opts_(opts), max_content_(opts.max_line >= 2 ? opts.max_line - 2 : 0) {}

void DataReader::Reset() { *this = DataReader(opts_); }

std::optional<ParseError> DataReader::line_error() const {
  if (count(DataEventKind::kLineTooLong) == 0) return std::nullopt;
  return ParseError{Errc::kDataLineTooLong, first_too_long_,
                    "text line longer than its limit (RFC 5321 §4.5.3.1.6)"};
}

void DataReader::AddEvent(DataEventKind k, std::size_t off) {
  // Bytes before `off` are known content: report an over-long line first, so
  // the order of events does not depend on how the input was split.
  if (k != DataEventKind::kLineTooLong) CheckLineLength(off);
  auto& n = counts_[static_cast<std::size_t>(k)];
  if (k == DataEventKind::kLineTooLong && n == 0) first_too_long_ = off;
  ++n;
  if (stored_events_ < kMaxStoredEvents) {
    events_[stored_events_++] = {k, off};
  } else {
    ++dropped_events_;
  }
}

// `content_end`: every byte of the current line before it is content.
void DataReader::CheckLineLength(std::size_t content_end) {
  if (line_reported_ || content_end <= line_start_) return;
  if (content_end - line_start_ > max_content_) {
    line_reported_ = true;
    AddEvent(DataEventKind::kLineTooLong, line_start_ + max_content_);
  }
}

// A raw line end (CRLF, bare LF or bare CR) at term_off; the next raw line
// starts at next_off. Whether it ends a line depends on the mode.
void DataReader::LineEnd(WireEnd how, std::size_t term_off, std::size_t next_off) {
  prefix_ = how;
  const bool ends = how == WireEnd::kCrLf ||
                    (how == WireEnd::kLf && opts_.mode != DataEndMode::kStrict) ||
                    (how == WireEnd::kCr && opts_.mode == DataEndMode::kAnyLineEnd);
  mode_line_start_ = ends;
  if (!ends) return;
  CheckLineLength(term_off);
  line_start_ = next_off;
  line_reported_ = false;
}

// Does "." + `crs` CRs + (LF if `lf`) at this line start end the data?
bool DataReader::EndsData(std::size_t crs, bool lf) const {
  if (!mode_line_start_) return false;
  switch (opts_.mode) {
    case DataEndMode::kStrict:
    case DataEndMode::kLfLinesStrictEnd:
      return prefix_ == WireEnd::kCrLf && crs == 1 && lf;
    case DataEndMode::kBareLf:
      return crs <= 1 && lf;
    case DataEndMode::kBareLfStripCr:
      return lf;
    case DataEndMode::kAnyLineEnd:
      return crs >= 1 || lf;
  }
  return false;
}

// data      = *text-line end-of-data          ; RFC 5321 §4.1.1.4, §4.5.2
// text-line = ["."] *octet CRLF               ; a leading "." is removed
// end-of-data = CRLF "." CRLF                  ; the first CRLF ends the last line
// Lenient modes widen "CRLF" as documented on DataEndMode.
std::size_t DataReader::Feed(std::string_view in, BodySink sink) {
  if (state_ == State::kDone) return 0;
  const char* const begin = in.data();
  const char* const end = begin + in.size();
  const char* p = begin;
  const char* run = begin;  // body bytes [run, p) not yet given to the sink
  const auto off = [&](const char* q) { return offset_ + static_cast<std::size_t>(q - begin); };

  while (p < end && state_ != State::kDone) {
    switch (state_) {
      case State::kMid: {
        // Hot path: one SIMD scan to the next CR or LF (byte_scan.h); CRLF
        // is the common case.
        // Plain CRLF lines in bulk: what SkipCrLfLines passes over is
        // content and CRLF line ends, each line within its length.
        // A line already over its limit but not reported yet is left to
        // the per-line path below.
        const std::size_t used = off(p) > line_start_ ? off(p) - line_start_ : 0;
        if (line_reported_ || used <= max_content_) {
          const std::size_t room =
              line_reported_ ? static_cast<std::size_t>(-1) : max_content_ - used;
          const char* q = SkipCrLfLines(p, end, room, max_content_);
          if (q != p) {
            p = q;
            prefix_ = WireEnd::kCrLf;
            mode_line_start_ = true;
            line_start_ = off(p);
            line_reported_ = false;
            if (p == end || *p == '.' || *p == '\0') {
              state_ = State::kLineStart;
              break;
            }
          }
        }
        const char* hit = FindCrLf(p, end);
        if (hit == end) {
          p = end;
        } else if (*hit == '\n') {  // bare LF
          AddEvent(DataEventKind::kBareLf, off(hit));
          p = hit + 1;
          LineEnd(WireEnd::kLf, off(hit), off(p));
          state_ = State::kLineStart;
        } else if (hit + 1 < end && hit[1] == '\n') {  // CRLF
          p = hit + 2;
          LineEnd(WireEnd::kCrLf, off(hit), off(p));
          if (p == end || *p == '.' || *p == '\0') state_ = State::kLineStart;
        } else {  // a CR not followed by LF, or at the end (LF may follow)
          cr_offset_ = off(hit);
          state_ = State::kCr;
          p = hit + 1;
        }
        break;
      }

      case State::kCr:
        if (*p == '\n') {
          ++p;
          LineEnd(WireEnd::kCrLf, cr_offset_, off(p));
        } else {
          AddEvent(DataEventKind::kBareCr, cr_offset_);
          LineEnd(WireEnd::kCr, cr_offset_, off(p));
        }
        state_ = State::kLineStart;
        break;

      case State::kLineStart:
        if (*p == '.') {
          sink({run, static_cast<std::size_t>(p - run)});
          dot_offset_ = off(p);
          dot_crs_ = 0;
          if (mode_line_start_) line_start_ = dot_offset_ + 1;  // unstuffed unless it ends
          state_ = State::kDot;
          run = ++p;
        } else if (*p == '\0') {
          state_ = State::kNul;
          ++p;
        } else {
          state_ = State::kMid;
        }
        break;

      case State::kNul:
        if (*p == '.') AddEvent(DataEventKind::kNulDot, off(p) - 1);
        state_ = State::kMid;
        break;

      case State::kDot:
      case State::kDotCr: {
        const char c = *p;
        if (c == '\r' && (dot_crs_ == 0 || opts_.mode != DataEndMode::kAnyLineEnd)) {
          if (dot_crs_ >= 1) {  // the previous CR is bare
            if (dot_crs_ == 1) AddEvent(DotCrKind(prefix_), dot_offset_);
            AddEvent(DataEventKind::kBareCr, dot_offset_ + dot_crs_);
          }
          ++dot_crs_;
          state_ = State::kDotCr;
          run = ++p;
          break;
        }
        // The byte after "." CR* decides; it is not consumed yet.
        const bool lf = c == '\n';
        const std::size_t crs = dot_crs_;
        WireEnd after = WireEnd::kLf;
        if (crs == 0) {
          if (lf) {
            AddEvent(prefix_ == WireEnd::kLf   ? DataEventKind::kLfDotLf
                     : prefix_ == WireEnd::kCr ? DataEventKind::kCrDotLf
                                               : DataEventKind::kCrLfDotLf,
                     dot_offset_);
          } else if (c == '\0') {
            AddEvent(DataEventKind::kDotNul, dot_offset_);
          }
        } else if (crs == 1) {
          after = lf ? WireEnd::kCrLf : WireEnd::kCr;
          if (!lf) {
            AddEvent(DotCrKind(prefix_), dot_offset_);
          } else if (prefix_ != WireEnd::kCrLf) {
            AddEvent(
                prefix_ == WireEnd::kLf ? DataEventKind::kLfDotCrLf : DataEventKind::kCrDotCrLf,
                dot_offset_);
          }
        } else {
          after = lf ? WireEnd::kCrsLf : WireEnd::kCr;
          if (lf) AddEvent(DataEventKind::kDotCrCrLf, dot_offset_);
        }
        if (EndsData(crs, lf)) {
          if (crs == 0) AddEvent(DataEventKind::kBareLf, off(p));
          if (crs >= 1 && !lf) AddEvent(DataEventKind::kBareCr, dot_offset_ + crs);
          end_ = {prefix_, after, dot_offset_};
          if (lf) ++p;
          run = p;
          state_ = State::kDone;
          break;
        }
        // Not the end: give back what was held, then go on with `c`.
        if (!mode_line_start_) sink(".");
        if (crs > 0) {
          EmitCrs(sink, crs);
          cr_offset_ = dot_offset_ + crs;
          state_ = State::kCr;
        } else {
          state_ = State::kMid;
        }
        break;
      }

      case State::kDone:
        break;
    }
  }
  sink({run, static_cast<std::size_t>(p - run)});

  // Over-long lines are reported as soon as known, using only bytes whose
  // events are already recorded (so the result does not depend on splits).
  switch (state_) {
    case State::kMid:
    case State::kLineStart:
      CheckLineLength(off(p));
      break;
    case State::kCr:
      CheckLineLength(cr_offset_);
      break;
    case State::kNul:
      CheckLineLength(off(p) - 1);
      break;
    case State::kDot:
    case State::kDotCr:
      CheckLineLength(dot_offset_);
      break;
    case State::kDone:
      break;
  }
  const auto consumed = static_cast<std::size_t>(p - begin);
  offset_ += consumed;
  return consumed;
}

std::string DotStuff(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 5);
  std::size_t i = 0;
  while (i < body.size()) {  // i is at a line start
    if (body[i] == '.') out.push_back('.');
    const std::size_t crlf = body.find("\r\n", i);
    if (crlf == std::string_view::npos) {
      out.append(body.substr(i));
      break;
    }
    out.append(body.substr(i, crlf + 2 - i));
    i = crlf + 2;
  }
  if (!body.empty() && !body.ends_with("\r\n")) out.append("\r\n");
  out.append(".\r\n");
  return out;
}

}  // namespace smtp
