#include "protocol/encoded_message.hpp"

#include <nlohmann/json.hpp>

#include "protocol/json_hub_protocol.hpp"
#include "protocol/messagepack_hub_protocol.hpp"

namespace sb::protocol {
namespace {

// bin values become base64 strings in JSON, as .NET's JSON protocol writes byte[].
void binary_to_base64(nlohmann::json& value) {
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

}  // namespace

EncodedMessage::EncodedMessage(std::string target, std::string arguments_json)
    : target_(std::move(target)),
      arguments_json_(std::move(arguments_json)),
      json_(make_frame(encode_json_invocation(target_, arguments_json_))) {}

std::shared_ptr<const EncodedMessage> EncodedMessage::from_frames(Frame json, Frame messagepack) {
  std::shared_ptr<EncodedMessage> message(new EncodedMessage());
  message->json_ = std::move(json);
  message->is_preframed_ = true;
  message->given_messagepack_ = messagepack;
  if (messagepack) std::call_once(message->messagepack_once_, [&] { message->messagepack_ = std::move(messagepack); });
  if (!message->json_ && message->messagepack_) {
    // Only a MessagePack payload: derive the JSON frame so JSON clients get the message too.
    std::vector<InboundMessage> records;
    auto parsed = parse_messagepack_messages(*message->messagepack_, records, {message->messagepack_->size()});
    if (parsed && records.size() == 1 && records[0].type == MessageType::invocation) {
      auto array = nlohmann::json::from_msgpack(records[0].raw, true, false);
      if (array.is_array() && array.size() >= 5) {
        binary_to_base64(array[4]);
        message->json_ = make_frame(encode_json_invocation(records[0].target, array[4].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
    }
  }
  if (message->json_) {
    // Keep target and arguments so a MessagePack frame can be derived if the caller sent none.
    std::vector<InboundMessage> records;
    auto parsed = parse_json_messages(*message->json_, records, {message->json_->size()});
    if (parsed && records.size() == 1 && records[0].type == MessageType::invocation) {
      auto doc = nlohmann::json::parse(records[0].raw, nullptr, false);
      message->target_ = records[0].target;
      message->arguments_json_ = doc.is_object() && doc.contains("arguments") ? doc["arguments"].dump() : "[]";
    }
  }
  return message;
}

const Frame& EncodedMessage::for_protocol(HubProtocolKind kind) const {
  if (kind == HubProtocolKind::json) return json_;
  std::call_once(messagepack_once_, [this] {
    if (!target_.empty()) messagepack_ = make_frame(encode_messagepack_invocation(target_, messagepack_from_json(arguments_json_)));
  });
  return messagepack_;
}

}  // namespace sb::protocol
