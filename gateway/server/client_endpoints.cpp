#include "server/client_endpoints.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <algorithm>
#include <chrono>
#include <memory>

#include "auth/audience.hpp"
#include "auth/bearer.hpp"
#include "auth/connection_token.hpp"
#include "backplane/identity_codec.hpp"
#include "common/ascii.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/server_span.hpp"
#include "http/url_query.hpp"
#include "hub/action.hpp"
#include "hub/hub_name.hpp"
#include "hub/upstream_reply.hpp"
#include "protocol/json_hub_protocol.hpp"
#include "protocol/negotiate.hpp"
#include "server/follow_ups.hpp"
#include "server/server_log.hpp"
#include "tracing/otlp_exporter.hpp"
#include "tracing/trace_context.hpp"
#include "upstream/connect_request.hpp"
#include "upstream/reliable_upstream.hpp"
#include "upstream/upstream_log.hpp"

namespace sb::server {
using namespace sb::http;  // requests, responses and query helpers

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
  if (auto token = auth::bearer_token(header); !token.empty()) return std::string(token);
  if (!query_allowed) return {};
  return query_value(params, "access_token").value_or("");
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The host a client token's audience must name: --public-endpoint's, or the request's Host header.
std::string_view audience_host(const Request& request, const GatewayContext& context) {
  const auto& public_host = context.config.server.public_host;
  return public_host.empty() ? std::string_view(request[beast_http::field::host]) : std::string_view(public_host);
}

// A refused client token's log line; for a wrong audience it names the audience sent and the one
// expected (both sampled: the Host header is the caller's).
void log_unauthorized(const log::Event& event, const Request& request, const std::string& hub, const Error& error,
                      const GatewayContext& context) {
  if (error.code != "invalid_audience") return log::emit(event, {{"hub", hub}, {"error", error.message}});
  log::emit(event, {{"hub", hub},
                    {"error", error.message},
                    {"audience", log::sample(error.detail, 200)},
                    {"expected", log::sample(auth::expected_client_audience(audience_host(request, context), hub), 200)}});
}

Result<auth::VerifiedToken> verify_client_token(const Request& request, const std::string& token, const std::string& hub,
                                                GatewayContext& context) {
  const auto& config = context.config;
  std::string_view host = audience_host(request, context);
  auth::JwtLimits limits;
  limits.max_lifetime = std::chrono::duration_cast<std::chrono::seconds>(config.limits.max_token_lifetime);
  return auth::verify_jwt(token, *context.keys, std::chrono::system_clock::now(),
                          [&](std::string_view audience) { return auth::client_audience_matches(audience, host, hub); },
                          limits);
}

}  // namespace

