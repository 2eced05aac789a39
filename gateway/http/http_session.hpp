#pragma once
// One accepted TCP connection speaking HTTP/1.1 (session I/O only): the TLS handshake when the listener
// has a certificate, then read a request header (bounded, a deadline), check the URL limits, and hand
// it to the route its method and path find, write the response, and repeat while keep-alive. A handler
// may also take the stream away (a WebSocket upgrade, an SSE stream: advanced_server_flex's hand-off).
// Lives on its io_context's thread; every member runs there except respond_here()'s function.
//
// Bodies are read only when a handler asks (read_body), which it does after checking the request's
// token: an anonymous client can't make the gateway hold a body (docs/security.md "Limits"). A response
// to a request whose body was never read closes the socket, since the unread bytes can't be told from
// the next request. Until one of its requests authenticates, a socket counts against its address's
// --max-unauthenticated-per-address, its partial headers against --max-unauthenticated-bytes, it gets
// --header-timeout to send each header, and it may be evicted at --max-connections
// (unauthenticated_sessions.hpp).
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "http/responses.hpp"
#include "http/unauthenticated_sessions.hpp"
#include "listener/socket_limits.hpp"
#include "transport/client_stream.hpp"

namespace sb::http {

class Router;
class TlsCertificates;

struct HttpSessionSettings {
  std::chrono::milliseconds request_timeout{30'000};  // per read of a whole request, and per write
  std::chrono::milliseconds header_timeout{10'000};   // a header from a socket that hasn't authenticated
  std::size_t max_body_bytes = 1024 * 1024;           // 413 past it
  std::size_t min_body_rate = 240;                    // bytes/s a body must keep up after its grace; 0: none
  std::chrono::milliseconds body_rate_grace{5'000};
  std::size_t max_url_bytes = 8 * 1024;               // 414 past it
  std::size_t max_query_parameters = 64;              // 400 past it
  const TlsCertificates* tls = nullptr;               // set: every socket speaks TLS (--tls-cert)
  const std::atomic<bool>* is_draining = nullptr;     // set and true: refusals close kept-alive sockets
  listener::SocketLimits* limits = nullptr;           // set: header bytes count against its budget
};

class HttpSession : public std::enable_shared_from_this<HttpSession>, public EvictableSession {
 public:
  // Starts serving `socket`, which must belong to the calling thread's io_context, or refuses it (503)
  // when `admission` says its address is at its cap, or the gateway is full and nothing could be
  // evicted from `waiting`, this thread's list. `settings`, `routes` and `waiting` outlive every session.
  static void serve(boost::asio::ip::tcp::socket socket, listener::SocketLimits::Admission admission,
                    const HttpSessionSettings& settings, const Router& routes, UnauthenticatedSessions& waiting);

  HttpSession(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings, const Router& routes,
              UnauthenticatedSessions& waiting);

  // The request being answered (its header; its body once read_body has read it); handlers may move
  // from it. Valid until its response is written.
  Request& request() { return parser_->get(); }
  // The current request carried a valid token: from now on the socket is not anonymous.
  void authenticated();
  // Reads the current request's body (up to max_body_bytes, at min_body_rate), then calls `then`; on
  // failure the session answers (413, 400) or closes by itself and `then` is dropped. Marks the socket
  // authenticated: call it only once the request's token is checked.
  void read_body(std::function<void(HttpSession&)> then);
  // Answers the current request; then reads the next one, or closes (no keep-alive, an unread body, or
  // a 4xx while draining, so that the client's retry opens a socket that reaches our successor).
  void write(Response response);
  // The same, callable from any thread: the answer is posted back to this session's thread.
  std::function<void(Response)> respond_here();
  boost::asio::any_io_executor executor();
  bool is_tls() const { return stream_.is_tls(); }
  // Hands the stream to a transport: the session is done with it and must not be used to write.
  transport::ClientStream take_stream() { return std::move(stream_); }

  void evict() override;

 private:
  using Clock = std::chrono::steady_clock;
  void start(listener::SocketLimits::Admission admission);
  void refuse_socket(std::string_view reason, std::string_view message);
  void run();
  boost::beast::tcp_stream& tcp() { return stream_.next_layer(); }
  void on_handshake(boost::beast::error_code ec);
  void do_read();
  void parse_header();
  void read_header_bytes();
  void on_header(boost::beast::error_code ec);
  void read_body_part();
  void on_body_bytes(boost::beast::error_code ec, std::size_t bytes);
  bool is_target_within_limits();
  void route();
  void send_and_close(unsigned status, std::string_view code, std::string_view message);
  void close();
  void linger_close();
  void do_discard();

  transport::ClientStream stream_;
  const HttpSessionSettings& settings_;
  const Router& routes_;
  UnauthenticatedSessions& waiting_;
  listener::AddressSlot address_slot_;  // held until authenticated
  listener::HeldBytes held_bytes_;      // this request's header bytes, while unauthenticated
  std::size_t header_bytes_ = 0;        // read for the current header so far
  bool is_authenticated_ = false;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Clock::time_point request_deadline_{};
  Clock::time_point header_deadline_{};
  Clock::time_point body_started_{};
  std::size_t body_bytes_ = 0;
  std::function<void(HttpSession&)> after_body_;
  std::shared_ptr<Response> response_;
  bool must_linger_ = false;
  std::size_t discarded_bytes_ = 0;
};

}  // namespace sb::http
