#include "common/ascii.hpp"

#include <doctest/doctest.h>

#include "auth/bearer.hpp"

TEST_CASE("iequals folds ASCII letters only") {
  CHECK(sb::iequals("Content-Type", "content-type"));
  CHECK(sb::iequals("", ""));
  CHECK_FALSE(sb::iequals("abc", "abcd"));
  CHECK_FALSE(sb::iequals("[", "{"));  // 0x5b and 0x7b differ by 32 but are not letters
  CHECK_FALSE(sb::iequals("\xc3\x89", "\xc3\xa9"));  // É and é: bytes, not letters
  CHECK(sb::istarts_with("HTTPS://x", "https://"));
  CHECK_FALSE(sb::istarts_with("http", "https"));
}

TEST_CASE("bearer_token reads the token of a Bearer header") {
  CHECK(sb::auth::bearer_token("Bearer abc.def") == "abc.def");
  CHECK(sb::auth::bearer_token("bearer abc") == "abc");
  CHECK(sb::auth::bearer_token("Bearer ").empty());
  CHECK(sb::auth::bearer_token("Basic dXNlcg==").empty());
  CHECK(sb::auth::bearer_token("").empty());
  CHECK(sb::auth::bearer_token("Bearerabc").empty());
}
