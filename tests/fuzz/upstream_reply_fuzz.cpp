// libFuzzer target for the upstream reply reader (PROTOCOL.md part 3 §3.4).
// The first byte picks the content type and the caller's protocol; the rest is the body.
// Properties: never crashes; a verbatim reply is the body unchanged; every message action carries
// one well-formed Invocation frame that decodes back to a single invocation; no more actions than
// the limit; result and error never both set.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>
#include <vector>

#include "hub/upstream_reply.hpp"
#include "protocol/json_hub_protocol.hpp"

using namespace sb::hub;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view content_types[] = {"application/json", "application/json; charset=utf-8", "",
                                                       "text/plain", "application/x-msgpack"};
  std::uint8_t selector = data[0];
  std::string_view content_type = content_types[selector % 5];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  ReplyContext context;
  context.hub_key = "chat";
  context.protocol =
      (selector & 0x80) ? sb::protocol::HubProtocolKind::messagepack : sb::protocol::HubProtocolKind::json;
  context.max_actions = 16;

  auto reply = parse_upstream_reply(content_type, body, context);
  if (!reply.ok()) return 0;
  switch (reply->kind) {
    case ReplyKind::empty:
      if (!body.empty()) std::abort();
      break;
    case ReplyKind::verbatim:
      if (reply->verbatim != body) std::abort();
      break;
    case ReplyKind::envelope:
      if (reply->result_json && reply->error) std::abort();
      if (reply->actions.size() > context.max_actions) std::abort();
      for (const auto& action : reply->actions) {
        const auto* send = std::get_if<SendAction>(&action);
        if (!send) continue;
        if (!send->message) std::abort();
        const auto& json_frame = send->message->for_protocol(sb::protocol::HubProtocolKind::json);
        if (!json_frame) std::abort();
        const auto& frame = *json_frame;
        std::vector<sb::protocol::InboundMessage> decoded;
        auto consumed = sb::protocol::parse_json_messages(frame, decoded, {frame.size()});
        // One record: an Invocation, or a stream action's StreamItem or Completion.
        using sb::protocol::MessageType;
        if (!consumed.ok() || *consumed != frame.size() || decoded.size() != 1 ||
            (decoded[0].type != MessageType::invocation && decoded[0].type != MessageType::stream_item &&
             decoded[0].type != MessageType::completion))
          std::abort();
      }
      break;
  }
  return 0;
}
