// Fuzz target: LineReader (parser/line_reader.h).
//
// Header (4 bytes): [0] bit0 kBareLfLineEnd, bit1 kBareCrLineEnd, bits2-3
// max_line (512, 1000, kMaxAuthLine, or byte [1]); [1] small max_line;
// [2..3] split seed. Payload: the byte stream.
//
// Oracles: consumed <= input; a Feed without a line consumed everything; a
// line is exactly the input bytes at line_offset() followed by the reported
// terminator, and strict mode ends lines only at CRLF; observations count
// what the line holds; error offsets lie inside the input; the buffer never
// grows past its reservation; split feeding gives the same lines as one-shot
// feeding.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "parser/line_reader.h"

namespace {

using smtp::LineObservations;
using smtp::LineReader;
using smtp::LineReaderOptions;
using smtp::LineTerminator;

struct LineRecord {
  std::string line;
  LineTerminator terminator;
  std::size_t line_offset;
  std::size_t end_offset;  // reader offset() after the line
  smtp::ParseError error;
  smtp::Leniencies deviations;
  LineObservations obs;
  friend bool operator==(const LineRecord&, const LineRecord&) = default;
};

std::size_t TerminatorSize(LineTerminator t) { return t == LineTerminator::kCrLf ? 2 : 1; }

void CheckLine(const LineReader& r, std::string_view input, const LineReaderOptions& opts) {
  const std::string_view line = r.line();
  const std::size_t at = r.line_offset();
  FUZZ_CHECK(r.terminator() != LineTerminator::kNone, "a complete line has a terminator");
  FUZZ_CHECK(at <= r.offset() && r.offset() <= input.size(), "line offset within consumed input");
  FUZZ_CHECK(smtp::fuzz::OffsetWithin(r.error(), 0, input.size()), "error offset within input");
  const bool lf_ok = (opts.leniencies & smtp::kBareLfLineEnd) != 0;
  const bool cr_ok = (opts.leniencies & smtp::kBareCrLineEnd) != 0;
  FUZZ_CHECK(r.terminator() != LineTerminator::kLf || lf_ok, "bare LF ends a line only if allowed");
  FUZZ_CHECK(r.terminator() != LineTerminator::kCr || cr_ok, "bare CR ends a line only if allowed");
  // The terminator sits right before offset() (a pending bare CR was
  // consumed by an earlier Feed, so offset() is just past it as well).
  const std::size_t term = TerminatorSize(r.terminator());
  FUZZ_CHECK(r.offset() >= term, "terminator inside consumed input");
  const std::string_view wire = input.substr(r.offset() - term, term);
  switch (r.terminator()) {
    case LineTerminator::kCrLf:
      FUZZ_CHECK(wire == "\r\n", "CRLF terminator is CRLF");
      break;
    case LineTerminator::kLf:
      FUZZ_CHECK(wire == "\n", "LF terminator is LF");
      break;
    case LineTerminator::kCr:
      FUZZ_CHECK(wire == "\r", "CR terminator is CR");
      break;
    case LineTerminator::kNone:
      break;
  }
  if (r.error().code == smtp::Errc::kLineTooLong) {
    FUZZ_CHECK(line.empty(), "an over-long line is not returned");
    FUZZ_CHECK(r.error().offset == at + opts.max_line, "too-long offset is line start + limit");
    FUZZ_CHECK(r.offset() - at > opts.max_line, "too-long line exceeds the limit");
    return;
  }
  FUZZ_CHECK(r.error().code == smtp::Errc::kOk, "only kLineTooLong is reported on a line");
  FUZZ_CHECK(line.size() + term <= opts.max_line, "accepted line fits the limit");
  FUZZ_CHECK(at + line.size() + term == r.offset(), "line plus terminator is what was consumed");
  FUZZ_CHECK(input.substr(at, line.size()) == line, "line is the raw input bytes");
  // What the line holds: every CR / LF inside a line is bare (a CRLF, or an
  // allowed bare terminator, would have ended it).
  const auto count = [&](char c) {
    return static_cast<std::size_t>(std::count(line.begin(), line.end(), c));
  };
  const auto first = [&](auto pred) {
    const auto it = std::find_if(line.begin(), line.end(), pred);
    return it == line.end() ? LineObservations::kNone
                            : at + static_cast<std::size_t>(it - line.begin());
  };
  const LineObservations& o = r.observations();
  FUZZ_CHECK(o.nul == count('\0'), "observed NUL count");
  FUZZ_CHECK(o.bare_lf == count('\n'), "observed bare LF count");
  FUZZ_CHECK(o.bare_cr == count('\r'), "observed bare CR count");
  const auto high = [](char c) { return static_cast<unsigned char>(c) >= 0x80; };
  FUZZ_CHECK(o.eight_bit == static_cast<std::size_t>(std::count_if(line.begin(), line.end(), high)),
             "observed 8-bit count");
  FUZZ_CHECK(o.first_nul == first([](char c) { return c == '\0'; }), "first NUL offset");
  FUZZ_CHECK(o.first_bare_lf == first([](char c) { return c == '\n'; }), "first bare LF offset");
  FUZZ_CHECK(o.first_bare_cr == first([](char c) { return c == '\r'; }), "first bare CR offset");
  FUZZ_CHECK(o.first_eight_bit == first(high), "first 8-bit offset");
  const smtp::Leniencies expect_dev = r.terminator() == LineTerminator::kLf   ? smtp::kBareLfLineEnd
                                      : r.terminator() == LineTerminator::kCr ? smtp::kBareCrLineEnd
                                                                              : smtp::kStrict;
  FUZZ_CHECK(r.deviations() == expect_dev, "deviations name the terminator's leniency");
}

// Feeds `input` in chunks of `split` (one-shot when null) and returns every
// line in order.
std::vector<LineRecord> Run(std::string_view input, const LineReaderOptions& opts,
                            smtp::fuzz::Splitter* split) {
  LineReader r(opts);
  const std::size_t capacity = r.buffer_capacity();
  std::vector<LineRecord> lines;
  std::size_t pos = 0;
  std::string_view piece;  // the unconsumed rest of the current chunk
  std::size_t rounds = 0;
  for (;;) {
    FUZZ_CHECK(++rounds <= 4 * input.size() + 16, "LineReader makes progress");
    if (piece.empty()) {
      if (pos == input.size()) break;
      const std::size_t left = input.size() - pos;
      piece = input.substr(pos, split ? split->Next(left) : left);
    }
    const std::size_t n = r.Feed(piece);
    FUZZ_CHECK(n <= piece.size(), "Feed consumes at most its input");
    pos += n;
    piece.remove_prefix(n);
    FUZZ_CHECK(r.offset() == pos, "offset() counts consumed bytes");
    FUZZ_CHECK(r.buffer_capacity() == capacity, "line buffer never grows");
    if (!r.has_line()) {
      FUZZ_CHECK(piece.empty(), "without a line, Feed consumes everything");
      continue;
    }
    CheckLine(r, input, opts);
    lines.push_back({std::string(r.line()), r.terminator(), r.line_offset(), r.offset(), r.error(),
                     r.deviations(), r.observations()});
    // The rest of the chunk, if any, is fed next round (Feed starts a new line).
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::uint8_t small = in.Byte();
  const std::uint16_t seed = in.U16();
  LineReaderOptions opts;
  if (flags & 1) opts.leniencies |= smtp::kBareLfLineEnd;
  if (flags & 2) opts.leniencies |= smtp::kBareCrLineEnd;
  switch ((flags >> 2) & 3) {
    case 0:
      opts.max_line = smtp::kMaxCommandLine;
      break;
    case 1:
      opts.max_line = smtp::kMaxTextLine;
      break;
    case 2:
      opts.max_line = smtp::kMaxAuthLine;
      break;
    default:
      opts.max_line = small;
      break;
  }
  const std::string_view payload = in.Rest();

  const std::vector<LineRecord> whole = Run(payload, opts, nullptr);
  smtp::fuzz::Splitter split(seed);
  const std::vector<LineRecord> pieces = Run(payload, opts, &split);
  FUZZ_CHECK(whole == pieces, "split feeding gives the same lines as one-shot feeding");
  return 0;
}
