// Internal to harness/*.cc (heavy Asio includes; do not include from headers
// that others include): race one asynchronous operation against a deadline.
#ifndef SMTP_HARNESS_ASIO_DEADLINE_H_
#define SMTP_HARNESS_ASIO_DEADLINE_H_

#include <tuple>
#include <utility>

#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "harness/transport.h"

namespace smtp::harness::internal {

// Runs `op` (a deferred operation completing with (error_code, size_t)) and
// a timer for `deadline` in parallel; whichever finishes first cancels the
// other (terminal cancellation). Returns the operation's error code, or
// asio::error::timed_out when the deadline won, and the byte count (which
// may be non-zero for a composed write cut short by the deadline).
//
// `op` must support per-operation cancellation (sockets, descriptors, SSL
// streams, async_write, async_connect do; the resolver does not).
template <class Op>
asio::awaitable<std::pair<boost::system::error_code, std::size_t>> RunWithDeadline(
    Op op, Deadline deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto [order, ec, n, timer_ec] =
      co_await asio::experimental::make_parallel_group(std::move(op),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) {
    co_return std::pair{boost::system::error_code(asio::error::timed_out), std::size_t{n}};
  }
  co_return std::pair{ec, std::size_t{n}};
}

// The same for operations completing with (error_code) only.
template <class Op>
asio::awaitable<boost::system::error_code> RunWithDeadlineNoSize(Op op, Deadline deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto [order, ec, timer_ec] =
      co_await asio::experimental::make_parallel_group(std::move(op),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) co_return boost::system::error_code(asio::error::timed_out);
  co_return ec;
}

}  // namespace smtp::harness::internal

#endif  // SMTP_HARNESS_ASIO_DEADLINE_H_
