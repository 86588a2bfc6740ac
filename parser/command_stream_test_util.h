// One pass against two (command_stream.h): CommandStreamDiff walks a byte
// stream three ways and describes the first disagreement ("" when all
// agree):
//   reference  a LineReader fed the stream in pieces, each line with its
//              terminator given to ParseCommandInto (what the server did),
//              into a fresh Command (the others reuse one, as a server does);
//   one pass   ParseNextCommand over the rest of the whole stream, line after
//              line;
//   server     the stream arriving in pieces, ParseNextCommand on what is
//              buffered while the LineReader is at a line start, the
//              LineReader for the rest (harness/server/session.cc's loop).
// Each line's outcome is compared as text: size, terminator, content, error
// code and offset (relative to the line), and every field of the Command by
// content. Used by command_stream_test.cc and the differential fuzz target
// fuzz/fuzz_command_stream.cc. Header-only, parser only.
#ifndef SMTP_PARSER_COMMAND_STREAM_TEST_UTIL_H_
#define SMTP_PARSER_COMMAND_STREAM_TEST_UTIL_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/command.h"
#include "parser/command_stream.h"
#include "parser/line_reader.h"
#include "parser/scan_diff_test_util.h"

namespace smtp::testing {

// One line's outcome as text; `fields` only when it parsed.
inline std::string LineOutcomeText(std::size_t size, LineTerminator t, std::string_view content,
                                   const ParseError& e, const Command& c) {
  std::string s = "size=" + std::to_string(size) + " term=" + std::string(LineTerminatorName(t)) +
                  " content=" + PrintableForTest(content) +
                  " error=" + std::string(ErrcName(e.code)) + "@" + std::to_string(e.offset);
  if (e.code == Errc::kOk) s += " " + CommandFieldsText(c);
  return s;
}

struct StreamOutcome {
  std::vector<std::string> lines;
  std::size_t consumed = 0;  // octets of the complete lines
};

// The line `reader` holds, parsed by ParseCommandInto with its terminator
// (`line` is the buffer for it), added to `out`.
inline void AddReaderLine(const LineReader& reader, const CommandOptions& opts, Command* c,
                          std::string* line, StreamOutcome* out) {
  const std::size_t size = reader.offset() - reader.line_offset();
  ParseError e = reader.error();
  if (e.code == Errc::kLineTooLong) {
    e.offset -= reader.line_offset();
  } else {
    line->assign(reader.line());
    *line += reader.terminator() == LineTerminator::kLf   ? "\n"
             : reader.terminator() == LineTerminator::kCr ? "\r"
                                                          : "\r\n";
    e = ParseCommandInto(*line, opts, c);
  }
  out->lines.push_back(LineOutcomeText(size, reader.terminator(), reader.line(), e, *c));
  out->consumed += size;
}

// LineReader fed `stream` in pieces of `piece` octets (0: whole), then
// ParseCommandInto on each line with its terminator.
inline StreamOutcome TwoPassOutcome(std::string_view stream, const CommandOptions& opts,
                                    std::size_t max_line, std::size_t piece) {
  StreamOutcome out;
  LineReader reader(LineReaderOptions{
      .leniencies = opts.leniencies & (kBareLfLineEnd | kBareCrLineEnd), .max_line = max_line});
  Command c;
  std::string line;
  std::size_t pos = 0;
  const std::size_t step = piece == 0 ? stream.size() : piece;
  while (pos < stream.size()) {
    std::string_view chunk = stream.substr(pos, step);
    pos += chunk.size();
    while (!chunk.empty()) {
      const std::size_t n = reader.Feed(chunk);
      chunk.remove_prefix(n);
      if (!reader.has_line()) continue;
      c = Command{};  // the reference parses each line into a fresh Command
      AddReaderLine(reader, opts, &c, &line, &out);
    }
  }
  return out;
}

inline std::string FrameOutcomeText(std::string_view buffered, const CommandFrame& f,
                                    const ParseError& e, const Command& c) {
  return LineOutcomeText(f.size, f.terminator,
                         f.over_reader_limit ? std::string_view() : buffered.substr(0, f.content),
                         e, c);
}

// ParseNextCommand line after line over the whole stream.
inline StreamOutcome OnePassOutcome(std::string_view stream, const CommandOptions& opts,
                                    std::size_t max_line) {
  StreamOutcome out;
  Command c;
  CommandFrame f;
  for (;;) {
    const std::string_view rest = stream.substr(out.consumed);
    const ParseError e = ParseNextCommand(rest, opts, max_line, &c, &f);
    if (e.code == Errc::kNeedMore) break;
    if (f.size == 0) {
      out.lines.push_back("empty frame");
      break;
    }
    out.lines.push_back(FrameOutcomeText(rest, f, e, c));
    out.consumed += f.size;
  }
  return out;
}

// The server's loop: the stream arrives in pieces of `piece` octets (0:
// whole) into a buffer of unconsumed octets; ParseNextCommand takes whole
// lines at line starts, a LineReader the rest.
inline StreamOutcome ServerStyleOutcome(std::string_view stream, const CommandOptions& opts,
                                        std::size_t max_line, std::size_t piece) {
  StreamOutcome out;
  LineReader reader(LineReaderOptions{
      .leniencies = opts.leniencies & (kBareLfLineEnd | kBareCrLineEnd), .max_line = max_line});
  Command c;
  CommandFrame f;
  std::string line;
  const std::size_t step = piece == 0 ? stream.size() : piece;
  for (std::size_t pos = 0; pos < stream.size();) {
    std::string_view in = stream.substr(pos, step);
    pos += in.size();
    while (!in.empty()) {
      if (reader.at_line_start()) {
        const ParseError e = ParseNextCommand(in, opts, max_line, &c, &f);
        if (e.code != Errc::kNeedMore) {
          out.lines.push_back(FrameOutcomeText(in, f, e, c));
          out.consumed += f.size;
          reader.SkipLine(f.size);
          in.remove_prefix(f.size);
          continue;
        }
      }
      const std::size_t n = reader.Feed(in);
      in.remove_prefix(n);
      if (!reader.has_line()) continue;
      AddReaderLine(reader, opts, &c, &line, &out);
    }
  }
  return out;
}

inline std::string CompareOutcomes(std::string_view what, const StreamOutcome& ref,
                                   const StreamOutcome& got) {
  for (std::size_t i = 0; i < ref.lines.size() || i < got.lines.size(); ++i) {
    const std::string r = i < ref.lines.size() ? ref.lines[i] : "(no line)";
    const std::string g = i < got.lines.size() ? got.lines[i] : "(no line)";
    if (r != g) {
      return std::string(what) + ": line " + std::to_string(i) + ": two-pass {" + r + "} vs {" + g +
             "}";
    }
  }
  if (ref.consumed != got.consumed) {
    return std::string(what) + ": consumed " + std::to_string(ref.consumed) + " vs " +
           std::to_string(got.consumed);
  }
  return "";
}

// "" when the one-pass and the server-style walks agree with the two-pass
// reference on `stream` (the reference and the server walk fed in pieces of
// `piece` octets, 0: whole).
inline std::string CommandStreamDiff(std::string_view stream, const CommandOptions& opts,
                                     std::size_t max_line, std::size_t piece) {
  const StreamOutcome ref = TwoPassOutcome(stream, opts, max_line, piece);
  std::string d = CompareOutcomes("one pass", ref, OnePassOutcome(stream, opts, max_line));
  if (d.empty()) {
    d = CompareOutcomes("server style", ref, ServerStyleOutcome(stream, opts, max_line, piece));
  }
  if (!d.empty()) {
    d += " (input " + PrintableForTest(stream) + ", piece " + std::to_string(piece) +
         ", max_line " + std::to_string(max_line) + ", command_line " +
         std::to_string(opts.limits.command_line) + ", leniencies " +
         std::to_string(static_cast<unsigned long long>(opts.leniencies)) + ")";
  }
  return d;
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_COMMAND_STREAM_TEST_UTIL_H_
