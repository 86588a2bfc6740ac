// The input of `fuzz --client`: a reply sequence, i.e. a ServerScript of
// harness/client/client_scenario.h (the greeting, the EHLO extension lists,
// the replies by command and occurrence, generated multiline replies),
// written as a client scenario file so that a finding is both replayable by
// `fuzz --client PROFILE --reproduce DIR` and runnable by `run --client
// PROFILE --suite DIR/scenario.json`.
//
// For minimizing, a script is seen as a list of units that can each be
// taken out (ScriptUnits / WithoutUnit): a reply of the list of one
// command (later ones move up), the greeting, one extension, the generated
// line count and length, and the timing, injection and piecing of one
// reply; then an extension is shortened (to its keyword, then octet by
// octet), so that "DSNPPPP...P" that a lax client reads as DSN becomes "DSN".
#ifndef SMTP_FUZZ_CLIENT_REPLY_SCRIPT_H_
#define SMTP_FUZZ_CLIENT_REPLY_SCRIPT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "harness/client/client_scenario.h"

namespace smtp::fuzz::client {

using smtp::client::ClientMode;
using smtp::client::ReplySpec;
using smtp::client::ServerScript;

// A reply as the scenario format writes it: {"raw": escaped bytes, plus the
// timing, close, stall, inject and tls keys that are set}.
nlohmann::json ReplyToJson(const ReplySpec& r);
// The "server" object of a client scenario (the keys that differ from the
// defaults).
nlohmann::json ScriptToJson(const ServerScript& s);

// A whole client scenario file holding `s`: role client, the id, the mode,
// the message; expectations "any" (the fuzzer's oracles judge, not it).
std::string ScenarioFileFor(const ServerScript& s, ClientMode mode, std::string_view id,
                            std::string_view title, std::string_view message);

// The script of a client scenario file (ScenarioFileFor's or hand-written).
absl::StatusOr<smtp::client::ClientScenario> ReadScenarioFile(const std::string& path);

// Units of `s` for the minimizer, in a fixed order; see the file comment.
struct ScriptUnit {
  enum class Kind : std::uint8_t {
    kReply,             // replies[key][index] (removed)
    kGreeting,          // the scripted greeting (back to the default)
    kExtension,         // extensions[index] (removed)
    kExtensionTls,      // extensions_tls[index] (removed)
    kReplyLines,        // reply_lines back to 1
    kReplyLength,       // reply_line_length back to 0
    kReplyTiming,       // replies[key][index]: no delay, chunks, inject
    kExtensionShorten,  // extensions[index] shorter: cut at its first space, else
                        // halved when over 16 octets, else one octet less
    kReplyFirstLine,    // replies[key][index] without its first line (of several)
  };
  Kind kind;
  std::string key;
  std::size_t index = 0;
};
std::vector<ScriptUnit> ScriptUnits(const ServerScript& s);
// What a finding is counted in: scripted replies, the greeting, extensions,
// and the reply shape (each of reply_lines and reply_line_length when set).
std::size_t ScriptSize(const ServerScript& s);
ServerScript WithoutUnit(const ServerScript& s, const ScriptUnit& u);

// A one-line summary for the console and finding.json's "steps": one
// entry per scripted item, e.g. "RCPT#1: 251 generated", "extensions:
// +DSN +CHUNKING", "reply_lines 12".
std::vector<std::string> DescribeScript(const ServerScript& s);

}  // namespace smtp::fuzz::client

#endif  // SMTP_FUZZ_CLIENT_REPLY_SCRIPT_H_
