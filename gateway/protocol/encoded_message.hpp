#pragma once
// A message for many recipients, encoded once per hub protocol (DESIGN.md "Encode once"), e.g. one
// Invocation sent to a group. Immutable after construction; shared between threads.
#include <memory>

#include "common/frame.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

struct EncodedMessage {
  Frame json;         // the JSON record with its 0x1E
  Frame messagepack;  // the VarInt-framed record; empty until the MessagePack protocol lands

  const Frame& for_protocol(HubProtocolKind kind) const { return kind == HubProtocolKind::json ? json : messagepack; }
};

using SharedEncodedMessage = std::shared_ptr<const EncodedMessage>;

}  // namespace sb::protocol
