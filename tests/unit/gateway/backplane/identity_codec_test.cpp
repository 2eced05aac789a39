#include "backplane/identity_codec.hpp"

#include <doctest/doctest.h>

using namespace sb::backplane;
using sb::connection::ConnectionIdentity;

namespace {

ConnectionIdentity alice() {
  ConnectionIdentity identity;
  identity.connection_id = "c:1";
  identity.hub = "Chat";
  identity.hub_key = "chat";
  identity.user_id = "alice";
  identity.claims = {{"role", "admin"}, {"role", "user"}, {"name", "Alice \"A\" ✓"}};
  identity.client_query = "?room=1&x=%20";
  identity.token_expires_at = 1'767'225'600;  // moves with a handoff: --close-on-token-expiry applies there too
  identity.initial_groups = {"not", "stored"};
  identity.trace_parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";  // its events stay in the trace
  identity.trace_state = "vendor=abc";
  return identity;
}

void check_same(const ConnectionIdentity& got, const ConnectionIdentity& want) {
  CHECK(got.connection_id == want.connection_id);
  CHECK(got.hub == want.hub);
  CHECK(got.hub_key == want.hub_key);
  CHECK(got.user_id == want.user_id);
  CHECK(got.claims == want.claims);
  CHECK(got.client_query == want.client_query);
  CHECK(got.token_expires_at == want.token_expires_at);
  CHECK(got.trace_parent == want.trace_parent);
  CHECK(got.trace_state == want.trace_state);
}

}  // namespace

TEST_CASE("an identity comes back as it was encoded, but for what a reaper does not need") {
  auto decoded = decode_identity(encode_identity(alice()));
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message);
  check_same(*decoded, alice());
  CHECK(decoded->initial_groups.empty());
  CHECK_FALSE(decoded->allows_stateful_reconnect);
}

TEST_CASE("writes the JSON every gateway of the fleet reads") {
  ConnectionIdentity identity;
  identity.connection_id = "c1";
  identity.hub = "Chat";
  identity.hub_key = "chat";
  identity.claims = {{"sub", "bob"}};
  CHECK(encode_identity(identity) ==
        R"({"claims":[["sub","bob"]],"connectionId":"c1","hub":"Chat","hubKey":"chat","query":"","tokenExpiresAt":0,"traceParent":"","traceState":"","userId":""})");
}

TEST_CASE("reads leniently: missing or mistyped fields are empty, malformed claims are skipped") {
  auto decoded = decode_identity(
      R"({"connectionId":"c1","hub":"Chat","userId":7,"claims":[["a","b"],["c"],["d",1],"e",["f","g"]],"extra":1})");
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message);
  CHECK(decoded->connection_id == "c1");
  CHECK(decoded->hub == "Chat");
  CHECK(decoded->hub_key.empty());
  CHECK(decoded->user_id.empty());
  CHECK(decoded->client_query.empty());
  CHECK(decoded->claims == sb::auth::Claims{{"a", "b"}, {"f", "g"}});
}

TEST_CASE("rejects what names no connection and hub") {
  for (const char* json : {"", "not json", "[]", "\"text\"", "{}", R"({"connectionId":"c1"})", R"({"hub":"Chat"})",
                           R"({"connectionId":"","hub":"Chat"})", R"({"connectionId":1,"hub":"Chat"})"}) {
    CAPTURE(json);
    auto decoded = decode_identity(json);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().code == "invalid_identity");
    CHECK_FALSE(decoded.error().message.empty());
  }
}

TEST_CASE("writes text that is not UTF-8 with a replacement character") {
  auto identity = alice();
  identity.user_id = "bad\xff";
  auto decoded = decode_identity(encode_identity(identity));
  REQUIRE(decoded.ok());
  CHECK(decoded->user_id == "bad\xef\xbf\xbd");
}
