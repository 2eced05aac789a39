#pragma once
// A connection's identity as the fleet stores it in Redis (the `identity` field of P:conn:{connection},
// redis_keys.hpp), so that whichever gateway reaps a dead one can send `disconnected` upstream for each
// of its connections with the hub, user, claims and query it had:
//   {"connectionId", "hub", "hubKey", "userId", "claims": [[type, value]…], "query", "tokenExpiresAt",
//    "traceParent"}
// A token refresh relayed to another gateway travels in the same form (server/follow_ups.cpp).
// Any gateway of the fleet may have written it, so it is read as untrusted. Pure: decoding returns an
// error, never throws.
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "connection/connection_identity.hpp"

namespace sb::backplane {

// Text that is not valid UTF-8 is written with U+FFFD in its place.
std::string encode_identity(const connection::ConnectionIdentity& identity);

// Lenient, as a reaper must be: a field that is missing or not a string reads as empty, and a claim that
// is not two strings is skipped. Errors (code "invalid_identity"): not a JSON object, or no connection
// id or hub.
Result<connection::ConnectionIdentity> decode_identity(std::string_view json);

}  // namespace sb::backplane
