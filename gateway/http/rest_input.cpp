#include "http/rest_input.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"
#include "hub/hub_name.hpp"
#include "hub/message_encoding.hpp"
#include "hub/upstream_reply.hpp"
#include "protocol/nesting.hpp"
#include "protocol/raw_json.hpp"

namespace sb::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return segments;
}

Error invalid_body(std::string message) { return make_error("InvalidBody", std::move(message)); }

}  // namespace

Result<RestTarget> parse_rest_target(std::string_view target) {
  auto parts = split_target(target);
  auto raw_segments = split_path(parts.path);
  RestTarget out;
  std::size_t hub_index;
  if (raw_segments.size() >= 4 && raw_segments[0] == "api" && raw_segments[1] == "v1" && raw_segments[2] == "hubs") {
    out.is_v1 = true;
    hub_index = 3;
  } else if (raw_segments.size() >= 3 && raw_segments[0] == "api" && raw_segments[1] == "hubs") {
    hub_index = 2;
  } else {
    return make_error("NotFound", "No such REST operation.");
  }
  for (std::size_t i = hub_index; i < raw_segments.size(); ++i) {
    if (raw_segments[i] == "." || raw_segments[i] == "..")
      return make_error("InvalidPath", "The path has a '.' or '..' segment.");
    auto decoded = percent_decode(raw_segments[i], false);
    if (!decoded) return make_error("InvalidPath", "The path has a malformed percent-escape or an encoded NUL.");
    out.segments.push_back(std::move(*decoded));
  }
  auto query = parse_query(parts.query);
  if (!query) return make_error("InvalidQuery", "The query string is malformed.");
  out.query = std::move(*query);
  out.raw_path = parts.path;
  out.raw_query = parts.query;

  out.hub = std::move(out.segments.front());
  out.segments.erase(out.segments.begin());
  return out;
}

Result<std::string> resolve_rest_hub(const RestTarget& target) {
  if (!hub::is_valid_hub_name(target.hub)) return make_error("InvalidHub", "Invalid hub name.");
  // ?application=app selects the internal hub "app_hub" (the emulator's GetInternalHubName).
  if (auto app = query_value(target.query, "application"); app && !app->empty()) {
    if (!hub::is_valid_hub_name(*app)) return make_error("InvalidApplication", "Invalid application name.");
    return *app + "_" + target.hub;
  }
  return target.hub;
}

Result<RestSendBody> parse_rest_send_body(std::string_view body) {
  if (body.empty()) return invalid_body("Message in request body is required.");
  if (!protocol::json_depth_within(body)) return invalid_body("The body nests deeper than 128 levels.");
  auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return invalid_body("The body is not valid JSON.");
  if (!document.is_object()) return invalid_body("The body must be a JSON object {\"target\", \"arguments\"}.");
  // The members are read from the text itself, so the arguments pass through as the caller wrote them
  // (key order, number spelling); each is then checked on its own. Names match case-insensitively.
  auto raw_target = protocol::raw_member(body, "target", /*ignore_case=*/true);
  auto raw_arguments = protocol::raw_member(body, "arguments", /*ignore_case=*/true);
  auto target = raw_target ? nlohmann::json::parse(*raw_target, nullptr, false) : nlohmann::json();
  if (!target.is_string() || target.get_ref<const std::string&>().empty())
    return invalid_body("target: expected a non-empty string.");
  RestSendBody out;
  out.target = target.get<std::string>();
  out.arguments_json = "[]";
  if (raw_arguments && *raw_arguments != "null") {
    if (raw_arguments->front() != '[') return invalid_body("arguments: expected an array.");
    out.arguments_json.assign(*raw_arguments);
  }
  return out;
}

namespace {

// A string member (keys case-insensitive), or nullopt when absent or null; an error when not a string.
Result<std::optional<std::string>> string_member(std::string_view object, std::string_view key, const std::string& where) {
  auto raw = protocol::raw_member(object, key, /*ignore_case=*/true);
  if (!raw || *raw == "null") return std::optional<std::string>();
  auto value = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!value.is_string()) return invalid_body(where + "." + std::string(key) + ": expected a string.");
  return std::optional<std::string>(value.get<std::string>());
}

Result<hub::ExecuteCommand> parse_command(std::string_view text, const std::string& where) {
  if (text.empty() || text.front() != '{') return invalid_body(where + ": expected an object.");
  auto type = string_member(text, "type", where);
  if (!type) return type.error();
  if (!*type) return invalid_body(where + ".type: required (SendMessage, JoinGroup, LeaveGroup or CloseConnection).");
  hub::ExecuteCommand command;
  const std::string& name = **type;
  if (iequals(name, "SendMessage")) {
    auto payload = parse_rest_send_body(text);
    if (!payload) return invalid_body(where + ": " + payload.error().message);
    command.kind = hub::CommandKind::send;
    command.message = hub::encode_invocation(payload->target, payload->arguments_json);
  } else if (iequals(name, "JoinGroup") || iequals(name, "LeaveGroup")) {
    command.kind = iequals(name, "JoinGroup") ? hub::CommandKind::join_group : hub::CommandKind::leave_group;
    auto group = string_member(text, "group", where);
    if (!group) return group.error();
    auto group_name = string_member(text, "groupName", where);  // the name reply actions use
    if (!group_name) return group_name.error();
    std::optional<std::string> chosen = *group ? std::move(*group) : std::move(*group_name);
    if (!chosen || chosen->empty() || chosen->size() > 1024)
      return invalid_body(where + ".group: expected a group name of 1 to 1024 characters.");
    command.group = std::move(*chosen);
  } else if (iequals(name, "CloseConnection")) {
    command.kind = hub::CommandKind::close;
    auto reason = string_member(text, "reason", where);
    if (!reason) return reason.error();
    command.reason = reason->value_or("");
    if (auto allow = protocol::raw_member(text, "allowReconnect", /*ignore_case=*/true); allow && *allow != "null") {
      if (*allow != "true" && *allow != "false") return invalid_body(where + ".allowReconnect: expected true or false.");
      command.allow_reconnect = *allow == "true";
    }
  } else {
    return invalid_body(where + ".type: '" + name + "' is not SendMessage, JoinGroup, LeaveGroup or CloseConnection.");
  }
  return command;
}

}  // namespace

Result<std::vector<hub::ExecuteCommand>> parse_execute_body(std::string_view body) {
  if (body.empty()) return invalid_body("Commands in request body are required.");
  if (!protocol::json_depth_within(body)) return invalid_body("The body nests deeper than 128 levels.");
  auto document = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return invalid_body("The body is not valid JSON.");
  std::string_view list = body;
  if (document.is_object()) {
    auto commands = protocol::raw_member(body, "commands", /*ignore_case=*/true);
    if (!commands) return invalid_body("Expected an array of commands, or {\"commands\": [...]}.");
    list = *commands;
  } else if (!document.is_array()) {
    return invalid_body("Expected an array of commands, or {\"commands\": [...]}.");
  }
  auto items = protocol::raw_array_elements(list);
  if (!items) return invalid_body("commands: expected an array.");
  if (items->empty() || items->size() > max_execute_commands)
    return invalid_body("commands: expected 1 to " + std::to_string(max_execute_commands) + " commands.");
  std::vector<hub::ExecuteCommand> commands;
  commands.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto command = parse_command((*items)[i], "commands[" + std::to_string(i) + "]");
    if (!command) return command.error();
    commands.push_back(std::move(*command));
  }
  return commands;
}

}  // namespace sb::http
