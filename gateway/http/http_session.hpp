#pragma once
// One accepted TCP connection speaking HTTP/1.1 (session I/O only): the TLS handshake when the listener
// has a certificate, then read a request (bounded header and body, a deadline per read), check the URL
// limits, hand it to the route its method and path find, write the response, and repeat while
// keep-alive. A handler may also take the stream away (a WebSocket upgrade, an SSE stream:
// advanced_server_flex's hand-off). Lives on its io_context's thread; every member runs there except
// respond_here()'s function.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "http/responses.hpp"
#include "transport/client_stream.hpp"

namespace sb::http {

class Router;
class TlsCertificates;

struct HttpSessionSettings {
  std::chrono::milliseconds request_timeout{30'000};  // per read and per write
  std::size_t max_body_bytes = 1024 * 1024;           // 413 past it
  std::size_t max_url_bytes = 8 * 1024;               // 414 past it
  std::size_t max_query_parameters = 64;              // 400 past it
  const TlsCertificates* tls = nullptr;               // set: every socket speaks TLS (--tls-cert)
  const std::atomic<bool>* is_draining = nullptr;     // set and true: refusals close kept-alive sockets
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // Starts serving `socket`, which must belong to the calling thread's io_context. `settings` and
  // `routes` outlive every session.
  static void serve(boost::asio::ip::tcp::socket socket, const HttpSessionSettings& settings, const Router& routes);

  HttpSession(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings, const Router& routes);

  // The request being answered; handlers may move from it. Valid until its response is written.
  Request& request() { return request_; }
  // Answers the current request; then reads the next one, or closes (no keep-alive, or a 4xx while
  // draining, so that the client's retry opens a socket that reaches our successor).
  void write(Response response);
  // The same, callable from any thread: the answer is posted back to this session's thread.
  std::function<void(Response)> respond_here();
  boost::asio::any_io_executor executor();
  bool is_tls() const { return stream_.is_tls(); }
  // Hands the stream to a transport: the session is done with it and must not be used to write.
  transport::ClientStream take_stream() { return std::move(stream_); }

 private:
  void run();
  boost::beast::tcp_stream& tcp() { return stream_.next_layer(); }
  void on_handshake(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t);
  bool is_target_within_limits();
  void route();
  void send_and_close(unsigned status, std::string_view code, std::string_view message);
  void close();
  void linger_close();
  void do_discard();

  transport::ClientStream stream_;
  const HttpSessionSettings& settings_;
  const Router& routes_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Request request_;
  std::shared_ptr<Response> response_;
  bool must_linger_ = false;
  std::unique_ptr<std::array<char, 16 * 1024>> discard_;  // only while lingering
  std::size_t discarded_bytes_ = 0;
};

}  // namespace sb::http
