#include "hub/upstream_reply.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"
#include "hub/hub_name.hpp"
#include "hub/message_encoding.hpp"
#include "protocol/hub_protocol.hpp"
#include "protocol/nesting.hpp"
#include "protocol/raw_json.hpp"

namespace sb::hub {
namespace {

using nlohmann::json;

Error bad(std::string message) { return make_error("invalid_reply", std::move(message)); }

std::string_view media_type(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  auto type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return type;
}

// Reads an optional non-empty string field. Returns an error naming the field, or whether it was present.
Result<bool> optional_string(const json& object, const char* key, const std::string& where, std::string& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_string() || it->get_ref<const std::string&>().empty())
    return bad(where + "." + key + ": expected a non-empty string");
  out = it->get<std::string>();
  return true;
}

Result<std::string> action_hub(const json& object, const std::string& where, const ReplyContext& context) {
  std::string hub;
  auto present = optional_string(object, "hub", where, hub);
  if (!present) return present.error();
  if (!*present) return context.hub_key;
  if (!is_valid_hub_name(hub)) return bad(where + ".hub: not a valid hub name");
  return hub_key_of(hub);
}

// `raw` is the action's text as the function wrote it: its arguments pass through byte for byte.
Result<Action> parse_message_action(const json& object, std::string_view raw, const std::string& where,
                                    const ReplyContext& context) {
  const auto& target = object["target"];
  if (!target.is_string() || target.get_ref<const std::string&>().empty())
    return bad(where + ".target: expected a non-empty string");
  std::string arguments_json = "[]";
  if (auto it = object.find("arguments"); it != object.end() && !it->is_null()) {
    if (!it->is_array()) return bad(where + ".arguments: expected an array");
    auto raw_arguments = protocol::raw_member(raw, "arguments");
    if (!raw_arguments) return bad(where + ".arguments: unreadable");
    arguments_json.assign(*raw_arguments);
  }
  auto hub = action_hub(object, where, context);
  if (!hub) return hub.error();
  SendAction send;
  send.hub_key = *hub;
  // Azure Functions' SignalRMessage precedence: connectionId > userId > groupName > everyone.
  std::string connection_id, user_id, group;
  for (auto [key, out] : {std::pair{"connectionId", &connection_id}, {"userId", &user_id}, {"groupName", &group}}) {
    auto present = optional_string(object, key, where, *out);
    if (!present) return present.error();
  }
  if (!connection_id.empty()) send.scope = Scope::connection, send.id = connection_id;
  else if (!user_id.empty()) send.scope = Scope::user, send.id = user_id;
  else if (!group.empty()) send.scope = Scope::group, send.id = group;
  if (auto it = object.find("excluded"); it != object.end() && !it->is_null()) {
    if (!it->is_array()) return bad(where + ".excluded: expected an array of connection ids");
    for (const auto& e : *it) {
      if (!e.is_string()) return bad(where + ".excluded: expected an array of connection ids");
      send.excluded.push_back(e.get<std::string>());
    }
  }
  send.message = encode_invocation(target.get_ref<const std::string&>(), arguments_json);
  return Action{std::move(send)};
}

Result<Action> parse_group_action(const json& object, const std::string& where, const ReplyContext& context) {
  const auto& verb_value = object["action"];
  if (!verb_value.is_string()) return bad(where + ".action: expected add, remove, removeAll or close");
  const auto& verb = verb_value.get_ref<const std::string&>();
  auto hub = action_hub(object, where, context);
  if (!hub) return hub.error();
  std::string connection_id, user_id, group;
  for (auto [key, out] : {std::pair{"connectionId", &connection_id}, {"userId", &user_id}, {"groupName", &group}}) {
    auto present = optional_string(object, key, where, *out);
    if (!present) return present.error();
  }

  if (iequals(verb, "add") || iequals(verb, "remove")) {
    if (group.empty()) return bad(where + ".groupName: required for " + verb);
    if (connection_id.empty() && user_id.empty()) return bad(where + ": " + verb + " needs connectionId or userId");
    MembershipAction m;
    m.hub_key = *hub;
    m.op = iequals(verb, "add") ? MembershipOp::add : MembershipOp::remove;
    m.group = group;
    // SignalRGroupAction: connectionId takes precedence over userId.
    m.subject = connection_id.empty() ? Scope::user : Scope::connection;
    m.id = connection_id.empty() ? user_id : connection_id;
    return Action{std::move(m)};
  }
  if (iequals(verb, "removeAll")) {
    if (connection_id.empty() && user_id.empty()) return bad(where + ": removeAll needs userId or connectionId");
    RemoveFromAllGroupsAction r;
    r.hub_key = *hub;
    r.subject = connection_id.empty() ? Scope::user : Scope::connection;
    r.id = connection_id.empty() ? user_id : connection_id;
    return Action{std::move(r)};
  }
  if (iequals(verb, "close")) {
    CloseAction c;
    c.hub_key = *hub;
    if (!connection_id.empty()) c.scope = Scope::connection, c.id = connection_id;
    else if (!user_id.empty()) c.scope = Scope::user, c.id = user_id;
    else if (!group.empty()) c.scope = Scope::group, c.id = group;
    else return bad(where + ": close needs connectionId, userId or groupName");
    if (auto it = object.find("reason"); it != object.end() && !it->is_null()) {
      if (!it->is_string()) return bad(where + ".reason: expected a string");
      c.reason = it->get<std::string>();
    }
    if (auto it = object.find("allowReconnect"); it != object.end() && !it->is_null()) {
      if (!it->is_boolean()) return bad(where + ".allowReconnect: expected true or false");
      c.allow_reconnect = it->get<bool>();
    }
    return Action{std::move(c)};
  }
  return bad(where + ".action: '" + verb + "' is not add, remove, removeAll or close");
}

// {"action":"invoke","connectionId","target","arguments"?,"resultTarget","correlationId"?}: a client
// result for the function (docs/upstream.md "Client results from a reply").
Result<Action> parse_invoke_action(const json& object, std::string_view raw, const std::string& where,
                                   const ReplyContext& context) {
  auto hub = action_hub(object, where, context);
  if (!hub) return hub.error();
  InvokeClientAction invoke;
  invoke.hub_key = *hub;
  for (auto [key, target] : {std::pair{"connectionId", &invoke.connection_id}, {"target", &invoke.target},
                             {"resultTarget", &invoke.result_target}}) {
    auto present = optional_string(object, key, where, *target);
    if (!present) return present.error();
    if (!*present) return bad(where + "." + key + ": required for invoke");
  }
  invoke.arguments_json = "[]";
  if (auto it = object.find("arguments"); it != object.end() && !it->is_null()) {
    if (!it->is_array()) return bad(where + ".arguments: expected an array");
    auto raw_arguments = protocol::raw_member(raw, "arguments");
    if (!raw_arguments) return bad(where + ".arguments: unreadable");
    invoke.arguments_json.assign(*raw_arguments);
  }
  auto correlation = protocol::raw_member(raw, "correlationId");
  invoke.correlation_json = correlation ? std::string(*correlation) : "null";
  return Action{std::move(invoke)};
}

// {"action":"streamItem","connectionId","streamId","item","completed"?} and {"action":"streamComplete",
// "connectionId","streamId","error"?} (docs/upstream.md "Streams"): what the REST stream operations do,
// from a reply. Each record is its own pre-framed send to the connection: an item, then a Completion.
Result<bool> parse_stream_action(const json& object, std::string_view raw, const std::string& where,
                                 const ReplyContext& context, std::vector<Action>& out) {
  const bool is_item = iequals(object["action"].get_ref<const std::string&>(), "streamItem");
  auto hub = action_hub(object, where, context);
  if (!hub) return hub.error();
  std::string connection_id, stream_id, error;
  for (auto [key, target] : {std::pair{"connectionId", &connection_id}, {"streamId", &stream_id}, {"error", &error}}) {
    auto present = optional_string(object, key, where, *target);
    if (!present) return present.error();
  }
  if (connection_id.empty()) return bad(where + ".connectionId: required for a stream action");
  if (stream_id.empty()) return bad(where + ".streamId: required for a stream action");
  bool completes = !is_item;
  if (auto it = object.find("completed"); is_item && it != object.end() && !it->is_null()) {
    if (!it->is_boolean()) return bad(where + ".completed: expected true or false");
    completes = it->get<bool>();
  }
  auto send_frames = [&](std::string json_frame, std::string messagepack_frame) {
    SendAction send;
    send.hub_key = *hub;
    send.scope = Scope::connection;
    send.id = connection_id;
    send.message = protocol::EncodedMessage::from_frames(make_frame(std::move(json_frame)), make_frame(std::move(messagepack_frame)));
    out.push_back(Action{std::move(send)});
  };
  using protocol::HubProtocolKind;
  if (is_item) {
    auto item = protocol::raw_member(raw, "item");
    if (!item) return bad(where + ".item: required for streamItem");
    send_frames(protocol::encode_stream_item(HubProtocolKind::json, stream_id, *item),
                protocol::encode_stream_item(HubProtocolKind::messagepack, stream_id, *item));
  }
  if (completes) {
    if (error.empty())
      send_frames(protocol::encode_completion_void(HubProtocolKind::json, stream_id),
                  protocol::encode_completion_void(HubProtocolKind::messagepack, stream_id));
    else
      send_frames(protocol::encode_completion_error(HubProtocolKind::json, stream_id, error),
                  protocol::encode_completion_error(HubProtocolKind::messagepack, stream_id, error));
  }
  return true;
}

// The optional "actions" array of a reply object (`body` is its text), every item validated before any
// is kept.
Result<bool> parse_actions(const json& document, std::string_view body, const ReplyContext& context,
                           std::vector<Action>& out) {
  auto actions = document.find("actions");
  if (actions == document.end() || actions->is_null()) return false;
  if (!actions->is_array()) return bad("actions: expected an array");
  if (actions->size() > context.max_actions)
    return bad("actions: " + std::to_string(actions->size()) + " actions; at most " +
               std::to_string(context.max_actions));
  auto raw_actions = protocol::raw_member(body, "actions");
  auto raw_items = raw_actions ? protocol::raw_array_elements(*raw_actions) : std::nullopt;
  if (!raw_items || raw_items->size() != actions->size()) return bad("actions: unreadable");
  out.reserve(actions->size());
  for (std::size_t i = 0; i < actions->size(); ++i) {
    const auto& item = (*actions)[i];
    std::string where = "actions[" + std::to_string(i) + "]";
    if (!item.is_object()) return bad(where + ": expected an object");
    // The actions that are neither a message nor a group action: an invoke, and the stream actions.
    const auto verb = item.find("action");
    // A view of the string in `item` (a ?: with "" would make a temporary std::string to point into).
    std::string_view verb_name;
    if (verb != item.end() && verb->is_string()) verb_name = verb->get_ref<const std::string&>();
    if (iequals(verb_name, "invoke")) {
      auto invoke = parse_invoke_action(item, (*raw_items)[i], where, context);
      if (!invoke) return invoke.error();
      out.push_back(std::move(invoke).value());
      continue;
    }
    if (iequals(verb_name, "streamItem") || iequals(verb_name, "streamComplete")) {
      auto added = parse_stream_action(item, (*raw_items)[i], where, context, out);
      if (!added) return added.error();
      if (out.size() > context.max_actions)  // an item that completes is two sends
        return bad("actions: more than " + std::to_string(context.max_actions) + " once stream actions are counted");
      continue;
    }
    Result<Action> action = item.contains("target") ? parse_message_action(item, (*raw_items)[i], where, context)
                            : item.contains("action")
                                ? parse_group_action(item, where, context)
                                : Result<Action>(bad(where + ": needs \"target\" (a message) or \"action\""));
    if (!action) return action.error();
    out.push_back(std::move(action).value());
  }
  return true;
}

constexpr std::size_t max_connect_groups = 1000;
constexpr std::size_t max_group_name_bytes = 1024;  // the REST API's bound

}  // namespace

