#include "backplane/fleet_signature.hpp"

#include "auth/crypto.hpp"

namespace sb::backplane {
namespace {

constexpr char marker = '\xF5';
constexpr std::size_t tag_bytes = 32;

}  // namespace

FleetSignature::FleetSignature(const std::vector<std::string>& access_keys, bool enabled) {
  if (!enabled) return;
  for (const auto& key : access_keys) keys_.push_back(auth::hmac(auth::HashAlgorithm::sha256, key, "switchboard fleet key v1"));
}

std::string FleetSignature::sign(std::string_view payload) const {
  if (keys_.empty()) return std::string(payload);
  std::string out;
  out.reserve(overhead + payload.size());
  out += marker;
  out += auth::hmac(auth::HashAlgorithm::sha256, keys_.front(), payload);
  out += payload;
  return out;
}

Result<std::string_view> FleetSignature::open(std::string_view message) const {
  if (keys_.empty()) return message;
  if (message.size() < overhead || message.front() != marker) return make_error("unsigned", "no signature");
  auto tag = message.substr(1, tag_bytes);
  auto payload = message.substr(overhead);
  for (const auto& key : keys_)
    if (auth::constant_time_equals(auth::hmac(auth::HashAlgorithm::sha256, key, payload), tag)) return payload;
  return make_error("bad_signature", "signed with a key this gateway does not have");
}

}  // namespace sb::backplane
