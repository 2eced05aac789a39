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

// Hub names: a letter, then letters, digits and _`,.[] — at most 128 (PROTOCOL.md part 2 §5).
bool is_valid_hub_name(std::string_view hub);
std::string hub_key_of(std::string_view hub);  // lower-cased

}  // namespace sb::hub
