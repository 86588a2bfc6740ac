#include "net/connection_limiter.h"

#include <utility>

namespace smtp::net {

ConnectionLimiter::ConnectionLimiter(ConnectionLimits limits)
    : limits_(limits), counts_(std::make_shared<Slot::Counts>()) {}

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Release();
    counts_ = std::move(other.counts_);
    address_ = std::move(other.address_);
  }
  return *this;
}

void ConnectionLimiter::Slot::Release() {
  if (counts_ == nullptr) return;
  counts_->Free(address_);
  counts_.reset();
}

void ConnectionLimiter::Slot::Counts::Free(const std::string& address) {
  --active;
  if (auto it = per_address.find(address); it != per_address.end() && --it->second == 0) {
    per_address.erase(it);
  }
}

std::size_t ConnectionLimiter::active() const { return counts_->active; }

std::size_t ConnectionLimiter::active_from(std::string_view address) const {
  const auto it = counts_->per_address.find(std::string(address));
  return it == counts_->per_address.end() ? 0 : it->second;
}

ConnectionLimiter::Verdict ConnectionLimiter::Check(std::string_view address) const {
  if (limits_.max_total > 0 && counts_->active >= limits_.max_total) return Verdict::kTotalFull;
  if (limits_.max_per_address > 0 && active_from(address) >= limits_.max_per_address) {
    return Verdict::kAddressFull;
  }
  return Verdict::kAccept;
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::TryAcquire(std::string_view address) {
  if (Check(address) != Verdict::kAccept) return std::nullopt;
  ++counts_->active;
  ++counts_->per_address[std::string(address)];
  return Slot(counts_, std::string(address));
}

}  // namespace smtp::net
