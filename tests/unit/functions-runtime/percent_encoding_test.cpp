#include "switchboard/detail/percent_encoding.hpp"

#include <doctest/doctest.h>

using switchboard::detail::percent_decode;
using switchboard::detail::percent_encode;

TEST_CASE("percent-encodes everything but the unreserved characters, as Uri.EscapeDataString does") {
  CHECK(percent_encode("Azaz09-._~") == "Azaz09-._~");
  CHECK(percent_encode("a b/c?d&e=f+g%") == "a%20b%2Fc%3Fd%26e%3Df%2Bg%25");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("percent-decodes, turning + into a space only when asked") {
  CHECK(percent_decode("a%20b%2fc", false) == "a b/c");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("%C3%A9", true) == "\xc3\xa9");
}

TEST_CASE("leaves a malformed percent escape as it is") {
  CHECK(percent_decode("100%", true) == "100%");
  CHECK(percent_decode("%zz%4", true) == "%zz%4");
}
