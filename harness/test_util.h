// Test helpers for harness/*_test.cc: run coroutines to completion with a
// wall-clock guard, and scripted fake servers on a Transport.
//
// g++ 12 miscompiles a co_await inside a condition (`if ((co_await f()).ok())`,
// `while (...)`, and so every EXPECT_*/ASSERT_* macro, which expands to an
// if) when the awaited value has a non-trivial destructor: the temporary is
// destroyed twice or the code traps. Always bind the result to a local first:
//   absl::Status s = co_await t.Write(...);  EXPECT_TRUE(s.ok());
#ifndef SMTP_HARNESS_TEST_UTIL_H_
#define SMTP_HARNESS_TEST_UTIL_H_

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/transport.h"

namespace smtp::harness::testing {

// A test that needs longer than this is hung: RunSync fails it.
inline constexpr auto kTestGuard = std::chrono::seconds(20);

// Runs the coroutine `f()` (and anything else already spawned on `io`)
// until everything finishes; returns its value. Fails the test on a hang or
// an exception. `f` is a callable (e.g. a lambda with captures): co_spawn
// keeps it alive for the coroutine's lifetime, which a lambda called in place
// (`[&]() -> awaitable<T> {...}()`) would not.
template <class F>
auto RunSync(asio::io_context& io, F f) -> typename std::invoke_result_t<F>::value_type {
  using T = typename std::invoke_result_t<F>::value_type;
  std::exception_ptr error;
  bool done = false;
  if constexpr (std::is_void_v<T>) {
    asio::co_spawn(io, std::move(f), [&](std::exception_ptr e) {
      error = e;
      done = true;
    });
    io.restart();
    io.run_for(kTestGuard);
    if (error) std::rethrow_exception(error);
    if (!done) throw std::runtime_error("coroutine did not finish within the guard time");
  } else {
    std::optional<T> result;
    asio::co_spawn(io, std::move(f), [&](std::exception_ptr e, T value) {
      error = e;
      done = true;
      if (!e) result.emplace(std::move(value));
    });
    io.restart();
    io.run_for(kTestGuard);
    if (error) std::rethrow_exception(error);
    if (!done) throw std::runtime_error("coroutine did not finish within the guard time");
    return std::move(*result);
  }
}

// Spawns the coroutine `f()` on `io` in the background; exceptions fail the
// test.
template <class F>
void Spawn(asio::io_context& io, F f) {
  asio::co_spawn(io, std::move(f), [](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        ADD_FAILURE() << "background coroutine threw: " << ex.what();
      }
    }
  });
}

inline asio::awaitable<void> Sleep(Clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// One step of a scripted fake server.
struct Step {
  enum class Op { kSend, kSleepMs, kReadLine, kClose };
  Op op;
  std::string bytes;  // kSend
  int ms = 0;         // kSleepMs
};
inline Step Send(std::string_view b) { return {Step::Op::kSend, std::string(b), 0}; }
inline Step SleepMs(int ms) { return {Step::Op::kSleepMs, {}, ms}; }
inline Step ReadLine() { return {Step::Op::kReadLine, {}, 0}; }
inline Step CloseConn() { return {Step::Op::kClose, {}, 0}; }

// Plays `script` on the server end `t`, then waits (up to `linger`) for the
// client to go away, so that the client sees no EOF it did not ask for.
// Lines read by kReadLine are appended to *lines (if given).
inline asio::awaitable<void> PlayScript(Transport& t, std::vector<Step> script,
                                        std::vector<std::string>* lines = nullptr,
                                        Clock::duration linger = std::chrono::seconds(5)) {
  const Deadline deadline = In(kTestGuard);
  std::string in;
  for (const Step& s : script) {
    switch (s.op) {
      case Step::Op::kSend: {
        absl::Status status = co_await t.Write(s.bytes, deadline);
        if (!status.ok()) co_return;
        break;
      }
      case Step::Op::kSleepMs:
        co_await Sleep(std::chrono::milliseconds(s.ms));
        break;
      case Step::Op::kReadLine: {
        char buf[512];
        while (in.find('\n') == std::string::npos) {
          auto n = co_await t.ReadSome(buf, sizeof buf, deadline);
          if (!n.ok() || *n == 0) co_return;
          in.append(buf, *n);
        }
        const std::size_t lf = in.find('\n');
        if (lines) lines->push_back(in.substr(0, lf + 1));
        in.erase(0, lf + 1);
        break;
      }
      case Step::Op::kClose:
        co_await t.Close(deadline);
        co_return;
    }
  }
  char buf[512];
  const Deadline end = In(linger);
  for (;;) {  // drain until the client closes or the linger time ends
    auto n = co_await t.ReadSome(buf, sizeof buf, end);
    if (!n.ok() || *n == 0) break;
  }
  co_await t.Close(deadline);
}

// Writes `chunk` over and over until the peer goes away or `until` passes.
inline asio::awaitable<void> Flood(Transport& t, std::string chunk, Deadline until) {
  for (;;) {
    absl::Status status = co_await t.Write(chunk, until);
    if (!status.ok()) break;
  }
  co_await t.Close(until);
}

}  // namespace smtp::harness::testing

#endif  // SMTP_HARNESS_TEST_UTIL_H_
