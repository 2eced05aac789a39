#pragma once
// The client endpoint (PROTOCOL.md part 2 §1.2): POST /client/negotiate?hub=H and the connect request
// /client/?hub=H&id=TOKEN. Both verify the client's access token (HS256/HS512 over the key ring, Azure's
// audience rule). Only server/*.cpp includes this.
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <optional>

#include "auth/connection_token.hpp"
#include "connection/connection_identity.hpp"
#include "server/gateway_context.hpp"
#include "http/responses.hpp"

namespace sb::upstream {
class ReliableUpstream;
}

namespace sb::server {

struct NegotiateServices {
  GatewayContext& context;
  upstream::ReliableUpstream& upstream;   // the calling thread's: the blocking `connect` call goes through it
  boost::asio::any_io_executor executor;  // the calling thread's executor
  std::function<void()> authenticated;    // the request's token checked out (HttpSession::authenticated)
};

// POST /client/negotiate. Answers through `respond` exactly once, on the calling thread: at once, or,
// when a rule names the blocking `connect` event (PROTOCOL.md part 3 §3.7), once the function replied.
// Never blocks. Refuses while draining (503), over --negotiate-rate or --max-connections-per-user (429).
void handle_negotiate(const http::Request& request, NegotiateServices services, std::function<void(http::Response)> respond);

// POST /client/refresh?hub=H&id=TOKEN with `Authorization: Bearer <fresh access token>` (ASP.NET Core's
// authentication refresh, docs/upstream.md "Token refresh"): the connection, on this gateway or another
// of the fleet, takes the new token's claims and expiry when it names the same user. Answers through
// `respond` once, on `executor`: 200 {"tokenLifetimeSeconds"}, or {"error"} with 400, 401, 403, 404.
void handle_token_refresh(const http::Request& request, GatewayContext& context, boost::asio::any_io_executor executor,
                          std::function<void(http::Response)> respond);

// A request on /client/: its hub, the connection its token names (id=), and the verified caller.
struct ClientRequest {
  std::optional<http::Response> refusal;  // set: answer it (400 bad hub, 401 bad access token, 403 token
                                          // bound to another hub or user, 404 malformed or forged token)
  std::string hub;
  std::optional<auth::ConnectionTicket> ticket;  // empty when the request has no id
  auth::Claims claims;
  std::int64_t token_expires_at = 0;  // unix seconds: the access token's exp

  // The connection id the token names; empty without a token.
  const std::string& connection_id() const;
};

// Reads the hub and id and verifies the access token: the Authorization header, or the access_token
// query parameter where Azure reads it (WebSocket and SSE requests without a header). Then verifies the
// connection token (any key of the ring) and its binding: the hub and the user of the access token
// must be the ones negotiate bound it to.
ClientRequest read_client_request(const http::Request& request, GatewayContext& context, bool is_query_token_allowed);

struct ConnectDecision {
  std::optional<http::Response> refusal;  // set: answer it and don't connect (404 unknown id, 409 in use)
  connection::ConnectionIdentity identity;
  std::int64_t keep_until_ms = 0;         // how long the directory must remember the id (the token's expiry)
};

// Turns a connection token into a connection identity, reserving its id in the directory (a token opens
// one connection). Refused when the id is live (409), ended or the token expired (404). Without an id,
// creates a new connection when `may_create_without_id` (WebSockets with skipNegotiation), unless a
// `connect` rule gates the hub (403: skipping negotiate would skip the function). Refused with 503
// while draining.
ConnectDecision open_connection(const http::Request& request, ClientRequest& client, GatewayContext& context,
                                bool may_create_without_id);

}  // namespace sb::server
