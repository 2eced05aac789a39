#pragma once
// What gateways say to each other on the fan-out channel (docs/scaling.md "Channels"): an action, or a
// heartbeat, stamped with the publishing gateway's id and its sequence number. A compact binary form
// (lengths are 32-bit little-endian, enums one byte), so a message's arguments travel as the JSON text
// they already are and each gateway encodes them once for its own clients. Pure: decoding untrusted
// bytes returns an error, never throws.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"
#include "hub/action.hpp"

namespace sb::backplane {

// An action to run on every other gateway. `sequence` counts the publisher's actions from 1, without
// holes: a receiver that sees one skipped has lost a message (PROTOCOL.md part 3 §3.8).
struct ActionEnvelope {
  std::string publisher;  // gateway id
  std::uint64_t sequence = 0;
  hub::SharedAction action;  // never a QueryAction: queries are answered from Redis's state
};

// "I have published up to `last_sequence`": lets a receiver notice a loss while the publisher is quiet.
struct HeartbeatEnvelope {
  std::string publisher;
  std::uint64_t last_sequence = 0;
};

using Envelope = std::variant<ActionEnvelope, HeartbeatEnvelope>;

// Encodes any action but a QueryAction (which has no remote form; the caller never publishes one).
std::string encode_envelope(const Envelope& envelope);

// Errors: code "invalid_envelope", the message names the field ("send.excluded: truncated").
Result<Envelope> decode_envelope(std::string_view bytes);

// Who published an envelope and its number, read without decoding the action: a gateway reading its
// own entries back from the fleet log keeps the actions it published and needs no more.
struct EnvelopeStamp {
  bool is_heartbeat = false;
  std::string publisher;
  std::uint64_t sequence = 0;
};
Result<EnvelopeStamp> decode_envelope_stamp(std::string_view bytes);

}  // namespace sb::backplane
