#pragma once
// Upstream calls with Switchboard's guarantees on top of the HTTP client (PROTOCOL.md part 3 §3.3):
// `connected`/`disconnected` are retried with bounded, jittered backoff on connection errors, timeouts
// and 5xx (the same X-Switchboard-Event-Id each time, so a function can de-duplicate); a `messages`
// event is retried only when the request provably never reached the function (connect refused),
// because functions need not be idempotent; and a per-function circuit answers invocations at once
// while the function is down. A TLS failure (tls_failed: a refused certificate, say) is neither retried
// nor counted by the circuit: it would fail the same way, and each call logs the real reason.
// One per event-loop thread; callbacks run there.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>

#include "upstream/circuit_breaker.hpp"
#include "upstream/http_client.hpp"

namespace sb::upstream {

enum class Delivery {
  at_least_once,  // connected, disconnected: retried
  at_most_once,   // messages: retried only if never sent; gated by the circuit
};

struct RetryPolicy {
  std::size_t max_attempts = 4;                 // the first try and three retries
  std::chrono::milliseconds base_delay{200};    // doubled each retry, ±50 % jitter
  std::chrono::milliseconds max_delay{5'000};
};

// Pure: may this outcome be retried for this kind of delivery?
bool is_retryable(Delivery delivery, CallOutcome outcome, int status);
// Pure: the delay before retry number `retry` (1-based), before jitter.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, std::size_t retry);

class ReliableUpstream {
 public:
  // `attempts`: how many requests were made (0 when the circuit refused it).
  using Callback = std::function<void(CallOutcome, HttpResponse, std::size_t attempts)>;

  ReliableUpstream(boost::asio::any_io_executor executor, HttpClient& client, RetryPolicy retry, CircuitPolicy circuit);

  void send(UpstreamRequest request, Delivery delivery, Callback callback);

  // Told when a function's circuit leaves the closed state (is_open true) and when it closes again:
  // once per transition, with the function's scheme://authority. On this upstream's thread.
  using CircuitListener = std::function<void(const std::string& function, bool is_open)>;
  void set_circuit_listener(CircuitListener listener) { circuit_listener_ = std::move(listener); }

 private:
  struct Attempt;
  void start_attempt(std::shared_ptr<Attempt> attempt);
  void on_result(std::shared_ptr<Attempt> attempt, CallOutcome outcome, HttpResponse response);
  CircuitBreaker& circuit_for(const UpstreamRequest& request);

  boost::asio::any_io_executor executor_;
  HttpClient& client_;
  RetryPolicy retry_;
  CircuitPolicy circuit_policy_;
  std::unordered_map<std::string, CircuitBreaker> circuits_;  // by scheme://authority of the URL
  std::minstd_rand jitter_;
  CircuitListener circuit_listener_;
};

}  // namespace sb::upstream
