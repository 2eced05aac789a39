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

  // What another gateway needs to rebuild this message (the backplane envelope): the Invocation's
  // target and arguments, or, for a pre-framed message, the frames its caller gave.
  bool is_preframed() const { return is_preframed_; }
  const std::string& target() const { return target_; }
  const std::string& arguments_json() const { return arguments_json_; }
  // Pre-framed only: the MessagePack frame as given (null when the caller gave none).
  const Frame& given_messagepack() const { return given_messagepack_; }

 private:
  EncodedMessage() = default;

  std::string target_, arguments_json_;  // the source for lazily encoded protocols
  Frame json_;
  mutable std::once_flag messagepack_once_;
  mutable Frame messagepack_;
  bool is_preframed_ = false;
  Frame given_messagepack_;
};

using SharedEncodedMessage = std::shared_ptr<const EncodedMessage>;

}  // namespace sb::protocol
