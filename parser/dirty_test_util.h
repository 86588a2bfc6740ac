// "Dirty" values to parse into: every field set to a value no parse of
// anything produces (not even together), so that a field an in-place parser
// (ParseCommandInto, ParseEsmtpParamsInto) or a Clear() forgets to reset
// shows in a field-for-field comparison. Test-only, header-only and free of
// gtest: the parser tests and the fuzz targets (fuzz/exact_equal.h) share it.
//
// Keep in step with parser/command.h, path.h and esmtp_params.h: a field
// added there must be dirtied here too.
#ifndef SMTP_PARSER_DIRTY_TEST_UTIL_H_
#define SMTP_PARSER_DIRTY_TEST_UTIL_H_

#include "parser/command.h"
#include "parser/esmtp_params.h"
#include "parser/path.h"

namespace smtp::testing {

inline void Dirty(EsmtpParams* p) {
  for (EsmtpParam& e : p->items) e = EsmtpParam{"STALE", "x", true, ParamKeyword::kOrcpt};
  p->count = p->items.size();
  p->size = 42;
  p->body = BodyType::kBinaryMime;
  p->smtputf8 = true;
  p->ret = RetType::kHdrs;
  p->envid = p->auth = p->orcpt_type = p->orcpt_addr = "stale";
  p->notify = kNotifyNever | kNotifyDelay;
  p->has_unknown = true;
}

inline void Dirty(Path* p) {
  p->raw = p->source_route = p->local_part = p->domain = "stale";
  p->is_null = p->is_postmaster = p->quoted_local_part = p->has_utf8 = true;
  p->domain_kind = DomainKind::kGeneralLiteral;
  p->deviations = kAllLeniencies;
}

inline void Dirty(Command* c) {
  c->verb = Verb::kBdat;
  c->verb_text = c->argument = c->text = c->auth_mechanism = c->auth_initial_response = "stale";
  c->domain_kind = DomainKind::kIpv6Literal;
  c->smtputf8 = c->has_initial_response = c->bdat_last = true;
  Dirty(&c->path);
  Dirty(&c->params);
  c->chunk_size = 7;
  c->deviations = kAllLeniencies;
}

}  // namespace smtp::testing

#endif  // SMTP_PARSER_DIRTY_TEST_UTIL_H_
