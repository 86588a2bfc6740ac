// Fuzz target: DATA bodies in every end-of-data mode (DataReader, DotStuff)
// and BDAT chunk framing (BdatReader) (parser/data_reader.h, bdat_reader.h).
//
// Header (8 bytes): [0] bits0-2 DataEndMode (mod 5), bits3-4 max_line
// (1000, byte [1], 1 MiB, 1000); [1] small max_line; [2..3] split seed;
// [4..7] BDAT chunk size (bit 31 set: that plus 2^40, i.e. larger than any
// input). Payload: the bytes after the DATA (or BDAT) command line.
//
// Oracles:
// - a reference model (below: a slow, obvious reading of each mode's
//   documented rule) finds the same end of data, the same body and the same
//   line ends around the final dot; in strict mode that means the data ends
//   only at the first CRLF "." CRLF, checked on the bytes themselves;
// - consumed <= input, offset() counts it, event offsets inside it;
// - split feeding gives the same body, end, events and counts;
// - DotStuff: any CRLF-only body comes back unchanged in every mode;
// - BdatReader takes exactly min(input, chunk-size) octets, zero copy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "parser/bdat_reader.h"
#include "parser/data_reader.h"

namespace {

using smtp::DataEndMode;
using smtp::DataReader;
using smtp::WireEnd;

// ---- reference model -------------------------------------------------------

// Does a line start (in `mode`) at s[i]? The body start is one (the DATA
// line's CRLF precedes it).
bool LineStart(std::string_view s, std::size_t i, DataEndMode mode) {
  if (i == 0) return true;
  const char prev = s[i - 1];
  switch (mode) {
    case DataEndMode::kStrict:
      return prev == '\n' && i >= 2 && s[i - 2] == '\r';
    case DataEndMode::kAnyLineEnd:
      return prev == '\n' || (prev == '\r' && s[i] != '\n');
    default:
      return prev == '\n';
  }
}

WireEnd Before(std::string_view s, std::size_t dot) {
  if (dot == 0) return WireEnd::kCrLf;
  if (s[dot - 1] == '\r') return WireEnd::kCr;
  return dot >= 2 && s[dot - 2] == '\r' ? WireEnd::kCrLf : WireEnd::kLf;
}

struct RefEnd {
  smtp::DataEnd end;
  std::size_t consumed;  // octets up to and including the end sequence
};

// The end of data a line-start "." at s[dot] makes, if any. nullopt also
// when the input stops before the octet that decides.
std::optional<RefEnd> EndAt(std::string_view s, std::size_t dot, DataEndMode mode) {
  const std::size_t n = s.size();
  std::size_t crs = 0;
  while (dot + 1 + crs < n && s[dot + 1 + crs] == '\r') ++crs;
  const std::size_t next = dot + 1 + crs;  // first non-CR octet after the dot
  const bool lf = next < n && s[next] == '\n';
  const WireEnd before = Before(s, dot);
  switch (mode) {
    case DataEndMode::kStrict:
    case DataEndMode::kLfLinesStrictEnd:
      if (before == WireEnd::kCrLf && crs >= 1 && dot + 2 < n && s[dot + 2] == '\n') {
        return RefEnd{{before, WireEnd::kCrLf, dot}, dot + 3};
      }
      return std::nullopt;
    case DataEndMode::kBareLf:
      if (crs == 0 && lf) return RefEnd{{before, WireEnd::kLf, dot}, dot + 2};
      if (crs == 1 && lf) return RefEnd{{before, WireEnd::kCrLf, dot}, dot + 3};
      return std::nullopt;
    case DataEndMode::kBareLfStripCr:
      if (!lf) return std::nullopt;
      return RefEnd{{before,
                     crs == 0   ? WireEnd::kLf
                     : crs == 1 ? WireEnd::kCrLf
                                : WireEnd::kCrsLf,
                     dot},
                    next + 1};
    case DataEndMode::kAnyLineEnd:
      if (crs == 0) {
        if (lf) return RefEnd{{before, WireEnd::kLf, dot}, dot + 2};
        return std::nullopt;
      }
      if (dot + 2 < n && s[dot + 2] == '\n') return RefEnd{{before, WireEnd::kCrLf, dot}, dot + 3};
      if (dot + 2 < n) return RefEnd{{before, WireEnd::kCr, dot}, dot + 2};
      return std::nullopt;  // "." CR at the end of the input: undecided
  }
  return std::nullopt;
}

struct RefResult {
  std::optional<RefEnd> end;
  std::string body;  // unstuffed body up to the end (or of the whole input)
};

// The first line-start "." that ends the data; the body drops the "." that
// starts any line (in the mode's sense of line).
RefResult Reference(std::string_view s, DataEndMode mode) {
  RefResult r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool start = LineStart(s, i, mode);
    if (start && s[i] == '.') {
      r.end = EndAt(s, i, mode);
      if (r.end) return r;
      continue;  // transparency: the leading dot is removed
    }
    r.body += s[i];
  }
  return r;
}