namespace {

// What a negotiate needs once the checks passed, possibly after the `connect` function answered.
struct NegotiateDraft {
  std::string hub;
  std::string bound_user;  // the access token's user: every later request must carry the same
  std::string user_id;     // the connection's user: bound_user, unless the `connect` function replaced it
  std::vector<std::string> groups;
  int negotiate_version = 0;
  bool use_stateful_reconnect = false;
  std::int64_t token_expires_at = 0;  // unix seconds: the access token's exp
};

// The parts of a request a deferred answer needs (status line, keep-alive, Origin for CORS).
Request basis_of(const Request& request) {
  Request basis{request.method(), request.target(), request.version()};
  basis.keep_alive(request.keep_alive());
  if (auto origin = request[beast_http::field::origin]; !origin.empty()) basis.set(beast_http::field::origin, origin);
  return basis;
}

// A refusal the client reads: @microsoft/signalr puts a non-2xx negotiate body into its error
// ("Failed to complete negotiation with the server: Error: <body>: Status code '403'"), so the body is
// the reason as plain text, not our JSON error shape.
Response plain_refusal(const Request& request, unsigned status, std::string text) {
  return text_response(request, status, std::move(text), "text/plain; charset=utf-8");
}

Response too_many(const Request& request, std::string text, std::chrono::seconds retry_after) {
  auto response = plain_refusal(request, 429, std::move(text));
  if (retry_after.count() > 0) response.set(beast_http::field::retry_after, std::to_string(retry_after.count()));
  return response;
}

Response user_limit_refusal(const Request& request, GatewayContext& context, const std::string& hub,
                            const std::string& user_id) {
  context.admission.record(RefusalReason::user_limit, hub, user_id, "negotiate");
  return too_many(request,
                  "Too many connections for user '" + user_id + "': at most " +
                      std::to_string(context.admission.max_connections_per_user()) + " at once.",
                  std::chrono::seconds(0));
}

// The negotiate's answer: a self-contained connection token (auth/connection_token.hpp) that any
// gateway of the fleet accepts until --negotiate-timeout passes. Nothing is stored.
Response finish_negotiate(const Request& request, GatewayContext& context, NegotiateDraft draft) {
  auth::ConnectionTicket ticket;
  // Version 0 clients use the connection id as the token (PROTOCOL.md part 1 §1): the token then is
  // the id, and the ticket names none.
  if (draft.negotiate_version >= 1) ticket.connection_id = random_id();
  ticket.hub_key = hub::hub_key_of(draft.hub);
  ticket.bound_user = std::move(draft.bound_user);
  ticket.user_id = std::move(draft.user_id);
  ticket.allows_stateful_reconnect = draft.use_stateful_reconnect;
  ticket.groups = std::move(draft.groups);
  ticket.expires_at_ms = unix_now_ms() + context.config.connection.negotiate_timeout.count();

  protocol::NegotiateResponse negotiate;
  negotiate.negotiate_version = draft.negotiate_version;
  negotiate.connection_token = auth::encode_connection_token(ticket, *context.keys);
  if (negotiate.connection_token.empty())  // only a user id or groups of kilobytes get here
    return plain_refusal(request, 400, "The user id and groups don't fit in a connection token (" +
                                           std::to_string(auth::max_connection_token_bytes) + " bytes).");
  negotiate.connection_id = draft.negotiate_version >= 1 ? ticket.connection_id : negotiate.connection_token;
  negotiate.use_stateful_reconnect = draft.use_stateful_reconnect;
  if (draft.token_expires_at > 0)
    negotiate.token_lifetime_seconds = std::max<std::int64_t>(draft.token_expires_at - unix_now_ms() / 1000, 0);
  negotiate.server_sent_events = true;
  negotiate.long_polling = true;
  return json_response(request, 200, protocol::encode_negotiate_response(negotiate));
}

// A blocking `connect` reply's groups ride in the connection token, which rides in URLs: bounded.
constexpr std::size_t max_connect_group_bytes = 2048;

// The `connect` function's answer turned into the negotiate's (PROTOCOL.md part 3 §3.7, docs/upstream.md).
Response on_connect_reply(const Request& request, const NegotiateServices& services, NegotiateDraft draft,
                          upstream::CallOutcome outcome, const upstream::HttpResponse& response) {
  auto& context = services.context;
  auto unavailable = [&](std::string detail) {
    context.admission.record(RefusalReason::connect_unavailable, draft.hub, draft.user_id, detail);
    auto refusal = plain_refusal(request, 503, "The connect function is unavailable; try again later.");
    refusal.set(beast_http::field::retry_after, "5");
    return refusal;
  };
  if (outcome != upstream::CallOutcome::ok) {
    metrics().upstream_requests.with(upstream::to_string(outcome)).inc();
    // Fail closed: a function that gates connections is an access check, and a dead one must not open it.
    return unavailable(std::string(upstream::to_string(outcome)) + " " + response.error_detail);
  }
  bool is_success = response.status >= 200 && response.status < 300;
  metrics().upstream_requests.with(is_success ? "success" : "http_error").inc();
  if (response.status == 401 || response.status == 403) {
    auto reason = hub::refusal_reason(response.content_type, response.body,
                                      response.status == 401 ? "Unauthorized" : "Forbidden");
    context.admission.record(RefusalReason::connect_refused, draft.hub, draft.user_id, log::sample(reason, 64));
    return plain_refusal(request, static_cast<unsigned>(response.status), std::move(reason));
  }
  if (!is_success) return unavailable("status " + std::to_string(response.status));

  auto reply =
      hub::parse_connect_reply(response.content_type, response.body,
                               hub::ReplyContext{hub::hub_key_of(draft.hub), protocol::HubProtocolKind::json, 1000});
  if (!reply) {
    metrics().upstream_requests.with("invalid_reply").inc();
    log::emit(upstream::log_events::invalid_reply,
              {{"hub", draft.hub},
               {"event", "connect"},
               {"error", reply.error().message},
               {"sample", log::sample(response.body)}});
    return unavailable("invalid reply");
  }
  if (reply->user_id && *reply->user_id != draft.user_id) {
    draft.user_id = std::move(*reply->user_id);
    if (context.admission.is_user_at_limit(draft.user_id))
      return user_limit_refusal(request, context, draft.hub, draft.user_id);
  }
  std::size_t group_bytes = 0;
  for (const auto& group : reply->groups) group_bytes += group.size() + 2;
  if (group_bytes > max_connect_group_bytes) {
    metrics().upstream_requests.with("invalid_reply").inc();
    log::emit(upstream::log_events::invalid_reply, {{"hub", draft.hub},
                                                     {"event", "connect"},
                                                     {"error", "groups: over " + std::to_string(max_connect_group_bytes) +
                                                                   " bytes of names (they travel in the connection token)"}});
    return unavailable("invalid reply");
  }
  draft.groups = std::move(reply->groups);
  for (auto& action : reply->actions)
    context.backplane.publish(std::make_shared<const hub::Action>(std::move(action)), services.executor, nullptr);
  return finish_negotiate(request, context, std::move(draft));
}

// The span of a negotiate's blocking `connect` call, under the negotiate's span; started only while
// spans are exported.
tracing::Span connect_call_span(const tracing::Span& negotiate, const std::string& hub) {
  tracing::Span span;
  span.context = tracing::child_of(negotiate.context);
  span.parent_span_id = negotiate.context.span_id;
  if (negotiate.start_unix_nanos == 0) return span;
  span.trace_state = negotiate.trace_state;
  span.kind = tracing::SpanKind::client;
  span.name = "upstream connect";
  span.start_unix_nanos = tracing::unix_nanos_now();
  span.attributes = {{"switchboard.hub", hub}, {"switchboard.event", "connect"}};
  return span;
}

void record_connect_call_span(tracing::Span span, upstream::CallOutcome outcome, int status) {
  if (span.start_unix_nanos == 0) return;
  span.end_unix_nanos = tracing::unix_nanos_now();
  span.is_error = outcome != upstream::CallOutcome::ok || status < 200 || status >= 300;
  span.attributes.emplace_back("switchboard.outcome", std::string(upstream::to_string(outcome)));
  span.attributes.emplace_back("http.response.status_code", std::to_string(status));
  tracing::record(std::move(span));
}

Response draining_refusal(const Request& request, GatewayContext& context, std::string_view hub) {
  context.admission.record(RefusalReason::draining, hub, "", "");
  auto response = plain_refusal(request, 503, "The server is shutting down; connect again.");
  response.set(beast_http::field::retry_after, "1");
  // A client that retries over this same kept-alive socket would reach us again, not our successor.
  response.keep_alive(false);
  return response;
}

}  // namespace

