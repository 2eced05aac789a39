#include "upstream/reliable_upstream.hpp"

#include <doctest/doctest.h>

#include "upstream/circuit_breaker.hpp"

using namespace sb::upstream;
using namespace std::chrono_literals;

TEST_CASE("retries connection events on connection errors, timeouts and 5xx, never on 4xx") {
  CHECK(is_retryable(Delivery::at_least_once, CallOutcome::connect_failed, 0));
  CHECK(is_retryable(Delivery::at_least_once, CallOutcome::timeout, 0));
  CHECK(is_retryable(Delivery::at_least_once, CallOutcome::network_error, 0));
  CHECK(is_retryable(Delivery::at_least_once, CallOutcome::ok, 503));
  CHECK_FALSE(is_retryable(Delivery::at_least_once, CallOutcome::ok, 200));
  CHECK_FALSE(is_retryable(Delivery::at_least_once, CallOutcome::ok, 404));
  CHECK_FALSE(is_retryable(Delivery::at_least_once, CallOutcome::response_too_large, 0));
}

TEST_CASE("retries a message only when it provably never reached the function") {
  CHECK(is_retryable(Delivery::at_most_once, CallOutcome::connect_failed, 0));
  CHECK_FALSE(is_retryable(Delivery::at_most_once, CallOutcome::timeout, 0));
  CHECK_FALSE(is_retryable(Delivery::at_most_once, CallOutcome::network_error, 0));
  CHECK_FALSE(is_retryable(Delivery::at_most_once, CallOutcome::ok, 503));
}

TEST_CASE("never retries a TLS failure: a refused certificate is refused again") {
  CHECK_FALSE(is_retryable(Delivery::at_least_once, CallOutcome::tls_failed, 0));
  CHECK_FALSE(is_retryable(Delivery::at_most_once, CallOutcome::tls_failed, 0));
  CHECK(to_string(CallOutcome::tls_failed) == "tls_failed");
}

TEST_CASE("backs off exponentially up to the cap") {
  RetryPolicy policy{4, 200ms, 1000ms};
  CHECK(backoff_delay(policy, 1) == 200ms);
  CHECK(backoff_delay(policy, 2) == 400ms);
  CHECK(backoff_delay(policy, 3) == 800ms);
  CHECK(backoff_delay(policy, 4) == 1000ms);
  CHECK(backoff_delay(policy, 40) == 1000ms);
}

TEST_CASE("a circuit opens after the failures in a row, refuses until the open time passes, then probes once") {
  CircuitBreaker circuit({3, 5000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  CHECK(circuit.allow(t0));
  CHECK_FALSE(circuit.on_failure(t0));
  CHECK_FALSE(circuit.on_failure(t0));
  CHECK(circuit.on_failure(t0));  // the third opens it
  CHECK(circuit.state() == CircuitState::open);
  CHECK_FALSE(circuit.allow(t0 + 4999ms));
  CHECK(circuit.allow(t0 + 5000ms));   // the probe
  CHECK(circuit.state() == CircuitState::half_open);
  CHECK_FALSE(circuit.allow(t0 + 5001ms));  // one probe at a time
  SUBCASE("a successful probe closes it") {
    circuit.on_success();
    CHECK(circuit.state() == CircuitState::closed);
    CHECK(circuit.allow(t0 + 5002ms));
  }
  SUBCASE("a failed probe opens it again") {
    CHECK(circuit.on_failure(t0 + 5002ms));
    CHECK_FALSE(circuit.allow(t0 + 6000ms));
    CHECK(circuit.allow(t0 + 10002ms));
  }
}

TEST_CASE("a success resets the count of failures in a row") {
  CircuitBreaker circuit({3, 1000ms});
  auto t0 = CircuitBreaker::Clock::time_point{} + 1h;
  circuit.on_failure(t0);
  circuit.on_failure(t0);
  circuit.on_success();
  CHECK_FALSE(circuit.on_failure(t0));
  CHECK(circuit.state() == CircuitState::closed);
}
