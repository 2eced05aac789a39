#pragma once
// Rate-limits one repeated log line (STYLE.md "Repeated lines are rate-limited"): at most one line per
// interval; the lines skipped meanwhile are counted and reported with the next one that goes out.
// Thread-safe (relaxed atomics); `now` is a parameter so the rule can be tested without a clock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace sb::log {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // constexpr: a throttle declared next to its log event is initialised before anything runs.
  explicit constexpr LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}

  std::chrono::milliseconds interval() const { return interval_; }

  // nullopt: skip this line. Otherwise log it, with the returned number of lines skipped before it.
  std::optional<std::uint64_t> admit(Clock::time_point now) {
    auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    auto last = last_ms_.load(std::memory_order_relaxed);
    if (last != never && now_ms - last < interval_.count()) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    // One thread wins the slot; a loser counts as skipped.
    if (!last_ms_.compare_exchange_strong(last, now_ms, std::memory_order_relaxed)) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    return suppressed_.exchange(0, std::memory_order_relaxed);
  }

 private:
  static constexpr std::int64_t never = INT64_MIN;
  std::chrono::milliseconds interval_;
  std::atomic<std::int64_t> last_ms_{never};
  std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace sb::log
