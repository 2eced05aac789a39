#include "protocol/hub_protocol.hpp"

#include "protocol/json_hub_protocol.hpp"
#include "protocol/messagepack_hub_protocol.hpp"
#include "protocol/varint.hpp"

namespace sb::protocol {

Result<std::size_t> parse_hub_messages(HubProtocolKind kind, std::string_view input, std::vector<InboundMessage>& out,
                                       std::size_t max_message_bytes) {
  if (kind == HubProtocolKind::json) return parse_json_messages(input, out, {max_message_bytes});
  return parse_messagepack_messages(input, out, {max_message_bytes});
}

std::string encode_completion_result(HubProtocolKind kind, std::string_view invocation_id, std::string_view result_json) {
  if (kind == HubProtocolKind::json) return encode_json_completion_result(invocation_id, result_json);
  return encode_messagepack_completion_result(invocation_id, messagepack_from_json(result_json));
}

std::string encode_completion_void(HubProtocolKind kind, std::string_view invocation_id) {
  return kind == HubProtocolKind::json ? encode_json_completion_void(invocation_id)
                                       : encode_messagepack_completion_void(invocation_id);
}

std::string encode_completion_error(HubProtocolKind kind, std::string_view invocation_id, std::string_view error) {
  return kind == HubProtocolKind::json ? encode_json_completion_error(invocation_id, error)
                                       : encode_messagepack_completion_error(invocation_id, error);
}

std::string encode_client_invocation(HubProtocolKind kind, std::string_view invocation_id, std::string_view target,
                                     std::string_view arguments_json) {
  if (kind == HubProtocolKind::json) return encode_json_invocation(target, arguments_json, invocation_id);
  return encode_messagepack_invocation(target, messagepack_from_json(arguments_json), invocation_id);
}

std::string encode_stream_item(HubProtocolKind kind, std::string_view invocation_id, std::string_view item_json) {
  if (kind == HubProtocolKind::json) return encode_json_stream_item(invocation_id, item_json);
  return encode_messagepack_stream_item(invocation_id, messagepack_from_json(item_json));
}

std::string encode_unframed_invocation(HubProtocolKind kind, std::string_view target, std::string_view arguments_json) {
  if (kind == HubProtocolKind::json) {
    auto record = encode_json_invocation(target, arguments_json);
    record.pop_back();  // the record separator
    return record;
  }
  auto framed = encode_messagepack_invocation(target, messagepack_from_json(arguments_json));
  auto length = read_varint(framed);
  return framed.substr(length.header_bytes);
}

void append_framed_record(HubProtocolKind kind, std::string& out, std::string_view record) {
  if (kind == HubProtocolKind::json) {
    out.append(record);
    out.push_back('\x1e');
    return;
  }
  append_varint(out, record.size());
  out.append(record);
}

Result<CompletionContent> read_completion(HubProtocolKind kind, std::string_view record) {
  return kind == HubProtocolKind::json ? read_json_completion(record) : read_messagepack_completion(record);
}

std::string encode_close(HubProtocolKind kind, std::string_view error, bool allow_reconnect) {
  return kind == HubProtocolKind::json ? encode_json_close(error, allow_reconnect)
                                       : encode_messagepack_close(error, allow_reconnect);
}

std::string encode_ack(HubProtocolKind kind, std::uint64_t sequence_id) {
  return kind == HubProtocolKind::json ? encode_json_sequence_message(MessageType::ack, sequence_id)
                                       : encode_messagepack_sequence_message(MessageType::ack, sequence_id);
}

std::string encode_sequence(HubProtocolKind kind, std::uint64_t sequence_id) {
  return kind == HubProtocolKind::json ? encode_json_sequence_message(MessageType::sequence, sequence_id)
                                       : encode_messagepack_sequence_message(MessageType::sequence, sequence_id);
}

const Frame& ping_frame(HubProtocolKind kind) {
  static const Frame json = make_frame(json_ping_frame());
  static const Frame messagepack = make_frame(messagepack_ping_frame());
  return kind == HubProtocolKind::json ? json : messagepack;
}

std::string_view protocol_name(HubProtocolKind kind) { return kind == HubProtocolKind::json ? "json" : "messagepack"; }

std::string_view upstream_content_type(HubProtocolKind kind) {
  return kind == HubProtocolKind::json ? "application/json" : "application/x-msgpack";
}

}  // namespace sb::protocol
