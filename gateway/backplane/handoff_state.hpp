#pragma once
// What a draining gateway sends for each stateful-reconnect connection it hands over during a rolling
// restart, and what each gateway checkpoints in Redis for its stateful connections (the fleet log), so
// that the gateway the client reconnects to resumes it: who it is, its groups, its reconnect buffer
// (sequence ids and the frames the client may still need) and how far the fan-out was applied to it
// (per publisher, or as one position in the fleet log).
// The form is binary, like envelope.hpp's and relay_message.hpp's (integers little-endian, strings a
// u32 length then the bytes), so MessagePack frames travel as the bytes they are. Anything that can
// write to the fleet's Redis can write one, so decoding treats its input as untrusted. Pure: no I/O,
// never throws.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "connection/connection_identity.hpp"
#include "connection/message_buffer.hpp"
#include "hub/log_position.hpp"
#include "protocol/hub_message.hpp"

namespace sb::backplane {

// A stateful-reconnect connection on its way from one gateway to another (PROTOCOL.md part 3 §3.8).
struct HandoffState {
  connection::ConnectionIdentity identity;  // initial_groups is carried too
  protocol::HubProtocolKind protocol = protocol::HubProtocolKind::json;  // the frames' encoding
  std::vector<std::string> groups;  // the groups it is in now
  connection::MessageBufferState buffer;
  // Per fan-out publisher (gateway id): the last sequence number whose action this state reflects.
  std::vector<std::pair<std::string, std::uint64_t>> positions;
  // A checkpoint (fleet log on): the last log entry the state reflects. Zero for a handoff, whose
  // positions say it. A checkpoint's positions hold one entry: its own gateway and the last of that
  // gateway's actions it ran before they reached the log (while Redis was away).
  hub::LogPosition log_position;
};

// The largest encoding decode_handoff_state accepts: far above a default reconnect buffer (100 kB),
// low enough that a forged state can't make a gateway hold much.
constexpr std::size_t max_handoff_state_bytes = 16 * 1024 * 1024;

// Writes what it is given, even a state decode would refuse (the caller's bug) or one larger than
// max_handoff_state_bytes (check the size before storing it: the receiver refuses it). Each string
// must be shorter than 4 GiB.
std::string encode_handoff_state(const HandoffState& state);

// The inverse of encode_handoff_state, and its only accepted form: whatever decodes re-encodes to the
// same bytes. Errors: code "invalid_handoff_state", the message names the field and the rule
// ("buffer.waiting.first_sequence_id: expected 7, got 9"). Refused: more than max_handoff_state_bytes,
// an unknown version or protocol, a version 2 whose log position is 0-0, an empty connection id, hub
// or hub key, buffer entries whose ids leave a gap or overlap (each covers `records` ≥ 1 ids, unacked
// then waiting, the last one ending at next_outbound_id - 1, none below 1), frames waiting while none
// is unacknowledged (a buffer never holds that), next_inbound_id past latest_processed + 1, an empty
// or repeated publisher, and trailing bytes. Lengths and counts are checked before anything is allocated.
Result<HandoffState> decode_handoff_state(std::string_view bytes);

}  // namespace sb::backplane
