#include "server/follow_ups.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <chrono>

#include "backplane/identity_codec.hpp"
#include "connection/connection.hpp"
#include "http/rest_input.hpp"
#include "protocol/json_hub_protocol.hpp"
#include "server/handoff.hpp"
#include "transport/long_polling_transport.hpp"
#include "transport/sse_transport.hpp"

namespace sb::server {

namespace {

constexpr std::string_view json_type = "application/json; charset=utf-8";

FollowUpAnswer json_error_answer(std::uint16_t status, std::string_view code, std::string_view message) {
  return {status, std::string(json_type),
          R"({"code":)" + protocol::json_quote(code) + R"(,"message":)" + protocol::json_quote(message) + "}"};
}

// A REST :invoke's answer (docs/rest-api.md "Client results"): the client's result, or why there is none.
FollowUpAnswer client_result_answer(connection::ClientResult result) {
  using connection::ClientResultKind;
  switch (result.kind) {
    case ClientResultKind::result:
      return {200, std::string(json_type), R"({"result":)" + result.text + "}"};
    case ClientResultKind::error:
      return json_error_answer(500, "Error.Invocation.ClientError", result.text);
    case ClientResultKind::timeout:
      return json_error_answer(500, "Error.Invocation.Timeout", "The client did not complete the invocation in time.");
    case ClientResultKind::closed:
      return json_error_answer(500, "Error.Connection.Closed", "The connection ended before the client completed the invocation.");
    case ClientResultKind::too_many:
      return json_error_answer(429, "Error.Invocation.TooMany", result.text);
    case ClientResultKind::not_open:
      return json_error_answer(404, "Error.Connection.NotExisted", "The connection does not exist.");
  }
  return json_error_answer(500, "Error.Invocation.Failed", "The invocation failed.");
}

}  // namespace

FollowUpAnswer connection_not_found_answer() {
  return json_error_answer(404, "ConnectionNotFound", "No Connection with that ID");
}

void run_follow_up(const DirectoryEntry& entry, backplane::FollowUp request, AnswerFollowUp answer) {
  using backplane::RelayKind;
  // The transport checks of PROTOCOL.md part 1 §2, answered where the request arrived.
  if (request.kind == RelayKind::send && entry.kind == TransportKind::websockets)
    return answer(json_error_answer(405, "MethodNotAllowed", "POST requests are not allowed for WebSocket connections."));
  if (request.kind == RelayKind::poll && entry.kind != TransportKind::long_polling)
    return answer(json_error_answer(400, "WrongTransport", "This connection does not use long polling."));
  if (request.kind == RelayKind::stop && entry.kind != TransportKind::long_polling)
    return answer(json_error_answer(400, "WrongTransport", "Cannot terminate this connection using the DELETE endpoint."));

  boost::asio::post(entry.executor, [weak = entry.transport, weak_connection = entry.connection, kind = entry.kind,
                                     request = std::move(request), answer = std::move(answer)]() mutable {
    auto transport = weak.lock();
    switch (request.kind) {
      case RelayKind::invoke: {
        auto connection = weak_connection.lock();
        auto payload = http::parse_rest_send_body(request.body);  // checked where it arrived; read again here
        if (!connection || !payload) return answer(client_result_answer({connection::ClientResultKind::not_open, {}}));
        return connection->invoke_client(payload->target, payload->arguments_json, request.answer_within,
                                         [answer = std::move(answer)](connection::ClientResult result) {
                                           answer(client_result_answer(std::move(result)));
                                         });
      }
      case RelayKind::send: {
        bool received = false;
        if (kind == TransportKind::long_polling) {
          if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(transport))
            received = lp->receive(request.body, transport::FrameFormat::text);
        } else if (auto sse = std::dynamic_pointer_cast<transport::SseTransport>(transport)) {
          received = sse->receive(request.body, transport::FrameFormat::text);
        }
        return answer(received ? FollowUpAnswer{200, {}, {}} : connection_not_found_answer());
      }
      case RelayKind::poll: {
        auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(transport);
        if (!lp) return answer(connection_not_found_answer());
        return lp->poll([answer = std::move(answer)](transport::PollResponse poll) {
          FollowUpAnswer a{static_cast<std::uint16_t>(poll.status), {}, std::move(poll.body)};
          if (a.status == 200) a.content_type = "application/octet-stream";
          answer(std::move(a));
        });
      }
      case RelayKind::refresh: {
        auto connection = weak_connection.lock();
        auto refreshed = backplane::decode_identity(request.body);  // made by handle_token_refresh
        if (!connection || !refreshed) return answer(connection_not_found_answer());
        const auto expires_at = refreshed->token_expires_at;
        if (!connection->refresh_token(std::move(refreshed->claims), expires_at)) return answer(connection_not_found_answer());
        // ASP.NET: the lifetime left, in whole seconds, so the client schedules its next refresh.
        const auto now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch()).count();
        return answer({200, std::string(json_type),
                       R"({"tokenLifetimeSeconds":)" + std::to_string(std::max<std::int64_t>(expires_at - now, 0)) + "}"});
      }
      case RelayKind::take:     // served by serve_handoff
      case RelayKind::console:  // served by the gateway's console
        return answer(connection_not_found_answer());
      case RelayKind::stop:
        if (auto lp = std::dynamic_pointer_cast<transport::LongPollingTransport>(transport)) lp->stop();
        return answer({202, {}, {}});
    }
  });
}

void run_follow_up_anywhere(ConnectionDirectory& directory, backplane::Backplane& backplane, backplane::FollowUp request,
                            boost::asio::any_io_executor reply_on, backplane::Backplane::RelayDone done) {
  auto found = directory.find(request.connection_id, unix_now_ms());
  if (found.presence != Presence::live) return backplane.relay(std::move(request), std::move(reply_on), std::move(done));
  run_follow_up(found.entry, std::move(request), [reply_on, done = std::move(done)](FollowUpAnswer answer) mutable {
    boost::asio::post(reply_on, [done = std::move(done), answer = std::move(answer)]() mutable { done(std::move(answer)); });
  });
}

void serve_relayed_follow_up(ConnectionDirectory& directory, backplane::FollowUp request, AnswerFollowUp answer) {
  if (request.kind == backplane::RelayKind::take) return serve_handoff(directory, std::move(request), std::move(answer));
  auto found = directory.find(request.connection_id, unix_now_ms());
  if (found.presence != Presence::live) return answer(connection_not_found_answer());
  run_follow_up(found.entry, std::move(request), std::move(answer));
}

http::Response follow_up_response(const http::Request& basis, const FollowUpAnswer& answer) {
  auto response = http::make_response(basis, answer.status);
  if (!answer.content_type.empty()) response.set(boost::beast::http::field::content_type, answer.content_type);
  response.body() = answer.body;
  response.prepare_payload();
  http::add_cors(basis, response);
  return response;
}

}  // namespace sb::server
