#include "protocol/encoded_message.hpp"

#include <nlohmann/json.hpp>

#include "protocol/json_hub_protocol.hpp"
#include "protocol/messagepack_hub_protocol.hpp"

namespace sb::protocol {

EncodedMessage::EncodedMessage(std::string target, std::string arguments_json)
    : target_(std::move(target)),
      arguments_json_(std::move(arguments_json)),
      json_(make_frame(encode_json_invocation(target_, arguments_json_))) {}

std::shared_ptr<const EncodedMessage> EncodedMessage::from_frames(Frame json, Frame messagepack) {
  std::shared_ptr<EncodedMessage> message(new EncodedMessage());
  message->json_ = std::move(json);
  if (messagepack) std::call_once(message->messagepack_once_, [&] { message->messagepack_ = std::move(messagepack); });
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
