// X-ASRS-Signature: "sha256=" + hex(HMAC-SHA256(access key, connection id)), one per access key,
// joined by ',' (docs/upstream.md, Signature). It signs only the connection id.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::detail {

// "sha256=<lower-case hex>" for one key.
std::string sign_connection_id(std::string_view access_key, std::string_view connection_id);

// True when any ','-separated entry of the header matches the signature of any key. Hex compares
// case-insensitively (the Azure emulator sends upper case); blanks around entries are ignored.
bool is_upstream_signature_valid(std::string_view signature_header, std::string_view connection_id,
                                 const std::vector<std::string>& access_keys);

// X-Switchboard-Signature (docs/upstream.md "Signatures"): entries joined by ','; this checks the
// "v2=<hex HMAC-SHA256(key, "v2\n" timestamp \n method \n path-and-query \n signed headers \n body)>"
// ones (v1 entries, which don't cover the identity headers, are ignored: accepting them would let a
// replayer strip v2). The signed headers are canonical_signed_headers(): so a captured request can't be
// replayed as another user, hub or connection. The timestamp must be within `tolerance_seconds` of
// `now_seconds`. Returns the matching entry (lower case), for replay detection; empty when none.
std::string sign_request(std::string_view access_key, std::string_view timestamp, std::string_view method,
                         std::string_view path_and_query, std::string_view signed_headers, std::string_view body);
std::string matching_request_signature(std::string_view signature_header, std::string_view timestamp,
                                       std::string_view method, std::string_view path_and_query,
                                       std::string_view signed_headers, std::string_view body,
                                       const std::vector<std::string>& access_keys, long long now_seconds,
                                       long long tolerance_seconds);

// The "name:value\n" lines v2 signs: every X-ASRS-* header but X-ASRS-Signature, X-Switchboard-Event-Id
// and Content-Type; names lower-cased, sorted by name (a repeated name keeps its order), values without
// surrounding blanks.
std::string canonical_signed_headers(const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace switchboard::detail
