// X-ASRS-Signature: "sha256=" + hex(HMAC-SHA256(access key, connection id)), one per access key,
// joined by ',' (PROTOCOL.md part 2 §2.3-2.4). It signs only the connection id.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace switchboard::detail {

// "sha256=<lower-case hex>" for one key.
std::string sign_connection_id(std::string_view access_key, std::string_view connection_id);

// True when any ','-separated entry of the header matches the signature of any key. Hex compares
// case-insensitively (the Azure emulator sends upper case); blanks around entries are ignored.
bool is_upstream_signature_valid(std::string_view signature_header, std::string_view connection_id,
                                 const std::vector<std::string>& access_keys);

// X-Switchboard-Signature (PROTOCOL.md part 3 §3.3): "v1=<hex HMAC-SHA256(key, timestamp \n method \n
// path-and-query \n body)>" per key, joined by ','. It signs the whole request, and the timestamp must be
// within `tolerance_seconds` of `now_seconds`, so a captured request can't be replayed later or altered.
std::string sign_request(std::string_view access_key, std::string_view timestamp, std::string_view method,
                         std::string_view path_and_query, std::string_view body);
bool is_request_signature_valid(std::string_view signature_header, std::string_view timestamp,
                                std::string_view method, std::string_view path_and_query, std::string_view body,
                                const std::vector<std::string>& access_keys, long long now_seconds,
                                long long tolerance_seconds);

}  // namespace switchboard::detail
