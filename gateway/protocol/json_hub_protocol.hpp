#pragma once
// The JSON hub protocol (PROTOCOL.md part 1 §3): records are JSON objects ending with 0x1E; a frame
// may hold several. Pure: bytes in, messages out; values in, ready-to-send bytes out.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

struct JsonParseLimits {
  std::size_t max_message_bytes = 32 * 1024;  // ASP.NET MaximumReceiveMessageSize
};

// Parses every complete record in `input` into `out` and returns how many bytes it consumed; the
// rest (an incomplete record) stays with the caller for the next read. An error means the stream is
// unusable (bad JSON, a required field missing or of the wrong type, a record over the limit): the
// caller closes the connection with the error's message.
Result<std::size_t> parse_json_messages(std::string_view input, std::vector<InboundMessage>& out,
                                        const JsonParseLimits& limits = {});

// Encoders. `arguments_json` / `result_json` are JSON texts (an array / any value) produced elsewhere.
std::string encode_json_invocation(std::string_view target, std::string_view arguments_json);
// A StreamItem of a server-to-client stream; `item_json` a JSON text, copied as it is.
std::string encode_json_stream_item(std::string_view invocation_id, std::string_view item_json);
// The result or error of a Completion record (as parse_json_messages accepted it), the result's text
// as the client wrote it.
Result<CompletionContent> read_json_completion(std::string_view record);
// An Invocation that expects the client's Completion (client results); an empty id writes none.
std::string encode_json_invocation(std::string_view target, std::string_view arguments_json, std::string_view invocation_id);
std::string encode_json_completion_result(std::string_view invocation_id, std::string_view result_json);
std::string encode_json_completion_void(std::string_view invocation_id);
std::string encode_json_completion_error(std::string_view invocation_id, std::string_view error);
std::string encode_json_close(std::string_view error, bool allow_reconnect);
const std::string& json_ping_frame();
// Stateful reconnect's Ack (8) and Sequence (9): {"type":N,"sequenceId":id}.
std::string encode_json_sequence_message(MessageType type, std::uint64_t sequence_id);

// A JSON string literal for `text` (quotes and escapes included).
std::string json_quote(std::string_view text);

}  // namespace sb::protocol
