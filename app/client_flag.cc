// --client: the client profile of `run --client` and `fuzz --client`.
// NOTE for the merge with h-replay: its app/run_client.cc defines this flag
// too; keep one definition (delete this file) and declare it elsewhere.
#include <string>

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, client, "",
          "run, fuzz: test an SMTP client instead of a server: a client profile JSON "
          "(docs/clients.md); the harness is the server");
