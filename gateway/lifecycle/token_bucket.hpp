#pragma once
// A token bucket: `rate` tokens a second, holding at most `burst`. Used to bound how fast clients may
// negotiate, so that a reconnect storm (every client of a dead gateway arriving at once) is turned away
// with 429 and Retry-After instead of overwhelming the functions and the gateway.
//
// TokenBucket is pure (`now` is a parameter) and not thread-safe; SharedTokenBucket wraps it in a
// mutex held for a few arithmetic instructions, for the one bucket all threads share.
#include <chrono>
#include <mutex>

namespace sb::lifecycle {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  struct Decision {
    bool is_allowed = false;
    std::chrono::milliseconds retry_after{0};  // refused: when the next token will be there
  };

  // rate_per_second > 0; burst >= 1. The bucket starts full.
  TokenBucket(double rate_per_second, double burst, Clock::time_point now);

  Decision take(Clock::time_point now);
  // True when the bucket would be full at `now`: forgetting it changes nothing.
  bool is_full(Clock::time_point now) const;

 private:
  void refill(Clock::time_point now);

  double rate_per_second_;
  double burst_;
  double tokens_;
  Clock::time_point last_refill_;
};

class SharedTokenBucket {
 public:
  SharedTokenBucket(double rate_per_second, double burst, TokenBucket::Clock::time_point now)
      : bucket_(rate_per_second, burst, now) {}

  TokenBucket::Decision take(TokenBucket::Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return bucket_.take(now);
  }

 private:
  std::mutex mutex_;
  TokenBucket bucket_;
};

}  // namespace sb::lifecycle
