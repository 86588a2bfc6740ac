#include "app/wire_json.h"

#include <string>

namespace smtp::app {
namespace {

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

nlohmann::json ErrorJson(const ParseError& e) {
  return {{"code", S(ErrcName(e.code))},
          {"code_num", static_cast<int>(e.code)},
          {"offset", e.offset},
          {"reason", S(e.reason)}};
}

nlohmann::json DeviationsJson(Leniencies d) {
  nlohmann::json out = nlohmann::json::array();
  ForEachLeniency(d, [&](std::string_view name) { out.push_back(S(name)); });
  return out;
}

nlohmann::json PathJson(const Path& p) {
  nlohmann::json j = {{"raw", S(p.raw)}};
  if (p.is_null) j["null"] = true;
  if (p.is_postmaster) j["postmaster"] = true;
  if (!p.source_route.empty()) j["source_route"] = S(p.source_route);
  if (!p.local_part.empty()) j["local_part"] = S(p.local_part);
  if (p.quoted_local_part) j["quoted_local_part"] = true;
  if (!p.domain.empty()) j["domain"] = S(p.domain);
  if (p.domain_kind != DomainKind::kNone) j["domain_kind"] = S(DomainKindName(p.domain_kind));
  if (p.has_utf8) j["utf8"] = true;
  return j;
}

nlohmann::json ParamsJson(const EsmtpParams& p) {
  nlohmann::json list = nlohmann::json::array();
  for (const EsmtpParam& e : p) {
    nlohmann::json j = {{"keyword", S(e.keyword)}, {"kind", S(ParamKeywordName(e.kind))}};
    if (e.has_value) j["value"] = S(e.value);
    list.push_back(std::move(j));
  }
  nlohmann::json decoded = nlohmann::json::object();
  if (p.size) decoded["size"] = *p.size;
  switch (p.body) {
    case BodyType::kNone:
      break;
    case BodyType::k7Bit:
      decoded["body"] = "7BIT";
      break;
    case BodyType::k8BitMime:
      decoded["body"] = "8BITMIME";
      break;
    case BodyType::kBinaryMime:
      decoded["body"] = "BINARYMIME";
      break;
  }
  if (p.smtputf8) decoded["smtputf8"] = true;
  if (p.ret == RetType::kFull) decoded["ret"] = "FULL";
  if (p.ret == RetType::kHdrs) decoded["ret"] = "HDRS";
  if (!p.envid.empty()) decoded["envid"] = DecodeXtext(p.envid);
  if (!p.auth.empty()) decoded["auth"] = p.auth == "<>" ? std::string("<>") : DecodeXtext(p.auth);
  if (p.notify) {
    nlohmann::json n = nlohmann::json::array();
    if (p.notify & kNotifyNever) n.push_back("NEVER");
    if (p.notify & kNotifySuccess) n.push_back("SUCCESS");
    if (p.notify & kNotifyFailure) n.push_back("FAILURE");
    if (p.notify & kNotifyDelay) n.push_back("DELAY");
    decoded["notify"] = std::move(n);
  }
  if (!p.orcpt_type.empty()) {
    decoded["orcpt"] = {{"addr_type", S(p.orcpt_type)}, {"addr", DecodeXtext(p.orcpt_addr)}};
  }
  if (p.has_unknown) decoded["has_unknown"] = true;
  return {{"list", std::move(list)}, {"decoded", std::move(decoded)}};
}

nlohmann::json CommandJson(const Command& c) {
  nlohmann::json j = {{"verb", c.verb == Verb::kUnknown ? "UNKNOWN" : S(VerbName(c.verb))},
                      {"verb_text", S(c.verb_text)}};
  if (!c.argument.empty()) j["argument"] = S(c.argument);
  switch (c.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
    case Verb::kLhlo:
      j["domain"] = S(c.text);
      j["domain_kind"] = S(DomainKindName(c.domain_kind));
      break;
    case Verb::kMail:
    case Verb::kRcpt:
      j["path"] = PathJson(c.path);
      j["params"] = ParamsJson(c.params);
      break;
    case Verb::kAuth:
      j["mechanism"] = S(c.auth_mechanism);
      if (c.has_initial_response) j["initial_response"] = S(c.auth_initial_response);
      break;
    case Verb::kBdat:
      j["chunk_size"] = c.chunk_size;
      j["last"] = c.bdat_last;
      break;
    case Verb::kVrfy:
    case Verb::kExpn:
    case Verb::kHelp:
    case Verb::kNoop:
    case Verb::kEtrn:
      if (!c.text.empty()) j["text"] = S(c.text);
      break;
    default:
      break;
  }
  j["deviations"] = DeviationsJson(c.deviations);
  return j;
}

std::string DumpLine(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace smtp::app
