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

}  // namespace sb::auth
