#pragma once
// A stateful-reconnect connection between two gateways (a handoff, PROTOCOL.md part 3 §3.8): everything
// a gateway needs to continue it under the same id, so that the client's stateful reconnect resumes
// it there with its Sequence and replay, and the function notices nothing.
#include "connection/connection_identity.hpp"
#include "connection/message_buffer.hpp"
#include "protocol/hub_message.hpp"

namespace sb::connection {

struct ConnectionTransfer {
  ConnectionIdentity identity;  // initial_groups: the groups it is in now
  protocol::HubProtocolKind protocol = protocol::HubProtocolKind::json;
  MessageBufferState buffer;
};

}  // namespace sb::connection
