#pragma once
// Both ends of a handoff (PROTOCOL.md part 3 §3.8, docs/scaling.md "Rolling restarts"): a
// stateful-reconnect connection moves to the gateway its client's stateful reconnect reached, under the
// same id, with its groups, sequence numbers and unacknowledged messages, and the function sees no
// `connected` or `disconnected`.
//
// How nothing is lost or repeated: the arriving gateway starts recording what its shard runs
// (hub/arrival_log.hpp) before it asks the holder, through Redis, for the connection (a relayed `take`).
// The holder reads its fan-out positions as it hands the request to the connection's thread
// (backplane/redis_backplane.cpp, order_mutex_), takes the connection out there and answers with its
// state and those positions (backplane/handoff_state.hpp). Every action the holder ran for the
// connection is in that state; every later one is numbered past the positions, and was recorded here
// since the ask (it reached Redis after it). The connection then runs, on itself alone, the recorded
// actions past the positions, and is live: the client's Sequence and the replay do the rest.
#include <memory>

#include "backplane/backplane.hpp"
#include "http/http_session.hpp"
#include "server/client_endpoints.hpp"
#include "server/follow_ups.hpp"
#include "transport/websocket_transport.hpp"

namespace sb::server {

struct Shard;

// The holder's end: a `take` another gateway relayed here. Answers 200 with the state, 404 when the
// connection is not a WebSocket connection here, 409 when it can't resume, 503 while its upstream
// events are in flight (the asker asks again).
void serve_handoff(ConnectionDirectory& directory, backplane::FollowUp request, AnswerFollowUp answer);

// The arriving end: a stateful reconnect for a connection another gateway holds. Takes it over and
// resumes it on this session's WebSocket; or answers the session 404 (nobody holds it) or 409 (it can't
// move). On the session's thread, which becomes the connection's.
void take_over(std::shared_ptr<http::HttpSession> session, Shard& shard, GatewayContext& context,
               auth::ConnectionTicket ticket, transport::WebSocketLimits limits);

}  // namespace sb::server
