// What ends a fuzz run besides libFuzzer, and where it talks: SIGINT and
// SIGTERM (the run stops within about 2 s, with fuzz.json complete and the
// reason, exit 128 + the signal), the -max_total_time budget over the
// whole run (libFuzzer checks it only once its seeds have run; re-runs and
// minimizing count too), and the console. By default libFuzzer's own
// output (fd 2: "#123 NEW cov: ...", its warnings) goes to a log file in
// OUT, and the tool's status lines go to the console, a copy of the
// original stderr.
#ifndef SMTP_FUZZ_NET_RUN_CONTROL_H_
#define SMTP_FUZZ_NET_RUN_CONTROL_H_

#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace smtp::fuzz {

// Records SIGINT / SIGTERM (the handlers only set a flag; the run checks it
// before each session).
void InstallStopHandlers();
// The signal that asked the run to stop; 0: none.
int StopSignal();
// "interrupted by SIGINT".
std::string StopReason(int sig);

// Where the tool's own lines go (stderr until SendLibFuzzerOutputTo).
std::FILE* Console();
// Points fd 2 (libFuzzer's output, its children's) at `log_path`, keeping
// the console on a copy of the old stderr. False and `*error` on failure
// (nothing changed).
bool SendLibFuzzerOutputTo(const std::string& log_path, std::string* error);

// The seconds of a "-max_total_time=N" in `args` (the last one); nullopt:
// none or not a number.
std::optional<int> MaxTotalTime(const std::vector<std::string>& args);

// A thread that, once a stop signal has come and `grace` has passed
// without the process exiting (a session blocked in a long read), calls
// `finish(sig)` on its own thread; `finish` must end the process.
void StartStopWatchdog(std::chrono::milliseconds grace, std::function<void(int)> finish);

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_RUN_CONTROL_H_
