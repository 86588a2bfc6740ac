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
// Speed: the usual line (CRLF within its limit, no NUL, CR or LF before it)
// is found by a 16-octet scan for CR, LF and NUL inlined into the parse, and
// its content is parsed straight from the buffer; every other line is framed
// by the LineReader rules first and then parsed by ParseCommandInto.
//
// Need more: when `buffered` holds no complete line (or, with
// kBareCrLineEnd, ends in a CR that may be half of CRLF), nothing is
// consumed and the call returns false. It keeps no state: a caller that
// calls again with more bytes rescans the line from its start, so a caller
// that cannot hold a whole line (or does not want the rescans) hands such
// bytes to a LineReader, which carries and bounds partial lines (the
// embedded server, harness/server/session.cc, does that).
#ifndef SMTP_PARSER_COMMAND_STREAM_H_
#define SMTP_PARSER_COMMAND_STREAM_H_

#include <cstddef>
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
  // kOk (the Command is complete), or the error LineReader + ParseCommandInto
  // give, with its offset relative to the line's first octet.
  ParseError error;
  // The line is longer than `max_line`: LineReader's kLineTooLong (the line
  // is not parsed), as opposed to the command limit's.
  bool over_reader_limit = false;
};

// Frames the line at the start of `buffered` and parses it into `*out`
// (cleared first, as ParseCommandInto does; its views point into
// `buffered`). Returns true with `*frame` filled when a line was framed
// (frame->size octets are consumed, whether or not the command parsed);
// false when more bytes are needed (nothing consumed). Allocates nothing.
// Defined in command.cc, beside ParseCommandInto, so that the line parser
// is inlined into it.
bool ParseNextCommand(std::string_view buffered, const CommandOptions& opts, std::size_t max_line,
                      Command* out, CommandFrame* frame);

namespace internal {

// The LineReader rules (line_reader.h) on a buffer that starts at a line
// start: sets frame->size / content / terminator and returns true, or
// returns false when the buffer holds no complete line. Does not apply
// max_line.
bool FrameBufferedLine(std::string_view buffered, Leniencies leniencies, CommandFrame* frame);

}  // namespace internal
}  // namespace smtp

#endif  // SMTP_PARSER_COMMAND_STREAM_H_
