#include "http/http_session.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <optional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "connection/connection.hpp"
#include "http/client_endpoints.hpp"
#include "http/gateway_context.hpp"
#include "http/responses.hpp"
#include "http/rest_api.hpp"
#include "http/shard.hpp"
#include "http/url_query.hpp"
#include "transport/websocket_transport.hpp"

namespace sb::http {
namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using beast_http::verb;

constexpr auto request_deadline = std::chrono::seconds(30);  // whole request, against slow-header clients
constexpr std::size_t header_limit_bytes = 16 * 1024;        // Azure: 16 KB of headers

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, Shard& shard, GatewayContext& context)
      : stream_(std::move(socket)), shard_(shard), context_(context) {}

  void run() { do_read(); }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit_bytes);
    parser_->body_limit(context_.config.rest.max_body_bytes);
    stream_.expires_after(request_deadline);
    beast_http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == beast_http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof)
      return close();
    if (ec == beast_http::error::body_limit) {
      metrics().rejected_input.with("body_too_large").inc();
      return send_and_close(413, "PayloadTooLarge",
                            "The request body is over " + std::to_string(context_.config.rest.max_body_bytes) + " bytes.");
    }
    if (ec == beast_http::error::header_limit) {
      metrics().rejected_input.with("header_too_large").inc();
      return send_and_close(431, "HeadersTooLarge", "The request headers are over 16 KB.");
    }
    if (ec) {
      metrics().rejected_input.with("bad_http").inc();
      log::debug("http", "bad_request", {{"error", ec.message()}});
      return send_and_close(400, "BadRequest", "The HTTP request is malformed.");
    }
    route(parser_->release());
  }

  void send_and_close(unsigned status, std::string_view code, std::string_view message) {
    Request basis;
    basis.version(11);
    basis.keep_alive(false);
    must_linger_ = true;
    write(json_error(basis, status, code, message));
  }

  void route(Request request) {
    auto target = split_target(request.target());
    auto path = target.path;
    bool is_client_path = path == "/client" || path == "/client/" || path == "/client/negotiate";

    if (request.method() == verb::options && (is_client_path || path.substr(0, 5) == "/api/"))
      return write(cors_preflight(request));
    if (path == "/client/negotiate") return write(handle_negotiate(request, context_));
    if (path == "/client" || path == "/client/") {
      if (beast::websocket::is_upgrade(request)) return upgrade(std::move(request));
      auto response = json_error(request, 400, "TransportNotSupported",
                                 "Only the WebSockets transport is available on this gateway.");
      add_cors(request, response);
      return write(std::move(response));
    }
    if (path == "/api/v1/health" || path == "/api/health" || path == "/health/live") {
      auto response = make_response(request, 200);
      response.prepare_payload();
      return write(std::move(response));
    }
    if (path == "/health/ready") {
      bool ready = context_.is_ready.load();
      return write(json_response(request, ready ? 200 : 503, ready ? R"({"status":"ready"})" : R"({"status":"draining"})"));
    }
    if (path == "/metrics") return write(text_response(request, 200, metrics().render(), "text/plain; version=0.0.4"));

    request_ = std::move(request);
    auto respond = [self = shared_from_this()](Response response) { self->write(std::move(response)); };
    if (handle_rest(request_, context_, stream_.get_executor(), respond)) return;
    write(json_error(request_, 404, "NotFound", "No such endpoint."));
  }

  void upgrade(Request request) {
    auto decision = authorize_connect(request, context_);
    if (decision.refusal) return write(std::move(*decision.refusal));
    transport::WebSocketLimits limits;
    // A WebSocket message may batch several hub records; each record is bounded by max_message_bytes.
    limits.max_message_bytes = std::max<std::size_t>(context_.config.connection.max_message_bytes * 4, 64 * 1024);
    limits.max_send_queue_bytes = context_.config.connection.max_send_queue_bytes;
    auto ws = std::make_shared<transport::WebSocketTransport>(std::move(stream_), limits);
    Shard& shard = shard_;
    const config::ConnectionConfig& connection_config = context_.config.connection;
    ws->accept(std::move(request), [&shard, &connection_config, identity = std::move(decision.identity)](
                                       std::shared_ptr<transport::WebSocketTransport> accepted) mutable {
      connection::ConnectionContext connection_context{connection_config, shard.connections, *shard.dispatcher};
      std::make_shared<connection::Connection>(std::move(identity), std::move(accepted), connection_context)->start();
    });
  }

  void write(Response response) {
    response_ = std::make_shared<Response>(std::move(response));
    bool keep_alive = response_->keep_alive();
    stream_.expires_after(request_deadline);
    beast_http::async_write(stream_, *response_,
                            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                              self->response_.reset();
                              if (!ec && self->must_linger_) return self->linger_close();
                              if (ec || !keep_alive) return self->close();
                              self->do_read();
                            });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  // After an early error response (413, 431, 400) the client may still be sending its body. Closing
  // with unread input makes the kernel send a reset that can destroy the response before the client
  // reads it, so stop sending, then read and discard for a bounded time and size before closing.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    discard_ = std::make_unique<std::array<char, 16 * 1024>>();
    do_discard();
  }

  void do_discard() {
    stream_.async_read_some(boost::asio::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              self->discarded_bytes_ += bytes;
                              if (ec || self->discarded_bytes_ > 4 * 1024 * 1024) return self->stream_.close();
                              self->do_discard();
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<beast_http::request_parser<beast_http::string_body>> parser_;
  Request request_;  // kept while a REST call is answered asynchronously
  std::shared_ptr<Response> response_;
  bool must_linger_ = false;
  std::unique_ptr<std::array<char, 16 * 1024>> discard_;  // only while lingering
  std::size_t discarded_bytes_ = 0;
  Shard& shard_;
  GatewayContext& context_;
};

}  // namespace

void serve_http(boost::asio::ip::tcp::socket socket, Shard& shard, GatewayContext& context) {
  std::make_shared<HttpSession>(std::move(socket), shard, context)->run();
}

}  // namespace sb::http
