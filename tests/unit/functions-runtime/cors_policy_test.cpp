#include "switchboard/detail/cors_policy.hpp"

#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

using switchboard::detail::CorsPolicy;
using switchboard::detail::HeaderList;

namespace {

const HeaderList kAllowedResponse = {{"Vary", "Origin"},
                                     {"Access-Control-Allow-Origin", "http://localhost:5173"},
                                     {"Access-Control-Allow-Credentials", "true"}};

}  // namespace

TEST_CASE("adds no header at all when no origin is listed") {
  const CorsPolicy policy({});
  CHECK_FALSE(policy.is_enabled());
  CHECK(policy.response_headers("http://localhost:5173").empty());
  CHECK_FALSE(policy.preflight_headers("OPTIONS", "http://localhost:5173", "POST", "").has_value());
}

TEST_CASE("echoes a listed origin with credentials, and varies every response by Origin") {
  const CorsPolicy policy({"https://app.example.com", "http://localhost:5173/"});
  CHECK(policy.response_headers("http://localhost:5173") == kAllowedResponse);
  SUBCASE("compared case-insensitively, echoed as sent") {
    CHECK(policy.response_headers("HTTP://LocalHost:5173") ==
          HeaderList{{"Vary", "Origin"},
                     {"Access-Control-Allow-Origin", "HTTP://LocalHost:5173"},
                     {"Access-Control-Allow-Credentials", "true"}});
  }
  SUBCASE("an origin not listed, none, or another port gets only Vary") {
    for (const char* origin :
         {"https://evil.example", "", "http://localhost:5174", "null", "https://app.example.com.evil"}) {
      CAPTURE(origin);
      CHECK(policy.response_headers(origin) == HeaderList{{"Vary", "Origin"}});
    }
  }
}

TEST_CASE("with \"*\" allows every origin but null, still echoing the origin itself") {
  const CorsPolicy any({"*"});
  CHECK(any.response_headers("http://localhost:5173") == kAllowedResponse);
  CHECK(any.response_headers("https://anywhere.example")[1].second == "https://anywhere.example");
  CHECK_FALSE(any.allows("null"));
  CHECK_FALSE(any.allows(""));
  CHECK(CorsPolicy({"null"}).allows("null"));
}

TEST_CASE("answers a preflight from a listed origin, echoing the requested method and headers") {
  const CorsPolicy policy({"http://localhost:5173"});
  const auto preflight =
      policy.preflight_headers("OPTIONS", "http://localhost:5173", "POST", "content-type, x-requested-with");
  REQUIRE(preflight.has_value());
  CHECK(*preflight == HeaderList{{"Vary", "Origin"},
                                 {"Access-Control-Allow-Origin", "http://localhost:5173"},
                                 {"Access-Control-Allow-Credentials", "true"},
                                 {"Access-Control-Allow-Methods", "POST"},
                                 {"Access-Control-Allow-Headers", "content-type, x-requested-with"},
                                 {"Access-Control-Max-Age", "600"}});
  SUBCASE("requested headers that are not a list of names are not echoed") {
    const auto odd = policy.preflight_headers("OPTIONS", "http://localhost:5173", "POST", "a b, c");
    REQUIRE(odd.has_value());
    for (const auto& [name, value] : *odd) CHECK(name != "Access-Control-Allow-Headers");
  }
  SUBCASE("not a preflight, or not from a listed origin: routed as usual") {
    CHECK_FALSE(policy.preflight_headers("OPTIONS", "https://evil.example", "POST", "").has_value());
    CHECK_FALSE(policy.preflight_headers("OPTIONS", "", "POST", "").has_value());
    CHECK_FALSE(policy.preflight_headers("OPTIONS", "http://localhost:5173", "", "").has_value());
    CHECK_FALSE(policy.preflight_headers("POST", "http://localhost:5173", "POST", "").has_value());
  }
}

TEST_CASE("refuses entries that are not an origin, naming each") {
  CHECK_THROWS_WITH_AS(
      CorsPolicy({"http://ok.example", "localhost:5173", "http://h/path"}),
      "cors_origins[1]: \"localhost:5173\" is not an origin (scheme://host[:port]), \"*\" or \"null\"; "
      "cors_origins[2]: \"http://h/path\" is not an origin (scheme://host[:port]), \"*\" or \"null\"",
      std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy({""}), std::invalid_argument);
  CHECK_THROWS_AS(CorsPolicy({"http://"}), std::invalid_argument);
}
