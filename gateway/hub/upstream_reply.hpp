#pragma once
// Reads a function's 2xx reply to an upstream event (PROTOCOL.md part 3 §3.4): either Azure's verbatim
// form (framed hub messages written to the caller as they are) or the action envelope
// {"result"?, "error"?, "actions"?}. Every action is validated before any runs. Pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "hub/action.hpp"
#include "protocol/hub_message.hpp"

namespace sb::hub {

enum class ReplyKind { empty, verbatim, envelope };

struct UpstreamReply {
  ReplyKind kind = ReplyKind::empty;
  std::string verbatim;                    // framed records in the caller's protocol
  std::optional<std::string> result_json;  // envelope: the Completion's result as JSON text
  std::optional<std::string> error;        // envelope: a Completion error
  std::vector<Action> actions;
};

struct ReplyContext {
  std::string hub_key;  // actions without "hub" address the caller's hub
  protocol::HubProtocolKind protocol = protocol::HubProtocolKind::json;
  std::size_t max_actions = 1000;
};

Result<UpstreamReply> parse_upstream_reply(std::string_view content_type, std::string_view body, const ReplyContext& context);

// A function's 2xx reply to the blocking `connect` event (PROTOCOL.md part 3 §3.7). Empty, or a body
// that is not application/json: let the client in, nothing else. Otherwise a JSON object
//   {"userId": "…", "groups": ["…"], "actions": [ …as in the envelope… ]}, every field optional.
struct ConnectReply {
  std::optional<std::string> user_id;  // set: the connection-to-be's user id ("" makes it anonymous)
  std::vector<std::string> groups;     // joined when the connection opens
  std::vector<Action> actions;         // run when the reply arrives (there is no connection yet)
};
Result<ConnectReply> parse_connect_reply(std::string_view content_type, std::string_view body,
                                         const ReplyContext& context);

// Why a function refused (401/403 to `connected` or `connect`): its {"error": "…"} or its text/plain
// body, at most 256 bytes; `fallback` when it gave neither.
std::string refusal_reason(std::string_view content_type, std::string_view body, std::string_view fallback);

}  // namespace sb::hub
