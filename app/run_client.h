// `smtp-harness run --client PROFILE`: the client suite (scenarios/client/)
// against the client a profile describes; the harness is the server. The
// hook run_cmd.cc calls (kept out of it so the two evolve apart).
#ifndef SMTP_APP_RUN_CLIENT_H_
#define SMTP_APP_RUN_CLIENT_H_

#include <string>
#include <vector>

namespace smtp::app {

// Whether --client was given.
bool ClientRunRequested();

// Runs the client suite; the exit status is run's (RunResult::ExitStatus,
// 2 on a usage error, a bad profile or scenario).
int RunClientRun(const std::vector<std::string>& args);

}  // namespace smtp::app

#endif  // SMTP_APP_RUN_CLIENT_H_
