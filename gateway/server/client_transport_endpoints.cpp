#include "server/client_transport_endpoints.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "common/log.hpp"
#include "connection/connection.hpp"
#include "http/http_session.hpp"
#include "http/responses.hpp"
#include "server/client_endpoints.hpp"
#include "server/gateway_context.hpp"
#include "server/server_log.hpp"
#include "server/shard.hpp"
#include "transport/cross_thread_transport.hpp"
#include "transport/long_polling_transport.hpp"
#include "transport/sse_transport.hpp"
#include "transport/websocket_transport.hpp"

namespace sb::server {
using namespace sb::http;  // requests, responses, the session

namespace {

namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using beast_http::verb;
using transport::ClientStream;

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

// The parts of a request a deferred answer needs: status line, keep-alive, Origin for CORS.
Request basis_of(const Request& request) {
  Request basis{request.method(), request.target(), request.version()};
  basis.keep_alive(request.keep_alive());
  basis.set(beast_http::field::origin, request[beast_http::field::origin]);
  return basis;
}

Response poll_response(const Request& request, transport::PollResponse poll) {
  auto response = make_response(request, static_cast<unsigned>(poll.status));
  if (poll.status == 200) response.set(beast_http::field::content_type, "application/octet-stream");
  response.body() = std::move(poll.body);
  response.prepare_payload();
  add_cors(request, response);
  return response;
}

// One request's worth of work: the session, its shard, and the gateway's shared state.
class ClientTransportRequest {
 public:
  ClientTransportRequest(HttpSession& session, Shard& shard, GatewayContext& context)
      : session_(session), request_(session.request()), shard_(shard), context_(context) {}

  void handle() {
    const bool is_websocket = beast::websocket::is_upgrade(request_);
    const bool is_sse = !is_websocket && request_.method() == verb::get &&
                        std::string_view(request_[beast_http::field::accept]).find("text/event-stream") != std::string_view::npos;
    auto client = read_client_request(request_, context_, is_websocket || is_sse);
    if (client.refusal) return session_.write(std::move(*client.refusal));
    if (is_websocket) return upgrade(client);
    if (!client.ticket) return write_client(json_error(request_, 400, "MissingId", "Connection ID required"));
    switch (request_.method()) {
      case verb::get: return is_sse ? open_sse(client) : poll(client);
      case verb::post: return send_to_connection(client);
      case verb::delete_: return stop_polling(client);
      default: return write_client(json_error(request_, 405, "MethodNotAllowed", "Use GET, POST or DELETE."));
    }
  }

 private:
  void write_client(Response response) {
    add_cors(request_, response);
    session_.write(std::move(response));
  }

  transport::WebSocketLimits websocket_limits() const {
    transport::WebSocketLimits limits;
    // A WebSocket message may batch several hub records; each record is bounded by max_message_bytes.
    limits.max_message_bytes = std::max<std::size_t>(context_.config.connection.max_message_bytes * 4, 64 * 1024);
    limits.max_send_queue_bytes = context_.config.connection.max_send_queue_bytes;
    return limits;
  }

  // The one place a connection starts: indexed by its id (when a connection token opened it: others
  // can't be asked for again), then started on this shard. Every transport's first request ends here.
  static void start_connection(Shard& shard, GatewayContext& context, ConnectDecision decision,
                               std::shared_ptr<transport::Transport> transport, TransportKind kind, bool is_indexed) {
    auto id = decision.identity.connection_id;
    auto hub_key = decision.identity.hub_key;
    auto connection = std::make_shared<connection::Connection>(
        std::move(decision.identity), transport,
        connection::ConnectionContext{context.config.connection, shard.connections, *shard.dispatcher});
    if (is_indexed)
      context.directory.add(id, {shard.io.get_executor(), transport, kind, std::move(hub_key), connection, decision.keep_until_ms},
                            unix_now_ms());
    connection->start();
  }

  void upgrade(ClientRequest& client) {
    if (auto refusal = websocket_upgrade_refusal(request_)) {
      log::emit(log_events::upgrade_refused, {{"version", std::string_view(request_[beast_http::field::sec_websocket_version])}});
      return session_.write(std::move(*refusal));
    }
    // A live WebSocket connection asked for again: a stateful reconnect resumes it (on its own thread).
    if (client.ticket) {
      if (auto found = context_.directory.find(client.connection_id(), unix_now_ms());
          found.presence == Presence::live && found.entry.kind == TransportKind::websockets &&
          !found.entry.connection.expired()) {
        return hand_off_for_resume(std::move(found.entry));
      }
    }
    auto decision = open_connection(request_, client, context_, /*may_create_without_id=*/true);
    if (decision.refusal) return session_.write(std::move(*decision.refusal));
    auto ws = std::make_shared<transport::WebSocketTransport>(session_.take_stream(), websocket_limits());
    ws->accept(std::move(request_), [&shard = shard_, &context = context_, decision = std::move(decision),
                                     is_indexed = client.ticket.has_value()](std::shared_ptr<transport::WebSocketTransport> accepted) mutable {
      start_connection(shard, context, std::move(decision), std::move(accepted), TransportKind::websockets, is_indexed);
    });
  }

