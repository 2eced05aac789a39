#include "upstream/circuit_breaker.hpp"

namespace sb::upstream {

bool CircuitBreaker::allow(Clock::time_point now) {
  switch (state_) {
    case CircuitState::closed:
      return true;
    case CircuitState::open:
      if (now < open_until_) return false;
      state_ = CircuitState::half_open;
      is_probe_in_flight_ = true;
      return true;
    case CircuitState::half_open:
      if (is_probe_in_flight_) return false;
      is_probe_in_flight_ = true;
      return true;
  }
  return true;
}

void CircuitBreaker::on_success() {
  state_ = CircuitState::closed;
  consecutive_failures_ = 0;
  is_probe_in_flight_ = false;
}

bool CircuitBreaker::on_failure(Clock::time_point now) {
  ++consecutive_failures_;
  is_probe_in_flight_ = false;
  bool should_open = state_ == CircuitState::half_open ||
                     (state_ == CircuitState::closed && consecutive_failures_ >= policy_.failures_to_open);
  if (should_open) {
    state_ = CircuitState::open;
    open_until_ = now + policy_.open_for;
    return true;
  }
  if (state_ == CircuitState::open) open_until_ = now + policy_.open_for;
  return false;
}

}  // namespace sb::upstream
