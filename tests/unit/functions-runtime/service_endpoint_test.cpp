#include <cstdlib>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "switchboard/functions.hpp"

using switchboard::ServiceEndpoint;

TEST_CASE("parses a connection string whose Endpoint carries the port") {
  const auto parsed = ServiceEndpoint::parse("Endpoint=http://127.0.0.1:8080;AccessKey=secret;Version=1.0;");
  CHECK(parsed.endpoint == "http://127.0.0.1:8080");
  CHECK(parsed.access_key == "secret");
}

TEST_CASE("folds Port= into the endpoint, as the Azure emulator's connection string needs") {
  const auto parsed = ServiceEndpoint::parse(
      "Endpoint=http://localhost;Port=8888;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;");
  CHECK(parsed.endpoint == "http://localhost:8888");
  CHECK(parsed.access_key == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH");
}

TEST_CASE("lets Port= replace a port the Endpoint already has, also for IPv6 hosts") {
  CHECK(ServiceEndpoint::parse("Endpoint=http://h:1/;Port=2;AccessKey=k").endpoint == "http://h:2");
  CHECK(ServiceEndpoint::parse("Endpoint=http://[::1]:1;Port=2;AccessKey=k").endpoint == "http://[::1]:2");
  CHECK(ServiceEndpoint::parse("Endpoint=https://[::1];Port=443;AccessKey=k").endpoint == "https://[::1]:443");
}

TEST_CASE("reads connection string keys case-insensitively and in any order") {
  const auto parsed = ServiceEndpoint::parse("accesskey=k;VERSION=1.0;endpoint=HTTPS://example.com/");
  CHECK(parsed.endpoint == "https://example.com");
  CHECK(parsed.access_key == "k");
}

TEST_CASE("keeps the '=' padding of a base64 access key") {
  CHECK(ServiceEndpoint::parse("Endpoint=http://h;AccessKey=abc+/==;Version=1.0").access_key == "abc+/==");
}

TEST_CASE("ignores connection string keys it does not use") {
  const auto parsed =
      ServiceEndpoint::parse("Endpoint=http://h;AccessKey=k;ClientEndpoint=http://c;AuthType=azure;Version=1.0;");
  CHECK(parsed.endpoint == "http://h");
}

TEST_CASE("names the missing key when a connection string lacks Endpoint or AccessKey") {
  CHECK_THROWS_WITH_AS(ServiceEndpoint::parse("Endpoint=http://h;Version=1.0;"),
                       "connection string: missing AccessKey=", std::invalid_argument);
  CHECK_THROWS_WITH_AS(ServiceEndpoint::parse("AccessKey=k;Version=1.0;"), "connection string: missing Endpoint=",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(ServiceEndpoint::parse("Endpoint=http://h;AccessKey=;"),
                       "connection string: missing AccessKey=", std::invalid_argument);
}

TEST_CASE("rejects a malformed connection string") {
  SUBCASE("a part without '='") { CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;AccessKey"), std::invalid_argument); }
  SUBCASE("an endpoint that is not http or https") {
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=ftp://h;AccessKey=k"), std::invalid_argument);
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=localhost;AccessKey=k"), std::invalid_argument);
  }
  SUBCASE("an endpoint without a host") {
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://;AccessKey=k"), std::invalid_argument);
  }
  SUBCASE("a port out of range") {
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;Port=0;AccessKey=k"), std::invalid_argument);
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;Port=65536;AccessKey=k"), std::invalid_argument);
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;Port=80x;AccessKey=k"), std::invalid_argument);
  }
  SUBCASE("a version other than 1.x") {
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;AccessKey=k;Version=2.0"), std::invalid_argument);
  }
  SUBCASE("a key given twice") {
    CHECK_THROWS_AS(ServiceEndpoint::parse("Endpoint=http://h;AccessKey=k;accesskey=j"), std::invalid_argument);
  }
}

TEST_CASE("refuses an unset or empty connection string with a message that shows the expected form") {
  const std::string expected_form =
      " (is SWITCHBOARD_CONNECTION_STRING set?); expected Endpoint=http://host[:port];AccessKey=<key>;Version=1.0;";
  SUBCASE("null, as std::getenv answers for an unset variable") {
    const char* unset = std::getenv("SWITCHBOARD_TEST_VARIABLE_THAT_IS_NEVER_SET");
    REQUIRE(unset == nullptr);
    CHECK_THROWS_WITH_AS(ServiceEndpoint::parse(unset), ("connection string: none given" + expected_form).c_str(),
                         std::invalid_argument);
  }
  SUBCASE("empty or blank") {
    for (const char* empty : {"", "  "}) {
      CAPTURE(empty);
      CHECK_THROWS_WITH_AS(ServiceEndpoint::parse(empty), ("connection string: empty" + expected_form).c_str(),
                           std::invalid_argument);
      CHECK_THROWS_WITH_AS(ServiceEndpoint::parse(std::string(empty)),
                           ("connection string: empty" + expected_form).c_str(), std::invalid_argument);
    }
  }
  SUBCASE("a C string that is set parses as before") {
    const char* set = "Endpoint=http://h;AccessKey=k";
    CHECK(ServiceEndpoint::parse(set).endpoint == "http://h");
  }
}