void handle_negotiate(const Request& request, NegotiateServices services, std::function<void(Response)> respond_to) {
  auto& context = services.context;
  auto basis = std::make_shared<const Request>(basis_of(request));
  // The negotiate's span: its answer names it (as a REST call's does), and a blocking connect call is
  // its child.
  auto span = std::make_shared<const tracing::Span>(http::server_span(request, "negotiate"));
  auto respond = [basis, span, respond_to = std::move(respond_to)](Response response) {
    metrics().negotiations.with(std::to_string(response.result_int())).inc();
    add_cors(*basis, response);
    response.set("traceparent", span->context.header());
    if (span->start_unix_nanos != 0) http::finish_server_span(*span, response.result_int());
    respond_to(std::move(response));
  };
  if (request.method() != beast_http::verb::post)
    return respond(json_error(request, 405, "MethodNotAllowed", "Negotiate is a POST."));
  if (context.is_draining.load(std::memory_order_relaxed)) return respond(draining_refusal(request, context, ""));
  auto rate = context.admission.take_negotiate_token(std::chrono::steady_clock::now());
  if (!rate.is_allowed) {
    context.admission.record(RefusalReason::negotiate_rate, "", "", "");
    return respond(too_many(
        request, "Too many negotiate requests; retry after " + std::to_string(rate.retry_after.count()) + " s.",
        rate.retry_after));
  }
  auto hub = read_hub(request);
  if (hub.refusal) return respond(std::move(*hub.refusal));

  auto token = verify_client_token(request, bearer_token(request, hub.params, false), hub.hub, context);
  if (!token) {
    log_unauthorized(log_events::negotiate_unauthorized, request, hub.hub, token.error(), context);
    return respond(client_unauthorized(request, token.error().message));
  }
  if (services.authenticated) services.authenticated();

  NegotiateDraft draft;
  draft.hub = hub.hub;
  draft.bound_user = auth::user_id_from_claims(token->claims);
  draft.user_id = draft.bound_user;
  draft.token_expires_at = unix_seconds(token->expires_at);
  if (auto v = query_value(hub.params, "negotiateVersion")) draft.negotiate_version = *v == "0" || v->empty() ? 0 : 1;
  if (context.admission.is_user_at_limit(draft.user_id))
    return respond(user_limit_refusal(request, context, draft.hub, draft.user_id));
  if (auto budget = context.admission.take_user_negotiate(draft.user_id, std::chrono::steady_clock::now());
      !budget.is_allowed) {
    context.admission.record(RefusalReason::user_negotiate_rate, draft.hub, draft.user_id, "negotiate");
    return respond(too_many(request,
                            "Too many negotiate requests for user '" + draft.user_id + "'; retry after " +
                                std::to_string(budget.retry_after.count()) + " s.",
                            budget.retry_after));
  }

  // Granted only to a client that asks (useStatefulReconnect=true, read case-insensitively as ASP.NET does).
  draft.use_stateful_reconnect =
      context.config.connection.allow_stateful_reconnect && query_value(hub.params, "useStatefulReconnect") == "true";

  const auto* rule = upstream::find_connect_rule(context.config.upstream.rules, draft.hub);
  if (!rule) return respond(finish_negotiate(request, context, std::move(draft)));

  upstream::ConnectCaller caller;
  caller.hub = draft.hub;
  caller.user_id = draft.user_id;
  caller.claims = token->claims;
  for (auto& [name, value] : hub.params)
    if (!iequals(name, "access_token")) caller.query.emplace_back(name, value);
  caller.client_query = query_without(split_target(request.target()).query, {"access_token"});
  // The blocking `connect` call is a span of the negotiate's trace, under the negotiate's own.
  auto connect_span = std::make_shared<tracing::Span>(connect_call_span(*span, draft.hub));
  caller.trace_parent = connect_span->context.header();
  if (!span->parent_span_id.empty()) caller.trace_state = tracing::accepted_tracestate(request["tracestate"]);
  auto call = upstream::build_connect_request(*rule, *context.keys, caller, std::chrono::system_clock::now());
  auto started = std::chrono::steady_clock::now();
  // The reply arrives on this thread (the upstream client is this shard's), so the session is answered
  // where it lives. The function may take a while: nothing waits for it but this one negotiate.
  services.upstream.send(std::move(call), upstream::Delivery::at_most_once,
                         [basis, respond, services, draft = std::move(draft), started, connect_span](
                             upstream::CallOutcome outcome, upstream::HttpResponse response, std::size_t) mutable {
                           metrics().upstream_latency.observe(std::chrono::steady_clock::now() - started);
                           record_connect_call_span(std::move(*connect_span), outcome, response.status);
                           respond(on_connect_reply(*basis, services, std::move(draft), outcome, response));
                         });
}

