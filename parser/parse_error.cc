#include "parser/parse_error.h"

namespace smtp {

std::string_view ErrcName(Errc code) {
  switch (code) {
#define SMTP_ERRC(name, text) \
  case Errc::name:            \
    return text;
    SMTP_ERRC(kOk, "ok")
    SMTP_ERRC(kNeedMore, "need_more")
    SMTP_ERRC(kLineTooLong, "line_too_long")
    SMTP_ERRC(kBareLf, "bare_lf")
    SMTP_ERRC(kBareCr, "bare_cr")
    SMTP_ERRC(kNulByte, "nul_byte")
    SMTP_ERRC(kEightBit, "eight_bit")
    SMTP_ERRC(kControlChar, "control_char")
    SMTP_ERRC(kEmptyCommand, "empty_command")
    SMTP_ERRC(kBadVerb, "bad_verb")
    SMTP_ERRC(kMissingSpace, "missing_space")
    SMTP_ERRC(kUnexpectedArgument, "unexpected_argument")
    SMTP_ERRC(kMissingArgument, "missing_argument")
    SMTP_ERRC(kBadFromTo, "bad_from_to")
    SMTP_ERRC(kTrailingGarbage, "trailing_garbage")
    SMTP_ERRC(kBadDomainArg, "bad_domain_arg")
    SMTP_ERRC(kBadAuthMechanism, "bad_auth_mechanism")
    SMTP_ERRC(kBadInitialResponse, "bad_initial_response")
    SMTP_ERRC(kBadChunkSize, "bad_chunk_size")
    SMTP_ERRC(kBadBdatLast, "bad_bdat_last")
    SMTP_ERRC(kBadEtrnArg, "bad_etrn_arg")
    SMTP_ERRC(kBadString, "bad_string")
    SMTP_ERRC(kMissingCrlf, "missing_crlf")
    SMTP_ERRC(kMissingAngle, "missing_angle")
    SMTP_ERRC(kEmptyPath, "empty_path")
    SMTP_ERRC(kBadLocalPart, "bad_local_part")
    SMTP_ERRC(kBadQuotedPair, "bad_quoted_pair")
    SMTP_ERRC(kBadDomain, "bad_domain")
    SMTP_ERRC(kBadAddressLiteral, "bad_address_literal")
    SMTP_ERRC(kBadIpv4, "bad_ipv4")
    SMTP_ERRC(kBadIpv6, "bad_ipv6")
    SMTP_ERRC(kBadGeneralLiteral, "bad_general_literal")
    SMTP_ERRC(kBadSourceRoute, "bad_source_route")
    SMTP_ERRC(kLocalPartTooLong, "local_part_too_long")
    SMTP_ERRC(kDomainTooLong, "domain_too_long")
    SMTP_ERRC(kPathTooLong, "path_too_long")
    SMTP_ERRC(kMissingAt, "missing_at")
    SMTP_ERRC(kBadUtf8, "bad_utf8")
    SMTP_ERRC(kUtf8NotAllowed, "utf8_not_allowed")
    SMTP_ERRC(kBadParamSyntax, "bad_param_syntax")
    SMTP_ERRC(kDuplicateParam, "duplicate_param")
    SMTP_ERRC(kBadParamValue, "bad_param_value")
    SMTP_ERRC(kMissingParamValue, "missing_param_value")
    SMTP_ERRC(kUnexpectedParamValue, "unexpected_param_value")
    SMTP_ERRC(kBadXtext, "bad_xtext")
    SMTP_ERRC(kTooManyParams, "too_many_params")
    SMTP_ERRC(kParamNotAllowed, "param_not_allowed")
    SMTP_ERRC(kBadReplyCode, "bad_reply_code")
    SMTP_ERRC(kBadReplySeparator, "bad_reply_separator")
    SMTP_ERRC(kInconsistentCode, "inconsistent_code")
    SMTP_ERRC(kTooManyReplyLines, "too_many_reply_lines")
    SMTP_ERRC(kReplyTooLarge, "reply_too_large")
    SMTP_ERRC(kBadEnhancedCode, "bad_enhanced_code")
    SMTP_ERRC(kBadReplyText, "bad_reply_text")
    SMTP_ERRC(kDataLineTooLong, "data_line_too_long")
    SMTP_ERRC(kBdatOverrun, "bdat_overrun")
    SMTP_ERRC(kDataEnded, "data_ended")
#undef SMTP_ERRC
  }
  return "unknown";
}

}  // namespace smtp
