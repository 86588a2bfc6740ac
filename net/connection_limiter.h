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
// Not thread-safe: each listener uses its limiter on its own I/O thread. The
// limiter must outlive its slots. Standard library only (net/ sits below
// harness/ and reports/).
#ifndef SMTP_NET_CONNECTION_LIMITER_H_
#define SMTP_NET_CONNECTION_LIMITER_H_

#include <cstddef>
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
    Slot(Slot&& other) noexcept : limiter_(other.limiter_), address_(std::move(other.address_)) {
      other.limiter_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { Release(); }

    const std::string& address() const { return address_; }
    // Frees the slot now (idempotent).
    void Release();

   private:
    friend class ConnectionLimiter;
    Slot(ConnectionLimiter* limiter, std::string address)
        : limiter_(limiter), address_(std::move(address)) {}
    ConnectionLimiter* limiter_;
    std::string address_;
  };

  enum class Verdict { kAccept, kTotalFull, kAddressFull };

  explicit ConnectionLimiter(ConnectionLimits limits) : limits_(limits) {}
  ConnectionLimiter(const ConnectionLimiter&) = delete;
  ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

  // What TryAcquire would answer for `address`, without taking a slot.
  Verdict Check(std::string_view address) const;
  // A slot for a connection from `address` (a numeric IP, no port), or
  // nullopt when a limit is reached.
  std::optional<Slot> TryAcquire(std::string_view address);

  std::size_t active() const { return active_; }
  std::size_t active_from(std::string_view address) const;
  const ConnectionLimits& limits() const { return limits_; }

 private:
  void Free(const std::string& address);

  ConnectionLimits limits_;
  std::size_t active_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace smtp::net

#endif  // SMTP_NET_CONNECTION_LIMITER_H_
