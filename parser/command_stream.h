// ParseNextCommand: frames and parses the next command of a buffered byte
// stream in one call, as a server's command reader holds the stream (bytes
// received, not yet consumed), instead of first cutting a line with a
// LineReader (or memchr) and then parsing it with ParseCommandInto.
//
// Contract: the result is exactly what a LineReader with the command
// options' line-end leniencies (kBareLfLineEnd / kBareCrLineEnd) and
// `max_line`, fed `buffered` at a line start, followed by ParseCommandInto on
// the line and its terminator, gives: the same line, terminator, Command
// fields, or the same error code and offset (here relative to the line's
// first octet). A line longer than `max_line` (terminator included) is
// kLineTooLong at offset `max_line`, whatever it holds, as LineReader reports
// it; within `max_line` the command's own limit (Limits::command_line, or
// kMaxAuthLine for AUTH) and the framing rules of ParseCommandInto apply:
// the first NUL, bare CR, bare LF or octet past the limit wins.
// parser/command_stream_test.cc and fuzz/fuzz_command_stream.cc check the
// two against each other.
//
// Speed: the usual line (its first LF after a CR, within max_line) is found
// with one memchr and parsed by ParseCommandInto straight from the buffer,
// with no copy (a verb alone, "DATA" CRLF, by a small function without
// ParseCommandInto's prologue and dispatch); every other line is framed by
// the LineReader rules first.
// A SIMD scan for CR, LF and NUL inlined into the parse measured no faster
// than glibc's memchr (docs/PERFORMANCE.md).
//
// Need more: when `buffered` holds no complete line (or, with
// kBareCrLineEnd, ends in a CR that may be half of CRLF), nothing is
// consumed and the call returns kNeedMore. It keeps no state: a caller that
// calls again with more bytes rescans the line from its start, so a caller
// that cannot hold a whole line (or does not want the rescans) hands such
// bytes to a LineReader, which carries and bounds partial lines (the
// embedded server, harness/server/session.cc, does that).
#ifndef SMTP_PARSER_COMMAND_STREAM_H_
#define SMTP_PARSER_COMMAND_STREAM_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "parser/command.h"
#include "parser/line_reader.h"
#include "parser/parse_error.h"

namespace smtp {

// The line ParseNextCommand framed.
struct CommandFrame {
  std::size_t size = 0;     // octets consumed: the line and its terminator
  std::size_t content = 0;  // octets before the terminator
  LineTerminator terminator = LineTerminator::kNone;
  // The line is longer than `max_line`: LineReader's kLineTooLong (the line
  // is not parsed), as opposed to the command limit's.
  bool over_reader_limit = false;
};

// Frames the line at the start of `buffered` and parses it into `*out`
// (reset first, as ParseCommandInto does, with its assumption; its views point into
// `buffered`). Returns kNeedMore when `buffered` holds no complete line
// (nothing consumed; `*frame` unspecified); otherwise `*frame` describes the
// line (frame->size octets are consumed) and the result is kOk (the Command
// is complete) or the error LineReader + ParseCommandInto give, its offset
// relative to the line's first octet. Allocates nothing. (The error is
// returned, not stored in the frame: a ParseError written by the parser
// and copied whole stalls on store forwarding.)
inline ParseError ParseNextCommand(std::string_view buffered, const CommandOptions& opts,
                                   std::size_t max_line, Command* out, CommandFrame* frame);

namespace internal {

// The LineReader rules (line_reader.h) on a buffer that starts at a line
// start: sets frame->size / content / terminator and returns true, or
// returns false when the buffer holds no complete line. Does not apply
// max_line.
bool FrameBufferedLine(std::string_view buffered, Leniencies leniencies, CommandFrame* frame);

// ParseCommandInto for a line of six octets, `line[4..6)` being CRLF, when its
// first four are a verb that is a whole command (DATA, RSET, QUIT, NOOP,
// HELP, any case): fills `*out` and returns true; otherwise false, with
// `*out` untouched. No prologue, no dispatch (command.cc).
bool ParseVerbAlone(const char* line, const CommandOptions& opts, Command* out);

// ParseNextCommand for the lines its inline part does not take.
ParseError ParseNextCommandSlow(std::string_view buffered, const CommandOptions& opts,
                                std::size_t max_line, Command* out, CommandFrame* frame);

}  // namespace internal

// Inline, so that the usual line costs what memchr + ParseCommandInto cost
// in the caller's loop (an out-of-line call and its frame measured ~7%).
inline ParseError ParseNextCommand(std::string_view buffered, const CommandOptions& opts,
                                   std::size_t max_line, Command* out, CommandFrame* frame) {
  const char* const p = buffered.data();
  // The usual line: its first LF comes after a CR, within max_line. Then the
  // LineReader ends the line there (strictly at the first CRLF, with
  // kBareLfLineEnd at the first LF), unless kBareCrLineEnd and a CR before
  // it end it earlier (checked only then); the line is parsed as
  // ParseCommandInto parses it (its CRLF test is then known to pass).
  const std::size_t bound = std::min(buffered.size(), max_line);
  const void* const lf = bound == 0 ? nullptr : std::memchr(p, '\n', bound);
  if (lf != nullptr) {
    const auto k = static_cast<std::size_t>(static_cast<const char*>(lf) - p);
    if (k > 0 && p[k - 1] == '\r') {
      frame->size = k + 1;
      frame->content = k - 1;
      frame->terminator = LineTerminator::kCrLf;
      frame->over_reader_limit = false;
      if ((opts.leniencies & kBareCrLineEnd) == 0 || std::memchr(p, '\r', k - 1) == nullptr) {
        // A third of a client's lines are a verb alone ("DATA" CRLF).
        if (k == 5 && internal::ParseVerbAlone(p, opts, out)) return ParseError{};
        return ParseCommandInto(buffered.substr(0, k + 1), opts, out);
      }
    }
  }
  return internal::ParseNextCommandSlow(buffered, opts, max_line, out, frame);
}

}  // namespace smtp

#endif  // SMTP_PARSER_COMMAND_STREAM_H_
