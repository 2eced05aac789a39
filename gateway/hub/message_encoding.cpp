#include "hub/message_encoding.hpp"

#include "protocol/json_hub_protocol.hpp"

namespace sb::hub {

protocol::SharedEncodedMessage encode_invocation(std::string_view target, std::string_view arguments_json) {
  auto message = std::make_shared<protocol::EncodedMessage>();
  message->json = make_frame(protocol::encode_json_invocation(target, arguments_json));
  return message;
}

}  // namespace sb::hub
