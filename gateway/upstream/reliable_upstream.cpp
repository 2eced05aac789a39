#include "upstream/reliable_upstream.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "upstream/upstream_log.hpp"

namespace sb::upstream {

bool is_retryable(Delivery delivery, CallOutcome outcome, int status) {
  if (outcome == CallOutcome::connect_failed) return true;  // never reached the function: safe for anything
  // Never reached the function either, but a refused certificate is refused again on every attempt:
  // retrying would only delay the error the caller and the log should see now.
  if (outcome == CallOutcome::tls_failed) return false;
  if (delivery == Delivery::at_most_once) return false;
  if (outcome == CallOutcome::timeout || outcome == CallOutcome::network_error) return true;
  return outcome == CallOutcome::ok && status >= 500;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, std::size_t retry) {
  auto delay = policy.base_delay;
  for (std::size_t i = 1; i < retry && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

namespace {

// The circuit's key: the URL's origin (scheme, host and port), so every path of one function shares it.
std::string function_of(const UpstreamRequest& request) { return request.url ? request.url->origin() : "(invalid url)"; }

bool is_failure(CallOutcome outcome, int status) {
  switch (outcome) {
    case CallOutcome::connect_failed:
    case CallOutcome::timeout:
    case CallOutcome::network_error:
      return true;
    case CallOutcome::ok:
      return status >= 500;
    default:
      // Too large, bad URL, overloaded: the function itself isn't shown to be down. tls_failed neither:
      // an open circuit would answer "the function is unavailable" and hide the certificate error that
      // each call otherwise reports (`upstream tls_failed`) until someone fixes it.
      return false;
  }
}

}  // namespace

struct ReliableUpstream::Attempt {
  UpstreamRequest request;
  Delivery delivery;
  Callback callback;
  std::size_t attempts = 0;
  std::unique_ptr<boost::asio::steady_timer> timer;
};

ReliableUpstream::ReliableUpstream(boost::asio::any_io_executor executor, HttpClient& client, RetryPolicy retry,
                                   CircuitPolicy circuit)
    : executor_(std::move(executor)),
      client_(client),
      retry_(retry),
      circuit_policy_(circuit),
      jitter_(std::random_device{}()) {}

CircuitBreaker& ReliableUpstream::circuit_for(const UpstreamRequest& request) {
  auto key = function_of(request);
  auto it = circuits_.find(key);
  if (it == circuits_.end()) it = circuits_.emplace(key, CircuitBreaker(circuit_policy_)).first;
  return it->second;
}

void ReliableUpstream::send(UpstreamRequest request, Delivery delivery, Callback callback) {
  auto attempt = std::make_shared<Attempt>();
  attempt->request = std::move(request);
  attempt->delivery = delivery;
  attempt->callback = std::move(callback);
  auto& circuit = circuit_for(attempt->request);
  if (delivery == Delivery::at_most_once && !circuit.allow(std::chrono::steady_clock::now())) {
    metrics().upstream_requests.with("circuit_open").inc();
    boost::asio::post(executor_, [attempt] {
      HttpResponse response;
      response.error_detail = "the function's circuit is open";
      attempt->callback(CallOutcome::circuit_open, std::move(response), 0);
    });
    return;
  }
  start_attempt(std::move(attempt));
}

void ReliableUpstream::start_attempt(std::shared_ptr<Attempt> attempt) {
  ++attempt->attempts;
  // The client writes the request's bytes at once; the attempt keeps it, so a retry sends the same bytes.
  client_.post(attempt->request, [this, attempt](CallOutcome outcome, HttpResponse response) {
    on_result(attempt, outcome, std::move(response));
  });
}

void ReliableUpstream::on_result(std::shared_ptr<Attempt> attempt, CallOutcome outcome, HttpResponse response) {
  auto& circuit = circuit_for(attempt->request);
  auto now = std::chrono::steady_clock::now();
  if (is_failure(outcome, response.status)) {
    const bool was_closed = circuit.state() == CircuitState::closed;
    if (circuit.on_failure(now)) {
      metrics().upstream_circuit_opened.inc();
      log::emit(log_events::circuit_opened, {{"function", function_of(attempt->request)}});
      if (was_closed && circuit_listener_) circuit_listener_(function_of(attempt->request), true);
    }
  } else if (outcome == CallOutcome::tls_failed) {
    log::emit(log_events::tls_failed, {{"function", function_of(attempt->request)}, {"error", response.error_detail}});
  } else if (outcome == CallOutcome::ok) {
    const bool was_open = circuit.state() != CircuitState::closed;
    if (was_open) log::emit(log_events::circuit_closed, {{"function", function_of(attempt->request)}});
    circuit.on_success();
    if (was_open && circuit_listener_) circuit_listener_(function_of(attempt->request), false);
  }

  if (attempt->attempts < retry_.max_attempts && is_retryable(attempt->delivery, outcome, response.status)) {
    auto delay = backoff_delay(retry_, attempt->attempts);
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    delay = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * jitter(jitter_)));
    metrics().upstream_retries.inc();
    log::emit(log_events::retrying,
              {{"event_id", attempt->request.event_id}, {"attempt", attempt->attempts}, {"delay_ms", delay.count()},
               {"outcome", to_string(outcome)}, {"status", response.status}});
    attempt->timer = std::make_unique<boost::asio::steady_timer>(executor_, delay);
    attempt->timer->async_wait([this, attempt](const boost::system::error_code& ec) {
      if (ec) return;
      start_attempt(attempt);
    });
    return;
  }
  auto callback = std::move(attempt->callback);
  callback(outcome, std::move(response), attempt->attempts);
}

}  // namespace sb::upstream
