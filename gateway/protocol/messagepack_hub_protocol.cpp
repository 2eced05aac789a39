#include "protocol/messagepack_hub_protocol.hpp"

#include <nlohmann/json.hpp>

#include "protocol/nesting.hpp"
#include "protocol/varint.hpp"

namespace sb::protocol {
namespace {

using nlohmann::json;

Error bad(std::string message) { return make_error("invalid_message", std::move(message)); }

void write_array_header(std::string& out, std::size_t n) {
  if (n < 16) {
    out += static_cast<char>(0x90 | n);
  } else {
    out += static_cast<char>(0xdc);
    out += static_cast<char>((n >> 8) & 0xff);
    out += static_cast<char>(n & 0xff);
  }
}

void write_str(std::string& out, std::string_view s) {
  auto n = s.size();
  if (n < 32) {
    out += static_cast<char>(0xa0 | n);
  } else if (n < 256) {
    out += static_cast<char>(0xd9);
    out += static_cast<char>(n);
  } else if (n < 65536) {
    out += static_cast<char>(0xda);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(0xdb);
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xff);
  }
  out += s;
}

// bin values become base64 strings in JSON, as .NET's JSON protocol writes byte[].
void binary_to_base64(nlohmann::ordered_json& value) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    std::string text;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
      unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
      for (int shift : {18, 12, 6, 0}) text += alphabet[(v >> shift) & 63];
    }
    if (i + 1 == bytes.size()) {
      unsigned v = bytes[i] << 16;
      text += alphabet[(v >> 18) & 63];
      text += alphabet[(v >> 12) & 63];
      text += "==";
    } else if (i + 2 == bytes.size()) {
      unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8);
      text += alphabet[(v >> 18) & 63];
      text += alphabet[(v >> 12) & 63];
      text += alphabet[(v >> 6) & 63];
      text += '=';
    }
    value = text;
  } else if (value.is_structured()) {
    for (auto& element : value) binary_to_base64(element);
  }
}

