// Field-for-field comparison of parsed values, and "dirty" values to parse
// into (parser/dirty_test_util.h). The parser's operator== is semantic (it
// ignores spelling and deviations); the in-place parsers (ParseCommandInto,
// ParseEsmtpParamsInto) promise more: the value they leave in a reused object
// equals, field for field, what the by-value parser returns. These helpers
// check that promise.
//
// Keep in step with parser/command.h, path.h and esmtp_params.h: a field
// added there must be compared here too (and dirtied in dirty_test_util.h).
#ifndef SMTP_FUZZ_EXACT_EQUAL_H_
#define SMTP_FUZZ_EXACT_EQUAL_H_

#include <cstddef>

#include "parser/command.h"
#include "parser/dirty_test_util.h"
#include "parser/esmtp_params.h"
#include "parser/path.h"

namespace smtp::fuzz {

inline bool ExactlyEqual(const Path& a, const Path& b) {
  return a.raw == b.raw && a.is_null == b.is_null && a.is_postmaster == b.is_postmaster &&
         a.source_route == b.source_route && a.local_part == b.local_part &&
         a.quoted_local_part == b.quoted_local_part && a.domain == b.domain &&
         a.domain_kind == b.domain_kind && a.has_utf8 == b.has_utf8 && a.deviations == b.deviations;
}

inline bool ExactlyEqual(const EsmtpParams& a, const EsmtpParams& b) {
  if (a.count != b.count) return false;
  for (std::size_t i = 0; i < a.count; ++i) {
    const EsmtpParam& x = a.items[i];
    const EsmtpParam& y = b.items[i];
    if (x.keyword != y.keyword || x.value != y.value || x.has_value != y.has_value ||
        x.kind != y.kind) {
      return false;
    }
  }
  return a.size == b.size && a.body == b.body && a.smtputf8 == b.smtputf8 && a.ret == b.ret &&
         a.envid == b.envid && a.auth == b.auth && a.notify == b.notify &&
         a.orcpt_type == b.orcpt_type && a.orcpt_addr == b.orcpt_addr &&
         a.has_unknown == b.has_unknown;
}

inline bool ExactlyEqual(const Command& a, const Command& b) {
  return a.verb == b.verb && a.verb_text == b.verb_text && a.argument == b.argument &&
         a.text == b.text && a.domain_kind == b.domain_kind && a.smtputf8 == b.smtputf8 &&
         ExactlyEqual(a.path, b.path) && ExactlyEqual(a.params, b.params) &&
         a.auth_mechanism == b.auth_mechanism &&
         a.auth_initial_response == b.auth_initial_response &&
         a.has_initial_response == b.has_initial_response && a.chunk_size == b.chunk_size &&
         a.bdat_last == b.bdat_last && a.deviations == b.deviations;
}

// The stale values the in-place parsers are checked against.
using smtp::testing::Dirty;

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_EXACT_EQUAL_H_