// ---- the reader ----------------------------------------------------------

struct DataRun {
  std::string body;
  std::size_t consumed = 0;
  bool done = false;
  smtp::DataEnd end;
  std::vector<smtp::DataEvent> events;
  std::size_t dropped = 0;
  std::vector<std::size_t> counts;
  std::optional<smtp::ParseError> line_error;
  friend bool operator==(const DataRun&, const DataRun&) = default;
};

DataRun ReadData(std::string_view input, const smtp::DataReaderOptions& opts,
                 smtp::fuzz::Splitter* split) {
  DataReader reader(opts);
  DataRun run;
  std::size_t pos = 0;
  std::size_t rounds = 0;
  while (pos < input.size() && !reader.done()) {
    FUZZ_CHECK(++rounds <= 4 * input.size() + 16, "DataReader makes progress");
    const std::size_t left = input.size() - pos;
    const std::string_view piece = input.substr(pos, split ? split->Next(left) : left);
    const std::size_t n = reader.Feed(piece, &run.body);
    FUZZ_CHECK(n <= piece.size(), "Feed consumes at most its input");
    FUZZ_CHECK(reader.done() || n == piece.size(), "before the end, Feed consumes everything");
    pos += n;
    FUZZ_CHECK(reader.offset() == pos, "offset() counts consumed bytes");
  }
  if (reader.done()) {
    FUZZ_CHECK(reader.Feed(input.substr(pos), &run.body) == 0,
               "Feed after the end consumes nothing");
  }
  run.consumed = pos;
  run.done = reader.done();
  if (run.done) run.end = reader.end();
  run.events.assign(reader.events().begin(), reader.events().end());
  run.dropped = reader.dropped_events();
  for (std::size_t k = 0; k < smtp::kDataEventKinds; ++k) {
    run.counts.push_back(reader.count(static_cast<smtp::DataEventKind>(k)));
  }
  run.line_error = reader.line_error();
  return run;
}

void CheckData(std::string_view input, const smtp::DataReaderOptions& opts, std::uint16_t seed) {
  const DataRun run = ReadData(input, opts, nullptr);
  const RefResult ref = Reference(input, opts.mode);

  FUZZ_CHECK(run.done == ref.end.has_value(),
             "the reader and the model agree on whether data ends");
  if (run.done) {
    FUZZ_CHECK(run.end == ref.end->end, "the reader and the model find the same end sequence");
    FUZZ_CHECK(run.consumed == ref.end->consumed, "the end sequence is consumed, nothing after it");
    FUZZ_CHECK(run.body == ref.body, "the body is the unstuffed input up to the end");
    if (opts.mode == DataEndMode::kStrict || opts.mode == DataEndMode::kLfLinesStrictEnd) {
      const std::size_t dot = run.end.dot_offset;
      FUZZ_CHECK(run.end.standard(), "strict data ends only at CRLF . CRLF");
      FUZZ_CHECK(input.substr(dot, 3) == ".\r\n" &&
                     (dot == 0 || (dot >= 2 && input.substr(dot - 2, 2) == "\r\n")),
                 "the bytes at the reported end are CRLF . CRLF");
      const std::size_t crlf = input.find("\r\n.\r\n");
      const std::size_t first = input.starts_with(".\r\n")       ? 0
                                : crlf == std::string_view::npos ? crlf
                                                                 : crlf + 2;
      FUZZ_CHECK(dot == first, "strict data ends at the first CRLF . CRLF");
    }
  } else {
    FUZZ_CHECK(run.consumed == input.size(), "without an end, everything is consumed");
    // The reader may still hold a line-start "." and the CRs after it.
    FUZZ_CHECK(ref.body.starts_with(run.body), "the body so far is a prefix of the model's");
    const std::string_view held = std::string_view(ref.body).substr(run.body.size());
    FUZZ_CHECK(
        held.find_first_not_of('\r', held.starts_with('.') ? 1 : 0) == std::string_view::npos,
        "only a dot and CRs are held back");
    if (opts.mode == DataEndMode::kStrict || opts.mode == DataEndMode::kLfLinesStrictEnd) {
      FUZZ_CHECK(input.substr(0, 3) != ".\r\n" && input.find("\r\n.\r\n") == std::string_view::npos,
                 "strict data always ends at CRLF . CRLF");
    }
  }
  FUZZ_CHECK(run.body.size() <= run.consumed, "unstuffing never grows the body");
  for (const smtp::DataEvent& e : run.events) {
    FUZZ_CHECK(e.offset < run.consumed, "event offsets inside the consumed input");
  }
  std::size_t total = 0;
  for (std::size_t c : run.counts) total += c;
  FUZZ_CHECK(total == run.events.size() + run.dropped, "every event is stored or counted dropped");
  FUZZ_CHECK(run.events.size() <= DataReader::kMaxStoredEvents, "stored events are bounded");
  if (run.line_error) {
    FUZZ_CHECK(run.line_error->code == smtp::Errc::kDataLineTooLong &&
                   run.line_error->offset < run.consumed,
               "line error within the consumed input");
  }
  FUZZ_CHECK(run.counts[static_cast<std::size_t>(smtp::DataEventKind::kLineTooLong)] == 0 ||
                 run.line_error.has_value(),
             "an over-long line gives a line error");

  smtp::fuzz::Splitter split(seed);
  FUZZ_CHECK(ReadData(input, opts, &split) == run, "split feeding equals one-shot feeding");
}