  // The connection lives on another thread: move the socket there (same file descriptor, that thread's
  // io_context), finish the upgrade, and resume. Nothing else touches the connection off its thread.
  void hand_off_for_resume(DirectoryEntry entry) {
    if (session_.is_tls()) return resume_over_tls(std::move(entry));
    auto stream = session_.take_stream();
    beast::error_code ec;
    auto protocol = stream.socket().local_endpoint(ec).protocol();
    stream.next_layer().expires_never();
    auto fd = ec ? -1 : stream.socket().release(ec);
    if (ec || fd < 0) return;  // the stream closes its socket
    boost::asio::post(entry.executor, [fd, protocol, executor = entry.executor, weak = entry.connection,
                                       limits = websocket_limits(), request = std::move(request_)]() mutable {
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
  void resume_over_tls(DirectoryEntry entry) {
    auto here = session_.executor();
    auto limits = websocket_limits();
    boost::asio::post(entry.executor, [session = session_.shared_from_this(), here, entry, limits]() mutable {
      auto connection = entry.connection.lock();
      unsigned refusal = !connection ? 404 : connection->can_resume() ? 0 : 409;
      boost::asio::post(here, [session = std::move(session), entry = std::move(entry), refusal, limits]() mutable {
        finish_resume_over_tls(*session, std::move(entry), refusal, limits);
      });
    });
  }

  static void finish_resume_over_tls(HttpSession& session, DirectoryEntry entry, unsigned refusal,
                                     transport::WebSocketLimits limits) {
    if (refusal) return session.write(resume_refusal(session.request(), refusal));
    auto here = session.executor();
    auto ws = std::make_shared<transport::WebSocketTransport>(session.take_stream(), limits);
    ws->accept(std::move(session.request()), [here, entry = std::move(entry)](std::shared_ptr<transport::WebSocketTransport> accepted) {
      std::shared_ptr<transport::Transport> transport = accepted;
      if (entry.executor != here) {
        log::emit(log_events::tls_resume_across_threads);
        transport = std::make_shared<transport::CrossThreadTransport>(std::move(accepted), here, entry.executor);
      }
      boost::asio::post(entry.executor, [weak = entry.connection, transport = std::move(transport)] {
        if (auto connection = weak.lock()) return connection->resume(transport);  // aborts it if too late
        transport->abort();
      });
    });
  }

  void open_sse(ClientRequest& client) {
    auto decision = open_connection(request_, client, context_, false);
    if (decision.refusal) return session_.write(std::move(*decision.refusal));
    auto sse = std::make_shared<transport::SseTransport>(session_.take_stream(), sse_response_head(request_),
                                                         context_.config.connection.max_send_queue_bytes);
    start_connection(shard_, context_, std::move(decision), std::move(sse), TransportKind::server_sent_events, true);
  }

  void poll(ClientRequest& client) {
    auto found = context_.directory.find(client.connection_id(), unix_now_ms());
    if (found.presence == Presence::ended) return write_client(connection_not_found(request_));
    if (found.presence == Presence::live) {
      auto* entry = &found.entry;
      if (entry->kind != TransportKind::long_polling)
        return write_client(json_error(request_, 400, "WrongTransport", "This connection does not use long polling."));
      boost::asio::post(entry->executor, [weak = entry->transport, respond = session_.respond_here(), basis = basis_of(request_)] {
        auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(weak.lock());
        if (!lp) return respond(poll_response(basis, {404, {}}));
        lp->poll([respond, basis](transport::PollResponse poll) { respond(poll_response(basis, std::move(poll))); });
      });
      return;
    }
    // The first poll creates the connection and returns at once; the client ignores its body.
    auto decision = open_connection(request_, client, context_, false);
    if (decision.refusal) return session_.write(std::move(*decision.refusal));
    transport::LongPollingLimits limits;
    limits.disconnect_timeout = context_.config.connection.negotiate_timeout;
    limits.max_buffered_bytes = context_.config.connection.max_send_queue_bytes;
    auto lp = std::make_shared<transport::LongPollingTransport>(shard_.io.get_executor(), limits);
    start_connection(shard_, context_, std::move(decision), std::move(lp), TransportKind::long_polling, true);
    session_.write(poll_response(request_, {200, {}}));
  }

  void send_to_connection(ClientRequest& client) {
    auto found = context_.directory.find(client.connection_id(), unix_now_ms());
    if (found.presence != Presence::live) return write_client(connection_not_found(request_));
    auto* entry = &found.entry;
    if (entry->kind == TransportKind::websockets)
      return write_client(json_error(request_, 405, "MethodNotAllowed", "POST requests are not allowed for WebSocket connections."));
    boost::asio::post(entry->executor, [weak = entry->transport, kind = entry->kind, respond = session_.respond_here(),
                                        basis = basis_of(request_), body = std::move(request_.body())] {
      auto transport = weak.lock();
      bool received = false;
      if (kind == TransportKind::long_polling) {
        if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(transport))
          received = lp->receive(body, transport::FrameFormat::text);
      } else if (auto sse = std::dynamic_pointer_cast<transport::SseTransport>(transport)) {
        received = sse->receive(body, transport::FrameFormat::text);
      }
      auto response = received ? make_response(basis, 200) : connection_not_found(basis);
      response.prepare_payload();
      add_cors(basis, response);
      respond(std::move(response));
    });
  }

  void stop_polling(ClientRequest& client) {
    auto found = context_.directory.find(client.connection_id(), unix_now_ms());
    if (found.presence != Presence::live) return write_client(connection_not_found(request_));
    auto* entry = &found.entry;
    if (entry->kind != TransportKind::long_polling)
      return write_client(json_error(request_, 400, "WrongTransport", "Cannot terminate this connection using the DELETE endpoint."));
    boost::asio::post(entry->executor, [weak = entry->transport] {
      if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(weak.lock())) lp->stop();
    });
    auto response = make_response(request_, 202);
    response.prepare_payload();
    write_client(std::move(response));
  }

  HttpSession& session_;
  Request& request_;
  Shard& shard_;
  GatewayContext& context_;
};

}  // namespace

void ClientTransportEndpoints::handle(HttpSession& session) const { ClientTransportRequest(session, shard_, context_).handle(); }

}  // namespace sb::server
