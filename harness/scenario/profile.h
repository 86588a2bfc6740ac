// TargetProfile: the server under test and the values scenarios refer to as
// ${host}, ${port}, ${tls}, ${client_domain}, ${rcpt}, ${rcpt_domain} (the
// domain of rcpt, derived), ${sender}, ${user}, ${password} and ${<name>} for
// each entry of "vars".
//
// JSON form (every key optional):
//   {
//     "host": "mx.example", "port": 25, "tls": "none",
//     "client_domain": "client.example",
//     "rcpt": "postmaster@mx.example",       // a deliverable recipient
//     "sender": "probe@client.example",
//     "user": "alice",
//     "password": {"env": "SMTP_PASSWORD"},  // from the environment
//     "vars": {"rcpt2": "bob@mx.example"}
//   }
// Any string value (and "port") may instead be {"env": "NAME"} with optional
// "default" (used when NAME is unset) and "secret". A value is secret —
// replaced by "***" in every output that goes through Variables::Redact — when
// it is the password, or comes from the environment (unless "secret": false),
// or is marked "secret": true.
#ifndef SMTP_HARNESS_SCENARIO_PROFILE_H_
#define SMTP_HARNESS_SCENARIO_PROFILE_H_

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "harness/scenario/scenario.h"
#include "harness/scenario/scenario_loader.h"
#include "harness/scenario/variables.h"

namespace smtp::scenario {

struct TargetProfile {
  std::string host = "127.0.0.1";
  int port = 25;
  TlsMode tls = TlsMode::kNone;
  std::string client_domain = "client.example";
  std::string rcpt = "postmaster@localhost";
  std::string sender = "probe@client.example";
  std::string user;
  std::string password;
  std::map<std::string, std::string> vars;  // extra variables
  std::set<std::string> secret;             // names of secret values
  bool names_target = false;                // the file set "host" or "port"

  // All values as variables, secrets marked ("password" always is).
  Variables ToVariables() const;
  // The extra variable names, for LoadOptions::extra_variables.
  std::vector<std::string> ExtraNames() const;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
// Reads the process environment (getenv).
std::optional<std::string> ProcessEnv(std::string_view name);

// Parses a profile file. Errors are "file:line:col: message" like the
// scenario loader's (unknown key, wrong type, unset environment variable).
absl::StatusOr<TargetProfile> LoadProfile(const std::string& path,
                                          const EnvLookup& env = ProcessEnv);
absl::StatusOr<TargetProfile> ParseProfile(const std::string& path, std::string text,
                                           const EnvLookup& env = ProcessEnv);

}  // namespace smtp::scenario

#endif  // SMTP_HARNESS_SCENARIO_PROFILE_H_
