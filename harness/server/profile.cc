#include "harness/server/profile.h"

namespace smtp::server {
namespace {

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to pick
// faults; also used to mix the seed with the session number.
std::uint64_t SplitMix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct ProfileNameEntry {
  Profile profile;
  std::string_view name;
};
constexpr ProfileNameEntry kProfileNames[] = {
    {Profile::kStrict, "strict"}, {Profile::kLenient, "lenient"}, {Profile::kSlow, "slow"},
    {Profile::kFaulty, "faulty"}, {Profile::kPlanted, "planted"},
};

}  // namespace

std::string_view ProfileName(Profile p) {
  for (const auto& e : kProfileNames) {
    if (e.profile == p) return e.name;
  }
  return "strict";
}

std::optional<Profile> ParseProfile(std::string_view name) {
  for (const auto& e : kProfileNames) {
    if (e.name == name) return e.profile;
  }
  return std::nullopt;
}

Leniencies EffectiveCommandLeniencies(const ServerConfig& c) {
  if (c.command_leniencies) return *c.command_leniencies;
  return c.profile == Profile::kLenient ? kLenientCommandLeniencies : kStrictCommandLeniencies;
}

DataEndMode EffectiveDataEndMode(const ServerConfig& c) {
  if (c.data_end_mode) return *c.data_end_mode;
  return c.profile == Profile::kLenient ? DataEndMode::kBareLf : DataEndMode::kStrict;
}

bool EffectiveRejectEarlyData(const ServerConfig& c) {
  if (c.reject_early_data) return *c.reject_early_data;
  return c.profile != Profile::kLenient;
}

FaultInjector::FaultInjector(const FaultOptions& options, std::uint64_t session_id)
    : enabled_(true), options_(options), state_(options.seed) {
  // Mix the session number in so that sessions differ but stay reproducible.
  std::uint64_t mix = session_id;
  state_ ^= SplitMix64(mix);
}

double FaultInjector::Next() { return static_cast<double>(SplitMix64(state_) >> 11) * 0x1.0p-53; }

Fault FaultInjector::Roll(FaultPoint point) {
  if (!enabled_ || (options_.points & point) == 0) return Fault::kNone;
  double x = Next();
  if ((x -= options_.temp_fail_rate) < 0) return Fault::kTempFail;
  if ((x -= options_.shutdown_rate) < 0) return Fault::kShutdown;
  if ((x -= options_.disconnect_rate) < 0) return Fault::kDisconnect;
  return Fault::kNone;
}

}  // namespace smtp::server
