#include "auth/connection_token.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/crypto.hpp"

using namespace sb::auth;

namespace {

const KeyRing keys{{"key-a"}};

ConnectionTicket full_ticket() {
  ConnectionTicket ticket;
  ticket.connection_id = "AAAAAAAAAAAAAAAAAAAAAA";
  ticket.hub_key = "chat";
  ticket.bound_user = "alice";
  ticket.user_id = "alice-from-connect";
  ticket.allows_stateful_reconnect = true;
  ticket.groups = {"room:1", "admins"};
  ticket.expires_at_ms = 1'700'000'000'000;
  return ticket;
}

// The MAC as the header specifies it, computed here independently of the codec.
std::string mac_by_hand(std::string_view access_key, std::string_view payload) {
  std::string derived = hmac(HashAlgorithm::sha256, access_key, "switchboard connection token v1");
  return hmac(HashAlgorithm::sha256, derived, payload).substr(0, 16);
}

std::string token_by_hand(std::string_view payload, std::string_view access_key) {
  return base64url_encode(payload) + "." + base64url_encode(mac_by_hand(access_key, payload));
}

std::string payload_of(std::string_view token) {
  return *base64url_decode(token.substr(0, token.find('.')));
}

void check_refused(const sb::Result<ConnectionTicket>& decoded, std::string_view rule) {
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == "invalid_connection_token");
  CHECK_MESSAGE(decoded.error().message.find(rule) != std::string::npos, decoded.error().message);
}

}  // namespace

TEST_CASE("round-trips a connection token with every field") {
  ConnectionTicket ticket = full_ticket();
  SUBCASE("full") {}
  SUBCASE("anonymous, no groups, not stateful") {
    ticket.bound_user = "";
    ticket.user_id = "";
    ticket.groups.clear();
    ticket.allows_stateful_reconnect = false;
    ticket.expires_at_ms = 0;
  }
  SUBCASE("groups with odd bytes") {
    ticket.groups = {"", std::string("nul\0inside", 10), "\xff\xfe", ".", "=", "caf\xc3\xa9", std::string(300, 'g')};
  }
  SUBCASE("extreme expiry") {
    ticket.expires_at_ms = -1;
  }
  SUBCASE("largest expiry") {
    ticket.expires_at_ms = INT64_MAX;
  }

  auto token = encode_connection_token(ticket, keys);
  REQUIRE_FALSE(token.empty());
  CHECK(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") ==
        std::string::npos);  // URL-safe as is
  CHECK(encode_connection_token(ticket, keys) == token);
  auto decoded = decode_connection_token(token, keys);
  REQUIRE_MESSAGE(decoded.ok(), (decoded.ok() ? "" : decoded.error().message));
  CHECK(decoded.value() == ticket);
}

TEST_CASE("pins the connection token encoding to a golden vector") {
  // Computed once by an independent implementation of the layout in connection_token.hpp.
  const std::string golden =
      "AQEAaOXPiwEAABYAQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQQAY2hhdAUAYWxpY2USAGFsaWNlLWZyb20tY29ubmVjdAIABgByb29tOjEGAGFkbW"
      "lucw.GtGEVcZoePpsA97EVzB5pw";
  const KeyRing golden_keys{{"golden-key"}};
  CHECK(encode_connection_token(full_ticket(), golden_keys) == golden);
  auto decoded = decode_connection_token(golden, golden_keys);
  REQUIRE(decoded.ok());
  CHECK(decoded.value() == full_ticket());
}

TEST_CASE("verifies a connection token signed with any key of the ring") {
  auto token = encode_connection_token(full_ticket(), KeyRing{{"key-a", "key-b"}});  // signed with key-a
  SUBCASE("alone") {
    CHECK(decode_connection_token(token, KeyRing{{"key-a"}}).ok());
  }
  SUBCASE("second, after rotation") {
    CHECK(decode_connection_token(token, KeyRing{{"key-b", "key-a"}}).ok());
  }
  SUBCASE("last of three") {
    CHECK(decode_connection_token(token, KeyRing{{"key-b", "key-c", "key-a"}}).ok());
  }
}

TEST_CASE("rejects a connection token signed with a key not in the ring") {
  auto token = encode_connection_token(full_ticket(), KeyRing{{"key-a"}});
  check_refused(decode_connection_token(token, KeyRing{{"key-b", "key-c"}}), "signature");
  check_refused(decode_connection_token(token, KeyRing{}), "signature");
}

