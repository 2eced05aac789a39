#pragma once
// The parts of a REST request read from untrusted bytes, as pure functions (so they can be fuzzed):
// the request target (which hub, which path segments, which query) and the JSON body of a send.
// Errors carry the JSON error code the REST API answers with; `not_found` means 404, every other 400.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "hub/action.hpp"
#include "http/url_query.hpp"

namespace sb::http {

struct RestTarget {
  bool is_v1 = false;                 // /api/v1/hubs/… rather than /api/hubs/…?api-version=…
  std::string hub;                    // decoded, not yet checked (resolve_rest_hub)
  std::vector<std::string> segments;  // decoded, after the hub
  QueryParams query;
  std::string_view raw_path;   // as received, still encoded (presence nextLinks repeat it)
  std::string_view raw_query;  // without '?'
};

// /api/v1/hubs/{hub}/… or /api/hubs/{hub}/…. Segments are split before decoding (an id may hold an
// encoded '/', PROTOCOL.md part 2 §4.3); a raw "." or ".." segment is refused, since proxies and
// clients differ on whether to collapse it. The views point into `target`.
Result<RestTarget> parse_rest_target(std::string_view target);

// The hub a parsed target addresses: its name checked, and "app_hub" with ?application=app. Separate
// from parsing because the caller authorizes in between (a bad hub name without a token is a 401).
Result<std::string> resolve_rest_hub(const RestTarget& target);

struct RestSendBody {
  std::string target;          // the client method, non-empty
  std::string arguments_json;  // a JSON array
};

// {"target": "...", "arguments": [...]}, keys case-insensitive (the SDK sends Target/Arguments).
Result<RestSendBody> parse_rest_send_body(std::string_view body);

// :execute's body (Azure 2023-07+, docs/rest-api.md "Commands"): an array of commands, or an object
// {"commands": [...]}. Each is {"type": "SendMessage", "target", "arguments"}, {"type": "JoinGroup" or
// "LeaveGroup", "group"} or {"type": "CloseConnection", "reason"?, "allowReconnect"?}; keys and type
// names case-insensitive. 1 to max_execute_commands commands; a send's arguments are kept as written.
inline constexpr std::size_t max_execute_commands = 100;
Result<std::vector<hub::ExecuteCommand>> parse_execute_body(std::string_view body);

}  // namespace sb::http
