#include "switchboard/detail/jwt.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

TEST_CASE("signs a payload into the same HS256 token an independent implementation makes") {
  // Expected value computed with Python's hmac and base64 modules.
  const nlohmann::json payload{{"aud", "http://localhost/client/?hub=chat"}, {"exp", 1700003600}};
  CHECK(switchboard::detail::sign_jwt_hs256(payload, "7aab239577fd4f24bc919802fb629f5f") ==
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0L2NsaWVudC8_aHViPWNoYXQiLCJleHAiOjE3MDAwMDM2MDB9."
        "lo9ItE7LpIxS1YK3dwvvHZmeozTpovstB7ShXjLRxcs");
}
