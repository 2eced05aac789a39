#pragma once
// X-ASRS-Signature: "sha256=<hex HMAC-SHA256(key, connection id)>" for each key, joined by ","
// (PROTOCOL.md part 2 §2.4). Lower-case hex; the Functions validator compares case-insensitively.
#include <string>
#include <string_view>

#include "auth/key_ring.hpp"

namespace sb::auth {

std::string upstream_signature(const KeyRing& keys, std::string_view connection_id);

// X-Switchboard-Signature (PROTOCOL.md part 3 §3.3): "v1=<hex HMAC-SHA256(key, timestamp + "\n" + method +
// "\n" + path-and-query + "\n" + body)>" for each key, joined by ",". Covers the whole request, so a
// captured one can't be replayed with another body, path or (past the receiver's tolerance) time.
std::string request_signature(const KeyRing& keys, std::string_view unix_seconds, std::string_view method,
                              std::string_view path_and_query, std::string_view body);

}  // namespace sb::auth
