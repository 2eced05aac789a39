// Builds HS256 JSON Web Tokens (RFC 7519) for the gateway: client tokens and REST API tokens.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace switchboard::detail {

// header {"alg":"HS256","typ":"JWT"} . payload . HMAC-SHA256(key, the first two parts), each base64url.
// The payload must be a JSON object; the caller supplies every claim, exp included.
std::string sign_jwt_hs256(const nlohmann::ordered_json& payload, std::string_view key);

}  // namespace switchboard::detail
