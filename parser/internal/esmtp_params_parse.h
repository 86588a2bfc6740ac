// In-place parameter parsing for the command parser. Internal: not part of
// the parser's public API (ParseEsmtpParamsInto wraps it).
#ifndef SMTP_PARSER_INTERNAL_ESMTP_PARAMS_PARSE_H_
#define SMTP_PARSER_INTERNAL_ESMTP_PARAMS_PARSE_H_

#include <cstddef>
#include <string_view>

#include "parser/esmtp_params.h"
#include "parser/parse_error.h"

namespace smtp::internal {

// ParseEsmtpParamsInto for an `*out` that is already clear (default or
// EsmtpParams::Clear()ed): the command parser resets it once per line.
ParseError ParseClearedEsmtpParams(std::string_view in, ParamContext ctx, Leniencies leniencies,
                                   const Limits& limits, std::size_t base_offset,
                                   Leniencies* deviations, bool utf8, EsmtpParams* out);

}  // namespace smtp::internal

#endif  // SMTP_PARSER_INTERNAL_ESMTP_PARAMS_PARSE_H_
