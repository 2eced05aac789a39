#pragma once
// A token bucket per user id, for what one user may do at a rate no matter how many connections it
// holds (negotiates, bounded with --max-connections-per-user). Striped like UserConnectionCounter: a
// user id hashes to one of a fixed number of stripes, each a map behind its own mutex held for one map
// operation. Memory is bounded: a user's bucket is forgotten once it is full again (swept as a stripe
// grows), and past `max_users` buckets a new user is refused until some fill up. Thread-safe; no I/O.
#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "lifecycle/token_bucket.hpp"

namespace sb::lifecycle {

class UserRateLimiter {
 public:
  UserRateLimiter(double rate_per_second, double burst, std::size_t max_users);

  TokenBucket::Decision take(std::string_view user_id, TokenBucket::Clock::time_point now);
  // Buckets held, full ones not yet swept included.
  std::size_t size() const;

 private:
  static constexpr std::size_t stripe_count = 64;
  struct Stripe {
    mutable std::mutex mutex;
    std::unordered_map<std::string, TokenBucket> buckets;
    std::size_t kept_by_last_sweep = 0;
  };

  double rate_per_second_;
  double burst_;
  std::size_t max_per_stripe_;
  mutable std::array<Stripe, stripe_count> stripes_;
};

}  // namespace sb::lifecycle
