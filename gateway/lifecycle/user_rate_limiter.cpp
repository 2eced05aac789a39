#include "lifecycle/user_rate_limiter.hpp"

#include <algorithm>
#include <functional>

namespace sb::lifecycle {

namespace {
constexpr std::size_t min_sweep_size = 64;
}  // namespace

UserRateLimiter::UserRateLimiter(double rate_per_second, double burst, std::size_t max_users)
    : rate_per_second_(rate_per_second),
      burst_(burst),
      max_per_stripe_(std::max<std::size_t>(1, max_users / stripe_count)) {}

TokenBucket::Decision UserRateLimiter::take(std::string_view user_id, TokenBucket::Clock::time_point now) {
  auto& stripe = stripes_[std::hash<std::string_view>{}(user_id) % stripe_count];
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.buckets.find(std::string(user_id));
  if (it == stripe.buckets.end()) {
    // Amortised sweep: once the stripe doubled since the last one, drop the buckets that are full
    // again (their users are back to a fresh start either way).
    if (stripe.buckets.size() >= std::max(min_sweep_size, 2 * stripe.kept_by_last_sweep)) {
      std::erase_if(stripe.buckets, [now](const auto& entry) { return entry.second.is_full(now); });
      stripe.kept_by_last_sweep = stripe.buckets.size();
    }
    // Every bucket is a user still spending its burst: refuse newcomers rather than grow without bound.
    if (stripe.buckets.size() >= max_per_stripe_) return {false, std::chrono::milliseconds(1000)};
    it = stripe.buckets.emplace(std::string(user_id), TokenBucket(rate_per_second_, burst_, now)).first;
  }
  return it->second.take(now);
}

std::size_t UserRateLimiter::size() const {
  std::size_t total = 0;
  for (auto& stripe : stripes_) {
    std::lock_guard lock(stripe.mutex);
    total += stripe.buckets.size();
  }
  return total;
}

}  // namespace sb::lifecycle
