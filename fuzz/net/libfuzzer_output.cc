#include "fuzz/net/libfuzzer_output.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace smtp::fuzz {
namespace {

std::atomic<bool> g_batched{false};
// stderr's buffer: static, so that it outlives every use of stderr (exit
// handlers run after main's locals are gone).
char g_buffer[64 * 1024];

}  // namespace

void BatchLibFuzzerOutput(std::chrono::milliseconds every) {
  static std::once_flag once;
  std::call_once(once, [every] {
    std::fflush(stderr);
    if (std::setvbuf(stderr, g_buffer, _IOFBF, sizeof g_buffer) != 0) return;
    g_batched = true;
    std::thread([every] {
      for (;;) {
        std::this_thread::sleep_for(every);
        std::fflush(stderr);
      }
    }).detach();
  });
}

bool LibFuzzerOutputBatched() { return g_batched; }

}  // namespace smtp::fuzz

extern "C" int SmtpLibFuzzerFflush(std::FILE* stream) {
  if (stream == stderr && smtp::fuzz::g_batched.load(std::memory_order_relaxed)) return 0;
  return std::fflush(stream);
}

extern "C" ssize_t SmtpLibFuzzerWrite(int fd, const void* data, size_t size) {
  if (fd == 2 && smtp::fuzz::g_batched.load(std::memory_order_relaxed)) std::fflush(stderr);
  return ::write(fd, data, size);
}

extern "C" void SmtpLibFuzzerExit(int status) {
  std::fflush(stderr);
  std::_Exit(status);
}
