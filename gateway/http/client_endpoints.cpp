#include "http/client_endpoints.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <strings.h>

#include <chrono>

#include "auth/audience.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "hub/upstream_reply.hpp"
#include "http/url_query.hpp"
#include "protocol/negotiate.hpp"

namespace sb::http {
namespace {

namespace beast_http = boost::beast::http;

struct HubQuery {
  std::optional<Response> refusal;
  std::string hub;
  QueryParams params;
};

HubQuery read_hub(const Request& request) {
  HubQuery out;
  auto target = split_target(request.target());
  auto params = parse_query(target.query);
  if (!params) {
    out.refusal = json_error(request, 400, "InvalidQuery", "The query string is malformed.");
    return out;
  }
  auto hubs = query_values(*params, "hub");
  if (hubs.size() != 1) {
    out.refusal = json_error(request, 400, "InvalidHub", hubs.empty() ? "The hub query parameter is required."
                                                                      : "The hub query parameter must appear once.");
    return out;
  }
  if (!hub::is_valid_hub_name(hubs[0])) {
    out.refusal = json_error(request, 400, "InvalidHub",
                             "Invalid hub name: a letter, then letters, digits or _`,.[] (at most 128).");
    return out;
  }
  out.hub = hubs[0];
  out.params = std::move(*params);
  return out;
}

// Azure's rule: the Authorization header wins; access_token in the query only for WebSocket and SSE
// requests without one (emu:AppBuilderExtensions.cs).
std::string bearer_token(const Request& request, const QueryParams& params, bool query_allowed) {
  auto header = request[beast_http::field::authorization];
  if (header.size() > 7 && strncasecmp(header.data(), "Bearer ", 7) == 0) return std::string(header.substr(7));
  if (!query_allowed) return {};
  return query_value(params, "access_token").value_or("");
}

Result<auth::VerifiedToken> verify_client_token(const Request& request, const std::string& token, const std::string& hub,
                                                GatewayContext& context) {
  auto host = request[beast_http::field::host];
  return auth::verify_jwt(token, *context.keys, std::chrono::system_clock::now(),
                          [&](std::string_view audience) { return auth::client_audience_matches(audience, host, hub); });
}

}  // namespace

Response handle_negotiate(const Request& request, GatewayContext& context) {
  auto respond = [&](Response response) {
    metrics().negotiations.with(std::to_string(response.result_int())).inc();
    add_cors(request, response);
    return response;
  };
  if (request.method() != beast_http::verb::post)
    return respond(json_error(request, 405, "MethodNotAllowed", "Negotiate is a POST."));
  auto hub = read_hub(request);
  if (hub.refusal) return respond(std::move(*hub.refusal));

  auto token = verify_client_token(request, bearer_token(request, hub.params, false), hub.hub, context);
  if (!token) {
    log::info("client", "negotiate_unauthorized", {{"hub", hub.hub}, {"error", token.error().message}});
    return respond(unauthorized(request, token.error().message));
  }

  int version = 0;
  if (auto v = query_value(hub.params, "negotiateVersion")) version = *v == "0" || v->empty() ? 0 : 1;
  protocol::NegotiateResponse negotiate;
  negotiate.connection_id = random_id();
  negotiate.negotiate_version = version;
  // Version 0 clients use the connection id as the token (PROTOCOL.md part 1 §1).
  negotiate.connection_token = version >= 1 ? random_id() : negotiate.connection_id;

  // Granted only to a client that asks (useStatefulReconnect=true, read case-insensitively as ASP.NET does).
  negotiate.use_stateful_reconnect =
      context.config.connection.allow_stateful_reconnect && query_value(hub.params, "useStatefulReconnect") == "true";
  NegotiatedConnection pending{negotiate.connection_id, hub.hub, auth::user_id_from_claims(token->claims), token->claims,
                               negotiate.use_stateful_reconnect};
  if (!context.negotiated.add(negotiate.connection_token, std::move(pending), std::chrono::steady_clock::now())) {
    log::warn("client", "negotiate_table_full", {{"hub", hub.hub}});
    auto response = json_error(request, 429, "TooManyRequests", "Too many pending connections; retry shortly.");
    response.set(beast_http::field::retry_after, "1");
    return respond(std::move(response));
  }
  negotiate.server_sent_events = true;
  negotiate.long_polling = true;
  return respond(json_response(request, 200, protocol::encode_negotiate_response(negotiate)));
}

ClientRequest read_client_request(const Request& request, GatewayContext& context, bool is_query_token_allowed) {
  ClientRequest out;
  auto refuse = [&](Response response) {
    add_cors(request, response);
    out.refusal = std::move(response);
    return std::move(out);
  };
  auto hub = read_hub(request);
  if (hub.refusal) return refuse(std::move(*hub.refusal));
  out.hub = hub.hub;
  out.connection_token = query_value(hub.params, "id").value_or("");
  auto token = verify_client_token(request, bearer_token(request, hub.params, is_query_token_allowed), hub.hub, context);
  if (!token) {
    log::info("client", "connect_unauthorized", {{"hub", hub.hub}, {"error", token.error().message}});
    return refuse(unauthorized(request, token.error().message));
  }
  out.claims = std::move(token->claims);
  return out;
}

ConnectDecision open_connection(const Request& request, ClientRequest& client, GatewayContext& context,
                                bool may_create_without_id) {
  ConnectDecision decision;
  auto refuse = [&](Response response) {
    add_cors(request, response);
    decision.refusal = std::move(response);
    return std::move(decision);
  };
  auto& identity = decision.identity;
  if (client.connection_token.empty()) {
    // skipNegotiation: a WebSocket without an id is a new connection (ASP.NET GetOrCreateConnectionAsync).
    if (!may_create_without_id) return refuse(json_error(request, 400, "MissingId", "Connection ID required"));
    identity.connection_id = random_id();
    identity.user_id = auth::user_id_from_claims(client.claims);
  } else {
    auto pending = context.negotiated.take(client.connection_token, std::chrono::steady_clock::now());
    if (!pending || hub::hub_key_of(pending->hub) != hub::hub_key_of(client.hub)) {
      // A live connection asked for again: 409 (ASP.NET), else unknown: 404.
      if (context.directory.find(client.connection_token))
        return refuse(json_error(request, 409, "ConnectionInUse", "The connection is already active."));
      return refuse(json_error(request, 404, "ConnectionNotFound", "No Connection with that ID"));
    }
    identity.connection_id = std::move(pending->connection_id);
    identity.user_id = std::move(pending->user_id);
    identity.allows_stateful_reconnect = pending->allows_stateful_reconnect;
  }
  identity.hub = client.hub;
  identity.hub_key = hub::hub_key_of(client.hub);
  identity.claims = std::move(client.claims);
  // The client's query goes upstream without its secrets: the access token and the connection token.
  identity.client_query = query_without(split_target(request.target()).query, {"access_token", "id"});
  return decision;
}

}  // namespace sb::http
