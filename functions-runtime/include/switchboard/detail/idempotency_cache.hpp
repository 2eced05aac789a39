// Replies to client messages that may arrive twice: a stateful client whose gateway crashed re-sends
// what it had not seen acknowledged, and the gateway it resumes on sends it upstream again with the
// same X-Switchboard-Idempotency-Key ("<connection id>:<the client's sequence id>"). The handler runs
// once per key; a repeat gets the first reply again, and one arriving while the first still runs
// waits for it. Only 2xx replies are kept (a failed attempt may be tried again). Bounded by count and
// by age; past them the oldest go first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "switchboard/detail/upstream_dispatcher.hpp"

namespace switchboard::detail {

class IdempotencyCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit IdempotencyCache(std::chrono::seconds keep_for = std::chrono::minutes(10), std::size_t capacity = 100'000)
      : keep_for_(keep_for), capacity_(capacity) {}

  // Runs `handler` for `key` unless a reply for it is kept (then that reply, with `repeated` set) or
  // one is being made (then waits for it). Any thread.
  UpstreamResponse run_once(const std::string& key, const std::function<UpstreamResponse()>& handler,
                            bool* repeated = nullptr);

  std::size_t size() const;

 private:
  struct Entry {
    bool is_done = false;
    UpstreamResponse reply;
    Clock::time_point expires_at{};
  };
  void forget_old(Clock::time_point now);

  std::chrono::seconds keep_for_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
  std::deque<std::pair<Clock::time_point, std::string>> by_age_;  // expiry, key: oldest first
};

}  // namespace switchboard::detail
