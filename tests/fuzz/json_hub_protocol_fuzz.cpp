// libFuzzer target for the JSON hub protocol parser (PROTOCOL.md part 1 §3).
// Properties: never crashes; consumed <= input size and ends on a record separator; every parsed
// Invocation's raw record re-parses, alone, to the same type, target and invocation id; an
// invocation we encode for a parsed target decodes back to that target.
// Every parsed Ack and Sequence, encoded again by our own encoder, parses back to the same type and id.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json_hub_protocol.hpp"

using namespace sb::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<InboundMessage> messages;
  JsonParseLimits limits{4096};  // small, so the size-limit paths are reached too
  auto consumed = parse_json_messages(input, messages, limits);
  if (!consumed.ok()) return 0;
  if (*consumed > input.size()) std::abort();
  if (*consumed > 0 && input[*consumed - 1] != '\x1e') std::abort();

  for (const auto& message : messages) {
    if (message.type != MessageType::ack && message.type != MessageType::sequence) continue;
    auto frame = encode_json_sequence_message(message.type, message.sequence_id);
    std::vector<InboundMessage> again;
    auto reparsed = parse_json_messages(frame, again, JsonParseLimits{frame.size()});
    if (!reparsed.ok() || again.size() != 1 || again[0].type != message.type || again[0].sequence_id != message.sequence_id)
      std::abort();
  }

  for (const auto& message : messages) {
    if (message.type != MessageType::invocation && message.type != MessageType::stream_invocation) continue;
    std::vector<InboundMessage> again;
    auto reparsed = parse_json_messages(message.raw + '\x1e', again, limits);
    if (!reparsed.ok() || again.size() != 1) std::abort();
    if (again[0].type != message.type || again[0].target != message.target ||
        again[0].invocation_id != message.invocation_id)
      std::abort();

    // Round trip through our own encoder (a valid target is valid UTF-8: nlohmann checked it).
    auto frame = encode_json_invocation(message.target, "[]");
    std::vector<InboundMessage> decoded;
    auto decoded_size = parse_json_messages(frame, decoded, {frame.size()});
    if (!decoded_size.ok() || decoded.size() != 1 || decoded[0].target != message.target) std::abort();
  }
  return 0;
}
