#include <chrono>

#include <doctest/doctest.h>

#include "switchboard/detail/base64url.hpp"
#include "switchboard/detail/crypto.hpp"
#include "switchboard/functions.hpp"

using switchboard::Json;

namespace {

struct DecodedToken {
  Json header;
  Json payload;
  std::string signed_part;  // header.payload, as signed
  std::string signature;    // raw bytes
};

DecodedToken decode(const std::string& token) {
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot = token.find('.', first_dot + 1);
  REQUIRE(first_dot != std::string::npos);
  REQUIRE(second_dot != std::string::npos);
  REQUIRE(token.find('.', second_dot + 1) == std::string::npos);
  const auto header = switchboard::detail::base64url_decode(token.substr(0, first_dot));
  const auto payload = switchboard::detail::base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  const auto signature = switchboard::detail::base64url_decode(token.substr(second_dot + 1));
  REQUIRE(header);
  REQUIRE(payload);
  REQUIRE(signature);
  return {Json::parse(*header), Json::parse(*payload), token.substr(0, second_dot), *signature};
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const switchboard::ServiceEndpoint kEndpoint{"http://127.0.0.1:8080", "7aab239577fd4f24bc919802fb629f5f"};

}  // namespace

TEST_CASE("negotiate points the client at the gateway's /client/ endpoint for the hub") {
  const auto negotiation = switchboard::negotiate(kEndpoint, "chat", "alice");
  CHECK(negotiation.url == "http://127.0.0.1:8080/client/?hub=chat");
  CHECK(negotiation.to_json() == Json{{"url", negotiation.url}, {"accessToken", negotiation.access_token}});
}

TEST_CASE("negotiate issues an HS256 token signed with the access key's bytes") {
  const DecodedToken token = decode(switchboard::negotiate(kEndpoint, "chat", "alice").access_token);
  CHECK(token.header == Json{{"alg", "HS256"}, {"typ", "JWT"}});
  CHECK(token.signature == switchboard::detail::hmac_sha256(kEndpoint.access_key, token.signed_part));
  CHECK(token.signature != switchboard::detail::hmac_sha256("another-key", token.signed_part));
}

TEST_CASE("negotiate's token names the url as audience, the user, and expires after the lifetime") {
  const long long before = unix_now();
  const DecodedToken token = decode(switchboard::negotiate(kEndpoint, "chat", "alice").access_token);
  const long long after = unix_now();

  CHECK(token.payload["aud"] == "http://127.0.0.1:8080/client/?hub=chat");
  CHECK(token.payload["asrs.s.uid"] == "alice");
  const long long issued_at = token.payload["iat"].get<long long>();
  CHECK(issued_at >= before);
  CHECK(issued_at <= after);
  CHECK(token.payload["nbf"] == issued_at);
  CHECK(token.payload["exp"] == issued_at + 3600);
}

TEST_CASE("negotiate honours a custom lifetime") {
  const DecodedToken token =
      decode(switchboard::negotiate(kEndpoint, "chat", "alice", {}, std::chrono::minutes(5)).access_token);
  CHECK(token.payload["exp"].get<long long>() - token.payload["iat"].get<long long>() == 300);
}

TEST_CASE("negotiate leaves the user claim out for an anonymous client") {
  const DecodedToken token = decode(switchboard::negotiate(kEndpoint, "chat").access_token);
  CHECK_FALSE(token.payload.contains("asrs.s.uid"));
}

TEST_CASE("negotiate adds extra claims and renames those that would override the token's own") {
  const DecodedToken token =
      decode(switchboard::negotiate(kEndpoint, "chat", "alice", {{"role", "admin"}, {"aud", "evil"}, {"exp", "1"}})
                 .access_token);
  CHECK(token.payload["role"] == "admin");
  CHECK(token.payload["aud"] == "http://127.0.0.1:8080/client/?hub=chat");
  CHECK(token.payload["asrs.u.aud"] == "evil");
  CHECK(token.payload["asrs.u.exp"] == "1");
  CHECK(token.payload["exp"].is_number_integer());
}

TEST_CASE("negotiate percent-encodes a hub name that needs it in the url") {
  CHECK(switchboard::negotiate(kEndpoint, "a[b]").url == "http://127.0.0.1:8080/client/?hub=a%5Bb%5D");
}
