#include "http/http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <array>
#include <optional>

#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/metrics.hpp"
#include "connection/connection.hpp"
#include "http/client_endpoints.hpp"
#include "http/gateway_context.hpp"
#include "http/responses.hpp"
#include "http/rest_api.hpp"
#include "http/shard.hpp"
#include "http/tls_certificates.hpp"
#include "http/url_query.hpp"
#include "transport/client_stream.hpp"
#include "transport/cross_thread_transport.hpp"
#include "transport/long_polling_transport.hpp"
#include "transport/sse_transport.hpp"
#include "transport/websocket_transport.hpp"

namespace sb::http {
namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using beast_http::verb;

using transport::ClientStream;

constexpr std::size_t header_limit_bytes = 16 * 1024;  // Azure: 16 KB of headers

// Scanners and plaintext clients on a TLS port fail their handshakes by the thousand: one line a second.
log::LogThrottle tls_failure_log_throttle(std::chrono::seconds(1));

// Answers a request on a socket that has no session (a resume that can't happen), then closes it.
void write_and_close(ClientStream stream, Response response) {
  struct Pending {
    ClientStream stream;
    Response response;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(stream), std::move(response)});
  pending->response.prepare_payload();
  pending->stream.next_layer().expires_after(std::chrono::seconds(5));
  beast_http::async_write(pending->stream, pending->response, [pending](beast::error_code, std::size_t) {
    beast::error_code ignored;
    pending->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    pending->stream.next_layer().close();
  });
}

// A stateful reconnect that can't resume: gone (404; the client's reconnect fails) or live without
// stateful reconnect (409).
Response resume_refusal(const Request& request, unsigned status) {
  auto response = json_error(request, status, status == 409 ? "ConnectionInUse" : "ConnectionNotFound",
                             status == 409 ? "The connection is already active." : "No Connection with that ID");
  response.keep_alive(false);
  return response;
}

