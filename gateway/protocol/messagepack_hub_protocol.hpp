#pragma once
// The MessagePack hub protocol (PROTOCOL.md part 1 §3): VarInt-framed records, each one msgpack array.
// Accepts the JS client's 5-element Invocation and its [7,nil] Close; writes what ASP.NET writes (6-element
// Invocation, 3-element Close). Values go through nlohmann/json's MessagePack support; containers are
// depth-checked first, so hostile nesting can't exhaust the stack. Pure.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

struct MessagePackParseLimits {
  std::size_t max_message_bytes = 32 * 1024;
};

// Same contract as parse_json_messages: every complete record parsed, bytes consumed returned, an
// incomplete record left for the next read, any error fatal to the stream.
Result<std::size_t> parse_messagepack_messages(std::string_view input, std::vector<InboundMessage>& out,
                                               const MessagePackParseLimits& limits = {});

// Converts a JSON text (arguments array, a result) to MessagePack bytes; bytes of nil when it isn't JSON.
std::string messagepack_from_json(std::string_view json_text);

// Framed records, ready to send. `arguments_msgpack`/`result_msgpack` are MessagePack-encoded values.
std::string encode_messagepack_invocation(std::string_view target, std::string_view arguments_msgpack);
// A StreamItem; `item_msgpack` one MessagePack value.
std::string encode_messagepack_stream_item(std::string_view invocation_id, std::string_view item_msgpack);
// The result or error of a Completion record (as parse_messagepack_messages accepted it).
Result<CompletionContent> read_messagepack_completion(std::string_view record);
// The arguments of an Invocation record as JSON text (bin as base64, maps in their order); nullopt when
// the record is not an Invocation.
std::optional<std::string> messagepack_invocation_arguments_json(std::string_view record);
// An Invocation that expects the client's Completion (client results).
std::string encode_messagepack_invocation(std::string_view target, std::string_view arguments_msgpack,
                                          std::string_view invocation_id);
std::string encode_messagepack_completion_result(std::string_view invocation_id, std::string_view result_msgpack);
std::string encode_messagepack_completion_void(std::string_view invocation_id);
std::string encode_messagepack_completion_error(std::string_view invocation_id, std::string_view error);
std::string encode_messagepack_close(std::string_view error, bool allow_reconnect);
const std::string& messagepack_ping_frame();
// Stateful reconnect's Ack (8) and Sequence (9): [N, id], the id as a uint 64 (any width is accepted).
std::string encode_messagepack_sequence_message(MessageType type, std::uint64_t sequence_id);

}  // namespace sb::protocol
