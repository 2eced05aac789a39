#pragma once
// The SignalR handshake (PROTOCOL.md part 1 §3): always JSON + 0x1E, for both hub protocols.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "protocol/hub_message.hpp"

namespace sb::protocol {

struct HandshakeRequest {
  HubProtocolKind protocol{};
  int version = 1;
};

enum class HandshakeStatus { incomplete, complete };

struct HandshakeParse {
  HandshakeStatus status = HandshakeStatus::incomplete;
  std::size_t consumed_bytes = 0;  // bytes up to and including the 0x1E; the rest are hub messages
};

// Looks for the first record in `buffer`. incomplete: no 0x1E yet (the caller bounds the buffer).
// On a complete record, `request` is filled or the error's message is the exact text the client shows
// ("The protocol 'x' is not supported.", …).
Result<HandshakeParse> parse_handshake(std::string_view buffer, HandshakeRequest& request);

// "{}\x1e" and {"error":"…"}\x1e.
const std::string& handshake_success_frame();
std::string handshake_error_frame(std::string_view message);

inline constexpr std::string_view handshake_canceled_text = "Handshake was canceled.";

}  // namespace sb::protocol