// TLS when the gateway has a certificate: then every socket on the listener speaks it.
ClientStream make_client_stream(boost::asio::ip::tcp::socket&& socket, const GatewayContext& context) {
  if (context.tls)
    if (auto tls = context.tls->current()) return ClientStream(beast::tcp_stream(std::move(socket)), std::move(tls));
  return ClientStream(beast::tcp_stream(std::move(socket)));
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, Shard& shard, GatewayContext& context)
      : stream_(make_client_stream(std::move(socket), context)), shard_(shard), context_(context) {}

  void run() {
    if (!stream_.is_tls()) return do_read();
    tcp().expires_after(request_timeout());  // a client that never finishes its hello is cut off too
    stream_.tls().async_handshake(boost::asio::ssl::stream_base::server,
                                  beast::bind_front_handler(&HttpSession::on_handshake, shared_from_this()));
  }

 private:
  beast::tcp_stream& tcp() { return stream_.next_layer(); }
  std::chrono::milliseconds request_timeout() const { return context_.config.server.request_timeout; }

  // A failed handshake (plaintext HTTP, garbage, an unsupported version, a client that gave up) ends
  // this socket only.
  void on_handshake(beast::error_code ec) {
    if (ec) {
      metrics().rejected_input.with("tls_handshake").inc();
      if (auto skipped = tls_failure_log_throttle.admit(log::LogThrottle::Clock::now()))
        log::info("http", "tls_handshake_failed", {{"error", ec.message()}, {"skipped", *skipped}});
      beast::error_code ignored;
      tcp().socket().close(ignored);
      return;
    }
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->header_limit(header_limit_bytes);
    parser_->body_limit(context_.config.rest.max_body_bytes);
    tcp().expires_after(request_timeout());
    beast_http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == beast_http::error::end_of_stream || ec == beast::error::timeout || ec == boost::asio::error::operation_aborted ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof ||
        ec == boost::asio::ssl::error::stream_truncated)
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

  // Checked before anything reads the target: the header limit bounds it, these make the answer clear.
  bool is_target_within_limits(const Request& request) {
    const auto& server = context_.config.server;
    auto target = request.target();
    if (target.size() > server.max_url_bytes) {
      metrics().rejected_input.with("url_too_long").inc();
      log::info("http", "url_too_long", {{"bytes", target.size()}, {"sample", log::sample(target, 64)}});
      write(json_error(request, 414, "UriTooLong", "The URL is over " + std::to_string(server.max_url_bytes) + " bytes."));
      return false;
    }
    if (count_query_parameters(split_target(target).query) > server.max_query_parameters) {
      metrics().rejected_input.with("too_many_query_parameters").inc();
      log::info("http", "too_many_query_parameters", {{"sample", log::sample(target, 64)}});
      write(json_error(request, 400, "TooManyQueryParameters",
                       "The query has over " + std::to_string(server.max_query_parameters) + " parameters."));
      return false;
    }
    return true;
  }

  void route(Request request) {
    if (!is_target_within_limits(request)) return;
    auto target = split_target(request.target());
    auto path = target.path;
    bool is_client_path = path == "/client" || path == "/client/" || path == "/client/negotiate";

    if (request.method() == verb::options && (is_client_path || path.substr(0, 5) == "/api/"))
      return write(cors_preflight(request));
    if (path == "/client/negotiate") return negotiate(std::move(request));
    if (path == "/client" || path == "/client/") return client_request(std::move(request));
    if (path == "/api/v1/health" || path == "/api/health" || path == "/health/live") {
      auto response = make_response(request, 200);
      response.prepare_payload();
      return write(std::move(response));
    }
    if (path == "/health/ready") {
      bool ready = context_.is_ready.load();
      // Degraded (Redis unreachable) still serves its own connections, so it stays in rotation: 200.
      const char* body = !ready ? R"({"status":"draining"})"
                         : context_.backplane.is_degraded() ? R"({"status":"degraded"})"
                                                            : R"({"status":"ready"})";
      return write(json_response(request, ready ? 200 : 503, body));
    }
    if (path == "/metrics") return write(text_response(request, 200, metrics().render(), "text/plain; version=0.0.4"));

    request_ = std::move(request);
    auto respond = [self = shared_from_this()](Response response) { self->write(std::move(response)); };
    if (handle_rest(request_, context_, stream_.get_executor(), respond)) return;
    write(json_error(request_, 404, "NotFound", "No such endpoint."));
  }

  // /client/?hub=H&id=T: the WebSocket upgrade, the SSE stream, long polls, sends and stops
  // (PROTOCOL.md part 1 §2 for the statuses).
  void client_request(Request request) {
    const bool is_websocket = beast::websocket::is_upgrade(request);
    const bool is_sse = !is_websocket && request.method() == verb::get &&
                        std::string_view(request[beast_http::field::accept]).find("text/event-stream") != std::string_view::npos;
    auto client = read_client_request(request, context_, is_websocket || is_sse);
    if (client.refusal) return write(std::move(*client.refusal));
    if (is_websocket) return upgrade(std::move(request), client);
    if (client.connection_token.empty())
      return write(client_response(request, json_error(request, 400, "MissingId", "Connection ID required")));
    switch (request.method()) {
      case verb::get:
        return is_sse ? open_sse(std::move(request), client) : poll(std::move(request), client);
      case verb::post:
        return send_to_connection(std::move(request), client);
      case verb::delete_:
        return stop_polling(std::move(request), client);
      default:
        return write(client_response(request, json_error(request, 405, "MethodNotAllowed", "Use GET, POST or DELETE.")));
    }
  }

  // May wait for the blocking `connect` function; the answer comes back on this thread.
  void negotiate(Request request) {
    request_ = std::move(request);
    handle_negotiate(request_, NegotiateServices{context_, shard_.reliable_upstream, stream_.get_executor()},
                     [self = shared_from_this()](Response response) { self->write(std::move(response)); });
  }

  static Response client_response(const Request& request, Response response) {
    add_cors(request, response);
    return response;
  }

  connection::ConnectionContext connection_context() {
    return connection::ConnectionContext{context_.config.connection, shard_.connections, *shard_.dispatcher};
  }

  // Answers from another thread come back through a post: the session is only touched on its own.
  std::function<void(Response)> respond_here() {
    return [self = shared_from_this()](Response response) {
      boost::asio::post(self->stream_.get_executor(),
                        [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    };
  }

  transport::WebSocketLimits websocket_limits() const {
    transport::WebSocketLimits limits;
    // A WebSocket message may batch several hub records; each record is bounded by max_message_bytes.
    limits.max_message_bytes = std::max<std::size_t>(context_.config.connection.max_message_bytes * 4, 64 * 1024);
    limits.max_send_queue_bytes = context_.config.connection.max_send_queue_bytes;
    return limits;
  }

  void upgrade(Request request, ClientRequest& client) {
    // A live WebSocket connection asked for again: a stateful reconnect resumes it (on its own thread).
    if (!client.connection_token.empty()) {
      if (auto entry = context_.directory.find(client.connection_token);
          entry && entry->kind == TransportKind::websockets && !entry->connection.expired()) {
        return hand_off_for_resume(std::move(request), std::move(*entry));
      }
    }
    auto decision = open_connection(request, client, context_, /*may_create_without_id=*/true);
    if (decision.refusal) return write(std::move(*decision.refusal));
    auto ws = std::make_shared<transport::WebSocketTransport>(std::move(stream_), websocket_limits());
    ws->accept(std::move(request), [context = connection_context(), identity = std::move(decision.identity),
                                    token = client.connection_token, &directory = context_.directory,
                                    executor = shard_.io.get_executor()](
                                       std::shared_ptr<transport::WebSocketTransport> accepted) mutable {
      auto hub_key = identity.hub_key;
      auto connection = std::make_shared<connection::Connection>(std::move(identity), accepted, context);
      if (!token.empty())
        directory.add(token, {executor, accepted, TransportKind::websockets, std::move(hub_key), connection});
      connection->start();
    });
  }

  // The connection lives on another thread: move the socket there (same file descriptor, that thread's
  // io_context), finish the upgrade, and resume. Nothing else touches the connection off its thread.
  void hand_off_for_resume(Request request, DirectoryEntry entry) {
    if (stream_.is_tls()) return resume_over_tls(std::move(request), std::move(entry));
    beast::error_code ec;
    auto protocol = stream_.socket().local_endpoint(ec).protocol();
    tcp().expires_never();
    auto fd = ec ? -1 : stream_.socket().release(ec);
    if (ec || fd < 0) return close();
    boost::asio::post(entry.executor, [fd, protocol, executor = entry.executor, weak = entry.connection,
                                       limits = websocket_limits(), request = std::move(request)]() mutable {
      boost::asio::ip::tcp::socket socket(executor, protocol, fd);
      auto connection = weak.lock();
      if (!connection || !connection->can_resume())
        return write_and_close(ClientStream(beast::tcp_stream(std::move(socket))),
                               resume_refusal(request, connection ? 409 : 404));
      auto ws = std::make_shared<transport::WebSocketTransport>(ClientStream(beast::tcp_stream(std::move(socket))), limits);
      ws->accept(std::move(request), [connection](std::shared_ptr<transport::WebSocketTransport> accepted) {
        connection->resume(std::move(accepted));
      });
    });
  }

  // A TLS session can't move threads with its socket (cross_thread_transport.hpp). Ask the connection's
  // thread whether it can resume; if so finish the upgrade here and give the connection the WebSocket,
  // through a CrossThreadTransport when it lives on another thread.
  void resume_over_tls(Request request, DirectoryEntry entry) {
    request_ = std::move(request);
    auto here = stream_.get_executor();
    boost::asio::post(entry.executor, [self = shared_from_this(), here, entry]() mutable {
      auto connection = entry.connection.lock();
      unsigned refusal = !connection ? 404 : connection->can_resume() ? 0 : 409;
      boost::asio::post(here, [self = std::move(self), entry = std::move(entry), refusal]() mutable {
        self->finish_resume_over_tls(std::move(entry), refusal);
      });
    });
  }

  void finish_resume_over_tls(DirectoryEntry entry, unsigned refusal) {
    if (refusal) return write(resume_refusal(request_, refusal));
    auto here = stream_.get_executor();
    auto ws = std::make_shared<transport::WebSocketTransport>(std::move(stream_), websocket_limits());
    ws->accept(std::move(request_), [here, entry = std::move(entry)](std::shared_ptr<transport::WebSocketTransport> accepted) {
      std::shared_ptr<transport::Transport> transport = accepted;
      if (entry.executor != here) {
        log::info("http", "tls_resume_across_threads", {});
        transport = std::make_shared<transport::CrossThreadTransport>(std::move(accepted), here, entry.executor);
      }
      boost::asio::post(entry.executor, [weak = entry.connection, transport = std::move(transport)] {
        if (auto connection = weak.lock()) return connection->resume(transport);  // aborts it if too late
        transport->abort();
      });
    });
  }

  void open_sse(Request request, ClientRequest& client) {
    auto decision = open_connection(request, client, context_, false);
    if (decision.refusal) return write(std::move(*decision.refusal));
    std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache,no-store\r\n"
        "Pragma: no-cache\r\nContent-Encoding: identity\r\nX-Accel-Buffering: no\r\n"
        "Transfer-Encoding: chunked\r\nServer: switchboard\r\n";
    if (auto origin = request[beast_http::field::origin]; !origin.empty() && origin.find_first_of("\r\n") == std::string_view::npos)
      head += "Access-Control-Allow-Origin: " + std::string(origin) + "\r\nAccess-Control-Allow-Credentials: true\r\n";
    head += "\r\n";
    auto sse = std::make_shared<transport::SseTransport>(std::move(stream_), std::move(head),
                                                         context_.config.connection.max_send_queue_bytes);
    context_.directory.add(client.connection_token,
                           {shard_.io.get_executor(), sse, TransportKind::server_sent_events, decision.identity.hub_key});
    std::make_shared<connection::Connection>(std::move(decision.identity), std::move(sse), connection_context())->start();
  }

  static Response poll_response(const Request& request, transport::PollResponse poll) {
    auto response = make_response(request, static_cast<unsigned>(poll.status));
    if (poll.status == 200) response.set(beast_http::field::content_type, "application/octet-stream");
    response.body() = std::move(poll.body);
    response.prepare_payload();
    add_cors(request, response);
    return response;
  }

  void poll(Request request, ClientRequest& client) {
    if (auto entry = context_.directory.find(client.connection_token)) {
      if (entry->kind != TransportKind::long_polling)
        return write(client_response(request, json_error(request, 400, "WrongTransport", "This connection does not use long polling.")));
      Request basis{request.method(), request.target(), request.version()};
      basis.keep_alive(request.keep_alive());
      basis.set(beast_http::field::origin, request[beast_http::field::origin]);
      boost::asio::post(entry->executor, [weak = entry->transport, respond = respond_here(), basis = std::move(basis)] {
        auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(weak.lock());
        if (!lp) return respond(poll_response(basis, {404, {}}));
        lp->poll([respond, basis](transport::PollResponse poll) { respond(poll_response(basis, std::move(poll))); });
      });
      return;
    }
    // The first poll creates the connection and returns at once; the client ignores its body.
    auto decision = open_connection(request, client, context_, false);
    if (decision.refusal) return write(std::move(*decision.refusal));
    transport::LongPollingLimits limits;
    limits.disconnect_timeout = context_.config.connection.negotiate_timeout;
    limits.max_buffered_bytes = context_.config.connection.max_send_queue_bytes;
    auto lp = std::make_shared<transport::LongPollingTransport>(shard_.io.get_executor(), limits);
    context_.directory.add(client.connection_token,
                           {shard_.io.get_executor(), lp, TransportKind::long_polling, decision.identity.hub_key});
    std::make_shared<connection::Connection>(std::move(decision.identity), std::move(lp), connection_context())->start();
    write(poll_response(request, {200, {}}));
  }

  void send_to_connection(Request request, ClientRequest& client) {
    auto entry = context_.directory.find(client.connection_token);
    if (!entry) return write(client_response(request, json_error(request, 404, "ConnectionNotFound", "No Connection with that ID")));
    if (entry->kind == TransportKind::websockets)
      return write(client_response(request, json_error(request, 405, "MethodNotAllowed", "POST requests are not allowed for WebSocket connections.")));
    Request basis{request.method(), request.target(), request.version()};
    basis.keep_alive(request.keep_alive());
    basis.set(beast_http::field::origin, request[beast_http::field::origin]);
    boost::asio::post(entry->executor, [weak = entry->transport, kind = entry->kind, respond = respond_here(),
                                        basis = std::move(basis), body = std::move(request.body())] {
      auto transport = weak.lock();
      bool received = false;
      if (kind == TransportKind::long_polling) {
        if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(transport))
          received = lp->receive(body, transport::FrameFormat::text);
      } else if (auto sse = std::dynamic_pointer_cast<transport::SseTransport>(transport)) {
        received = sse->receive(body, transport::FrameFormat::text);
      }
      auto response = received ? make_response(basis, 200) : json_error(basis, 404, "ConnectionNotFound", "No Connection with that ID");
      response.prepare_payload();
      respond(client_response(basis, std::move(response)));
    });
  }

  void stop_polling(Request request, ClientRequest& client) {
    auto entry = context_.directory.find(client.connection_token);
    if (!entry) return write(client_response(request, json_error(request, 404, "ConnectionNotFound", "No Connection with that ID")));
    if (entry->kind != TransportKind::long_polling)
      return write(client_response(request, json_error(request, 400, "WrongTransport", "Cannot terminate this connection using the DELETE endpoint.")));
    boost::asio::post(entry->executor, [weak = entry->transport] {
      if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(weak.lock())) lp->stop();
    });
    auto response = make_response(request, 202);
    response.prepare_payload();
    write(client_response(request, std::move(response)));
  }

  void write(Response response) {
    // Draining: a refused or unknown-id request came over a kept-alive socket; close it, so the client's
    // retry opens a new socket, which reaches our successor instead of us.
    if (response.result_int() >= 400 && context_.is_draining.load(std::memory_order_relaxed))
      response.keep_alive(false);
    response_ = std::make_shared<Response>(std::move(response));
    bool keep_alive = response_->keep_alive();
    tcp().expires_after(request_timeout());
    beast_http::async_write(stream_, *response_,
                            [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                              self->response_.reset();
                              if (!ec && self->must_linger_) return self->linger_close();
                              if (ec || !keep_alive) return self->close();
                              self->do_read();
                            });
  }

  // Over TLS no close_notify is sent: every response is delimited by its length (or chunks), so a
  // truncation can't go unnoticed, and waiting for the peer's reply would only hold the socket.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    tcp().close();
  }

  // After an early error response (413, 431, 400) the client may still be sending its body. Closing
  // with unread input makes the kernel send a reset that can destroy the response before the client
  // reads it, so stop sending, then read and discard for a bounded time and size before closing.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    tcp().expires_after(std::chrono::seconds(2));
    discard_ = std::make_unique<std::array<char, 16 * 1024>>();
    do_discard();
  }

  void do_discard() {
    // Raw bytes, TLS or not: they are thrown away unread.
    tcp().async_read_some(boost::asio::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t bytes) {
                              self->discarded_bytes_ += bytes;
                              if (ec || self->discarded_bytes_ > 4 * 1024 * 1024) return self->tcp().close();
                              self->do_discard();
                            });
  }

  ClientStream stream_;
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