Result<UpstreamReply> parse_upstream_reply(std::string_view content_type, std::string_view body,
                                           const ReplyContext& context) {
  UpstreamReply reply;
  if (body.empty()) return reply;

  bool is_json_media = iequals(media_type(content_type), "application/json");
  if (!is_json_media || body.back() == '\x1e') {
    // Azure's form: framed hub messages for the caller. Check they are whole, valid records so a broken
    // function can't corrupt the client's stream.
    std::vector<protocol::InboundMessage> records;
    auto consumed = protocol::parse_hub_messages(context.protocol, body, records, body.size());
    if (!consumed || *consumed != body.size() || records.empty())
      return bad(std::string("the reply is neither the action envelope (application/json) nor complete ") +
                 (context.protocol == protocol::HubProtocolKind::json ? "JSON" : "MessagePack") + " hub messages");
    reply.kind = ReplyKind::verbatim;
    reply.verbatim.assign(body);
    return reply;
  }

  if (!protocol::json_depth_within(body)) return bad("the reply nests deeper than 128 levels");
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return bad("the reply is not valid JSON");
  if (!document.is_object()) return bad("the reply must be a JSON object {\"result\", \"error\", \"actions\"}");
  reply.kind = ReplyKind::envelope;
  auto result = document.find("result");
  auto error = document.find("error");
  if (result != document.end() && error != document.end() && !error->is_null())
    return bad("the reply has both result and error");
  if (result != document.end()) {
    // As the function wrote it: key order and number spelling reach the client unchanged.
    auto raw_result = protocol::raw_member(body, "result");
    if (!raw_result) return bad("result: unreadable");
    reply.result_json.emplace(*raw_result);
  }
  if (error != document.end() && !error->is_null()) {
    if (!error->is_string()) return bad("error: expected a string");
    reply.error = error->get<std::string>();
  }
  auto actions = parse_actions(document, body, context, reply.actions);
  if (!actions) return actions.error();
  return reply;
}

