#include "http/rest_api.hpp"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "auth/audience.hpp"
#include "auth/bearer.hpp"
#include "auth/crypto.hpp"
#include "auth/jwt.hpp"
#include "common/ascii.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "console/live_trace.hpp"
#include "http/http_log.hpp"
#include "http/rest_input.hpp"
#include "http/rest_routes.hpp"
#include "http/server_span.hpp"
#include "http/url_query.hpp"
#include "hub/hub_name.hpp"
#include "hub/message_encoding.hpp"
#include "hub/upstream_reply.hpp"
#include "protocol/hub_protocol.hpp"
#include "protocol/json_hub_protocol.hpp"
#include "protocol/nesting.hpp"

namespace sb::http {
namespace {

namespace beast_http = boost::beast::http;
using beast_http::verb;
using hub::Scope;

// What one REST request asks for, once routed.
struct RestCall {
  bool is_v1 = false;
  std::string hub_key;
  QueryParams query;
  std::string raw_path;   // as received, still encoded (presence nextLinks repeat it)
  std::string raw_query;  // without '?'
};

// Presence pages (docs/rest-api.md "Presence"): Azure 2024-12-01 allows maxpagesize 1..200.
constexpr std::size_t max_page_size = 200;
constexpr std::size_t default_page_size = 100;

// A whole number in [0, max], or nullopt.
std::optional<std::size_t> parse_count(const std::string& text, std::size_t max) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// The hub a REST path names (/api/…/hubs/{hub}/…), or empty: what the live trace filters on.
std::string_view path_hub(std::string_view path) {
  auto at = path.find("/hubs/");
  if (at == std::string_view::npos) return {};
  auto hub = path.substr(at + 6);
  return hub.substr(0, hub.find('/'));
}

// Answers a REST request, possibly later and from a backplane callback: counts every answer in
// rest_requests (by status) and hands it to the session. Copyable into callbacks; keeps only the parts
// of the request a deferred answer needs (status line, keep-alive), not its body.
class RestReply {
 public:
  RestReply(const Request& request, Respond respond)
      : basis_{request.method(), request.target(), request.version()},
        respond_(std::move(respond)),
        // The caller's trace continues through this call: the answer names this call's span.
        span_(server_span(request, "REST")) {
    basis_.keep_alive(request.keep_alive());
    if (console::live_trace().is_watched()) started_ = std::chrono::steady_clock::now();
  }
  const Request& basis() const { return basis_; }
  void operator()(Response response) const {
    metrics().rest_requests.with(std::to_string(response.result_int())).inc();
    response.set("traceparent", span_.context.header());
    if (console::live_trace().is_watched()) trace(response.result_int());
    if (span_.start_unix_nanos != 0) finish_server_span(span_, response.result_int());
    respond_(std::move(response));
  }
  // An answer with no body.
  void status(unsigned status) const {
    auto response = make_response(basis_, status);
    response.prepare_payload();
    (*this)(std::move(response));
  }

 private:
  void trace(unsigned status) const {
    auto target = std::string_view(basis_.target());
    auto path = target.substr(0, target.find('?'));  // the query is the caller's business
    auto trace_id = span_.context.trace_id;
    const bool has_start = started_ != std::chrono::steady_clock::time_point{};
    console::live_trace().publish(
        console::TraceKind::rest, {path_hub(path), {}, {}, trace_id},
        {{"method", std::string(basis_.method_string())},
         {"path", path},
         {"status", status},
         {"latencyMs", has_start ? std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count() : 0.0}});
  }

  Request basis_;
  Respond respond_;
  tracing::Span span_;  // start_unix_nanos 0: not exported
  std::chrono::steady_clock::time_point started_{};  // set while the live trace is watched
};

class RestRequest {
 public:
  RestRequest(const Request& request, RestContext& context, boost::asio::any_io_executor executor, Respond respond)
      : request_(request), context_(context), executor_(std::move(executor)), reply_(request, std::move(respond)) {}

  // Routes and authorizes on the header alone; false when it has answered (404, 400, 401).
  bool admit();
  // Runs the operation, once the body (if any) is read.
  void run() { route(segments_); }

