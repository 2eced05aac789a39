#pragma once
// X-ASRS-Signature: "sha256=<hex HMAC-SHA256(key, connection id)>" for each key, joined by ","
// (PROTOCOL.md part 2 §2.4). Lower-case hex; the Functions validator compares case-insensitively.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/key_ring.hpp"

namespace sb::auth {

std::string upstream_signature(const KeyRing& keys, std::string_view connection_id);

// X-Switchboard-Signature (PROTOCOL.md part 3 §3.3, docs/upstream.md), for each key, joined by ",":
//   v2=<hex HMAC-SHA256(key, "v2\n" + timestamp + "\n" + method + "\n" + path-and-query + "\n" +
//                        signed headers + "\n" + body)>
// where the signed headers are canonical_signed_headers(): the identity (X-ASRS-*), the event id and the
// content type, so a captured request can't be replayed as another user, hub or connection. Then
//   v1=<hex HMAC-SHA256(key, timestamp + "\n" + method + "\n" + path-and-query + "\n" + body)>
// for receivers built before v2 (it does not cover the identity).
std::string request_signature(const KeyRing& keys, std::string_view unix_seconds, std::string_view method,
                              std::string_view path_and_query, std::string_view signed_headers, std::string_view body);

// The "name:value\n" lines v2 signs: every X-ASRS-* header but X-ASRS-Signature, X-Switchboard-Event-Id
// and Content-Type; names lower-cased, sorted by name (a repeated name keeps its order), values without
// surrounding blanks.
using HeaderList = std::vector<std::pair<std::string, std::string>>;
std::string canonical_signed_headers(const HeaderList& headers);

}  // namespace sb::auth