TEST_CASE("rejects a connection token MACed with the raw access key, as JWTs and upstream signatures are") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys));
  auto token =
      base64url_encode(payload) + "." + base64url_encode(hmac(HashAlgorithm::sha256, "key-a", payload).substr(0, 16));
  check_refused(decode_connection_token(token, keys), "signature");
}

TEST_CASE("rejects a connection token with any single character changed") {
  auto token = encode_connection_token(full_ticket(), keys);
  REQUIRE(decode_connection_token(token, keys).ok());
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (char replacement : std::string_view("ABQgw-_09.=+/ ")) {
      if (replacement == token[i]) continue;
      std::string changed = token;
      changed[i] = replacement;
      auto decoded = decode_connection_token(changed, keys);
      CHECK_MESSAGE(!decoded.ok(), "position " << i << " changed to '" << replacement << "' still decodes");
    }
  }
}

TEST_CASE("rejects every truncation of a connection token") {
  auto token = encode_connection_token(full_ticket(), keys);
  for (std::size_t length = 0; length < token.size(); ++length)
    CHECK_MESSAGE(!decode_connection_token(token.substr(0, length), keys).ok(), "length " << length);
}

TEST_CASE("rejects a connection token with trailing garbage") {
  auto token = encode_connection_token(full_ticket(), keys);
  const std::string garbage[] = {"A", "AA", "AAA", "AAAA", "=", "==", ".", ".AAAA", " ", "\n", std::string(1, '\0')};
  for (const auto& tail : garbage)
    CHECK_MESSAGE(!decode_connection_token(token + tail, keys).ok(), "garbage of " << tail.size() << " bytes");
}

TEST_CASE("rejects a correctly MACed connection token with bytes after the groups") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys)) + "x";
  check_refused(decode_connection_token(token_by_hand(payload, keys.keys[0]), keys), "trailing bytes");
}

TEST_CASE("rejects a correctly MACed connection token that ends inside a field") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys));
  // Every cut but the whole payload; the MAC is right for each, so only the field checks can refuse.
  for (std::size_t length = 1; length < payload.size(); ++length) {
    auto decoded = decode_connection_token(token_by_hand(payload.substr(0, length), keys.keys[0]), keys);
    REQUIRE_FALSE(decoded.ok());
    CHECK_MESSAGE(decoded.error().message.find("truncated at") != std::string::npos, decoded.error().message);
  }
}

TEST_CASE("rejects a correctly MACed connection token whose string length runs past the end") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys));
  payload[10] = '\xff';  // connection_id's length: 22 -> 0xffff
  payload[11] = '\xff';
  check_refused(decode_connection_token(token_by_hand(payload, keys.keys[0]), keys), "truncated at connection_id");
}

TEST_CASE("rejects an over-long connection token before looking at it") {
  auto token = encode_connection_token(full_ticket(), keys);
  check_refused(decode_connection_token(std::string(max_connection_token_bytes + 1, 'A'), keys), "longer than");
  check_refused(decode_connection_token(token + std::string(max_connection_token_bytes, 'A'), keys), "longer than");
}

TEST_CASE("rejects a connection token whose dot is missing, doubled or at an end") {
  auto token = encode_connection_token(full_ticket(), keys);
  auto dot = token.find('.');
  SUBCASE("missing") {
    check_refused(decode_connection_token(token.substr(0, dot) + token.substr(dot + 1), keys), "expected");
  }
  SUBCASE("doubled") {
    check_refused(decode_connection_token(token.substr(0, dot) + "." + token.substr(dot), keys), "expected");
  }
  SUBCASE("a third part") {
    check_refused(decode_connection_token(token + "." + token.substr(dot + 1), keys), "expected");
  }
  SUBCASE("no payload") {
    check_refused(decode_connection_token(token.substr(dot), keys), "expected");
  }
  SUBCASE("no mac") {
    check_refused(decode_connection_token(token.substr(0, dot + 1), keys), "expected");
  }
  SUBCASE("empty") {
    check_refused(decode_connection_token("", keys), "expected");
  }
}

