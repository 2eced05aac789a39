#pragma once
// Self-contained connection tokens: negotiate writes what the connection will be into the token and MACs
// it, so whichever gateway of the fleet the client's connect request reaches can verify and open it
// without shared state. Pure: no clock (the caller checks expiry), no logging, never throws.
//
// Token = base64url(payload) "." base64url(mac), unpadded, so the JS client can put it in a URL as is.
// Payload, integers little-endian:
//   u8 version (1) | u8 flags (bit 0: stateful reconnect; other bits must be 0) | i64 expires_at_ms
//   | str connection_id | str hub_key | str bound_user | str user_id | u16 group count | str group…
// where str = u16 byte length + bytes. MAC = the first 16 bytes of HMAC-SHA256(derived, payload), with
// derived = HMAC-SHA256(access key, "switchboard connection token v1"): a key of its own, so no JWT
// signature or X-ASRS-Signature (both HMACs under the raw access key) can pass for a token's MAC.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/key_ring.hpp"
#include "common/result.hpp"

namespace sb::auth {

// What a connection token names. Negotiate issues it; any gateway of the fleet verifies it without shared state.
struct ConnectionTicket {
  std::string connection_id;  // public id (random_id(), 22 chars base64url)
  std::string hub_key;        // lower-cased hub the token is bound to
  // User of the negotiate request's access token ("" = anonymous): later requests must carry the same.
  std::string bound_user;
  std::string user_id;  // the connection's user: bound_user unless a blocking `connect` function replaced it
  bool allows_stateful_reconnect = false;
  std::vector<std::string> groups;  // joined on open (a blocking `connect` reply's groups)
  std::int64_t expires_at_ms = 0;   // unix ms: after this the token can no longer OPEN a connection

  friend bool operator==(const ConnectionTicket&, const ConnectionTicket&) = default;
};

// Longer tokens are refused before any work. Negotiate's answer and every connect URL carry the token, and
// a connection's groups are its bulk; a ticket that doesn't fit isn't encoded.
inline constexpr std::size_t max_connection_token_bytes = 4096;

// Encodes the ticket and MACs it with keys.signing_key(). Deterministic: the same ticket and key give the
// same token. Empty (which decode refuses) when the ticket can't be a token: a string or the group count
// over 65535, a token over max_connection_token_bytes, an empty ring, or OpenSSL failing.
std::string encode_connection_token(const ConnectionTicket& ticket, const KeyRing& keys);

// Checks size, shape (one '.', canonical base64url on both sides), version, then the MAC against every key
// of the ring (no early exit, constant-time comparison, as verify_jwt), and only then parses the flags and
// fields, refusing truncation and trailing bytes. Does NOT check expiry: the caller compares expires_at_ms
// with its clock. Errors: code "invalid_connection_token" with a message naming the rule, safe to log or
// show (it never contains the token or key material).
Result<ConnectionTicket> decode_connection_token(std::string_view token, const KeyRing& keys);

}  // namespace sb::auth