std::string json_text_of(nlohmann::ordered_json value) {
  binary_to_base64(value);
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

constexpr char nil = static_cast<char>(0xc0);
constexpr char empty_map = static_cast<char>(0x80);

// An id: a non-empty string, or nil/"" for none (the JS client may write either for a send()).
Result<bool> read_id(const json& value, const char* field, std::optional<std::string>& out) {
  if (value.is_null()) return false;
  if (!value.is_string()) return bad(std::string(field) + ": expected a string or nil");
  if (value.get_ref<const std::string&>().empty()) return false;
  out = value.get<std::string>();
  return true;
}

Result<bool> check_headers(const json& headers) {
  if (!headers.is_object()) return bad("headers: expected a map");
  for (const auto& [k, v] : headers.items())
    if (!v.is_string()) return bad("headers: expected string values");
  return true;
}

Result<InboundMessage> parse_record(std::string_view record) {
  if (!msgpack_well_formed(record)) return bad("The message is not valid MessagePack or nests too deeply.");
  json array = json::from_msgpack(record, /*strict=*/true, /*allow_exceptions=*/false);
  if (array.is_discarded()) return bad("The message is not valid MessagePack.");
  if (!array.is_array() || array.empty()) return bad("Expected a MessagePack array.");
  if (!array[0].is_number_integer()) return bad("type: expected an integer");
  InboundMessage message;
  auto type = array[0].get<std::int64_t>();
  message.type = static_cast<MessageType>(type < 0 || type > 100 ? 0 : type);
  message.raw.assign(record);
  auto need = [&](std::size_t n) -> Result<bool> {
    if (array.size() < n) return bad("Invalid payload for message of type " + std::to_string(type) + ": expected " +
                                      std::to_string(n) + " elements");
    return true;
  };
  switch (message.type) {
    case MessageType::invocation:
    case MessageType::stream_invocation: {
      // [type, headers, id|nil, target, arguments(, streamIds)]: 5 from the JS client, 6 from .NET.
      if (auto ok = need(5); !ok) return ok.error();
      if (auto ok = check_headers(array[1]); !ok) return ok.error();
      if (auto trace = array[1].find("traceparent"); trace != array[1].end()) message.trace_parent = trace->get<std::string>();
      if (auto state = array[1].find("tracestate"); state != array[1].end()) message.trace_state = state->get<std::string>();
      if (auto ok = read_id(array[2], "invocationId", message.invocation_id); !ok) return ok.error();
      if (message.type == MessageType::stream_invocation && !message.invocation_id)
        return bad("invocationId: required for a stream invocation");
      if (!array[3].is_string() || array[3].get_ref<const std::string&>().empty())
        return bad("target: expected a non-empty string");
      message.target = array[3].get<std::string>();
      if (!array[4].is_array()) return bad("arguments: expected an array");
      if (array.size() > 5 && !array[5].is_null()) {
        if (!array[5].is_array()) return bad("streamIds: expected an array");
        for (const auto& id : array[5]) {
          if (!id.is_string()) return bad("streamIds: expected strings");
          message.stream_ids.push_back(id.get<std::string>());
        }
      }
      break;
    }
    case MessageType::stream_item:
    case MessageType::completion:
    case MessageType::cancel_invocation: {
      if (auto ok = need(message.type == MessageType::cancel_invocation ? 3 : 4); !ok) return ok.error();
      if (auto ok = check_headers(array[1]); !ok) return ok.error();
      if (auto ok = read_id(array[2], "invocationId", message.invocation_id); !ok) return ok.error();
      if (!message.invocation_id) return bad("invocationId: required");
      break;
    }
    case MessageType::close: {
      if (auto ok = need(2); !ok) return ok.error();
      if (!array[1].is_null()) {
        if (!array[1].is_string()) return bad("error: expected a string or nil");
        message.error = array[1].get<std::string>();
      }
      break;
    }
    case MessageType::ack:
    case MessageType::sequence: {
      if (auto ok = need(2); !ok) return ok.error();
      if (!array[1].is_number_unsigned()) return bad("sequenceId: expected a non-negative integer");
      message.sequence_id = array[1].get<std::uint64_t>();
      break;
    }
    default:
      break;  // ping, and unknown types (ignored, as the clients ignore ours)
  }
  return message;
}

}  // namespace

Result<std::size_t> parse_messagepack_messages(std::string_view input, std::vector<InboundMessage>& out,
                                               const MessagePackParseLimits& limits) {
  std::size_t consumed = 0;
  while (consumed < input.size()) {
    auto rest = input.substr(consumed);
    auto length = read_varint(rest);
    if (length.status == VarIntStatus::incomplete) return consumed;
    if (length.status == VarIntStatus::invalid) return bad("Messages over 2GB in size are not supported.");
    if (length.value > limits.max_message_bytes)
      return make_error("message_too_large", "The maximum message size of " + std::to_string(limits.max_message_bytes) +
                                                 "B was exceeded. The message size can be configured in AddHubOptions.");
    if (rest.size() - length.header_bytes < length.value) return consumed;  // the record is still arriving
    auto message = parse_record(rest.substr(length.header_bytes, length.value));
    if (!message) return message.error();
    out.push_back(std::move(message).value());
    consumed += length.header_bytes + length.value;
  }
  return consumed;
}

Result<CompletionContent> read_messagepack_completion(std::string_view record) {
  // ordered_json: a result's map keys keep the client's order.
  auto array = nlohmann::ordered_json::from_msgpack(record, /*strict=*/true, /*allow_exceptions=*/false);
  if (!array.is_array() || array.size() < 4 || !array[3].is_number_integer())
    return bad("Invalid payload for a completion message.");
  CompletionContent content;
  switch (array[3].get<std::int64_t>()) {
    case 1:  // error
      if (array.size() < 5 || !array[4].is_string()) return bad("error: expected a string");
      content.error = array[4].get<std::string>();
      break;
    case 2:  // void
      break;
    case 3:  // a result
      if (array.size() < 5) return bad("Invalid payload for a completion message: the result is missing.");
      content.result_json = json_text_of(std::move(array[4]));
      break;
    default:
      return bad("Invalid invocation result kind.");
  }
  return content;
}

