#include "switchboard/detail/base64url.hpp"

#include <doctest/doctest.h>

using switchboard::detail::base64url_decode;
using switchboard::detail::base64url_encode;

TEST_CASE("encodes the RFC 4648 test vectors without padding") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode("fooba") == "Zm9vYmE");
  CHECK(base64url_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("uses - and _ where base64 uses + and /") {
  CHECK(base64url_encode(std::string("\xfb\xff\xbf", 3)) == "-_-_");
}

TEST_CASE("decodes with or without padding") {
  CHECK(base64url_decode("Zm9vYmE") == "fooba");
  CHECK(base64url_decode("Zm9vYmE=") == "fooba");
  CHECK(base64url_decode("-_-_") == std::string("\xfb\xff\xbf", 3));
}

TEST_CASE("refuses characters outside the alphabet and impossible lengths") {
  CHECK_FALSE(base64url_decode("Zm9v+g").has_value());
  CHECK_FALSE(base64url_decode("Zm9v/g").has_value());
  CHECK_FALSE(base64url_decode("Zm9vY").has_value());
}

TEST_CASE("decoding what was encoded gives it back") {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
    REQUIRE(base64url_decode(base64url_encode(bytes)) == bytes);
  }
}
