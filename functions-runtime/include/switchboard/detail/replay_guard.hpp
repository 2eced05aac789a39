// Signatures of upstream requests already served, kept as long as their timestamp is inside the
// tolerance window: a second request with one is a replay (a captured request sent again), answered 409
// without running the handler. A request is remembered only once its handler answered 2xx, so the
// gateway's retry of an attempt that failed still runs. Bounded: past `capacity` the oldest go first.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace switchboard::detail {

class ReplayGuard {
 public:
  explicit ReplayGuard(std::size_t capacity = 100'000) : capacity_(capacity) {}

  // True when `signature` was served and its window has not passed. Any thread.
  bool was_served(const std::string& signature, long long now_seconds);
  // Records `signature` as served until `expires_at_seconds`. Any thread.
  void remember(const std::string& signature, long long expires_at_seconds);

 private:
  void forget_expired(long long now_seconds);

  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, long long> served_;          // signature -> expiry
  std::deque<std::pair<long long, std::string>> by_arrival_;  // expiry, signature: oldest first
};

}  // namespace switchboard::detail
