// JSON views of parser values, as printed by `smtp-harness parse` and
// documented in docs/parse-json.md. Strings are the wire bytes; octets that
// are not valid UTF-8 are written as U+FFFD (the offsets in errors always
// refer to the original bytes).
#ifndef SMTP_APP_WIRE_JSON_H_
#define SMTP_APP_WIRE_JSON_H_

#include <string>
#include <string_view>

#include "nlohmann/json.hpp"
#include "parser/command.h"
#include "parser/leniency.h"
#include "parser/parse_error.h"
#include "parser/path.h"

namespace smtp::app {

nlohmann::json ErrorJson(const ParseError& e);
nlohmann::json DeviationsJson(Leniencies d);
nlohmann::json PathJson(const Path& p);
nlohmann::json ParamsJson(const EsmtpParams& p);
nlohmann::json CommandJson(const Command& c);

// One line of output: compact JSON, invalid UTF-8 replaced.
std::string DumpLine(const nlohmann::json& j);

}  // namespace smtp::app

#endif  // SMTP_APP_WIRE_JSON_H_
