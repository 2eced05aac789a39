#pragma once
// One function's circuit (PROTOCOL.md part 3 §3.3, beyond Azure): after `failures_to_open` failures in a
// row it opens, and invocations are answered at once instead of queueing behind a dead function; after
// `open_for` one probe goes through (half-open); its success closes the circuit, its failure reopens it.
// Pure: `now` is a parameter. One per function authority per thread.
#include <chrono>
#include <cstddef>

namespace sb::upstream {

struct CircuitPolicy {
  std::size_t failures_to_open = 5;
  std::chrono::milliseconds open_for{5'000};
};

enum class CircuitState { closed, open, half_open };

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CircuitBreaker(CircuitPolicy policy = {}) : policy_(policy) {}

  // May a request go now? In half-open state only one probe is let through at a time.
  bool allow(Clock::time_point now);
  void on_success();
  // Returns true when this failure opened the circuit (for the log line and the counter).
  bool on_failure(Clock::time_point now);
  CircuitState state() const { return state_; }

 private:
  CircuitPolicy policy_;
  CircuitState state_ = CircuitState::closed;
  std::size_t consecutive_failures_ = 0;
  Clock::time_point open_until_{};
  bool is_probe_in_flight_ = false;
};

}  // namespace sb::upstream
