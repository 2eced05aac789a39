#pragma once
// An asynchronous HTTP/1.1 client for upstream calls: pooled keep-alive connections per host, a deadline
// on every step, a cap on requests in flight (more wait in line), a cap on reply size. One per event-loop
// thread, used from that thread only; callbacks run there.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "upstream/upstream_request.hpp"

namespace sb::upstream {

enum class CallOutcome {
  ok,                  // a response arrived (any status)
  invalid_url,
  connect_failed,      // never reached the function: safe to retry anything
  timeout,
  network_error,
  response_too_large,
  overloaded,          // the waiting line is full
  circuit_open,        // not sent: the function's circuit is open (ReliableUpstream)
};

std::string_view to_string(CallOutcome outcome);

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
  std::string error_detail;  // for logs when the outcome isn't ok
};

struct HttpClientLimits {
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_in_flight = 256;
  std::size_t max_waiting = 100'000;
  std::size_t max_response_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds max_idle{4'000};  // below cpp-httplib's and most servers' 5 s keep-alive timeout
};

class HttpClient {
 public:
  using Callback = std::function<void(CallOutcome, HttpResponse)>;

  HttpClient(boost::asio::any_io_executor executor, HttpClientLimits limits);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void post(UpstreamRequest request, Callback callback);

  // Internal hand-back from a finished call (public for the call object in the .cpp).
  struct Pool;

 private:
  void start_next();

  boost::asio::any_io_executor executor_;
  HttpClientLimits limits_;
  std::shared_ptr<Pool> pool_;  // idle connections; shared with calls so a late call can't outlive it badly
  std::deque<std::pair<UpstreamRequest, Callback>> waiting_;
  std::size_t in_flight_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sb::upstream