Result<ConnectReply> parse_connect_reply(std::string_view content_type, std::string_view body,
                                         const ReplyContext& context) {
  ConnectReply reply;
  if (body.empty() || !iequals(media_type(content_type), "application/json")) return reply;
  if (!protocol::json_depth_within(body)) return bad("the reply nests deeper than 128 levels");
  json document = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return bad("the reply is not valid JSON");
  if (!document.is_object()) return bad("the reply must be a JSON object {\"userId\", \"groups\", \"actions\"}");
  if (auto user = document.find("userId"); user != document.end() && !user->is_null()) {
    if (!user->is_string()) return bad("userId: expected a string");
    reply.user_id = user->get<std::string>();
  }
  if (auto groups = document.find("groups"); groups != document.end() && !groups->is_null()) {
    if (!groups->is_array()) return bad("groups: expected an array of group names");
    if (groups->size() > max_connect_groups)
      return bad("groups: " + std::to_string(groups->size()) + " groups; at most " +
                 std::to_string(max_connect_groups));
    for (std::size_t i = 0; i < groups->size(); ++i) {
      const auto& g = (*groups)[i];
      if (!g.is_string() || g.get_ref<const std::string&>().empty() ||
          g.get_ref<const std::string&>().size() > max_group_name_bytes)
        return bad("groups[" + std::to_string(i) + "]: expected a group name (1 to 1024 bytes)");
      reply.groups.push_back(g.get<std::string>());
    }
  }
  auto actions = parse_actions(document, body, context, reply.actions);
  if (!actions) return actions.error();
  return reply;
}

std::string refusal_reason(std::string_view content_type, std::string_view body, std::string_view fallback) {
  constexpr std::size_t max_reason_bytes = 256;
  auto document = protocol::json_depth_within(body) ? json::parse(body, nullptr, /*allow_exceptions=*/false) : json();
  if (document.is_object()) {
    auto error = document.find("error");
    if (error != document.end() && error->is_string() && !error->get_ref<const std::string&>().empty())
      return error->get<std::string>().substr(0, max_reason_bytes);
    return std::string(fallback);
  }
  bool is_plain_text = !body.empty() && iequals(media_type(content_type), "text/plain");
  return is_plain_text ? std::string(body.substr(0, max_reason_bytes)) : std::string(fallback);
}

}  // namespace sb::hub
