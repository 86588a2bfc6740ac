#include "net/connection_limiter.h"

#include <utility>

namespace smtp::net {

ConnectionLimiter::Slot& ConnectionLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    Release();
    limiter_ = other.limiter_;
    address_ = std::move(other.address_);
    other.limiter_ = nullptr;
  }
  return *this;
}

void ConnectionLimiter::Slot::Release() {
  if (limiter_ == nullptr) return;
  limiter_->Free(address_);
  limiter_ = nullptr;
}

std::size_t ConnectionLimiter::active_from(std::string_view address) const {
  const auto it = per_address_.find(std::string(address));
  return it == per_address_.end() ? 0 : it->second;
}

ConnectionLimiter::Verdict ConnectionLimiter::Check(std::string_view address) const {
  if (limits_.max_total > 0 && active_ >= limits_.max_total) return Verdict::kTotalFull;
  if (limits_.max_per_address > 0 && active_from(address) >= limits_.max_per_address) {
    return Verdict::kAddressFull;
  }
  return Verdict::kAccept;
}

std::optional<ConnectionLimiter::Slot> ConnectionLimiter::TryAcquire(std::string_view address) {
  if (Check(address) != Verdict::kAccept) return std::nullopt;
  ++active_;
  ++per_address_[std::string(address)];
  return Slot(this, std::string(address));
}

void ConnectionLimiter::Free(const std::string& address) {
  --active_;
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

}  // namespace smtp::net
