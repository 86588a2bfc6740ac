#include "parser/leniency.h"

namespace smtp {

std::string_view LeniencyName(Leniency bit) {
  switch (bit) {
    case kSpaceAfterColon:
      return "space_after_colon";
    case kMissingAngleBrackets:
      return "missing_angle_brackets";
    case kTrailingWhitespace:
      return "trailing_whitespace";
    case kBareLfLineEnd:
      return "bare_lf_line_end";
    case kBareCrLineEnd:
      return "bare_cr_line_end";
    case kExtraWhitespace:
      return "extra_whitespace";
    case kSpaceBeforeColon:
      return "space_before_colon";
    case kEmptyHeloArg:
      return "empty_helo_arg";
    case kUnderscoreInDomain:
      return "underscore_in_domain";
    case kTrailingDotInDomain:
      return "trailing_dot_in_domain";
    case kUtf8WithoutSmtputf8:
      return "utf8_without_smtputf8";
    case kLooseDotString:
      return "loose_dot_string";
    case kNonAlphaVerb:
      return "non_alpha_verb";
    case kLooseReplyText:
      return "loose_reply_text";
    case kBareCodeContinuation:
      return "bare_code_continuation";
    case kChallengeWithoutSpace:
      return "challenge_without_space";
    case kLongDomainLabel:
      return "long_domain_label";
    default:
      return "";
  }
}

}  // namespace smtp
