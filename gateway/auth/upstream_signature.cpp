#include "auth/upstream_signature.hpp"

#include "auth/crypto.hpp"

namespace sb::auth {

std::string upstream_signature(const KeyRing& keys, std::string_view connection_id) {
  std::string out;
  for (const auto& key : keys.keys) {
    if (!out.empty()) out += ',';
    out += "sha256=";
    out += to_hex(hmac(HashAlgorithm::sha256, key, connection_id));
  }
  return out;
}

std::string request_signature(const KeyRing& keys, std::string_view unix_seconds, std::string_view method,
                              std::string_view path_and_query, std::string_view body) {
  std::string message;
  message.reserve(unix_seconds.size() + method.size() + path_and_query.size() + body.size() + 3);
  message += unix_seconds;
  message += '\n';
  message += method;
  message += '\n';
  message += path_and_query;
  message += '\n';
  message += body;
  std::string out;
  for (const auto& key : keys.keys) {
    if (!out.empty()) out += ',';
    out += "v1=";
    out += to_hex(hmac(HashAlgorithm::sha256, key, message));
  }
  return out;
}

}  // namespace sb::auth