TEST_CASE("rejects padded or non-canonical base64url in a connection token") {
  auto token = encode_connection_token(full_ticket(), keys);
  SUBCASE("padding") {
    // 16 MAC bytes are 22 characters; standard base64 pads them with "==".
    check_refused(decode_connection_token(token + "==", keys), "base64url");
  }
  SUBCASE("unused low bits set") {
    // 16 MAC bytes are 22 characters, the last carrying 2 bits and 4 unused ones that base64url_decode
    // drops; the canonical text leaves them 0 ('A', 'Q', 'g' or 'w'), the next character sets one.
    std::string changed = token;
    changed.back() = static_cast<char>(changed.back() + 1);
    REQUIRE(base64url_decode(changed.substr(changed.find('.') + 1)) ==
            base64url_decode(token.substr(token.find('.') + 1)));
    check_refused(decode_connection_token(changed, keys), "base64url");
  }
  SUBCASE("standard alphabet") {
    std::string changed = token;
    changed[0] = '+';
    check_refused(decode_connection_token(changed, keys), "base64url");
  }
}

TEST_CASE("rejects a correctly MACed connection token with reserved flag bits set") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys));
  REQUIRE(payload[1] == '\x01');
  for (unsigned char flags : {0x02, 0x03, 0x80, 0xff}) {
    payload[1] = static_cast<char>(flags);
    check_refused(decode_connection_token(token_by_hand(payload, keys.keys[0]), keys), "reserved flag bits");
  }
  payload[1] = '\x00';  // the same payload with the only defined bit clear decodes: the MAC was right
  auto decoded = decode_connection_token(token_by_hand(payload, keys.keys[0]), keys);
  REQUIRE(decoded.ok());
  CHECK_FALSE(decoded->allows_stateful_reconnect);
}

TEST_CASE("rejects a correctly MACed connection token of another version") {
  auto payload = payload_of(encode_connection_token(full_ticket(), keys));
  for (unsigned char version : {0x00, 0x02, 0xff}) {
    payload[0] = static_cast<char>(version);
    check_refused(decode_connection_token(token_by_hand(payload, keys.keys[0]), keys), "unsupported version");
  }
}

TEST_CASE("does not check a connection token's expiry") {
  ConnectionTicket ticket = full_ticket();
  ticket.expires_at_ms = 1;  // 1970: the caller compares with its clock
  CHECK(decode_connection_token(encode_connection_token(ticket, keys), keys).ok());
}

TEST_CASE("refuses to encode a connection token that would not fit") {
  ConnectionTicket ticket = full_ticket();
  SUBCASE("a field over 65535 bytes") {
    ticket.user_id = std::string(65536, 'u');
  }
  SUBCASE("a group over 65535 bytes") {
    ticket.groups.push_back(std::string(65536, 'g'));
  }
  SUBCASE("more than 65535 groups") {
    ticket.groups.assign(65536, "");
  }
  SUBCASE("a token over the limit") {
    ticket.groups.assign(1000, "group");
  }
  SUBCASE("no key") {
    CHECK(encode_connection_token(ticket, KeyRing{}).empty());
    return;
  }
  CHECK(encode_connection_token(ticket, keys).empty());
}

TEST_CASE("encodes a connection token right up to the size limit") {
  ConnectionTicket ticket = full_ticket();
  ticket.groups.clear();
  ticket.user_id.clear();
  // Grow user_id one byte at a time until the token no longer fits: the last one that fits decodes.
  std::string last_token;
  while (true) {
    auto token = encode_connection_token(ticket, keys);
    if (token.empty()) break;
    last_token = token;
    ticket.user_id += 'u';
  }
  CHECK(last_token.size() <= max_connection_token_bytes);
  CHECK(last_token.size() > max_connection_token_bytes - 4);
  CHECK(decode_connection_token(last_token, keys).ok());
}

TEST_CASE("never puts the connection token or a key in its error messages") {
  const KeyRing secret_keys{{"very-secret-key"}};
  auto token = encode_connection_token(full_ticket(), secret_keys);
  auto payload_part = token.substr(0, token.find('.'));
  auto mac_part = token.substr(token.find('.') + 1);
  for (const std::string& bad :
       {token + "x", token.substr(0, 40), payload_part + "..", "A" + token, std::string("x.") + mac_part}) {
    auto decoded = decode_connection_token(bad, secret_keys);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().message.find("very-secret-key") == std::string::npos);
    CHECK(decoded.error().message.find(mac_part) == std::string::npos);
    CHECK(decoded.error().message.find(payload_part.substr(0, 8)) == std::string::npos);
  }
}
