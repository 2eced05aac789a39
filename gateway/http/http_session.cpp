#include "http/http_session.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
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
// What a session buffers from its socket: a whole header fits, so a partial one can't hold more. Body
// bytes pass through it into the request in reads of at most this much.
constexpr std::size_t read_buffer_limit = header_limit_bytes + 4 * 1024;

// Scanners and plaintext clients on a TLS port fail their handshakes by the thousand: one line a second.
log::LogThrottle tls_failure_log_throttle(std::chrono::seconds(1));

// TLS when the gateway has a certificate: then every socket on the listener speaks it.
ClientStream make_client_stream(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings) {
  if (settings.tls)
    if (auto tls = settings.tls->current()) return ClientStream(beast::tcp_stream(std::move(socket)), std::move(tls));
  return ClientStream(beast::tcp_stream(std::move(socket)));
}

// Where lingering sessions throw away what their clients still send: one per thread, never read.
std::array<char, 16 * 1024>& discard_buffer() {
  thread_local std::array<char, 16 * 1024> buffer;
  return buffer;
}

std::string address_of(boost::asio::ip::tcp::socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

}  // namespace

void HttpSession::serve(boost::asio::ip::tcp::socket socket, listener::SocketLimits::Admission admission,
                        const HttpSessionSettings& settings, const Router& routes, UnauthenticatedSessions& waiting) {
  std::make_shared<HttpSession>(std::move(socket), settings, routes, waiting)->start(std::move(admission));
}

HttpSession::HttpSession(boost::asio::ip::tcp::socket&& socket, const HttpSessionSettings& settings, const Router& routes,
                         UnauthenticatedSessions& waiting)
    : stream_(make_client_stream(std::move(socket), settings)),
      settings_(settings),
      routes_(routes),
      waiting_(waiting),
      held_bytes_(settings.limits ? listener::HeldBytes(*settings.limits) : listener::HeldBytes()),
      buffer_(read_buffer_limit) {}

boost::asio::any_io_executor HttpSession::executor() { return stream_.get_executor(); }

