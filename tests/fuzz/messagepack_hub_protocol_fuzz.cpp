// libFuzzer target for the MessagePack hub protocol parser (PROTOCOL.md part 1 §3).
// Properties: never crashes; consumed <= input size, and the consumed prefix parses alone to the same
// messages; every parsed Invocation's raw record, re-framed with frame_with_varint, re-parses alone to
// the same type, target and invocation id; an invocation we encode for a parsed target decodes back
// to that target.
// Every parsed Ack and Sequence, encoded again by our own encoder, parses back to the same type and id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/messagepack_hub_protocol.hpp"
#include "protocol/varint.hpp"

using namespace sb::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<InboundMessage> messages;
  MessagePackParseLimits limits{1024};  // small, so the size-limit paths are reached too
  auto consumed = parse_messagepack_messages(input, messages, limits);
  if (!consumed.ok()) return 0;
  if (*consumed > input.size()) std::abort();

  // The consumed prefix ends on a record boundary: alone, it gives the same messages.
  std::vector<InboundMessage> prefix;
  auto prefix_consumed = parse_messagepack_messages(input.substr(0, *consumed), prefix, limits);
  if (!prefix_consumed.ok() || *prefix_consumed != *consumed || prefix.size() != messages.size()) std::abort();

  // Re-framing with the shortest VarInt can only shrink what the input's (maybe padded) lengths took.
  std::size_t reframed_total = 0;
  for (const auto& message : messages) {
    if (message.raw.size() > limits.max_message_bytes) std::abort();
    reframed_total += frame_with_varint(message.raw).size();
  }
  if (reframed_total > *consumed) std::abort();

  for (const auto& message : messages) {
    if (message.type != MessageType::ack && message.type != MessageType::sequence) continue;
    auto frame = encode_messagepack_sequence_message(message.type, message.sequence_id);
    std::vector<InboundMessage> again;
    auto reparsed = parse_messagepack_messages(frame, again, MessagePackParseLimits{frame.size()});
    if (!reparsed.ok() || again.size() != 1 || again[0].type != message.type || again[0].sequence_id != message.sequence_id)
      std::abort();
  }

  for (const auto& message : messages) {
    if (message.type != MessageType::invocation && message.type != MessageType::stream_invocation) continue;
    std::vector<InboundMessage> again;
    auto framed = frame_with_varint(message.raw);
    auto reparsed = parse_messagepack_messages(framed, again, limits);
    if (!reparsed.ok() || *reparsed != framed.size() || again.size() != 1) std::abort();
    if (again[0].type != message.type || again[0].target != message.target ||
        again[0].invocation_id != message.invocation_id || again[0].stream_ids != message.stream_ids ||
        again[0].raw != message.raw)
      std::abort();

    // Round trip through our own encoder.
    auto frame = encode_messagepack_invocation(message.target, "\x90");
    std::vector<InboundMessage> decoded;
    auto decoded_size = parse_messagepack_messages(frame, decoded, {frame.size()});
    if (!decoded_size.ok() || *decoded_size != frame.size() || decoded.size() != 1 ||
        decoded[0].type != MessageType::invocation || decoded[0].target != message.target ||
        decoded[0].invocation_id.has_value())
      std::abort();
  }
  return 0;
}
