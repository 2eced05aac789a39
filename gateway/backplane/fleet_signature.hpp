#pragma once
// Signs what a gateway leaves in Redis for other gateways to act on, and checks what it reads back, so
// that anyone who can only write to Redis cannot steer the fleet (a forged heartbeat once closed every
// connection and silenced a gateway). Signed: fan-out envelopes (pub/sub and the fleet log), relayed
// requests and replies, the connection identities a reaper sends `disconnected` for, and checkpoints.
//
// The fleet key is HMAC-SHA256(access key, "switchboard fleet key v1"): every gateway of a fleet has
// the access keys, Redis never does. The first access key signs and every configured one verifies, so
// keys rotate as tokens do (docs/scaling.md "Signed state"). Wire form: 0xF5, a 32-byte
// HMAC-SHA256 of the payload, the payload. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sb::backplane {

class FleetSignature {
 public:
  // No access keys (or `enabled` false, --fleet-signing off): payloads go out bare and are read as they come.
  explicit FleetSignature(const std::vector<std::string>& access_keys, bool enabled = true);

  std::string sign(std::string_view payload) const;
  // The payload of a signed message. Errors: code "unsigned" (no signature) or "bad_signature" (made
  // with no key we have). Never names a key.
  Result<std::string_view> open(std::string_view message) const;
  bool is_enabled() const { return !keys_.empty(); }

  static constexpr std::size_t overhead = 33;

 private:
  std::vector<std::string> keys_;  // derived fleet keys; the first signs
};

}  // namespace sb::backplane