std::function<void(Response)> HttpSession::respond_here() {
  return [self = shared_from_this()](Response response) {
    boost::asio::post(self->executor(), [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
  };
}

void HttpSession::start(listener::SocketLimits::Admission admission) {
  stream_.hold(std::move(admission.ticket));
  if (!admission.slot)
    return refuse_socket("address_limit", "Too many connections from this address are waiting to authenticate.");
  address_slot_ = std::move(*admission.slot);
  if (admission.is_over_capacity) {
    if (!waiting_.evict_oldest()) return refuse_socket("max_connections", "The gateway is at its connection limit.");
    metrics().rejected_input.with("idle_socket_evicted").inc();
    log::emit(log_events::idle_socket_evicted);
  }
  run();
}

// A socket refused as it arrives: a canned 503 in plain HTTP (a TLS client gets the close alone: there
// is no handshake to spend on it), then the close. No lingering: under a flood, descriptors matter more
// than whether the client reads the answer.
void HttpSession::refuse_socket(std::string_view reason, std::string_view message) {
  metrics().rejected_input.with(reason).inc();
  log::emit(log_events::connection_refused, {{"reason", reason}, {"address", address_of(stream_.socket())}});
  if (stream_.is_tls()) return tcp().close();
  Request basis;
  basis.version(11);
  basis.keep_alive(false);
  response_ = std::make_shared<Response>(json_error(basis, 503, "ServerBusy", message));
  tcp().expires_after(std::chrono::seconds(1));
  beast_http::async_write(tcp(), *response_, [self = shared_from_this()](beast::error_code, std::size_t) {
    beast::error_code ignored;
    self->tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    self->tcp().close();
  });
}

void HttpSession::evict() { tcp().close(); }  // the pending read completes with operation_aborted

void HttpSession::run() {
  if (!stream_.is_tls()) return do_read();
  // A client that never finishes its hello is cut off at the header deadline, and may be evicted before.
  waiting_.enlist(*this);
  tcp().expires_after(std::min(settings_.request_timeout, settings_.header_timeout));
  stream_.tls().async_handshake(boost::asio::ssl::stream_base::server,
                                beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
}

// A failed handshake (plaintext HTTP, garbage, an unsupported version, a client that gave up) ends this
// socket only.
void HttpSession::on_handshake(beast::error_code ec) {
  if (ec == boost::asio::error::operation_aborted) return;  // evicted
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

void HttpSession::authenticated() {
  if (is_authenticated_) return;
  is_authenticated_ = true;
  address_slot_.release();
  held_bytes_.release();
  unlink();
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(header_limit_bytes);
  parser_->body_limit(settings_.max_body_bytes);
  auto now = Clock::now();
  request_deadline_ = now + settings_.request_timeout;
  header_deadline_ = is_authenticated_ ? request_deadline_ : std::min(request_deadline_, now + settings_.header_timeout);
  if (!is_authenticated_) waiting_.enlist(*this);
  header_bytes_ = buffer_.size();
  parse_header();
}

// The header is parsed from what the buffer holds (a pipelined request may be there already) and read a
// piece at a time, so that the bytes an anonymous socket holds are counted as they arrive: all it sent
// for this header, since the parser keeps the request line and each complete field it has consumed.
void HttpSession::parse_header() {
  beast::error_code ec = beast_http::error::need_more;
  if (buffer_.size() != 0) buffer_.consume(parser_->put(buffer_.data(), ec));
  if (ec != beast_http::error::need_more) {
    unlink();  // being answered: no longer evictable
    return on_header(ec);
  }
  if (!is_authenticated_ && !held_bytes_.resize(header_bytes_)) {
    metrics().rejected_input.with("unauthenticated_bytes").inc();
    log::emit(log_events::unauthenticated_bytes_full, {{"held", settings_.limits->unauthenticated_bytes()}});
    return send_and_close(503, "ServerBusy", "The gateway holds too many unauthenticated requests.");
  }
  read_header_bytes();
}

void HttpSession::read_header_bytes() {
  tcp().expires_at(header_deadline_);
  auto space = buffer_.max_size() - buffer_.size();  // never 0: the parser refuses a header this long first
  stream_.async_read_some(buffer_.prepare(space), [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
    self->buffer_.commit(bytes);
    self->header_bytes_ += bytes;
    // End of stream, a reset, the deadline, an eviction: nothing to answer, the socket is done.
    if (ec) return self->close();
    self->parse_header();
  });
}

void HttpSession::on_header(beast::error_code ec) {
  held_bytes_.release();  // parsed: bounded by the header limit, and soon answered
  if (ec == beast_http::error::body_limit) {  // a Content-Length over the limit: refused unread
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
  route();
}

void HttpSession::read_body(std::function<void(HttpSession&)> then) {
  authenticated();
  if (parser_->is_done()) return then(*this);
  after_body_ = std::move(then);
  body_started_ = Clock::now();
  body_bytes_ = 0;
  // A client that asked (curl does for bodies over 1 KiB) sends its body only once told to: now that
  // the request is routed and authorized. One that is refused never sends it.
  if (beast::iequals(request()[beast_http::field::expect], "100-continue")) {
    static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    tcp().expires_at(request_deadline_);
    return boost::asio::async_write(stream_, boost::asio::buffer(go_on.data(), go_on.size()),
                                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                      if (ec) return self->close();
                                      self->read_body_part();
                                    });
  }
  read_body_part();
}

// Each read must come before the time by which the bytes so far would meet the minimum rate (Kestrel's
// MinRequestBodyDataRate), and before the request's deadline.
void HttpSession::read_body_part() {
  auto deadline = request_deadline_;
  if (settings_.min_body_rate != 0) {
    auto earned = std::chrono::milliseconds(body_bytes_ * 1000 / settings_.min_body_rate);
    deadline = std::min(deadline, body_started_ + settings_.body_rate_grace + earned);
  }
  tcp().expires_at(deadline);
  beast_http::async_read_some(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_body_bytes, shared_from_this()));
}

void HttpSession::on_body_bytes(beast::error_code ec, std::size_t bytes) {
  if (ec == beast_http::error::body_limit) {
    metrics().rejected_input.with("body_too_large").inc();
    return send_and_close(413, "PayloadTooLarge", "The request body is over " + std::to_string(settings_.max_body_bytes) + " bytes.");
  }
  if (ec == beast::error::timeout) {
    if (Clock::now() < request_deadline_) {
      metrics().rejected_input.with("slow_body").inc();
      log::emit(log_events::slow_body, {{"bytes", body_bytes_}});
    }
    return close();  // the stream closed its socket when the deadline passed
  }
  if (ec == beast_http::error::end_of_stream || ec == beast_http::error::partial_message ||
      ec == boost::asio::error::operation_aborted || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated)
    return close();
  if (ec) {
    metrics().rejected_input.with("bad_http").inc();
    log::emit(log_events::bad_request, {{"error", ec.message()}});
    return send_and_close(400, "BadRequest", "The HTTP request body is malformed.");
  }
  body_bytes_ += bytes;
  if (!parser_->is_done()) return read_body_part();
  auto then = std::move(after_body_);
  then(*this);
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
  auto target = request().target();
  if (target.size() > settings_.max_url_bytes) {
    metrics().rejected_input.with("url_too_long").inc();
    log::emit(log_events::url_too_long, {{"bytes", target.size()}, {"sample", log::sample(redacted_target(target), 64)}});
    write(json_error(request(), 414, "UriTooLong", "The URL is over " + std::to_string(settings_.max_url_bytes) + " bytes."));
    return false;
  }
  if (count_query_parameters(split_target(target).query) > settings_.max_query_parameters) {
    metrics().rejected_input.with("too_many_query_parameters").inc();
    log::emit(log_events::too_many_query_parameters, {{"sample", log::sample(redacted_target(target), 64)}});
    write(json_error(request(), 400, "TooManyQueryParameters",
                     "The query has over " + std::to_string(settings_.max_query_parameters) + " parameters."));
    return false;
  }
  return true;
}

void HttpSession::route() {
  if (!is_target_within_limits()) return;
  if (const auto* handler = routes_.find(request().method(), split_target(request().target()).path)) return (*handler)(*this);
  write(json_error(request(), 404, "NotFound", "No such endpoint."));
}

void HttpSession::write(Response response) {
  if (response.result_int() >= 400 && settings_.is_draining && settings_.is_draining->load(std::memory_order_relaxed))
    response.keep_alive(false);
  // A body left unread: the bytes still coming can't be told from a next request.
  if (parser_ && parser_->is_header_done() && !parser_->is_done()) {
    response.keep_alive(false);
    must_linger_ = true;
  }
  // HEAD: what a GET would answer, without its body (RFC 9110 §9.3.2), whatever the route wrote.
  if (parser_ && parser_->is_header_done() && parser_->get().method() == beast_http::verb::head &&
      !response.body().empty()) {
    if (!response.has_content_length()) response.prepare_payload();
    response.body().clear();
  }
  held_bytes_.release();
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
  unlink();
  if (stream_.is_tls() && tcp().socket().is_open()) {
    tcp().expires_after(std::chrono::seconds(1));
    return stream_.tls().async_shutdown([self = shared_from_this()](beast::error_code) { self->tcp().close(); });
  }
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().close();
}

// After an early error response (413, 431, 400, or any answer to a request whose body was not read)
// the client may still be sending. Closing with unread input makes the kernel send a reset that can
// destroy the response before the client reads it, so stop sending, then read and discard for a
// bounded time and size before closing.
void HttpSession::linger_close() {
  unlink();
  beast::error_code ignored;
  stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().expires_after(std::chrono::seconds(2));
  do_discard();
}

void HttpSession::do_discard() {
  // Raw bytes, TLS or not: they are thrown away unread.
  tcp().async_read_some(boost::asio::buffer(discard_buffer()), [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
    self->discarded_bytes_ += bytes;
    if (ec || self->discarded_bytes_ > 4 * 1024 * 1024) return self->tcp().close();
    self->do_discard();
  });
}

}  // namespace sb::http
