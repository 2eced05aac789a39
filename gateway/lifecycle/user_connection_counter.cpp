#include "lifecycle/user_connection_counter.hpp"

#include <functional>

namespace sb::lifecycle {

UserConnectionCounter::Stripe& UserConnectionCounter::stripe_of(std::string_view user_id) const {
  return stripes_[std::hash<std::string_view>{}(user_id) % stripe_count];
}

bool UserConnectionCounter::try_acquire(std::string_view user_id, std::size_t limit) {
  auto& stripe = stripe_of(user_id);
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.counts.find(std::string(user_id));
  std::size_t current = it == stripe.counts.end() ? 0 : it->second;
  if (current >= limit) return false;
  if (it == stripe.counts.end())
    stripe.counts.emplace(std::string(user_id), 1);
  else
    ++it->second;
  return true;
}

void UserConnectionCounter::release(std::string_view user_id) {
  auto& stripe = stripe_of(user_id);
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.counts.find(std::string(user_id));
  if (it == stripe.counts.end()) return;
  if (--it->second == 0) stripe.counts.erase(it);  // an idle user costs nothing
}

std::size_t UserConnectionCounter::count(std::string_view user_id) const {
  auto& stripe = stripe_of(user_id);
  std::lock_guard lock(stripe.mutex);
  auto it = stripe.counts.find(std::string(user_id));
  return it == stripe.counts.end() ? 0 : it->second;
}

}  // namespace sb::lifecycle