// A CRLF-only body made from the payload: every LF becomes CRLF, other CRs
// are dropped, and it ends with CRLF.
std::string CrlfBody(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '\r') continue;
    if (c == '\n') out += '\r';
    out += c;
  }
  if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  return out;
}

void CheckDotStuff(std::string_view payload, const smtp::DataReaderOptions& opts) {
  const std::string body = CrlfBody(payload);
  const std::string wire = smtp::DotStuff(body);
  FUZZ_CHECK(wire.ends_with("\r\n.\r\n") || wire == ".\r\n", "DotStuff ends with the end sequence");
  DataReader reader(opts);
  std::string got;
  const std::size_t n = reader.Feed(wire, &got);
  FUZZ_CHECK(reader.done() && n == wire.size(), "DotStuff's output ends exactly at its end");
  FUZZ_CHECK(got == body, "reading DotStuff(body) gives body back");
}

void CheckBdat(std::string_view input, std::uint64_t chunk, std::uint16_t seed) {
  smtp::BdatReader reader(chunk);
  smtp::fuzz::Splitter split(seed);
  std::size_t pos = 0;
  std::size_t rounds = 0;
  while (pos < input.size()) {
    FUZZ_CHECK(++rounds <= 4 * input.size() + 16, "BdatReader makes progress");
    const std::string_view piece = input.substr(pos, split.Next(input.size() - pos));
    const std::uint64_t before = reader.remaining();
    const std::string_view took = reader.Feed(piece);
    FUZZ_CHECK(took.data() == piece.data(), "the chunk is a view into the input");
    FUZZ_CHECK(took.size() == std::min<std::uint64_t>(piece.size(), before),
               "BDAT takes min(input, remaining)");
    pos += took.size();
    FUZZ_CHECK(reader.offset() == pos && reader.offset() + reader.remaining() == chunk,
               "offset + remaining == chunk-size");
    if (took.size() < piece.size()) {
      FUZZ_CHECK(reader.done(), "the rest belongs to the next command only when done");
      break;
    }
  }
  FUZZ_CHECK(pos == std::min<std::uint64_t>(input.size(), chunk), "BDAT consumed min(input, size)");
  FUZZ_CHECK(reader.done() == (reader.remaining() == 0), "done iff nothing remains");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smtp::fuzz::FuzzInput in(data, size);
  const std::uint8_t flags = in.Byte();
  const std::uint8_t small = in.Byte();
  const std::uint16_t seed = in.U16();
  const std::uint32_t bdat = in.U32();
  smtp::DataReaderOptions opts;
  opts.mode = static_cast<DataEndMode>((flags & 7) % 5);
  switch ((flags >> 3) & 3) {
    case 1:
      opts.max_line = small;
      break;
    case 2:
      opts.max_line = std::size_t{1} << 20;
      break;
    default:
      opts.max_line = smtp::kMaxTextLine;
      break;
  }
  const std::uint64_t chunk =
      (bdat & 0x80000000u) ? (std::uint64_t{1} << 40) + (bdat & 0x7fffffffu) : bdat;
  const std::string_view payload = in.Rest();

  CheckData(payload, opts, seed);
  CheckDotStuff(payload, opts);
  CheckBdat(payload, chunk, seed);
  return 0;
}
