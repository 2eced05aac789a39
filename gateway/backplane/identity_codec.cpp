#include "backplane/identity_codec.hpp"

#include <nlohmann/json.hpp>

namespace sb::backplane {

std::string encode_identity(const connection::ConnectionIdentity& identity) {
  nlohmann::json claims = nlohmann::json::array();
  for (const auto& [type, value] : identity.claims) claims.push_back({type, value});
  nlohmann::json doc{{"connectionId", identity.connection_id},
                     {"hub", identity.hub},
                     {"hubKey", identity.hub_key},
                     {"userId", identity.user_id},
                     {"claims", claims},
                     {"query", identity.client_query},
                     {"tokenExpiresAt", identity.token_expires_at},
                     {"traceParent", identity.trace_parent},
                     {"traceState", identity.trace_state}};
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<connection::ConnectionIdentity> decode_identity(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (!doc.is_object()) return make_error("invalid_identity", "identity: expected a JSON object");
  auto text_of = [&](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  connection::ConnectionIdentity identity;
  identity.connection_id = text_of("connectionId");
  identity.hub = text_of("hub");
  identity.hub_key = text_of("hubKey");
  identity.user_id = text_of("userId");
  identity.client_query = text_of("query");
  identity.trace_parent = text_of("traceParent");
  identity.trace_state = text_of("traceState");
  if (auto claims = doc.find("claims"); claims != doc.end() && claims->is_array())
    for (const auto& pair : *claims)
      if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string())
        identity.claims.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  if (auto expires = doc.find("tokenExpiresAt"); expires != doc.end() && expires->is_number_integer())
    identity.token_expires_at = expires->get<std::int64_t>();
  if (identity.connection_id.empty())
    return make_error("invalid_identity", "connectionId: expected a non-empty string");
  if (identity.hub.empty()) return make_error("invalid_identity", "hub: expected a non-empty string");
  return identity;
}

}  // namespace sb::backplane