namespace {

// ASP.NET's refresh answers: {"error": code} (dotnet/aspnetcore#67226).
Response refresh_error(const Request& request, unsigned status, std::string_view code) {
  auto response = json_response(request, status, R"({"error":)" + protocol::json_quote(code) + "}");
  if (status == 401) response.set(beast_http::field::www_authenticate, "Bearer");
  return response;
}

}  // namespace

void handle_token_refresh(const Request& request, GatewayContext& context, boost::asio::any_io_executor executor,
                          std::function<void(Response)> respond) {
  auto answer = [&](Response response) {
    add_cors(request, response);
    respond(std::move(response));
  };
  if (request.method() != beast_http::verb::post) {
    auto response = plain_refusal(request, 405, "Method Not Allowed");
    response.set(beast_http::field::allow, "POST");
    return answer(std::move(response));
  }
  auto hub = read_hub(request);
  if (hub.refusal) return answer(std::move(*hub.refusal));
  auto id = query_value(hub.params, "id").value_or("");
  if (id.empty()) return answer(refresh_error(request, 400, "missing_connection_token"));
  // Only the header: a token in a URL ends up in logs.
  auto token = verify_client_token(request, bearer_token(request, hub.params, false), hub.hub, context);
  if (!token) {
    log_unauthorized(log_events::connect_unauthorized, request, hub.hub, token.error(), context);
    return answer(refresh_error(request, 401, "invalid_token"));
  }
  auto ticket = auth::decode_connection_token(id, *context.keys);
  if (!ticket || ticket->hub_key != hub::hub_key_of(hub.hub)) {
    metrics().rejected_input.with("connection_token").inc();
    return answer(refresh_error(request, 404, "connection_not_found"));
  }
  if (ticket->connection_id.empty()) return answer(refresh_error(request, 400, "unsupported_negotiate_version"));
  // The same user or nothing: user routing and groups stay with the connection (as in ASP.NET).
  auto user = auth::user_id_from_claims(token->claims);
  if (user != ticket->bound_user) {
    log::emit(log_events::token_refresh_refused,
              {{"conn", ticket->connection_id}, {"hub", hub.hub}, {"user", user}, {"reason", "other_user"}});
    return answer(refresh_error(request, 403, "permission_change_rejected"));
  }
  // The claims and expiry the connection takes, in the identity codec's form, for the relay to its gateway.
  connection::ConnectionIdentity refreshed;
  refreshed.connection_id = ticket->connection_id;
  refreshed.hub = hub.hub;
  refreshed.claims = std::move(token->claims);
  refreshed.token_expires_at = unix_seconds(token->expires_at);
  backplane::FollowUp follow_up;
  follow_up.kind = backplane::RelayKind::refresh;
  follow_up.connection_id = ticket->connection_id;
  follow_up.body = backplane::encode_identity(refreshed);
  run_follow_up_anywhere(context.directory, context.backplane, std::move(follow_up), executor,
                         [basis = std::make_shared<Request>(request), respond, connection_id = ticket->connection_id,
                          hub = hub.hub, user](std::optional<backplane::FollowUpAnswer> outcome) {
                           Response response = outcome && outcome->status == 200
                                                   ? follow_up_response(*basis, *outcome)
                                                   : refresh_error(*basis, 404, "connection_not_found");
                           if (!outcome || outcome->status != 200)
                             log::emit(log_events::token_refresh_refused,
                                       {{"conn", connection_id}, {"hub", hub}, {"user", user}, {"reason", "not_found"}});
                           add_cors(*basis, response);
                           respond(std::move(response));
                         });
}

