#include "http/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "http/http_log.hpp"
#include "http/message_framing.hpp"
#include "http/router.hpp"
#include "http/tls_certificates.hpp"
#include "http/url_query.hpp"

namespace sb::http {
namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using transport::ClientStream;

constexpr std::size_t header_limit_bytes = 16 * 1024;  // Azure: 16 KB of headers

// Scanners and plaintext clients on a TLS port fail their handshakes by the thousand: one line a second.
log::LogThrottle tls_failure_log_throttle(std::chrono::seconds(1));

// TLS when the gateway has a certificate: then every socket on the listener speaks it.
ClientStream make_client_stream(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings) {
  if (settings.tls)
    if (auto tls = settings.tls->current()) return ClientStream(beast::tcp_stream(std::move(socket)), std::move(tls));
  return ClientStream(beast::tcp_stream(std::move(socket)));
}

}  // namespace

void HttpSession::serve(boost::asio::ip::tcp::socket socket, const HttpSessionSettings& settings, const Router& routes) {
  std::make_shared<HttpSession>(std::move(socket), settings, routes)->run();
}

HttpSession::HttpSession(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings, const Router& routes)
    : stream_(make_client_stream(std::move(socket), settings)), settings_(settings), routes_(routes) {}

boost::asio::any_io_executor HttpSession::executor() { return stream_.get_executor(); }

std::function<void(Response)> HttpSession::respond_here() {
  return [self = shared_from_this()](Response response) {
    boost::asio::post(self->executor(), [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
  };
}

void HttpSession::run() {
  if (!stream_.is_tls()) return do_read();
  tcp().expires_after(settings_.request_timeout);  // a client that never finishes its hello is cut off too
  stream_.tls().async_handshake(boost::asio::ssl::stream_base::server,
                                beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
}

// A failed handshake (plaintext HTTP, garbage, an unsupported version, a client that gave up) ends this
// socket only.
void HttpSession::on_handshake(beast::error_code ec) {
  if (ec) {
    metrics().rejected_input.with("tls_handshake").inc();
    if (auto skipped = tls_failure_log_throttle.admit(log::LogThrottle::Clock::now()))
      log::emit(log_events::tls_handshake_failed, {{"error", ec.message()}, {"skipped", *skipped}});
    beast::error_code ignored;
    tcp().socket().close(ignored);
    return;
  }
  do_read();
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(header_limit_bytes);
  parser_->body_limit(settings_.max_body_bytes);
  tcp().expires_after(settings_.request_timeout);
  beast_http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == beast_http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof ||
      ec == boost::asio::ssl::error::stream_truncated)
    return close();
  if (ec == beast_http::error::body_limit) {
    metrics().rejected_input.with("body_too_large").inc();
    return send_and_close(413, "PayloadTooLarge", "The request body is over " + std::to_string(settings_.max_body_bytes) + " bytes.");
  }
  if (ec == beast_http::error::header_limit) {
    metrics().rejected_input.with("header_too_large").inc();
    return send_and_close(431, "HeadersTooLarge", "The request headers are over 16 KB.");
  }
  if (ec) {
    metrics().rejected_input.with("bad_http").inc();
    log::emit(log_events::bad_request, {{"error", ec.message()}});
    return send_and_close(400, "BadRequest", "The HTTP request is malformed.");
  }
  if (auto problem = framing_problem(parser_->get())) {
    metrics().rejected_input.with("bad_framing").inc();
    log::emit(log_events::bad_framing, {{"error", *problem}});
    return send_and_close(400, "BadRequest", "The request's Transfer-Encoding is not allowed: only chunked, alone.");
  }
  request_ = parser_->release();
  route();
}

void HttpSession::send_and_close(unsigned status, std::string_view code, std::string_view message) {
  Request basis;
  basis.version(11);
  basis.keep_alive(false);
  must_linger_ = true;
  write(json_error(basis, status, code, message));
}

// Checked before anything reads the target: the header limit bounds it, these make the answer clear.
bool HttpSession::is_target_within_limits() {
  auto target = request_.target();
  if (target.size() > settings_.max_url_bytes) {
    metrics().rejected_input.with("url_too_long").inc();
    log::emit(log_events::url_too_long, {{"bytes", target.size()}, {"sample", log::sample(redacted_target(target), 64)}});
    write(json_error(request_, 414, "UriTooLong", "The URL is over " + std::to_string(settings_.max_url_bytes) + " bytes."));
    return false;
  }
  if (count_query_parameters(split_target(target).query) > settings_.max_query_parameters) {
    metrics().rejected_input.with("too_many_query_parameters").inc();
    log::emit(log_events::too_many_query_parameters, {{"sample", log::sample(redacted_target(target), 64)}});
    write(json_error(request_, 400, "TooManyQueryParameters",
                     "The query has over " + std::to_string(settings_.max_query_parameters) + " parameters."));
    return false;
  }
  return true;
}

void HttpSession::route() {
  if (!is_target_within_limits()) return;
  if (const auto* handler = routes_.find(request_.method(), split_target(request_.target()).path)) return (*handler)(*this);
  write(json_error(request_, 404, "NotFound", "No such endpoint."));
}

void HttpSession::write(Response response) {
  if (response.result_int() >= 400 && settings_.is_draining && settings_.is_draining->load(std::memory_order_relaxed))
    response.keep_alive(false);
  response_ = std::make_shared<Response>(std::move(response));
  bool keep_alive = response_->keep_alive();
  tcp().expires_after(settings_.request_timeout);
  beast_http::async_write(stream_, *response_, [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
    self->response_.reset();
    if (!ec && self->must_linger_) return self->linger_close();
    if (ec || !keep_alive) return self->close();
    self->do_read();
  });
}

// Over TLS the session ends with close_notify (RFC 8446 §6.1), so the client can tell an end from a cut.
// Its answer is awaited 1 s at most: it tells us nothing more, and the socket shouldn't linger.
void HttpSession::close() {
  if (stream_.is_tls()) {
    tcp().expires_after(std::chrono::seconds(1));
    return stream_.tls().async_shutdown([self = shared_from_this()](beast::error_code) { self->tcp().close(); });
  }
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().close();
}

// After an early error response (413, 431, 400) the client may still be sending its body. Closing with
// unread input makes the kernel send a reset that can destroy the response before the client reads it,
// so stop sending, then read and discard for a bounded time and size before closing.
void HttpSession::linger_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().expires_after(std::chrono::seconds(2));
  discard_ = std::make_unique<std::array<char, 16 * 1024>>();
  do_discard();
}

void HttpSession::do_discard() {
  // Raw bytes, TLS or not: they are thrown away unread.
  tcp().async_read_some(boost::asio::buffer(*discard_), [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
    self->discarded_bytes_ += bytes;
    if (ec || self->discarded_bytes_ > 4 * 1024 * 1024) return self->tcp().close();
    self->do_discard();
  });
}

}  // namespace sb::http