 private:
  void error(unsigned status, std::string_view code, std::string_view message) {
    reply_(json_error(request_, status, code, message));
  }
  void method_not_allowed() { error(405, "MethodNotAllowed", "That method is not allowed on this path."); }
  // The request's media type, without parameters ("application/json; charset=utf-8" -> "application/json").
  std::string_view media_type() const {
    std::string_view content_type = request_[beast_http::field::content_type];
    auto media = content_type.substr(0, content_type.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    return media;
  }
  // JSON, or no Content-Type at all (as the SDKs send some bodies).
  bool is_json_or_absent(std::string_view media) const {
    return media.empty() || iequals(media, "application/json") || iequals(media, "text/json");
  }
  bool authorize(std::string_view raw_path);
  void route(const std::vector<std::string>& segments);
  // The operations resolve_rest_route names.
  void send(Scope scope, std::string id);
  void exists(hub::QueryKind kind, std::string id, std::string group, std::string_view ms_error_code);
  void presence(hub::QueryKind kind, Scope scope, std::string id, std::string group);
  void close(Scope scope, std::string id, unsigned status);
  void remove_from_all_groups(Scope scope, std::string id, unsigned status);
  void connection_membership(std::string connection_id, std::string group);
  void user_membership(std::string user_id, std::string group);
  void send_preframed(Scope scope, std::string id);
  void invoke(std::string connection_id);
  void generate_token();
  void execute();
  void stream(std::string connection_id, std::string stream_id, bool is_complete);
  void access_key();
  void publish_send(Scope scope, std::string id, protocol::SharedEncodedMessage message);
  void publish(hub::Action action, std::function<void(hub::ActionOutcome)> then);
  std::vector<std::string> excluded() const { return query_values(call_.query, "excluded"); }
  hub::MembershipAction membership(hub::MembershipOp op, Scope subject, std::string id, std::string group) const;
  // A backplane callback that answers `status` with no body.
  std::function<void(hub::ActionOutcome)> answer_with(unsigned status) const {
    return [reply = reply_, status](hub::ActionOutcome) { reply.status(status); };
  }

  const Request& request_;
  RestContext& context_;
  boost::asio::any_io_executor executor_;
  RestReply reply_;
  RestCall call_;
  std::vector<std::string> segments_;
};

bool RestRequest::authorize(std::string_view raw_path) {
  auto bearer = auth::bearer_token(request_[beast_http::field::authorization]);
  if (bearer.empty()) {
    reply_(unauthorized(request_, "The access token is missing."));
    return false;
  }
  std::string_view host = context_.public_host.empty() ? std::string_view(request_[beast_http::field::host]) : std::string_view(context_.public_host);
  auto token = auth::verify_jwt(bearer, *context_.keys, std::chrono::system_clock::now(),
                                [&](std::string_view aud) { return auth::rest_audience_matches(aud, host, raw_path); },
                                context_.token_limits);
  if (!token) {
    const auto& e = token.error();
    if (e.code == "invalid_audience")
      log::emit(log_events::rest_unauthorized, {{"path", log::sample(redacted_target(raw_path), 200)},
                                                {"error", e.message},
                                                {"audience", log::sample(e.detail, 200)},
                                                {"expected", log::sample(auth::expected_rest_audience(host, raw_path), 200)}});
    else
      log::emit(log_events::rest_unauthorized, {{"path", log::sample(redacted_target(raw_path), 200)}, {"error", e.message}});
    reply_(unauthorized(request_, token.error().message));
    return false;
  }
  return true;
}

bool RestRequest::admit() {
  // GET /api/auth/accessKey (2023-07+; the SDK asks /api/v1/auth/accessKey): not under a hub.
  if (auto path = split_target(request_.target()).path; path == "/api/auth/accessKey" || path == "/api/v1/auth/accessKey") {
    if (!authorize(path)) return false;
    if (request_.method() != verb::get) {
      method_not_allowed();
      return false;
    }
    access_key();
    return false;  // answered
  }
  auto target = parse_rest_target(request_.target());
  if (!target) {
    const auto& e = target.error();
    if (e.code != "NotFound") log::emit(log_events::rest_bad_path, {{"error", e.message}, {"path", log::sample(redacted_target(request_.target()), 200)}});
    error(e.code == "NotFound" ? 404 : 400, e.code, e.message);
    return false;
  }
  auto hub = resolve_rest_hub(*target);  // reported after authorizing: without a token, 401 comes first
  call_.is_v1 = target->is_v1;
  call_.query = std::move(target->query);
  call_.raw_path = target->raw_path;
  call_.raw_query = target->raw_query;

  if (!authorize(target->raw_path)) return false;
  if (!hub) {
    error(400, hub.error().code, hub.error().message);
    return false;
  }
  call_.hub_key = hub::hub_key_of(*hub);
  segments_ = std::move(target->segments);
  return true;
}

void RestRequest::publish(hub::Action action, std::function<void(hub::ActionOutcome)> then) {
  context_.backplane.publish(std::make_shared<const hub::Action>(std::move(action)), executor_, std::move(then));
}

void RestRequest::send(Scope scope, std::string id) {
  if (scope != Scope::all && !is_valid_rest_name(id)) return error(400, "InvalidName", "The name must have 1 to 1024 characters, not all whitespace.");
  const auto media = media_type();
  const auto& body = request_.body();
  if (body.empty()) return error(400, "InvalidBody", "Message in request body is required.");
  if (iequals(media, "application/octet-stream") || iequals(media, "application/x-msgpack"))
    return send_preframed(scope, std::move(id));
  if (!is_json_or_absent(media))
    return error(415, "UnsupportedMediaType",
                 "Send JSON {\"target\", \"arguments\"} or the MessagePack map of framed payloads (application/octet-stream).");
  auto parsed = parse_rest_send_body(body);
  if (!parsed) return error(400, parsed.error().code, parsed.error().message);
  publish_send(scope, std::move(id), hub::encode_invocation(parsed->target, parsed->arguments_json));
}

// 2024-12-01 client results: the client's Completion, held for until it arrives (docs/rest-api.md
// "Client results"). The connection may be on any gateway of the fleet.
void RestRequest::invoke(std::string connection_id) {
  if (!is_json_or_absent(media_type())) return error(415, "UnsupportedMediaType", "Send JSON {\"target\", \"arguments\"}.");
  auto parsed = parse_rest_send_body(request_.body());
  if (!parsed) return error(400, parsed.error().code, parsed.error().message);
  if (!context_.reach_connection) return error(501, "NotImplemented", "Client results are not available here.");
  backplane::FollowUp follow_up;
  follow_up.kind = backplane::RelayKind::invoke;
  follow_up.connection_id = std::move(connection_id);
  follow_up.body = request_.body();
  follow_up.answer_within = context_.client_invoke_timeout;
  context_.reach_connection(std::move(follow_up), executor_, [reply = reply_](std::optional<backplane::FollowUpAnswer> answer) {
    const auto& basis = reply.basis();
    if (!answer || answer->status == 404)
      return reply(not_found(basis, "Error.Connection.NotExisted", "The connection does not exist."));
    auto response = make_response(basis, answer->status);
    if (!answer->content_type.empty()) response.set(beast_http::field::content_type, answer->content_type);
    if (answer->status >= 400) {
      // The SDK tells errors apart by x-ms-error-code (PROTOCOL.md part 2 §4.4).
      auto body = nlohmann::json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("code") && body["code"].is_string())
        response.set("x-ms-error-code", body["code"].get<std::string>());
    }
    response.body() = std::move(answer->body);
    response.prepare_payload();
    reply(std::move(response));
  });
}

// 2023-07+: commands run on every connection of the hub that `filter` selects (docs/rest-api.md
// "Commands"), on every gateway of the fleet.
void RestRequest::execute() {
  if (!is_json_or_absent(media_type())) return error(415, "UnsupportedMediaType", "Send a JSON array of commands.");
  hub::ExecuteAction action;
  action.hub_key = call_.hub_key;
  if (auto text = query_value(call_.query, "filter"); text && !text->empty()) {
    auto filter = filter::ODataFilter::parse(*text);
    if (!filter) return error(400, filter.error().code, filter.error().message);
    action.filter = std::make_shared<const filter::ODataFilter>(std::move(*filter));
  }
  auto commands = parse_execute_body(request_.body());
  if (!commands) return error(400, commands.error().code, commands.error().message);
  action.commands = std::move(*commands);
  publish(std::move(action), answer_with(202));
}

// 2024-12-01 server-to-client streams (docs/upstream.md "Streams"): the function answers a client's
// connection.stream(...) by sending its items here, then completing it. Each becomes a frame for that
// one connection, sent like any send (so in order, through the fleet): a StreamItem, and a Completion
// with ?completed=true on :send or on :complete (an error with ?error= or ?reason= there).
void RestRequest::stream(std::string connection_id, std::string stream_id, bool is_complete) {
  auto publish_frames = [&](std::string json, std::string messagepack, std::function<void(hub::ActionOutcome)> then) {
    hub::SendAction send;
    send.hub_key = call_.hub_key;
    send.scope = Scope::connection;
    send.id = connection_id;
    send.message = protocol::EncodedMessage::from_frames(make_frame(std::move(json)), make_frame(std::move(messagepack)));
    publish(std::move(send), std::move(then));
  };
  auto completion = [&](const std::string& reason) {
    if (reason.empty())
      return std::pair{protocol::encode_completion_void(protocol::HubProtocolKind::json, stream_id),
                       protocol::encode_completion_void(protocol::HubProtocolKind::messagepack, stream_id)};
    return std::pair{protocol::encode_completion_error(protocol::HubProtocolKind::json, stream_id, reason),
                     protocol::encode_completion_error(protocol::HubProtocolKind::messagepack, stream_id, reason)};
  };
  if (is_complete) {
    // The swagger names it `reason`; the Management SDK sends `error`.
    auto reason = query_value(call_.query, "error");
    if (!reason) reason = query_value(call_.query, "reason");
    auto [json, messagepack] = completion(reason.value_or(""));
    return publish_frames(std::move(json), std::move(messagepack), answer_with(202));
  }
  bool completes = false;
  if (auto text = query_value(call_.query, "completed")) {
    if (*text != "true" && *text != "false") return error(400, "InvalidQuery", "completed: expected true or false.");
    completes = *text == "true";
  }
  // The body is the item, any JSON value, passed through as written.
  const auto& body = request_.body();
  if (body.empty()) return error(400, "InvalidBody", "The stream item is required.");
  if (!protocol::json_depth_within(body)) return error(400, "InvalidBody", "The body nests deeper than 128 levels.");
  if (nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false).is_discarded())
    return error(400, "InvalidBody", "The stream item is not valid JSON.");
  auto item_json = protocol::encode_stream_item(protocol::HubProtocolKind::json, stream_id, body);
  auto item_messagepack = protocol::encode_stream_item(protocol::HubProtocolKind::messagepack, stream_id, body);
  if (!completes) return publish_frames(std::move(item_json), std::move(item_messagepack), answer_with(202));
  publish_frames(std::move(item_json), std::move(item_messagepack), nullptr);
  auto [json, messagepack] = completion("");
  publish_frames(std::move(json), std::move(messagepack), answer_with(202));
}

// 2023-07+: a client access token for this hub, as negotiate would give (Azure's :generateToken), for
// backends that hand clients the gateway's URL and a token themselves.
void RestRequest::generate_token() {
  constexpr long long default_minutes = 60;
  long long minutes = default_minutes;
  if (auto text = query_value(call_.query, "minutesToExpire")) {
    auto value = parse_count(*text, 60LL * 24 * 365);
    if (!value || *value == 0)
      return error(400, "InvalidQuery", "minutesToExpire: expected a whole number of minutes from 1 to 525600.");
    minutes = static_cast<long long>(*value);
  }
  const auto lifetime = std::chrono::minutes(minutes);
  if (context_.token_limits.max_lifetime.count() > 0 && lifetime > context_.token_limits.max_lifetime)
    return error(400, "InvalidQuery", "minutesToExpire: longer than this gateway accepts (--max-token-lifetime).");
  std::string host = context_.public_host.empty() ? std::string(request_[beast_http::field::host]) : context_.public_host;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  nlohmann::ordered_json payload{{"aud", "http://" + host + "/client/?hub=" + call_.hub_key},
                                 {"iat", now.count()},
                                 {"exp", (now + lifetime).count()}};
  if (auto user = query_value(call_.query, "userId"); user && !user->empty()) payload["nameid"] = *user;
  auto token = auth::sign_jwt_hs256(payload.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                                    context_.keys->signing_key());
  reply_(json_response(request_, 200, R"({"token":)" + protocol::json_quote(token) + "}"));
}

// 2023-07+: the key app servers sign client tokens with (Azure gives it to Microsoft Entra callers).
// The caller's token is already signed with this key, for this very path, so it learns nothing new.
void RestRequest::access_key() {
  reply_(json_response(request_, 200,
                       R"({"AccessKey":)" + protocol::json_quote(context_.keys->signing_key()) + R"(,"KeyId":"primary"})"));
}

// 2022-06-01+: application/octet-stream, a MessagePack map {"json": bin, "messagepack": bin} of framed
// Invocations, one per protocol (PROTOCOL.md part 2 §4.2), forwarded as they are.
void RestRequest::send_preframed(Scope scope, std::string id) {
  const auto& body = request_.body();
  if (!protocol::msgpack_well_formed(body)) return error(400, "InvalidBody", "The body is not well-formed MessagePack.");
  auto map = nlohmann::json::from_msgpack(body, true, false);
  if (map.is_discarded() || !map.is_object())
    return error(400, "InvalidBody", "Expected a MessagePack map of protocol names to framed payloads.");
  Frame json_frame, messagepack_frame;
  for (const auto& [name, value] : map.items()) {
    if (!value.is_binary() && !value.is_string()) return error(400, "InvalidBody", name + ": expected bin");
    std::string bytes = value.is_binary() ? std::string(value.get_binary().begin(), value.get_binary().end())
                                          : value.get<std::string>();
    std::vector<protocol::InboundMessage> records;
    if (iequals(name, "json")) {
      auto parsed = protocol::parse_hub_messages(protocol::HubProtocolKind::json, bytes, records, bytes.size());
      if (!parsed || *parsed != bytes.size() || records.size() != 1 || records[0].type != protocol::MessageType::invocation)
        return error(400, "InvalidBody", "json: expected one framed JSON Invocation");
      json_frame = make_frame(std::move(bytes));
    } else if (iequals(name, "messagepack")) {
      auto parsed = protocol::parse_hub_messages(protocol::HubProtocolKind::messagepack, bytes, records, bytes.size());
      if (!parsed || *parsed != bytes.size() || records.size() != 1 || records[0].type != protocol::MessageType::invocation)
        return error(400, "InvalidBody", "messagepack: expected one framed MessagePack Invocation");
      messagepack_frame = make_frame(std::move(bytes));
    }
    // Other protocol names: ignored, as no client here speaks them.
  }
  if (!json_frame && !messagepack_frame) return error(400, "InvalidBody", "No json or messagepack payload.");
  publish_send(scope, std::move(id), protocol::EncodedMessage::from_frames(std::move(json_frame), std::move(messagepack_frame)));
}

void RestRequest::publish_send(Scope scope, std::string id, protocol::SharedEncodedMessage message) {
  hub::SendAction action;
  action.hub_key = call_.hub_key;
  action.scope = scope;
  action.id = std::move(id);
  action.excluded = excluded();
  action.message = std::move(message);
  // 202: accepted for delivery. The reply waits for every shard to have queued it, so a client that
  // then asks for something else sees this send first.
  publish(std::move(action), answer_with(202));
}

void RestRequest::exists(hub::QueryKind kind, std::string id, std::string group, std::string_view ms_error_code) {
  hub::QueryAction query;
  query.hub_key = call_.hub_key;
  query.kind = kind;
  query.id = std::move(id);
  query.group = std::move(group);
  publish(std::move(query), [reply = reply_, code = std::string(ms_error_code)](hub::ActionOutcome outcome) {
    const auto& request = reply.basis();
    Response response = outcome.matched > 0 ? make_response(request, 200) : not_found(request, code, "Not found.");
    if (outcome.matched > 0) response.prepare_payload();
    if (request.method() == verb::head) response.body().clear();  // HEAD: headers only, Content-Length kept
    reply(std::move(response));
  });
}

// Presence (Switchboard extension, PROTOCOL.md part 3 §3.7): one page of a scope's connections or
// users in Azure 2024-12-01's shape {"value": [...], "nextLink"}, plus "count" with ?count=true.
// Entries are sorted by id (bytewise) and the continuation token is the last id returned, so a walk
// through the pages sees every entry present throughout it exactly once, however connections come
// and go meanwhile. Each shard contributes its page_size+1 smallest ids after the token (the extra
// one tells whether another page follows); the backplane merges them (hub::merge_pages).
void RestRequest::presence(hub::QueryKind kind, Scope scope, std::string id, std::string group) {
  if (request_.method() != verb::get) return method_not_allowed();
  std::size_t page_size = default_page_size;
  if (auto text = query_value(call_.query, "maxpagesize")) {
    auto value = parse_count(*text, max_page_size);
    if (!value || *value == 0) return error(400, "InvalidQuery", "maxpagesize: expected a whole number from 1 to 200.");
    page_size = *value;
  }
  std::optional<std::size_t> top;
  if (auto text = query_value(call_.query, "top")) {
    top = parse_count(*text, std::numeric_limits<std::uint32_t>::max());
    if (!top) return error(400, "InvalidQuery", "top: expected a whole number, 0 or more.");
    page_size = std::min(page_size, *top);
  }
  bool wants_count = false;
  if (auto text = query_value(call_.query, "count")) {
    if (*text != "true" && *text != "false") return error(400, "InvalidQuery", "count: expected true or false.");
    wants_count = *text == "true";
  }
  std::string after;
  if (auto token = query_value(call_.query, "continuationToken"); token && !token->empty()) {
    auto decoded = auth::base64url_decode(*token);
    if (!decoded || decoded->empty() || decoded->size() > 1024)
      return error(400, "InvalidQuery", "continuationToken: not a token this gateway issued.");
    after = std::move(*decoded);
  }

  hub::QueryAction query;
  query.hub_key = call_.hub_key;
  query.kind = kind;
  query.scope = scope;
  query.id = std::move(id);
  query.group = std::move(group);
  query.after = std::move(after);
  query.page_limit = page_size == 0 ? 0 : page_size + 1;
  query.wants_distinct_users = wants_count && kind == hub::QueryKind::list_users;
  // nextLink repeats this request with the token replaced and `top` reduced by what this page holds.
  // Absolute, as Azure's GroupMemberPagedValues says.
  std::string origin = context_.public_origin;
  if (origin.empty())
    origin = std::string(context_.is_tls_listener ? "https://" : "http://") + std::string(request_[beast_http::field::host]);
  std::string next_base = origin + call_.raw_path + query_without(call_.raw_query, {"continuationToken", "top"});
  publish(std::move(query), [reply = reply_, kind, page_size, top, wants_count,
                             next_base = std::move(next_base)](hub::ActionOutcome outcome) {
    const bool has_more = outcome.page.size() > page_size;
    if (has_more) outcome.page.resize(page_size);
    auto value = nlohmann::json::array();
    for (const auto& entry : outcome.page) {
      if (kind == hub::QueryKind::list_connections)
        value.push_back({{"connectionId", entry.id},
                         {"userId", entry.user_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(entry.user_id)}});
      else
        value.push_back({{"userId", entry.id}, {"connectionCount", entry.connection_count}});
    }
    nlohmann::json body{{"value", std::move(value)}, {"nextLink", nullptr}};
    if (has_more && (!top || *top > page_size)) {
      std::string link = next_base + (next_base.find('?') == std::string::npos ? '?' : '&');
      link += "continuationToken=" + auth::base64url_encode(outcome.page.back().id);
      if (top) link += "&top=" + std::to_string(*top - page_size);
      body["nextLink"] = link;
    }
    if (wants_count)
      body["count"] = kind == hub::QueryKind::list_connections ? outcome.matched : outcome.user_count();
    reply(json_response(reply.basis(), 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  });
}

hub::MembershipAction RestRequest::membership(hub::MembershipOp op, Scope subject, std::string id, std::string group) const {
  hub::MembershipAction m;
  m.hub_key = call_.hub_key;
  m.op = op;
  m.subject = subject;
  m.id = std::move(id);
  m.group = std::move(group);
  return m;
}

void RestRequest::close(Scope scope, std::string id, unsigned status) {
  hub::CloseAction close;
  close.hub_key = call_.hub_key;
  close.scope = scope;
  close.id = std::move(id);
  close.excluded = excluded();
  close.reason = query_value(call_.query, "reason").value_or("");
  // The emulator closes with allowReconnect:true; a REST close means "go away", so we say false unless
  // the caller asks (docs/compatibility.md).
  close.allow_reconnect = query_value(call_.query, "allowReconnect").value_or("") == "true";
  publish(std::move(close), answer_with(status));  // nothing to close is no error
}

void RestRequest::remove_from_all_groups(Scope scope, std::string id, unsigned status) {
  publish(hub::RemoveFromAllGroupsAction{call_.hub_key, scope, std::move(id)}, answer_with(status));
}

// PUT adds (404 when the connection is not here), DELETE removes.
void RestRequest::connection_membership(std::string connection_id, std::string group) {
  bool is_add = request_.method() == verb::put;
  publish(membership(is_add ? hub::MembershipOp::add : hub::MembershipOp::remove, Scope::connection,
                     std::move(connection_id), std::move(group)),
          [reply = reply_, is_add](hub::ActionOutcome outcome) {
            if (is_add && outcome.matched == 0)
              return reply(not_found(reply.basis(), "Error.Connection.NotExisted", "The connection does not exist."));
            reply.status(200);
          });
}

// GET/HEAD asks, PUT adds (with an optional ?ttl in seconds), DELETE removes.
void RestRequest::user_membership(std::string user_id, std::string group) {
  const verb method = request_.method();
  if (method == verb::get || method == verb::head)
    return exists(hub::QueryKind::user_in_group, std::move(user_id), std::move(group), "Info.User.NotInGroup");
  if (method == verb::put) {
    auto m = membership(hub::MembershipOp::add, Scope::user, std::move(user_id), std::move(group));
    if (auto text = query_value(call_.query, "ttl")) {
      char* end = nullptr;
      long long value = std::strtoll(text->c_str(), &end, 10);
      if (text->empty() || *end != '\0' || value < 0)
        return error(400, "InvalidTtl", "ttl: expected a whole number of seconds, 0 or more.");
      m.ttl = std::chrono::seconds(value);
    }
    return publish(std::move(m), answer_with(call_.is_v1 ? 202 : 200));
  }
  publish(membership(hub::MembershipOp::remove, Scope::user, std::move(user_id), std::move(group)),
          answer_with(call_.is_v1 ? 202 : 204));
}

void RestRequest::route(const std::vector<std::string>& segments) {
  auto route = resolve_rest_route(request_.method(), segments);
  if (!route) return error(route.error().code == "NotFound" ? 404 : 400, route.error().code, route.error().message);
  auto& r = *route;
  using Op = RestOperation;
  using K = hub::QueryKind;
  switch (r.operation) {
    case Op::send_to_all: return send(Scope::all, {});
    case Op::close_all: return close(Scope::all, {}, 204);
    case Op::list_connections: return presence(K::list_connections, Scope::all, {}, {});
    case Op::list_users: return presence(K::list_users, Scope::all, {}, {});
    case Op::send_to_connection: return send(Scope::connection, std::move(r.connection_id));
    case Op::invoke_connection: return invoke(std::move(r.connection_id));
    case Op::generate_token: return generate_token();
    case Op::execute: return execute();
    case Op::stream_send: return stream(std::move(r.connection_id), std::move(r.stream_id), false);
    case Op::stream_complete: return stream(std::move(r.connection_id), std::move(r.stream_id), true);
    case Op::connection_exists:
      return exists(K::connection_exists, std::move(r.connection_id), {}, "Warning.Connection.NotExisted");
    case Op::close_connection: return close(Scope::connection, std::move(r.connection_id), 200);
    case Op::remove_connection_from_all_groups: return remove_from_all_groups(Scope::connection, std::move(r.connection_id), 200);
    case Op::connection_membership: return connection_membership(std::move(r.connection_id), std::move(r.group));
    case Op::send_to_group: return send(Scope::group, std::move(r.group));
    case Op::group_exists: return exists(K::group_exists, {}, std::move(r.group), "Warning.Group.NotExisted");
    case Op::list_group_connections: return presence(K::list_connections, Scope::group, {}, std::move(r.group));
    case Op::list_group_users: return presence(K::list_users, Scope::group, {}, std::move(r.group));
    case Op::close_group: return close(Scope::group, std::move(r.group), 204);
    case Op::send_to_user: return send(Scope::user, std::move(r.user_id));
    case Op::user_exists: return exists(K::user_exists, std::move(r.user_id), {}, "Warning.User.NotExisted");
    case Op::list_user_connections: return presence(K::list_connections, Scope::user, std::move(r.user_id), {});
    case Op::close_user: return close(Scope::user, std::move(r.user_id), 204);
    case Op::remove_user_from_all_groups:
      return remove_from_all_groups(Scope::user, std::move(r.user_id), call_.is_v1 ? 200 : 204);
    case Op::user_membership: return user_membership(std::move(r.user_id), std::move(r.group));
    case Op::method_not_allowed: return method_not_allowed();
  }
}

}  // namespace

void handle_rest(HttpSession& session, RestContext& context) {
  auto rest = std::make_shared<RestRequest>(session.request(), context, session.executor(),
                                            [self = session.shared_from_this()](Response response) { self->write(std::move(response)); });
  if (!rest->admit()) return;
  session.read_body([rest](HttpSession&) { rest->run(); });
}

}  // namespace sb::http