std::optional<std::string> messagepack_invocation_arguments_json(std::string_view record) {
  auto array = nlohmann::ordered_json::from_msgpack(record, /*strict=*/true, /*allow_exceptions=*/false);
  if (!array.is_array() || array.size() < 5 || array[0] != 1 || !array[4].is_array()) return std::nullopt;
  return json_text_of(std::move(array[4]));
}

std::string messagepack_from_json(std::string_view json_text) {
  if (!json_depth_within(json_text)) return std::string(1, nil);
  // ordered_json: maps keep the sender's key order (json's sorted map would re-sort them).
  auto value = nlohmann::ordered_json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::string(1, nil);
  std::vector<std::uint8_t> bytes = nlohmann::ordered_json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

std::string encode_messagepack_invocation(std::string_view target, std::string_view arguments_msgpack) {
  return encode_messagepack_invocation(target, arguments_msgpack, {});
}

std::string encode_messagepack_invocation(std::string_view target, std::string_view arguments_msgpack,
                                          std::string_view invocation_id) {
  std::string body;
  body.reserve(target.size() + arguments_msgpack.size() + invocation_id.size() + 12);
  write_array_header(body, 6);  // [1, {}, id|nil, target, arguments, []]: ASP.NET's 6-element form
  body += '\x01';
  body += empty_map;
  if (invocation_id.empty()) body += nil;
  else write_str(body, invocation_id);
  write_str(body, target);
  body += arguments_msgpack;
  body += static_cast<char>(0x90);
  return frame_with_varint(body);
}

std::string encode_messagepack_stream_item(std::string_view invocation_id, std::string_view item_msgpack) {
  std::string body;
  write_array_header(body, 4);  // [2, {}, invocationId, item]
  body += '\x02';
  body += empty_map;
  write_str(body, invocation_id);
  body += item_msgpack;
  return frame_with_varint(body);
}

std::string encode_messagepack_completion_result(std::string_view invocation_id, std::string_view result_msgpack) {
  std::string body;
  write_array_header(body, 5);
  body += '\x03';
  body += empty_map;
  write_str(body, invocation_id);
  body += '\x03';  // ResultKind: value
  body += result_msgpack;
  return frame_with_varint(body);
}

std::string encode_messagepack_completion_void(std::string_view invocation_id) {
  std::string body;
  write_array_header(body, 4);
  body += '\x03';
  body += empty_map;
  write_str(body, invocation_id);
  body += '\x02';  // ResultKind: void
  return frame_with_varint(body);
}

std::string encode_messagepack_completion_error(std::string_view invocation_id, std::string_view error) {
  std::string body;
  write_array_header(body, 5);
  body += '\x03';
  body += empty_map;
  write_str(body, invocation_id);
  body += '\x01';  // ResultKind: error
  write_str(body, error);
  return frame_with_varint(body);
}

std::string encode_messagepack_close(std::string_view error, bool allow_reconnect) {
  std::string body;
  write_array_header(body, 3);  // ASP.NET always writes 3 elements
  body += '\x07';
  if (error.empty()) body += nil;
  else write_str(body, error);
  body += allow_reconnect ? static_cast<char>(0xc3) : static_cast<char>(0xc2);
  return frame_with_varint(body);
}

std::string encode_messagepack_sequence_message(MessageType type, std::uint64_t sequence_id) {
  std::string body;
  write_array_header(body, 2);
  body += static_cast<char>(type);
  body += '\xcf';
  for (int shift = 56; shift >= 0; shift -= 8) body += static_cast<char>((sequence_id >> shift) & 0xff);
  return frame_with_varint(body);
}

const std::string& messagepack_ping_frame() {
  static const std::string frame("\x02\x91\x06", 3);
  return frame;
}

}  // namespace sb::protocol
