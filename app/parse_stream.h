// The push parsers behind `smtp-harness parse` (docs/parse-json.md): bytes go
// in as they arrive, one JSON object per unit (command line, reply, DATA
// body) comes out as soon as the unit is complete. Memory is bounded by the
// parser's limits and the named sizes below, never by the input: an
// over-long line is reported, not held, and a DATA body is counted and
// digested, with only a preview kept.
#ifndef SMTP_APP_PARSE_STREAM_H_
#define SMTP_APP_PARSE_STREAM_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "nlohmann/json.hpp"
#include "parser/data_reader.h"
#include "parser/leniency.h"
#include "parser/limits.h"

namespace smtp::app {

// Command mode: the longest line held whole. A longer line is handed to the
// parser as its first kHeldCommandLine octets; every command-line limit
// (AUTH's kMaxAuthLine included) ends before that, so the verdict and the
// error offset are those of the whole line.
inline constexpr std::size_t kHeldCommandLine = kMaxAuthLine + 4;
// Data mode: the most octets of the body, and of what follows the end of
// data, that the JSON shows.
inline constexpr std::size_t kDataPreview = 64 * 1024;

// Receives each result object as soon as its unit is complete.
using EmitJson = std::function<void(const nlohmann::json&)>;

// One mode of `parse`. Feed the input in pieces of any size, then call
// Finish once; the output does not depend on how the input was split.
class ParseStream {
 public:
  virtual ~ParseStream() = default;

  // Consumes all of `in`. Returns false once the parser wants no more input
  // (reply mode stops at the first malformed reply); later calls do nothing.
  virtual bool Feed(std::string_view in) = 0;
  // The end of the input: emits what is still pending.
  virtual void Finish() = 0;
  // Inputs rejected; final after Finish.
  virtual int rejected() const = 0;
};

// One command per LF-terminated line. `exact`: the parser gets the line's
// bytes as they are; otherwise the line's CRLF or LF is replaced by CRLF.
std::unique_ptr<ParseStream> MakeCommandStream(bool exact, Leniencies len, EmitJson emit);
// A byte stream of replies, assembled by ReplyReader.
std::unique_ptr<ParseStream> MakeReplyStream(Leniencies len, EmitJson emit);
// A DATA body read by DataReader in `mode`; what follows the end of data is
// parsed as commands (exact), as a server in that mode would read it.
std::unique_ptr<ParseStream> MakeDataStream(DataEndMode mode, Leniencies len, EmitJson emit);

}  // namespace smtp::app

#endif  // SMTP_APP_PARSE_STREAM_H_
