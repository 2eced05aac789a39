#pragma once
// Live connections per user id, counted across every thread, for --max-connections-per-user. Striped:
// a user id hashes to one of a fixed number of stripes, each a small map behind its own mutex held for
// one map operation, so threads admitting different users rarely meet. Thread-safe; no I/O.
#include <array>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sb::lifecycle {

class UserConnectionCounter {
 public:
  // Counts one more connection of `user_id` unless it already has `limit`; false when refused.
  bool try_acquire(std::string_view user_id, std::size_t limit);
  // Undoes one successful try_acquire. Releasing a user with no count is a no-op.
  void release(std::string_view user_id);
  std::size_t count(std::string_view user_id) const;

 private:
  static constexpr std::size_t stripe_count = 64;
  struct Stripe {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::size_t> counts;  // only users with at least one connection
  };
  Stripe& stripe_of(std::string_view user_id) const;

  mutable std::array<Stripe, stripe_count> stripes_;
};

}  // namespace sb::lifecycle
