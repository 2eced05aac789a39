#include "switchboard/functions.hpp"

#include <array>

#include "switchboard/detail/jwt.hpp"
#include "switchboard/detail/percent_encoding.hpp"

namespace switchboard {
namespace {

// Claim names the token itself uses; the Azure SDKs send a user claim with one of these names as
// "asrs.u.<name>" (the SDKs' 2024 list; docs/functions.md, Negotiate).
bool is_reserved_claim(std::string_view type) {
  static constexpr std::array<std::string_view, 11> kReserved = {
      "aud", "exp", "iat", "nbf", "iss", "actort", "acr", "azp", "c_hash", "jti", "nonce"};
  for (const std::string_view reserved : kReserved) {
    if (type == reserved) return true;
  }
  return false;
}

}  // namespace

Json Negotiation::to_json() const { return Json{{"url", url}, {"accessToken", access_token}}; }

Negotiation negotiate(const ServiceEndpoint& endpoint, std::string_view hub, std::string_view user_id,
                      const std::map<std::string, std::string>& claims, std::chrono::seconds lifetime) {
  Negotiation negotiation;
  negotiation.url = endpoint.endpoint + "/client/?hub=" + detail::percent_encode(hub);

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  Json payload = Json::object();
  for (const auto& [type, value] : claims) {
    payload[is_reserved_claim(type) ? "asrs.u." + type : type] = value;
  }
  payload["aud"] = negotiation.url;
  payload["iat"] = now;
  payload["nbf"] = now;
  payload["exp"] = now + lifetime.count();
  if (!user_id.empty()) payload["asrs.s.uid"] = user_id;

  negotiation.access_token = detail::sign_jwt_hs256(payload, endpoint.access_key);
  return negotiation;
}

}  // namespace switchboard
