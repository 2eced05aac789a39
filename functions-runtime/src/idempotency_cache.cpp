#include "switchboard/detail/idempotency_cache.hpp"

namespace switchboard::detail {

UpstreamResponse IdempotencyCache::run_once(const std::string& key, const std::function<UpstreamResponse()>& handler,
                                            bool* repeated) {
  if (repeated) *repeated = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    forget_old(Clock::now());
    auto found = entries_.find(key);
    if (found == entries_.end()) break;  // nobody has it (or its first attempt failed): run it here
    auto entry = found->second;
    if (entry->is_done) {
      if (repeated) *repeated = true;
      UpstreamResponse again = entry->reply;
      again.log_line.clear();  // said once, with the first reply
      return again;
    }
    done_.wait(lock, [&] { return entry->is_done; });
  }
  auto entry = std::make_shared<Entry>();
  entries_[key] = entry;
  lock.unlock();
  UpstreamResponse reply = handler();
  lock.lock();
  entry->is_done = true;
  if (reply.status >= 200 && reply.status < 300) {
    entry->reply = reply;
    entry->expires_at = Clock::now() + keep_for_;
    by_age_.emplace_back(entry->expires_at, key);
    while (entries_.size() > capacity_ && !by_age_.empty()) {
      entries_.erase(by_age_.front().second);
      by_age_.pop_front();
    }
  } else {
    entries_.erase(key);  // not kept: the next attempt runs the handler again
  }
  done_.notify_all();
  return reply;
}

std::size_t IdempotencyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

// Entries expire in the order they were made: trimming the front keeps the table to a window's worth.
void IdempotencyCache::forget_old(Clock::time_point now) {
  while (!by_age_.empty() && by_age_.front().first < now) {
    auto found = entries_.find(by_age_.front().second);
    if (found != entries_.end() && found->second->is_done && found->second->expires_at == by_age_.front().first)
      entries_.erase(found);
    by_age_.pop_front();
  }
}

}  // namespace switchboard::detail
