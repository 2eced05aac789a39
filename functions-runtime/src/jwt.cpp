#include "switchboard/detail/jwt.hpp"

#include <nlohmann/json.hpp>

#include "switchboard/detail/base64url.hpp"
#include "switchboard/detail/crypto.hpp"

namespace switchboard::detail {

std::string sign_jwt_hs256(const nlohmann::ordered_json& payload, std::string_view key) {
  // No "kid": Azure's is a per-process hash that means nothing, and the gateway tries every key
  // (docs/security.md, Tokens).
  static const std::string kEncodedHeader = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
  std::string token = kEncodedHeader;
  token += '.';
  // replace: a claim with invalid UTF-8 must not throw out of negotiate().
  token += base64url_encode(payload.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  const std::string signature = hmac_sha256(key, token);
  token += '.';
  token += base64url_encode(signature);
  return token;
}

}  // namespace switchboard::detail
