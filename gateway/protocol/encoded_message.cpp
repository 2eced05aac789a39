#include "protocol/encoded_message.hpp"

#include "protocol/json_hub_protocol.hpp"
#include "protocol/messagepack_hub_protocol.hpp"
#include "protocol/raw_json.hpp"

namespace sb::protocol {

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
      if (auto arguments = messagepack_invocation_arguments_json(records[0].raw))
        message->json_ = make_frame(encode_json_invocation(records[0].target, *arguments));
    }
  }
  if (message->json_) {
    // Keep target and arguments so a MessagePack frame can be derived if the caller sent none.
    std::vector<InboundMessage> records;
    auto parsed = parse_json_messages(*message->json_, records, {message->json_->size()});
    if (parsed && records.size() == 1 && records[0].type == MessageType::invocation) {
      auto arguments = raw_member(records[0].raw, "arguments");
      message->target_ = records[0].target;
      message->arguments_json_ = arguments ? std::string(*arguments) : "[]";
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
