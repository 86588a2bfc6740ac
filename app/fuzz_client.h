// `smtp-harness fuzz --client PROFILE`: the fuzzer is the server and a mail
// client is under test (fuzz/client/client_fuzzer.h, docs/clientfuzz.md).
// The hook fuzz_cmd.cc calls, kept apart so the two evolve apart.
#ifndef SMTP_APP_FUZZ_CLIENT_H_
#define SMTP_APP_FUZZ_CLIENT_H_

#include <string>
#include <vector>

namespace smtp::app {

// Whether --client was given.
bool ClientFuzzRequested();

// Fuzzes the client, or with --reproduce replays one finding against it.
// Exit statuses: client_fuzzer.h's.
int RunClientFuzz(const std::vector<std::string>& args);

}  // namespace smtp::app

#endif  // SMTP_APP_FUZZ_CLIENT_H_
