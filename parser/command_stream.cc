// ParseNextCommand's other lines (command_stream.h): framed by the
// LineReader rules first, then parsed.
#include "parser/command_stream.h"

#include "parser/byte_scan.h"

namespace smtp::internal {

// LineReader::Feed's rules at a line start, over one buffer:
//   LF ends the line after a CR of the line (CRLF), or alone with
//   kBareLfLineEnd; otherwise it is content.
//   CR ends the line with kBareCrLineEnd (CRLF when LF follows, CR alone when
//   another octet does, undecided when it is the last octet); otherwise it is
//   content, and ends the line only as the first half of CRLF.
bool FrameBufferedLine(std::string_view buffered, Leniencies leniencies, CommandFrame* frame) {
  const bool lf_ends = (leniencies & kBareLfLineEnd) != 0;
  const bool cr_ends = (leniencies & kBareCrLineEnd) != 0;
  const char* const begin = buffered.data();
  const char* const end = begin + buffered.size();
  for (const char* p = begin;; ++p) {
    p = FindCrLf(p, end);
    if (p == end) return false;
    const auto i = static_cast<std::size_t>(p - begin);
    if (*p == '\n') {
      const bool after_cr = i > 0 && begin[i - 1] == '\r';
      if (!after_cr && !lf_ends) continue;
      frame->size = i + 1;
      frame->content = after_cr ? i - 1 : i;
      frame->terminator = after_cr ? LineTerminator::kCrLf : LineTerminator::kLf;
      return true;
    }
    if (!cr_ends) continue;  // content, or the CR of a CRLF the LF case finds
    if (p + 1 == end) return false;
    const bool crlf = p[1] == '\n';
    frame->size = i + (crlf ? 2 : 1);
    frame->content = i;
    frame->terminator = crlf ? LineTerminator::kCrLf : LineTerminator::kCr;
    return true;
  }
}

}  // namespace smtp::internal

namespace smtp {

namespace internal {

ParseError ParseNextCommandSlow(std::string_view buffered, const CommandOptions& opts,
                                std::size_t max_line, Command* out, CommandFrame* frame) {
  // Every other line: framed as LineReader frames it, then (within
  // max_line) parsed as ParseCommandInto parses it.
  if (!internal::FrameBufferedLine(buffered, opts.leniencies, frame)) {
    return ParseError{Errc::kNeedMore, buffered.size(), "no complete line yet"};
  }
  frame->over_reader_limit = frame->size > max_line;
  if (frame->over_reader_limit) {
    return ParseError{Errc::kLineTooLong, max_line,
                      "line longer than its limit, terminator included (RFC 5321 §4.5.3.1.4/.5)"};
  }
  return ParseCommandInto(buffered.substr(0, frame->size), opts, out);
}

}  // namespace internal

}  // namespace smtp
