// One iteration of `fuzz --client` and its oracles: the harness's scripted
// server (harness/client/scripted_server.h) on a fresh loopback port runs
// one reply sequence, the client under test is started with the profile's
// command for the mode (harness/client/client_process.h), and what happened
// is judged:
//   sanitizer  a sanitizer report on the client's stderr (ASan, UBSan, MSan,
//              LSan, TSan), named by its kind ("stack-buffer-overflow");
//   signal     the client died by a signal we did not send (SIGSEGV, ...);
//   hang       the client still ran at the profile's timeout_ms;
//   violation  a protocol violation the scripted session saw: a line not
//              ended by CRLF (line-end), a command before the reply it had
//              to wait for (early-command, early-talker: not allowed by
//              PIPELINING), bytes after STARTTLS before the handshake
//              (after-starttls). A command sent early is judged only when
//              every scripted reply was well formed (a reply with a final
//              line in its middle ends early for the client too);
//   message    a message the client sent, after un-stuffing, differs from
//              the message file (client_run.h's CompareMessage).
// The bucket is the oracle, its kind and the last command the client sent,
// e.g. "signal-SIGSEGV-RCPT"; for a sanitizer report with a stack, the
// crash site (its top two frames) instead of the command:
// "sanitizer-stack-buffer-overflow-strcpy.read_reply", or module offsets
// when the report is not symbolized ("...-8f9f6.e12fc").
#ifndef SMTP_FUZZ_CLIENT_CLIENT_ORACLE_H_
#define SMTP_FUZZ_CLIENT_CLIENT_ORACLE_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "harness/client/client_process.h"
#include "harness/client/client_profile.h"
#include "harness/client/script_session.h"
#include "harness/tls_cert.h"
#include "results/transcript.h"

namespace smtp::fuzz::client {

using smtp::client::ClientMode;
using smtp::client::ClientProfile;
using smtp::client::ProcessOutcome;
using smtp::client::ServerScript;
using smtp::client::SessionRecord;

// What one iteration needs besides the script: files made once per run.
struct IterationEnv {
  const ClientProfile* profile = nullptr;
  ClientMode mode = ClientMode::kPlain;
  std::string message;       // the bytes of the message file
  std::string message_path;  // the {message} file
  std::string cafile;        // the {cafile} PEM
  harness::CertAndKey cert;  // presented on STARTTLS
  // Called with the running client's process right after it started and
  // with nullptr once it ended (a stop request can end it early).
  std::function<void(smtp::client::ClientProcess*)> running;
};

struct Iteration {
  ProcessOutcome outcome;
  SessionRecord record;
  harness::Transcript transcript;
  std::string command;  // as run by /bin/sh -c
};

// Runs the client once against `script`. Errors: the listener or the
// process could not be started.
absl::StatusOr<Iteration> RunIteration(const ServerScript& script, const IterationEnv& env);

struct Verdict {
  std::string oracle;  // sanitizer, signal, hang, violation, message
  std::string kind;    // stack-buffer-overflow, SIGSEGV, line-end, ...
  std::string detail;  // one line
  std::string bucket;  // oracle-kind-VERB (no spaces, no slashes)
};

// The first oracle that fires, in the order of the file comment; nullopt
// when the client did nothing wrong. Pure.
std::optional<Verdict> Judge(const Iteration& it, const ServerScript& script,
                             std::string_view message);

// The kind of a sanitizer report in `stderr_text` ("stack-buffer-overflow",
// "SEGV", "undefined-behavior"); "" when there is none.
std::string SanitizerKind(std::string_view stderr_text);

// The top two frames of the first stack of a sanitizer report: function
// names ("strcpy.read_reply", interceptor prefixes dropped) or module
// offsets ("8f9f6.e12fc"); "none" when there is no stack.
std::string CrashSite(std::string_view stderr_text);

// Whether `bytes` is one well-formed reply: lines of one code, each ended
// by CRLF, '-' after the code on every line but the last ("" is too).
bool WellFormedReply(std::string_view bytes);

}  // namespace smtp::fuzz::client

#endif  // SMTP_FUZZ_CLIENT_CLIENT_ORACLE_H_
