// libFuzzer target for connection tokens (auth/connection_token.hpp): what a client hands back on
// connect, so untrusted bytes.
// The input is used three ways. As a token: decoding never crashes or throws, a refusal is an
// "invalid_connection_token" error with a message, and what decodes fits the size limit. As a payload
// MACed with the ring's key (as jwt_fuzz signs its input), so the fuzzer reaches the field parser behind
// the MAC: what decodes re-encodes to the very same token. As the fields of a ticket: encoding is
// deterministic, decodes to the same ticket under any ring holding the signing key, fails under a ring
// without it, and fails with any one character of the token changed; a ticket encodes to nothing only
// when it doesn't fit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/connection_token.hpp"
#include "auth/crypto.hpp"

using namespace sb::auth;

namespace {

// Takes fields off the front of the fuzz input: fixed-width integers, and strings as one length byte
// then up to that many bytes, so every byte value (NUL, '.', invalid UTF-8) reaches a field.
class FieldSplitter {
 public:
  explicit FieldSplitter(std::string_view input) : rest_(input) {}
  bool empty() const { return rest_.empty(); }
  std::uint8_t byte() {
    if (rest_.empty()) return 0;
    auto value = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }
  std::int64_t i64() {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | byte();
    return static_cast<std::int64_t>(value);
  }
  std::string text() {
    std::size_t length = byte();
    auto value = rest_.substr(0, length);
    rest_.remove_prefix(value.size());
    return std::string(value);
  }

 private:
  std::string_view rest_;
};

std::size_t payload_bytes(const ConnectionTicket& ticket) {
  std::size_t size = 1 + 1 + 8 + 2 * 4 + ticket.connection_id.size() + ticket.hub_key.size() +
                     ticket.bound_user.size() + ticket.user_id.size() + 2;
  for (const auto& group : ticket.groups) size += 2 + group.size();
  return size;
}

// The MAC as connection_token.hpp specifies it, written out here so the payload can be anything.
std::string token_for_payload(std::string_view payload, std::string_view access_key) {
  std::string derived = hmac(HashAlgorithm::sha256, access_key, "switchboard connection token v1");
  return base64url_encode(payload) + "." +
         base64url_encode(hmac(HashAlgorithm::sha256, derived, payload).substr(0, 16));
}

void check_refusal(const sb::Result<ConnectionTicket>& decoded) {
  if (decoded.error().code != "invalid_connection_token" || decoded.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  static const KeyRing keys{{"fuzz-primary-key", "fuzz-secondary-key"}};
  static const KeyRing rotated{{"fuzz-new-key", "fuzz-primary-key"}};
  static const KeyRing strangers{{"fuzz-new-key", "fuzz-secondary-key"}};

  auto raw = decode_connection_token(input, keys);
  if (!raw.ok()) {
    check_refusal(raw);
  } else {
    if (input.size() > max_connection_token_bytes) std::abort();
    auto again = decode_connection_token(encode_connection_token(raw.value(), keys), keys);
    if (!again.ok() || !(again.value() == raw.value())) std::abort();
  }

  if (!input.empty()) {
    auto signed_token = token_for_payload(input, keys.signing_key());
    auto decoded = decode_connection_token(signed_token, keys);
    if (!decoded.ok()) {
      check_refusal(decoded);
    } else if (encode_connection_token(decoded.value(), keys) != signed_token) {
      std::abort();
    }
    if (decoded.ok() && signed_token.size() > max_connection_token_bytes) std::abort();
  }

  FieldSplitter fields(input);
  ConnectionTicket ticket;
  auto flags = fields.byte();
  ticket.allows_stateful_reconnect = (flags & 1) != 0;
  ticket.expires_at_ms = fields.i64();
  ticket.connection_id = fields.text();
  ticket.hub_key = fields.text();
  ticket.bound_user = fields.text();
  ticket.user_id = fields.text();
  while (!fields.empty()) ticket.groups.push_back(fields.text());

  auto token = encode_connection_token(ticket, keys);
  std::size_t mac_characters = 22;  // 16 bytes, unpadded
  std::size_t expected_size = (payload_bytes(ticket) * 4 + 2) / 3 + 1 + mac_characters;
  if (token.empty()) {
    if (expected_size <= max_connection_token_bytes) std::abort();  // fields are under 256 bytes each
    return 0;
  }
  if (token.size() != expected_size || token.size() > max_connection_token_bytes) std::abort();
  if (encode_connection_token(ticket, keys) != token) std::abort();
  for (const KeyRing* ring : {&keys, &rotated}) {
    auto decoded = decode_connection_token(token, *ring);
    if (!decoded.ok() || !(decoded.value() == ticket)) std::abort();
  }
  auto refused = decode_connection_token(token, strangers);
  if (refused.ok()) std::abort();
  check_refusal(refused);

  // One character changed, at a place and to a value the input picks: never accepted, since each
  // token text is the one canonical encoding of its bytes and the MAC covers them all.
  std::size_t position = (static_cast<std::size_t>(flags) * 131 + size) % token.size();
  char replacement = static_cast<char>((flags >> 1) ^ static_cast<std::uint8_t>(ticket.expires_at_ms));
  if (replacement != token[position]) {
    std::string changed = token;
    changed[position] = replacement;
    auto tampered = decode_connection_token(changed, keys);
    if (tampered.ok()) std::abort();
    check_refusal(tampered);
  }
  return 0;
}
