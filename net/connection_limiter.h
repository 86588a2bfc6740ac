// ConnectionLimiter: how many connections a listener holds at once, in all
// and per client address, shared by every listener of the project (`serve`,
// `record`, `report --serve`) so that one client cannot take every slot
// (300 slowloris connections from one address used to hold `record` and
// `report --serve` for their whole idle timeout).
//
//   ConnectionLimiter limiter({.max_total = 256, .max_per_address = 32});
//   std::optional<ConnectionLimiter::Slot> slot = limiter.TryAcquire("127.0.0.1");
//   if (!slot) { refuse; }          // limiter.Refusal(...) says which limit
//   ... keep `slot` as long as the connection lives: its destructor frees it.
//
// A slot is taken at accept and freed when the connection's object goes, so
// a client that is already gone (a dead connection accepted from the
// backlog) frees its slot as soon as its handler notices, not later.
//
// Not thread-safe: each listener uses its limiter on its own I/O thread. A
// slot may outlive its limiter (a connection's coroutine destroyed when its
// io_context shuts down, after the listener that owned the limiter): the
// counts are shared by the limiter and its slots. Standard library only (net/ sits below
// harness/ and reports/).
#ifndef SMTP_NET_CONNECTION_LIMITER_H_
#define SMTP_NET_CONNECTION_LIMITER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace smtp::net {

struct ConnectionLimits {
  std::size_t max_total = 1000;      // at once, all clients (0: no limit)
  std::size_t max_per_address = 50;  // at once, one client address (0: no limit)
};

class ConnectionLimiter {
 public:
  // A held connection slot; move-only; frees itself when destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept
        : counts_(std::move(other.counts_)), address_(std::move(other.address_)) {}
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

    const std::string& address() const { return address_; }
    // Frees the slot now (idempotent).
    void Release();

   private:
    friend class ConnectionLimiter;
    struct Counts;
    Slot(std::shared_ptr<Counts> counts, std::string address)
        : counts_(std::move(counts)), address_(std::move(address)) {}
    std::shared_ptr<Counts> counts_;  // null once released or moved from
    std::string address_;
  };

  enum class Verdict { kAccept, kTotalFull, kAddressFull };

  explicit ConnectionLimiter(ConnectionLimits limits);
  ConnectionLimiter(const ConnectionLimiter&) = delete;
  ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

  // What TryAcquire would answer for `address`, without taking a slot.
  Verdict Check(std::string_view address) const;
  // A slot for a connection from `address` (a numeric IP, no port), or
  // nullopt when a limit is reached.
  std::optional<Slot> TryAcquire(std::string_view address);

  std::size_t active() const;
  std::size_t active_from(std::string_view address) const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  ConnectionLimits limits_;
  std::shared_ptr<Slot::Counts> counts_;
};

// What a limiter and its slots share.
struct ConnectionLimiter::Slot::Counts {
  std::size_t active = 0;
  std::unordered_map<std::string, std::size_t> per_address;
  void Free(const std::string& address);
};

}  // namespace smtp::net

#endif  // SMTP_NET_CONNECTION_LIMITER_H_
