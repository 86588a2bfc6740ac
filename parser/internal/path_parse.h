// In-place path parsing for the command parser. Internal: not part of the
// parser's public API (ParseReversePath / ParseForwardPath wrap it).
#ifndef SMTP_PARSER_INTERNAL_PATH_PARSE_H_
#define SMTP_PARSER_INTERNAL_PATH_PARSE_H_

#include <cstddef>
#include <string_view>

#include "parser/internal/reset.h"
#include "parser/parse_error.h"
#include "parser/path.h"

namespace smtp::internal {

// PathOptions without its own copy of Limits (72 octets): what the command
// parser hands the path parser on every line.
struct PathContext {
  Leniencies leniencies;
  const Limits& limits;
  bool utf8;
};

inline PathContext ContextOf(const PathOptions& o) { return {o.leniencies, o.limits, o.utf8}; }

// Resets `p` to a default-constructed Path (see ResetBytes).
inline void ClearPath(Path* p) { ResetBytes<Path, 0, sizeof(Path)>(p); }

// ParseReversePath (forward = false) or ParseForwardPath (forward = true),
// writing the Path into `*out`, which must be clear (default or ClearPath),
// instead of returning a copy. Returns a ParseError with code kOk on success;
// on error `*out` holds unspecified partial values.
// With `prefix_end`, `in` is a bracketed path (in[0] == '<') and whatever
// follows it on the line: the path is the prefix through the ">" that closes
// its "<" and its length goes to `*prefix_end`. Only success is meaningful then (errors may differ
// from those of the exact path: the caller parses that again to report).
ParseError ParsePathInto(std::string_view in, const PathContext& ctx, std::size_t base_offset,
                         bool forward, Path* out, std::size_t* prefix_end);

// ScanDomain into `*out`; same contract.
ParseError ScanDomainInto(std::string_view in, const PathContext& ctx, std::size_t base_offset,
                          DomainScan* out);

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_PATH_PARSE_H_
