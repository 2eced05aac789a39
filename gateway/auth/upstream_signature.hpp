#pragma once
// X-ASRS-Signature: "sha256=<hex HMAC-SHA256(key, connection id)>" for each key, joined by ","
// (PROTOCOL.md part 2 §2.4). Lower-case hex; the Functions validator compares case-insensitively.
#include <string>
#include <string_view>

#include "auth/key_ring.hpp"

namespace sb::auth {

std::string upstream_signature(const KeyRing& keys, std::string_view connection_id);

}  // namespace sb::auth
