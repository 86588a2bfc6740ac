// libFuzzer's output on fd 2, written in batches.
//
// libFuzzer prints through Printf, which fflush()es stderr after each piece:
// a "#123 NEW cov: ..." line is about 14 write() calls, 137,000 of them per
// 100,000 sessions early in a run (docs/PERFORMANCE.md, "Fuzz defaults").
// Our copy of libFuzzer (fuzz/net/CMakeLists.txt) calls SmtpLibFuzzerFflush,
// SmtpLibFuzzerExit and SmtpLibFuzzerWrite instead of fflush, _Exit and
// write (objcopy --redefine-sym). Until BatchLibFuzzerOutput() they are
// just those.
// After it, stderr has a 64 KiB buffer, libFuzzer's fflush(stderr) leaves
// the bytes there, and a thread flushes them every `every` (so a file
// being watched lags by at most that); a full buffer is written at once.
// The text and its order are unchanged (libFuzzer's raw write()s to fd 2
// flush the buffer first). libFuzzer's _Exit paths (a crash,
// a timeout, out of memory: their reports are printed just before) flush
// first, and exit() flushes anyway; only a process killed outright (kill
// -9) loses up to `every` of the log.
#ifndef SMTP_FUZZ_NET_LIBFUZZER_OUTPUT_H_
#define SMTP_FUZZ_NET_LIBFUZZER_OUTPUT_H_

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdio>

extern "C" {
// What libFuzzer calls for fflush, _Exit and write.
int SmtpLibFuzzerFflush(std::FILE* stream);
[[noreturn]] void SmtpLibFuzzerExit(int status);
ssize_t SmtpLibFuzzerWrite(int fd, const void* data, size_t size);
}

namespace smtp::fuzz {

// Buffers stderr and starts the flushing thread (once; later calls do
// nothing). Call before libFuzzer runs, with fd 2 where it should write.
void BatchLibFuzzerOutput(std::chrono::milliseconds every = std::chrono::seconds(1));

// Whether BatchLibFuzzerOutput() ran.
bool LibFuzzerOutputBatched();

}  // namespace smtp::fuzz

#endif  // SMTP_FUZZ_NET_LIBFUZZER_OUTPUT_H_
