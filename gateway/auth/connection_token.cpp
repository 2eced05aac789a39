#include "auth/connection_token.hpp"

#include <limits>
#include <optional>

#include "auth/crypto.hpp"

namespace sb::auth {
namespace {

constexpr std::uint8_t token_version = 1;
constexpr std::uint8_t stateful_reconnect_flag = 0x01;
constexpr std::size_t mac_bytes = 16;  // 128 bits: forging one is 2^128 guesses, and the token stays short
constexpr std::size_t max_field_bytes = std::numeric_limits<std::uint16_t>::max();
// Changing the payload layout or the MAC means a new version and a new label, so no token of one
// version can verify as another.
constexpr std::string_view key_derivation_label = "switchboard connection token v1";

Error invalid(std::string message) {
  return make_error("invalid_connection_token", std::move(message));
}

// Empty if OpenSSL fails, which no comparison accepts.
std::string token_mac(std::string_view access_key, std::string_view payload) {
  std::string derived_key = hmac(HashAlgorithm::sha256, access_key, key_derivation_label);
  if (derived_key.empty()) return {};
  std::string mac = hmac(HashAlgorithm::sha256, derived_key, payload);
  if (mac.size() < mac_bytes) return {};
  mac.resize(mac_bytes);
  return mac;
}

void put_u16(std::string& out, std::size_t value) {
  out += static_cast<char>(value & 0xff);
  out += static_cast<char>((value >> 8) & 0xff);
}

void put_text(std::string& out, std::string_view text) {
  put_u16(out, text.size());
  out += text;
}

// Reads the payload front to back; every read checks what is left, so a length can't reach past the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) : rest_(bytes) {}

  bool at_end() const { return rest_.empty(); }

  std::optional<std::uint8_t> u8() {
    if (rest_.empty()) return std::nullopt;
    auto value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }

  std::optional<std::uint16_t> u16() {
    if (rest_.size() < 2) return std::nullopt;
    auto value =
        static_cast<std::uint16_t>(static_cast<unsigned char>(rest_[0]) | (static_cast<unsigned char>(rest_[1]) << 8));
    rest_.remove_prefix(2);
    return value;
  }

  std::optional<std::int64_t> i64() {
    if (rest_.size() < 8) return std::nullopt;
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)]);
    rest_.remove_prefix(8);
    return static_cast<std::int64_t>(value);  // two's complement (C++20)
  }

  std::optional<std::string> text() {
    auto length = u16();
    if (!length || rest_.size() < *length) return std::nullopt;
    std::string value(rest_.substr(0, *length));
    rest_.remove_prefix(*length);
    return value;
  }

 private:
  std::string_view rest_;
};

// base64url_decode also takes padding and stray low bits; accepting only the one text that encodes the
// bytes means no two token strings carry the same payload and MAC.
std::optional<std::string> decode_canonical(std::string_view text) {
  auto bytes = base64url_decode(text);
  if (!bytes || base64url_encode(*bytes) != text) return std::nullopt;
  return bytes;
}

}  // namespace

std::string encode_connection_token(const ConnectionTicket& ticket, const KeyRing& keys) {
  if (keys.keys.empty() || ticket.groups.size() > max_field_bytes) return {};
  for (const std::string* text : {&ticket.connection_id, &ticket.hub_key, &ticket.bound_user, &ticket.user_id})
    if (text->size() > max_field_bytes) return {};
  for (const auto& group : ticket.groups)
    if (group.size() > max_field_bytes) return {};

  std::string payload;
  payload += static_cast<char>(token_version);
  payload += static_cast<char>(ticket.allows_stateful_reconnect ? stateful_reconnect_flag : 0);
  auto expires = static_cast<std::uint64_t>(ticket.expires_at_ms);
  for (int i = 0; i < 8; ++i) payload += static_cast<char>((expires >> (8 * i)) & 0xff);
  put_text(payload, ticket.connection_id);
  put_text(payload, ticket.hub_key);
  put_text(payload, ticket.bound_user);
  put_text(payload, ticket.user_id);
  put_u16(payload, ticket.groups.size());
  for (const auto& group : ticket.groups) put_text(payload, group);

  std::string mac = token_mac(keys.signing_key(), payload);
  if (mac.empty()) return {};
  std::string token = base64url_encode(payload) + "." + base64url_encode(mac);
  if (token.size() > max_connection_token_bytes) return {};
  return token;
}

Result<ConnectionTicket> decode_connection_token(std::string_view token, const KeyRing& keys) {
  if (token.size() > max_connection_token_bytes)
    return invalid("connection token: longer than " + std::to_string(max_connection_token_bytes) + " bytes");
  auto dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == token.size() ||
      token.find('.', dot + 1) != std::string_view::npos)
    return invalid("connection token: expected <payload>.<mac>");
  auto payload = decode_canonical(token.substr(0, dot));
  auto mac = decode_canonical(token.substr(dot + 1));
  if (!payload || !mac) return invalid("connection token: expected unpadded base64url");

  // The version comes first and unauthenticated: it says how to check the MAC.
  if (payload->empty()) return invalid("connection token: truncated at version");
  if (static_cast<std::uint8_t>(payload->front()) != token_version)
    return invalid("connection token: unsupported version " +
                   std::to_string(static_cast<unsigned char>(payload->front())));
  bool mac_ok = false;
  for (const auto& key : keys.keys) {  // no early exit: every key costs the same
    std::string expected = token_mac(key, *payload);
    mac_ok |= !expected.empty() && constant_time_equals(expected, *mac);  // empty: OpenSSL failed
  }
  if (!mac_ok) return invalid("connection token: signature does not match any key");

  // Authenticated from here on; the checks below catch only a gateway that wrote a bad token.
  PayloadReader reader(std::string_view(*payload).substr(1));
  auto truncated = [](std::string_view field) {
    return invalid("connection token: truncated at " + std::string(field));
  };
  ConnectionTicket ticket;
  auto flags = reader.u8();
  if (!flags) return truncated("flags");
  if ((*flags & ~stateful_reconnect_flag) != 0) return invalid("connection token: reserved flag bits set");
  ticket.allows_stateful_reconnect = (*flags & stateful_reconnect_flag) != 0;
  auto expires = reader.i64();
  if (!expires) return truncated("expires_at_ms");
  ticket.expires_at_ms = *expires;
  struct NamedField {
    std::string_view name;
    std::string* value;
  };
  for (auto [name, value] : {NamedField{"connection_id", &ticket.connection_id}, NamedField{"hub_key", &ticket.hub_key},
                             NamedField{"bound_user", &ticket.bound_user}, NamedField{"user_id", &ticket.user_id}}) {
    auto text = reader.text();
    if (!text) return truncated(name);
    *value = std::move(*text);
  }
  auto group_count = reader.u16();
  if (!group_count) return truncated("group count");
  for (std::uint16_t i = 0; i < *group_count; ++i) {  // each group takes at least 2 bytes, so no reserve
    auto group = reader.text();
    if (!group) return truncated("groups[" + std::to_string(i) + "]");
    ticket.groups.push_back(std::move(*group));
  }
  if (!reader.at_end()) return invalid("connection token: trailing bytes after the groups");
  return ticket;
}

}  // namespace sb::auth
