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
#include "server/follow_ups.hpp"
#include "server/gateway_context.hpp"
#include "server/handoff.hpp"
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

// Sends a follow-up to the gateway of the fleet that holds its connection, and its answer to the client
// (404 when no gateway holds it).
void relay_follow_up(HttpSession& session, GatewayContext& context, backplane::FollowUp request) {
  context.backplane.relay(std::move(request), session.executor(),
                          [respond = session.respond_here(), basis = basis_of(session.request())](
                              std::optional<FollowUpAnswer> answer) {
                            respond(follow_up_response(basis, answer ? *answer : connection_not_found_answer()));
                          });
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
    session_.authenticated();
    if (is_websocket) return upgrade(client);
    if (!client.ticket) return write_client(json_error(request_, 400, "MissingId", "Connection ID required"));
    switch (request_.method()) {
      case verb::get: return is_sse ? open_sse(client) : poll(client);
      case verb::post:
        // The body (messages) is read only now that the tokens are checked.
        return session_.read_body([&shard = shard_, &context = context_, client = std::move(client)](HttpSession& session) mutable {
          ClientTransportRequest(session, shard, context).follow_up(client, backplane::RelayKind::send);
        });
      case verb::delete_: return follow_up(client, backplane::RelayKind::stop);
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
      context.directory.add(id,
                            {shard.io.get_executor(), transport, kind, std::move(hub_key), connection,
                             kind == TransportKind::websockets ? &shard.registry : nullptr, decision.keep_until_ms},
                            unix_now_ms());
    connection->start();
  }

  // Opens the connection the request names: the local checks (open_connection), then, for a negotiated
  // id, the fleet's claim, so one gateway opens it. `opened` or `taken` runs on this session's thread.
  using Opened = std::function<void(ConnectDecision)>;
  void open_claimed(ClientRequest& client, bool may_create_without_id, Opened opened, std::function<void()> taken) {
    auto decision = open_connection(request_, client, context_, may_create_without_id);
    if (decision.refusal) return session_.write(std::move(*decision.refusal));
    if (!client.ticket) return opened(std::move(decision));  // a fresh random id: nobody else has it
    // Until the token expires (nobody can open it after that), and its handshake time: by then the
    // connection is registered with its gateway, where relays look first.
    auto ttl = std::chrono::milliseconds(decision.keep_until_ms - unix_now_ms()) + context_.config.connection.handshake_timeout;
    auto id = decision.identity.connection_id;
    context_.backplane.claim_connection(
        id, ttl, session_.executor(),
        [session = session_.shared_from_this(), &context = context_, id, decision = std::move(decision),
         opened = std::move(opened), taken = std::move(taken)](backplane::ClaimResult result) mutable {
          if (result == backplane::ClaimResult::granted) return opened(std::move(decision));
          context.directory.release(id);  // another gateway's: relay to it from now on
          taken();
        });
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
    // A stateful reconnect whose token can no longer open a connection (older than --negotiate-timeout)
    // can still resume one: another gateway of the fleet may hold it. If none does, the answer is 404,
    // as for any expired token.
    if (client.ticket && client.ticket->allows_stateful_reconnect && unix_now_ms() > client.ticket->expires_at_ms &&
        !context_.is_draining.load(std::memory_order_relaxed))
      return take_over(session_.shared_from_this(), shard_, context_, *client.ticket, websocket_limits());
    auto session = session_.shared_from_this();
    auto opened = [session, &shard = shard_, &context = context_, limits = websocket_limits(),
                   is_indexed = client.ticket.has_value()](ConnectDecision decision) mutable {
      auto ws = std::make_shared<transport::WebSocketTransport>(session->take_stream(), limits);
      ws->accept(std::move(session->request()), [&shard, &context, decision = std::move(decision),
                                                 is_indexed](std::shared_ptr<transport::WebSocketTransport> accepted) mutable {
        start_connection(shard, context, std::move(decision), std::move(accepted), TransportKind::websockets, is_indexed);
      });
    };
    // Live on another gateway: a stateful reconnect takes it over (a handoff, server/handoff.hpp); any
    // other connect is refused as in use.
    auto ticket = client.ticket;
    open_claimed(client, /*may_create_without_id=*/true, std::move(opened),
                 [session, &shard = shard_, &context = context_, ticket = std::move(ticket), limits = websocket_limits()] {
                   if (!ticket || !ticket->allows_stateful_reconnect)
                     return session->write(resume_refusal(session->request(), 409));
                   take_over(session, shard, context, *ticket, limits);
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
                                       ticket = stream.release_ticket(), limits = websocket_limits(),
                                       request = std::move(request_)]() mutable {
      ClientStream moved(beast::tcp_stream(boost::asio::ip::tcp::socket(executor, protocol, fd)));
      moved.hold(std::move(ticket));
      auto connection = weak.lock();
      if (!connection || !connection->can_resume())
        return write_and_close(std::move(moved), resume_refusal(request, connection ? 409 : 404));
      auto ws = std::make_shared<transport::WebSocketTransport>(std::move(moved), limits);
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
    auto session = session_.shared_from_this();
    open_claimed(
        client, false,
        [session, &shard = shard_, &context = context_](ConnectDecision decision) {
          auto sse = std::make_shared<transport::SseTransport>(session->take_stream(), sse_response_head(session->request()),
                                                               context.config.connection.max_send_queue_bytes);
          start_connection(shard, context, std::move(decision), std::move(sse), TransportKind::server_sent_events, true);
        },
        [session] { session->write(resume_refusal(session->request(), 409)); });
  }

  void poll(ClientRequest& client) {
    backplane::FollowUp request{backplane::RelayKind::poll, client.connection_id(), {}, {}};
    auto found = context_.directory.find(request.connection_id, unix_now_ms());
    if (found.presence == Presence::ended) return write_client(connection_not_found(request_));
    if (found.presence == Presence::live)
      return run_follow_up(found.entry, std::move(request),
                           [respond = session_.respond_here(), basis = basis_of(request_)](FollowUpAnswer answer) {
                             respond(follow_up_response(basis, answer));
                           });
    // Not here: the first poll, which creates the connection and returns at once (the client ignores its
    // body), unless another gateway of the fleet opened it.
    auto session = session_.shared_from_this();
    open_claimed(
        client, false,
        [session, &shard = shard_, &context = context_](ConnectDecision decision) {
          transport::LongPollingLimits limits;
          limits.disconnect_timeout = context.config.connection.negotiate_timeout;
          limits.max_buffered_bytes = context.config.connection.max_send_queue_bytes;
          auto lp = std::make_shared<transport::LongPollingTransport>(shard.io.get_executor(), limits);
          start_connection(shard, context, std::move(decision), std::move(lp), TransportKind::long_polling, true);
          session->write(follow_up_response(session->request(), {200, "application/octet-stream", {}}));
        },
        [session, &context = context_, request = std::move(request)]() mutable {
          relay_follow_up(*session, context, std::move(request));
        });
  }

  // A send (POST) or a stop (DELETE): here, on another gateway of the fleet, or nowhere (404).
  void follow_up(ClientRequest& client, backplane::RelayKind kind) {
    backplane::FollowUp request{kind, client.connection_id(), {}, {}};
    if (kind == backplane::RelayKind::send) request.body = std::move(request_.body());
    auto found = context_.directory.find(request.connection_id, unix_now_ms());
    if (found.presence == Presence::ended) return write_client(connection_not_found(request_));
    if (found.presence == Presence::unknown) return relay_follow_up(session_, context_, std::move(request));
    run_follow_up(found.entry, std::move(request),
                  [respond = session_.respond_here(), basis = basis_of(request_)](FollowUpAnswer answer) {
                    respond(follow_up_response(basis, answer));
                  });
  }

  HttpSession& session_;
  Request& request_;
  Shard& shard_;
  GatewayContext& context_;
};

}  // namespace

void ClientTransportEndpoints::handle(HttpSession& session) const { ClientTransportRequest(session, shard_, context_).handle(); }

}  // namespace sb::server
