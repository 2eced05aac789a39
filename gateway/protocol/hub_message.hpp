#pragma once
// Hub protocol messages as the gateway sees them (PROTOCOL.md part 1 §3). Inbound messages keep their
// raw record bytes, because an Invocation goes upstream verbatim, unframed, in the client's protocol.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::protocol {

enum class MessageType : int {
  invocation = 1,
  stream_item = 2,
  completion = 3,
  stream_invocation = 4,
  cancel_invocation = 5,
  ping = 6,
  close = 7,
  ack = 8,
  sequence = 9,
};

enum class HubProtocolKind { json, messagepack };

struct InboundMessage {
  MessageType type{};
  std::optional<std::string> invocation_id;  // absent for send() (non-blocking) invocations
  std::string target;                        // invocation, stream invocation
  std::vector<std::string> stream_ids;       // an invocation's client upload streams (streamIds)
  std::string trace_parent;                  // an invocation's headers.traceparent, as sent (unchecked)
  std::string trace_state;                   // its headers.tracestate, as sent (unchecked)
  std::optional<std::string> error;          // close
  std::uint64_t sequence_id = 0;             // ack, sequence
  std::string raw;                           // the record without its framing (no 0x1E / VarInt)
};

// What a client's Completion carries (client results): an error, a result as JSON text (converted from
// MessagePack, bin as base64, map keys in their order), or neither (a void completion).
struct CompletionContent {
  std::optional<std::string> error;
  std::optional<std::string> result_json;
};

// Appends `record` (unframed) to `out` framed as on the wire: JSON + 0x1E, or a VarInt length + MessagePack.
void append_framed_record(HubProtocolKind kind, std::string& out, std::string_view record);

}  // namespace sb::protocol
