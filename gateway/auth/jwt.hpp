#pragma once
// Verifies HS256/HS512 JWTs over a key ring (PROTOCOL.md part 2 §1.3, §4.1). Pure: `now` is a parameter.
// kid is ignored and every key is tried, because Azure's kid is a per-process string hash.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/key_ring.hpp"
#include "common/result.hpp"

namespace sb::auth {

// Claims in token order; array-valued claims become one entry per element, non-string values their JSON text.
using Claims = std::vector<std::pair<std::string, std::string>>;

struct VerifiedToken {
  Claims claims;
  std::vector<std::string> audiences;
  std::chrono::system_clock::time_point expires_at;
};

struct JwtLimits {
  std::size_t max_token_bytes = 8192;             // Azure's SDK refuses to mint tokens over 4 KB; room to spare
  std::chrono::seconds clock_skew{300};           // JwtBearer's default; applies to exp and nbf
  std::chrono::seconds max_lifetime{0};           // an exp further than this (plus the skew) from now is refused; 0: none
};

// Checks shape, algorithm, signature (any key), exp (required) and nbf. The audience is checked by the
// caller's predicate, which sees each `aud` value. Errors: code "invalid_token" with a message safe to
// show the client (it never contains the token).
Result<VerifiedToken> verify_jwt(std::string_view token, const KeyRing& keys, std::chrono::system_clock::time_point now,
                                 const std::function<bool(std::string_view audience)>& audience_ok,
                                 const JwtLimits& limits = {});

// The user id of a client token: asrs.s.uid, else the first NameIdentifier (nameid, sub, or the long URI).
std::string user_id_from_claims(const Claims& claims);

// Signs an HS256 token; used by tests and tools, not by the gateway's request path.
std::string sign_jwt_hs256(std::string_view payload_json, std::string_view key);

}  // namespace sb::auth
