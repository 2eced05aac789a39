#include "switchboard/detail/replay_guard.hpp"

namespace switchboard::detail {

bool ReplayGuard::was_served(const std::string& signature, long long now_seconds) {
  std::lock_guard lock(mutex_);
  forget_expired(now_seconds);
  auto found = served_.find(signature);
  return found != served_.end() && found->second >= now_seconds;
}

void ReplayGuard::remember(const std::string& signature, long long expires_at_seconds) {
  std::lock_guard lock(mutex_);
  if (!served_.emplace(signature, expires_at_seconds).second) return;
  by_arrival_.emplace_back(expires_at_seconds, signature);
  while (served_.size() > capacity_ && !by_arrival_.empty()) {
    served_.erase(by_arrival_.front().second);
    by_arrival_.pop_front();
  }
}

// Entries expire in roughly arrival order (one tolerance after their timestamp): trimming the front is
// enough to keep the table near the window's worth.
void ReplayGuard::forget_expired(long long now_seconds) {
  while (!by_arrival_.empty() && by_arrival_.front().first < now_seconds) {
    served_.erase(by_arrival_.front().second);
    by_arrival_.pop_front();
  }
}

}  // namespace switchboard::detail
