#include "lifecycle/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace sb::lifecycle {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock::time_point now)
    : rate_per_second_(rate_per_second), burst_(std::max(1.0, burst)), tokens_(burst_), last_refill_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_refill_) return;  // a clock read that lost a race with another thread's: no refill
  double elapsed_seconds = std::chrono::duration<double>(now - last_refill_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed_seconds * rate_per_second_);
  last_refill_ = now;
}

bool TokenBucket::is_full(Clock::time_point now) const {
  double elapsed_seconds = now > last_refill_ ? std::chrono::duration<double>(now - last_refill_).count() : 0.0;
  return tokens_ + elapsed_seconds * rate_per_second_ >= burst_;
}

TokenBucket::Decision TokenBucket::take(Clock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return {true, std::chrono::milliseconds(0)};
  }
  double missing_seconds = (1.0 - tokens_) / rate_per_second_;
  auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(missing_seconds * 1000.0)));
  return {false, std::max(wait, std::chrono::milliseconds(1))};
}

}  // namespace sb::lifecycle
