#pragma once
// A message for many recipients, encoded once per hub protocol (DESIGN.md "Encode once"), e.g. one
// Invocation sent to a group. The JSON frame is built up front; the MessagePack frame the first time a
// MessagePack recipient needs it (once, thread-safe), so JSON-only fleets never pay for it.
// Immutable to its users; shared between threads.
#include <memory>
#include <mutex>
#include <string>

#include "common/frame.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

class EncodedMessage {
 public:
  // An Invocation of `target` with `arguments_json` (a JSON array text).
  EncodedMessage(std::string target, std::string arguments_json);
  // Pre-framed payloads (the REST octet-stream body); a missing one is derived from the other.
  static std::shared_ptr<const EncodedMessage> from_frames(Frame json, Frame messagepack);

  const Frame& for_protocol(HubProtocolKind kind) const;

 private:
  EncodedMessage() = default;

  std::string target_, arguments_json_;  // the source for lazily encoded protocols
  Frame json_;
  mutable std::once_flag messagepack_once_;
  mutable Frame messagepack_;
};

using SharedEncodedMessage = std::shared_ptr<const EncodedMessage>;

}  // namespace sb::protocol