const std::string& ClientRequest::connection_id() const {
  static const std::string none;
  return ticket ? ticket->connection_id : none;
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
  auto token = verify_client_token(request, bearer_token(request, hub.params, is_query_token_allowed), hub.hub, context);
  if (!token) {
    log_unauthorized(log_events::connect_unauthorized, request, hub.hub, token.error(), context);
    return refuse(client_unauthorized(request, token.error().message));
  }
  out.claims = std::move(token->claims);
  out.token_expires_at = unix_seconds(token->expires_at);
  auto id = query_value(hub.params, "id").value_or("");
  if (id.empty()) return out;

  auto ticket = auth::decode_connection_token(id, *context.keys);
  if (!ticket) {
    // Malformed or forged: to the client it names no connection, as an unknown id does in ASP.NET.
    metrics().rejected_input.with("connection_token").inc();
    log::emit(log_events::connection_token_invalid, {{"hub", hub.hub}, {"error", ticket.error().message}});
    return refuse(connection_not_found(request));
  }
  if (ticket->connection_id.empty()) ticket->connection_id = id;  // negotiateVersion 0: the token is the id
  // Bound: only the hub and the user it was negotiated for may use it (connect, resume, poll, send, stop).
  auto user = auth::user_id_from_claims(out.claims);
  bool is_other_hub = ticket->hub_key != hub::hub_key_of(hub.hub);
  if (is_other_hub || ticket->bound_user != user) {
    metrics().rejected_input.with("connection_token_mismatch").inc();
    log::emit(log_events::connection_token_mismatch,
              {{"conn", ticket->connection_id}, {"hub", hub.hub}, {"user", user}, {"field", is_other_hub ? "hub" : "user"}});
    return refuse(plain_refusal(request, 403, "This connection belongs to another hub or user."));
  }
  out.ticket = std::move(*ticket);
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
  if (context.is_draining.load(std::memory_order_relaxed))
    return refuse(draining_refusal(request, context, client.hub));
  if (!client.ticket) {
    // skipNegotiation: a WebSocket without an id is a new connection (ASP.NET GetOrCreateConnectionAsync).
    if (!may_create_without_id) return refuse(json_error(request, 400, "MissingId", "Connection ID required"));
    if (upstream::find_connect_rule(context.config.upstream.rules, client.hub)) {
      context.admission.record(RefusalReason::negotiation_required, client.hub, "", "skipNegotiation");
      return refuse(
          plain_refusal(request, 403, "This hub admits clients through negotiate: skipNegotiation is not allowed."));
    }
    identity.connection_id = random_id();
    identity.user_id = auth::user_id_from_claims(client.claims);
  } else {
    auto& ticket = *client.ticket;
    auto now = unix_now_ms();
    auto found = context.directory.find(ticket.connection_id, now);
    // A live connection asked for again: 409 (ASP.NET). One that ended here: 404, as a gone id is.
    if (found.presence == Presence::live)
      return refuse(json_error(request, 409, "ConnectionInUse", "The connection is already active."));
    if (found.presence == Presence::ended) return refuse(connection_not_found(request));
    if (now > ticket.expires_at_ms) {
      log::emit(log_events::connection_token_expired, {{"conn", ticket.connection_id}, {"hub", client.hub}});
      return refuse(connection_not_found(request));
    }
    // A token opens one connection: two racing opens of one id get one reservation.
    if (!context.directory.reserve(ticket.connection_id, ticket.expires_at_ms, now))
      return refuse(json_error(request, 409, "ConnectionInUse", "The connection is already active."));
    decision.keep_until_ms = ticket.expires_at_ms;
    identity.connection_id = ticket.connection_id;
    identity.user_id = ticket.user_id;
    identity.allows_stateful_reconnect = ticket.allows_stateful_reconnect;
    identity.initial_groups = ticket.groups;
  }
  identity.hub = client.hub;
  identity.hub_key = hub::hub_key_of(client.hub);
  identity.claims = std::move(client.claims);
  identity.token_expires_at = client.token_expires_at;
  // A client that sends a trace context when it connects (Node clients' `headers` option) gets its
  // events' upstream requests in that trace.
  if (auto trace = tracing::parse_traceparent(request["traceparent"])) {
    identity.trace_parent = trace->header();
    identity.trace_state = tracing::accepted_tracestate(request["tracestate"]);
  }
  // The client's query goes upstream without its secrets: the access token and the connection token.
  identity.client_query = query_without(split_target(request.target()).query, {"access_token", "id"});
  return decision;
}

}  // namespace sb::server
