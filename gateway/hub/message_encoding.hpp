#pragma once
// Builds the shared, encoded-once Invocation that a send action carries to every recipient.
#include <string_view>

#include "protocol/encoded_message.hpp"

namespace sb::hub {

// `arguments_json` is a JSON array text (from a REST body or a reply action).
protocol::SharedEncodedMessage encode_invocation(std::string_view target, std::string_view arguments_json);

}  // namespace sb::hub
