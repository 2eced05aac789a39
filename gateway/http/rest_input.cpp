#include "http/rest_input.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii.hpp"
#include "hub/hub_name.hpp"
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

}  // namespace sb::http
