#pragma once
// The client endpoint (PROTOCOL.md part 2 §1.2): POST /client/negotiate?hub=H and the connect request
// /client/?hub=H&id=TOKEN. Both verify the client's access token (HS256/HS512 over the key ring, Azure's
// audience rule). Only http/*.cpp includes this.
#include <optional>

#include "connection/connection.hpp"
#include "http/gateway_context.hpp"
#include "http/responses.hpp"

namespace sb::http {

Response handle_negotiate(const Request& request, GatewayContext& context);

struct ConnectDecision {
  std::optional<Response> refusal;  // set: answer it and don't upgrade
  connection::ConnectionIdentity identity;
};

// Checks a WebSocket connect request: hub, token, and the negotiated id it names (taken: single use).
ConnectDecision authorize_connect(const Request& request, GatewayContext& context);

}  // namespace sb::http
