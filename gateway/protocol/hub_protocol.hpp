#pragma once
// One door to both hub protocols: the connection and the dispatcher say which protocol and what to
// encode, and don't care how. Pure.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/frame.hpp"
#include "common/result.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

Result<std::size_t> parse_hub_messages(HubProtocolKind kind, std::string_view input, std::vector<InboundMessage>& out,
                                       std::size_t max_message_bytes);

// `result_json` is a JSON text; MessagePack callers get it converted.
std::string encode_completion_result(HubProtocolKind kind, std::string_view invocation_id, std::string_view result_json);
std::string encode_completion_void(HubProtocolKind kind, std::string_view invocation_id);
std::string encode_completion_error(HubProtocolKind kind, std::string_view invocation_id, std::string_view error);
// An Invocation that asks the client for a result (client results); `arguments_json` a JSON array text.
std::string encode_client_invocation(HubProtocolKind kind, std::string_view invocation_id, std::string_view target,
                                     std::string_view arguments_json);
// A StreamItem of a server-to-client stream (`item_json` a JSON text; MessagePack callers get it converted).
std::string encode_stream_item(HubProtocolKind kind, std::string_view invocation_id, std::string_view item_json);
// An Invocation record without its framing (what InboundMessage::raw holds), without an invocation id.
std::string encode_unframed_invocation(HubProtocolKind kind, std::string_view target, std::string_view arguments_json);
// What a client's Completion record (`InboundMessage::raw`) says.
Result<CompletionContent> read_completion(HubProtocolKind kind, std::string_view record);
std::string encode_close(HubProtocolKind kind, std::string_view error, bool allow_reconnect);
const Frame& ping_frame(HubProtocolKind kind);
// Stateful reconnect (PROTOCOL.md part 1 §4): Ack tells the client what we processed, Sequence starts
// a resume with the id of the first message that follows.
std::string encode_ack(HubProtocolKind kind, std::uint64_t sequence_id);
std::string encode_sequence(HubProtocolKind kind, std::uint64_t sequence_id);

std::string_view protocol_name(HubProtocolKind kind);  // "json", "messagepack"
std::string_view upstream_content_type(HubProtocolKind kind);  // application/json, application/x-msgpack

}  // namespace sb::protocol
