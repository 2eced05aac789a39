#pragma once
// An asynchronous HTTP/1.1 client for upstream calls, http:// and https://: pooled keep-alive
// connections per function (scheme, host and port), a deadline on every call, a cap on requests in
// flight (more wait in line), a cap on reply size. One per event-loop thread, used from that thread
// only; callbacks run there.
//
// Per plain call: the request is written as one prepared buffer (http_request_bytes), straight from the
// loop when the kernel takes it; the reply is read when epoll says it is there, into a buffer the thread
// shares, and parsed without a field list (http_response_parser). Deadlines cost no timer per call:
// every call has the same timeout, so calls in flight, oldest first, are also in deadline order, and
// one timer set for the oldest one serves them all.
//
// https:// (docs/upstream.md "HTTPS functions"): the request carries the TLS settings of its rule
// (tls_client::ClientTlsContext). A new connection does a verified handshake (SNI, the URL's host name
// or address checked against the certificate) and offers the function's last session for resumption;
// the deadline covers connect, handshake, write and read alike. TLS connections are pooled exactly as
// plain ones, under their own key. A refused certificate or another TLS-level failure is `tls_failed`;
// a socket that fails under the handshake is `connect_failed` (the request wasn't sent).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tls_client/session_cache.hpp"
#include "upstream/http_request_bytes.hpp"
#include "upstream/upstream_request.hpp"

namespace sb::upstream {

enum class CallOutcome {
  ok,  // a response arrived (any status)
  invalid_url,
  connect_failed,  // never reached the function: safe to retry anything
  timeout,
  network_error,
  response_too_large,
  overloaded,    // the waiting line is full
  circuit_open,  // not sent: the function's circuit is open (ReliableUpstream)
  // https: the handshake failed at the TLS layer (certificate refused, alert, no common protocol).
  // Not acted on by the function, but it fails the same way until a certificate or setting changes.
  tls_failed,
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
  using Clock = std::chrono::steady_clock;

  HttpClient(boost::asio::any_io_executor executor, HttpClientLimits limits);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The request is written into its wire form at once; `request` isn't kept.
  void post(const UpstreamRequest& request, Callback callback);

  class Call;        // one request in flight (http_client.cpp)
  class Connection;  // a TCP socket, or a TLS stream over one (http_client.cpp)

 private:
  friend class Call;
  struct Waiting {
    std::optional<Url> url;  // nullopt: not a URL the client can request
    std::string bytes;
    std::shared_ptr<const tls_client::ClientTlsContext> tls;  // https only
    Callback callback;
  };
  struct IdleConnection {
    std::unique_ptr<Connection> connection;
    Clock::time_point since;
  };

  void start_next();
  // In-flight list, oldest first (= deadline order).
  void link(Call& call);
  void unlink(Call& call);
  void arm_deadline_timer();
  void expire_overdue();
  // Idle keep-alive connections per function (Url::origin()).
  std::unique_ptr<Connection> take_idle(const std::string& key);
  void give_idle(const std::string& key, std::unique_ptr<Connection> connection);
  void arm_idle_sweep();
  void sweep_idle();

  boost::asio::any_io_executor executor_;
  HttpClientLimits limits_;
  std::deque<Waiting> waiting_;
  std::size_t in_flight_ = 0;
  Call* oldest_ = nullptr;
  Call* newest_ = nullptr;
  boost::asio::steady_timer deadline_timer_;
  bool is_deadline_timer_armed_ = false;
  std::unordered_map<std::string, std::vector<IdleConnection>> idle_;
  boost::asio::steady_timer idle_sweeper_;
  bool is_idle_sweep_armed_ = false;
  std::unordered_map<std::string, boost::asio::ip::tcp::resolver::results_type> resolved_;
  boost::asio::ip::tcp::resolver resolver_;
  tls_client::SessionCache sessions_;  // https: the last resumable session per function
};

}  // namespace sb::upstream
