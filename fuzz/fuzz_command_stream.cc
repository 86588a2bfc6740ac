// Fuzz target: ParseNextCommand (parser/command_stream.h), one pass against
// two: LineReader + ParseCommandInto.
//
// Header (5 bytes): [0..1] leniency bits; [2] bit0 utf8 (transaction uses
// SMTPUTF8), bits1-2 limits (default, tight, generous; fuzz_util.h), bits3-4
// the reader's max_line (the server's max(command_line, kMaxAuthLine), the
// command limit, 4 + [3], or 64); [3] tight-limit parameter; [4] piece size
// for the reader and the server walk (0: the whole stream at once).
// Payload: a byte stream of command lines.
//
// Oracle (parser/command_stream_test_util.h): ParseNextCommand line after
// line, and the server's loop (ParseNextCommand at line starts, the
// LineReader for split lines), give the reference's lines: the same sizes,
// terminators and contents, every Command field, or the same error code and
// offset.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "parser/command_stream_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 8192) return 0;  // the server walk with 1-octet pieces is quadratic
  smtp::fuzz::FuzzInput in(data, size);
  smtp::CommandOptions opts;
  opts.leniencies = in.TakeLeniencies();
  const std::uint8_t flags = in.Byte();
  opts.utf8 = (flags & 1) != 0;
  const std::uint8_t param = in.Byte();
  opts.limits = smtp::fuzz::ChooseLimits(flags >> 1, param);
  std::size_t max_line = std::max(opts.limits.command_line, smtp::kMaxAuthLine);
  switch ((flags >> 3) & 3) {
    case 1:
      max_line = opts.limits.command_line;
      break;
    case 2:
      max_line = 4 + std::size_t{param};
      break;
    case 3:
      max_line = 64;
      break;
    default:
      break;
  }
  const std::size_t piece = in.Byte();
  const std::string_view stream = in.Rest();
  for (const std::size_t p : {std::size_t{0}, piece}) {
    const std::string diff = smtp::testing::CommandStreamDiff(stream, opts, max_line, p);
    if (!diff.empty()) {
      std::fprintf(stderr, "fuzz_command_stream: %s\n", diff.c_str());
      std::abort();
    }
  }
  return 0;
}
