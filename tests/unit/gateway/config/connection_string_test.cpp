#include "config/connection_string.hpp"

#include <doctest/doctest.h>

using sb::config::format_connection_string;
using sb::config::parse_connection_string;

TEST_CASE("parses Endpoint, AccessKey, Version and Port") {
  auto parsed = parse_connection_string("Endpoint=http://localhost;Port=8888;AccessKey=ABCDEF0123456789=;Version=1.0;");
  REQUIRE(parsed.ok());
  CHECK(parsed->endpoint == "http://localhost");
  CHECK(parsed->access_key == "ABCDEF0123456789=");  // base64-looking keys keep their padding
  CHECK(parsed->port == "8888");
}

TEST_CASE("reads connection string keys case-insensitively") {
  auto parsed = parse_connection_string("endpoint=https://x.service.signalr.net/;ACCESSKEY=k;version=1.0");
  REQUIRE(parsed.ok());
  CHECK(parsed->endpoint == "https://x.service.signalr.net");  // trailing slash dropped
  CHECK(parsed->access_key == "k");
  CHECK(parsed->port.empty());
}

TEST_CASE("ignores keys the gateway does not need") {
  auto parsed = parse_connection_string(
      "Endpoint=http://a;AccessKey=k;Version=1.0;ClientEndpoint=http://b;ServerEndpoint=http://c;AuthType=azure");
  REQUIRE(parsed.ok());
  CHECK(parsed->endpoint == "http://a");
}

TEST_CASE("rejects a connection string missing a part") {
  SUBCASE("endpoint") {
    auto parsed = parse_connection_string("AccessKey=k;Version=1.0;");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Endpoint is missing");
  }
  SUBCASE("access key") {
    auto parsed = parse_connection_string("Endpoint=http://a;Version=1.0;");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message.find("AccessKey is missing") == 0);
  }
  SUBCASE("version") {
    auto parsed = parse_connection_string("Endpoint=http://a;AccessKey=k;");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Version must be 1.x");
  }
  SUBCASE("a version other than 1.x") {
    CHECK_FALSE(parse_connection_string("Endpoint=http://a;AccessKey=k;Version=2.0;").ok());
  }
  SUBCASE("an item that is not Key=Value") {
    auto parsed = parse_connection_string("Endpoint=http://a;garbage;AccessKey=k;Version=1.0");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "invalid_connection_string");
  }
  SUBCASE("empty") {
    CHECK_FALSE(parse_connection_string("").ok());
  }
}

TEST_CASE("formats the emulator's connection string shape") {
  CHECK(format_connection_string("localhost", 8888, "KEY") ==
        "Endpoint=http://localhost;Port=8888;AccessKey=KEY;Version=1.0;");
  auto round_trip = parse_connection_string(format_connection_string("127.0.0.1", 9, "k="));
  REQUIRE(round_trip.ok());
  CHECK(round_trip->endpoint == "http://127.0.0.1");
  CHECK(round_trip->port == "9");
  CHECK(round_trip->access_key == "k=");
}

TEST_CASE("rejects ports that are not 1 to 65535, however many digits") {
  for (const char* port : {"0", "65536", "99999999999999999999", "-1", "+80", "80a", ""}) {
    CAPTURE(port);
    auto parsed = parse_connection_string(std::string("Endpoint=http://a;AccessKey=k;Version=1.0;Port=") + port);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Port must be 1 to 65535");
  }
  CHECK(parse_connection_string("Endpoint=http://a;AccessKey=k;Version=1.0;Port=65535").ok());
}

TEST_CASE("formats an https endpoint when the gateway speaks TLS") {
  auto text = format_connection_string("localhost", 8443, "KEY", "https");
  CHECK(text == "Endpoint=https://localhost;Port=8443;AccessKey=KEY;Version=1.0;");
  REQUIRE(parse_connection_string(text).ok());
}
