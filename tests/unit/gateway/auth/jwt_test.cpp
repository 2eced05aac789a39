#include "auth/jwt.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "auth/crypto.hpp"

using namespace sb::auth;
using std::chrono::seconds;
using std::chrono::system_clock;

namespace {

const system_clock::time_point now = system_clock::time_point(seconds(1'700'000'000));
const std::string aud = "http://localhost/client/?hub=chat";
const KeyRing keys{{"primary-key"}};

bool any_audience(std::string_view) {
  return true;
}

std::string payload(long long exp_offset = 3600, std::string extra = "") {
  return R"({"aud":")" + aud + R"(","exp":)" + std::to_string(1'700'000'000 + exp_offset) + extra + "}";
}

// A token signed by hand, with any header and algorithm.
std::string sign_by_hand(std::string_view header_json, std::string_view payload_json, HashAlgorithm algorithm,
                         std::string_view key) {
  std::string signed_part = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return signed_part + "." + base64url_encode(hmac(algorithm, key, signed_part));
}

sb::Result<VerifiedToken> verify(std::string_view token, const KeyRing& ring = keys, const JwtLimits& limits = {}) {
  return verify_jwt(token, ring, now, any_audience, limits);
}

}  // namespace

TEST_CASE("accepts an HS256 token signed with the access key") {
  auto token = sign_jwt_hs256(payload(3600, R"(,"asrs.s.uid":"alice","role":"admin")"), "primary-key");
  auto verified = verify_jwt(token, keys, now, [](std::string_view a) { return a == aud; });
  REQUIRE_MESSAGE(verified.ok(), (verified.ok() ? "" : verified.error().message));
  CHECK(verified->audiences == std::vector<std::string>{aud});
  CHECK(verified->expires_at == now + seconds(3600));
  CHECK(user_id_from_claims(verified->claims) == "alice");
}

TEST_CASE("accepts an HS512 token built by hand") {
  auto token =
      sign_by_hand(R"({"alg":"HS512","typ":"JWT","kid":"123"})", payload(), HashAlgorithm::sha512, "primary-key");
  auto verified = verify(token);
  CHECK_MESSAGE(verified.ok(), (verified.ok() ? "" : verified.error().message));
}

TEST_CASE("rejects a token signed with another key") {
  SUBCASE("HS256") {
    auto verified = verify(sign_jwt_hs256(payload(), "other-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().code == "invalid_token");
    CHECK(verified.error().message == "The signature key was not found.");
  }
  SUBCASE("HS512") {
    auto verified = verify(sign_by_hand(R"({"alg":"HS512"})", payload(), HashAlgorithm::sha512, "other-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The signature key was not found.");
  }
  SUBCASE("an HS256 signature under an HS512 header") {
    auto verified = verify(sign_by_hand(R"({"alg":"HS512"})", payload(), HashAlgorithm::sha256, "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The signature key was not found.");
  }
  SUBCASE("a tampered payload") {
    auto token = sign_jwt_hs256(payload(), "primary-key");
    auto first_dot = token.find('.');
    auto second_dot = token.find('.', first_dot + 1);
    auto forged = token.substr(0, first_dot + 1) + base64url_encode(payload(999999, R"(,"asrs.s.uid":"admin")")) +
                  token.substr(second_dot);
    CHECK_FALSE(verify(forged).ok());
  }
}

TEST_CASE("accepts a token signed with the second key of the ring") {
  KeyRing ring{{"primary-key", "secondary-key"}};
  CHECK(verify(sign_jwt_hs256(payload(), "secondary-key"), ring).ok());
  CHECK(verify(sign_jwt_hs256(payload(), "primary-key"), ring).ok());
  CHECK_FALSE(verify(sign_jwt_hs256(payload(), "third-key"), ring).ok());
}

TEST_CASE("rejects algorithms other than HS256 and HS512") {
  SUBCASE("none") {
    auto token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(payload()) + ".";
    auto verified = verify(token);
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token algorithm is not supported.");
  }
  SUBCASE("RS256, even with an HMAC signature over the key") {
    auto verified = verify(sign_by_hand(R"({"alg":"RS256"})", payload(), HashAlgorithm::sha256, "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token algorithm is not supported.");
  }
  SUBCASE("lower-case hs256") {
    auto verified = verify(sign_by_hand(R"({"alg":"hs256"})", payload(), HashAlgorithm::sha256, "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token algorithm is not supported.");
  }
  SUBCASE("no alg") {
    auto verified = verify(sign_by_hand(R"({"typ":"JWT"})", payload(), HashAlgorithm::sha256, "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token has no algorithm.");
  }
}

TEST_CASE("rejects a token expired beyond the clock skew and accepts one within it") {
  SUBCASE("expired 301 s ago") {
    auto verified = verify(sign_jwt_hs256(payload(-301), "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is expired.");
  }
  SUBCASE("expired 299 s ago") {
    CHECK(verify(sign_jwt_hs256(payload(-299), "primary-key")).ok());
  }
  SUBCASE("exactly at the skew") {
    CHECK(verify(sign_jwt_hs256(payload(-300), "primary-key")).ok());
  }
  SUBCASE("no skew configured") {
    JwtLimits strict;
    strict.clock_skew = seconds(0);
    CHECK_FALSE(verify(sign_jwt_hs256(payload(-1), "primary-key"), keys, strict).ok());
  }
}

TEST_CASE("rejects a token not valid yet") {
  SUBCASE("nbf beyond the skew") {
    auto verified = verify(sign_jwt_hs256(payload(3600, R"(,"nbf":1700000301)"), "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is not valid yet.");
  }
  SUBCASE("nbf within the skew") {
    CHECK(verify(sign_jwt_hs256(payload(3600, R"(,"nbf":1700000299)"), "primary-key")).ok());
  }
  SUBCASE("nbf not a number") {
    auto verified = verify(sign_jwt_hs256(payload(3600, R"(,"nbf":"soon")"), "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
}

TEST_CASE("rejects a token without an expiry") {
  SUBCASE("missing") {
    auto verified = verify(sign_jwt_hs256(R"({"aud":"x"})", "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token has no expiry.");
  }
  SUBCASE("a string") {
    auto verified = verify(sign_jwt_hs256(R"({"aud":"x","exp":"1700003600"})", "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token has no expiry.");
  }
}

TEST_CASE("rejects a malformed token") {
  auto good = sign_jwt_hs256(payload(), "primary-key");
  auto first_dot = good.find('.');
  auto second_dot = good.find('.', first_dot + 1);
  SUBCASE("empty") {
    auto verified = verify("");
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is missing.");
  }
  SUBCASE("two parts") {
    auto verified = verify(good.substr(0, second_dot));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("four parts") {
    auto verified = verify(good + ".x");
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("bad base64 in the header") {
    auto verified = verify("ey*" + good.substr(first_dot));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("bad base64 in the signature") {
    auto verified = verify(good.substr(0, second_dot + 1) + "!!!!");
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("a header that is not an object") {
    auto verified = verify(sign_by_hand(R"(["HS256"])", payload(), HashAlgorithm::sha256, "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("a payload that is not an object") {
    auto verified = verify(sign_jwt_hs256("42", "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
  SUBCASE("a payload that is not JSON") {
    auto verified = verify(sign_jwt_hs256("{exp:1", "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The access token is malformed.");
  }
}

TEST_CASE("rejects a token over the length limit") {
  auto token = sign_jwt_hs256(payload(3600, R"(,"pad":")" + std::string(9000, 'x') + "\""), "primary-key");
  auto verified = verify(token);
  REQUIRE_FALSE(verified.ok());
  CHECK(verified.error().message == "The access token is too long.");
  JwtLimits roomy;
  roomy.max_token_bytes = 16384;
  CHECK(verify(token, keys, roomy).ok());
}

TEST_CASE("passes every audience to the predicate, including array values") {
  auto token =
      sign_jwt_hs256(R"({"aud":["http://a/client/?hub=x","http://b/client/?hub=y"],"exp":1700003600})", "primary-key");
  std::vector<std::string> seen;
  auto verified = verify_jwt(token, keys, now, [&](std::string_view a) {
    seen.emplace_back(a);
    return a == "http://b/client/?hub=y";
  });
  REQUIRE(verified.ok());
  CHECK(verified->audiences == std::vector<std::string>{"http://a/client/?hub=x", "http://b/client/?hub=y"});
  CHECK(seen.size() == 2);
}

TEST_CASE("rejects a token whose audience the predicate refuses") {
  SUBCASE("wrong audience") {
    auto verified =
        verify_jwt(sign_jwt_hs256(payload(), "primary-key"), keys, now, [](std::string_view) { return false; });
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().code == "invalid_audience");
    CHECK(verified.error().message == "The audience is invalid.");  // the client's text names nothing
    CHECK(verified.error().detail == aud);  // the log's does
  }
  SUBCASE("no aud claim at all") {
    auto verified = verify(sign_jwt_hs256(R"({"exp":1700003600})", "primary-key"));
    REQUIRE_FALSE(verified.ok());
    CHECK(verified.error().message == "The audience is invalid.");
    CHECK(verified.error().detail == "(none)");
  }
}

TEST_CASE("flattens array claims and keeps non-string values as JSON text") {
  auto token = sign_jwt_hs256(payload(3600, R"(,"role":["a","b"],"level":3,"flag":true)"), "primary-key");
  auto verified = verify(token);
  REQUIRE(verified.ok());
  Claims roles;
  for (const auto& claim : verified->claims)
    if (claim.first == "role" || claim.first == "level" || claim.first == "flag") roles.push_back(claim);
  CHECK(std::count(roles.begin(), roles.end(), std::pair<std::string, std::string>{"role", "a"}) == 1);
  CHECK(std::count(roles.begin(), roles.end(), std::pair<std::string, std::string>{"role", "b"}) == 1);
  CHECK(std::count(roles.begin(), roles.end(), std::pair<std::string, std::string>{"level", "3"}) == 1);
  CHECK(std::count(roles.begin(), roles.end(), std::pair<std::string, std::string>{"flag", "true"}) == 1);
  // The two role values stay in their array order.
  auto first =
      std::find(verified->claims.begin(), verified->claims.end(), std::pair<std::string, std::string>{"role", "a"});
  auto second =
      std::find(verified->claims.begin(), verified->claims.end(), std::pair<std::string, std::string>{"role", "b"});
  CHECK(first < second);
}

// jwt.hpp: "Claims in token order". X-ASRS-User-Claims and "the first NameIdentifier" both depend on it.
TEST_CASE("keeps claims in token order") {
  auto token = sign_jwt_hs256(R"({"zeta":"1","aud":"http://localhost/client/?hub=chat","alpha":"2","exp":1700003600})",
                              "primary-key");
  auto verified = verify(token);
  REQUIRE(verified.ok());
  REQUIRE(verified->claims.size() == 4);
  CHECK(verified->claims[0].first == "zeta");
  CHECK(verified->claims[1].first == "aud");
  CHECK(verified->claims[2].first == "alpha");
  CHECK(verified->claims[3].first == "exp");
}

// A far-future exp (year 3000) must not overflow into the past.
TEST_CASE("reports a far-future expiry without overflowing") {
  auto verified = verify(sign_jwt_hs256(R"({"aud":"x","exp":32503680000})", "primary-key"));
  REQUIRE(verified.ok());
  CHECK(verified->expires_at > now);
}

TEST_CASE("takes the user id from asrs.s.uid first") {
  Claims claims{{"sub", "s"}, {"nameid", "n"}, {"asrs.s.uid", "u"}};
  CHECK(user_id_from_claims(claims) == "u");
  CHECK(user_id_from_claims({{"asrs.s.uid", ""}, {"nameid", "n"}}) == "n");  // an empty uid does not count
}

TEST_CASE("falls back to the NameIdentifier claims") {
  const std::string long_type = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
  CHECK(user_id_from_claims({{"nameid", "n"}}) == "n");
  CHECK(user_id_from_claims({{"sub", "s"}}) == "s");
  CHECK(user_id_from_claims({{long_type, "l"}}) == "l");
  CHECK(user_id_from_claims({{"role", "admin"}, {"aud", "x"}}) == "");
  CHECK(user_id_from_claims({}) == "");
}

// PROTOCOL.md part 3 §3.2: "user id from asrs.s.uid, then nameid, sub, the long NameIdentifier URI".
TEST_CASE("prefers nameid over sub over the long NameIdentifier URI whatever their order") {
  const std::string long_type = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
  CHECK(user_id_from_claims({{"sub", "s"}, {"nameid", "n"}}) == "n");
  CHECK(user_id_from_claims({{long_type, "l"}, {"sub", "s"}}) == "s");
  CHECK(user_id_from_claims({{long_type, "l"}, {"nameid", "n"}}) == "n");
  SUBCASE("through a verified token") {
    auto verified = verify(sign_jwt_hs256(payload(3600, R"(,"nameid":"n",")" + long_type + R"(":"l")"), "primary-key"));
    REQUIRE(verified.ok());
    CHECK(user_id_from_claims(verified->claims) == "n");
  }
}

TEST_CASE("refuses a token that expires further away than the maximum lifetime, if one is set") {
  JwtLimits limits;
  limits.max_lifetime = std::chrono::hours(24);
  auto day = sign_jwt_hs256(payload(24 * 3600), "primary-key");
  CHECK(verify(day, keys, limits));
  auto skewed = sign_jwt_hs256(payload(24 * 3600 + 299), "primary-key");  // within the clock skew
  CHECK(verify(skewed, keys, limits));
  auto longer = sign_jwt_hs256(payload(24 * 3600 + 301), "primary-key");
  auto refused = verify(longer, keys, limits);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == "The access token lives longer than this gateway accepts.");
  auto forever = sign_jwt_hs256(payload(253'402'300'799LL - 1'700'000'000LL), "primary-key");  // year 9999
  CHECK_FALSE(verify(forever, keys, limits));
  CHECK(verify(forever));  // no maximum set: only the expiry counts
}
