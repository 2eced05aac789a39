#include "hub/message_encoding.hpp"


namespace sb::hub {

protocol::SharedEncodedMessage encode_invocation(std::string_view target, std::string_view arguments_json) {
  return std::make_shared<const protocol::EncodedMessage>(std::string(target), std::string(arguments_json));
}

}  // namespace sb::hub
