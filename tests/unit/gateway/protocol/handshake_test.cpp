#include "protocol/handshake.hpp"

#include <doctest/doctest.h>

#include <string>

using sb::protocol::HandshakeRequest;
using sb::protocol::HandshakeStatus;
using sb::protocol::HubProtocolKind;
using sb::protocol::parse_handshake;

TEST_CASE("parses a json handshake and reports the bytes after the record separator") {
  std::string buffer = std::string(R"({"protocol":"json","version":1})") + '\x1e' + R"({"type":6})" + '\x1e';
  HandshakeRequest request;
  auto parsed = parse_handshake(buffer, request);
  REQUIRE(parsed.ok());
  CHECK(parsed->status == HandshakeStatus::complete);
  CHECK(parsed->consumed_bytes == std::string(R"({"protocol":"json","version":1})").size() + 1);
  CHECK(buffer.substr(parsed->consumed_bytes) == std::string(R"({"type":6})") + '\x1e');
  CHECK(request.protocol == HubProtocolKind::json);
  CHECK(request.version == 1);
}

TEST_CASE("accepts protocol versions 1 and 2") {
  HandshakeRequest request;
  SUBCASE("version 1") {
    auto parsed = parse_handshake(std::string(R"({"protocol":"json","version":1})") + '\x1e', request);
    REQUIRE(parsed.ok());
    CHECK(request.version == 1);
  }
  SUBCASE("version 2") {
    auto parsed = parse_handshake(std::string(R"({"protocol":"json","version":2})") + '\x1e', request);
    REQUIRE(parsed.ok());
    CHECK(request.version == 2);
  }
  SUBCASE("messagepack, keys in another order and unknown keys ignored") {
    auto parsed =
        parse_handshake(std::string(R"({"version":2,"extra":[1],"protocol":"messagepack"})") + '\x1e', request);
    REQUIRE(parsed.ok());
    CHECK(request.protocol == HubProtocolKind::messagepack);
    CHECK(request.version == 2);
  }
}

TEST_CASE("reports an incomplete handshake while no record separator has arrived") {
  HandshakeRequest request;
  SUBCASE("empty buffer") {
    auto parsed = parse_handshake("", request);
    REQUIRE(parsed.ok());
    CHECK(parsed->status == HandshakeStatus::incomplete);
    CHECK(parsed->consumed_bytes == 0);
  }
  SUBCASE("half a record") {
    auto parsed = parse_handshake(R"({"protocol":"json","ver)", request);
    REQUIRE(parsed.ok());
    CHECK(parsed->status == HandshakeStatus::incomplete);
    CHECK(parsed->consumed_bytes == 0);
  }
  SUBCASE("a whole object without its separator") {
    auto parsed = parse_handshake(R"({"protocol":"json","version":1})", request);
    REQUIRE(parsed.ok());
    CHECK(parsed->status == HandshakeStatus::incomplete);
  }
}

TEST_CASE("rejects a handshake naming an unknown protocol") {
  HandshakeRequest request;
  auto parsed = parse_handshake(std::string(R"({"protocol":"foo","version":1})") + '\x1e', request);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == "unsupported_protocol");
  CHECK(parsed.error().message == "The protocol 'foo' is not supported.");
}

TEST_CASE("rejects a handshake asking for an unsupported version") {
  HandshakeRequest request;
  auto parsed = parse_handshake(std::string(R"({"protocol":"json","version":3})") + '\x1e', request);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == "unsupported_version");
  CHECK(parsed.error().message == "The server does not support version 3 of the 'json' protocol.");
}

TEST_CASE("rejects a handshake without protocol or version") {
  HandshakeRequest request;
  SUBCASE("no protocol") {
    auto parsed = parse_handshake(std::string(R"({"version":1})") + '\x1e', request);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Missing required property 'protocol'.");
  }
  SUBCASE("protocol not a string") {
    auto parsed = parse_handshake(std::string(R"({"protocol":1,"version":1})") + '\x1e', request);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Missing required property 'protocol'.");
  }
  SUBCASE("no version") {
    auto parsed = parse_handshake(std::string(R"({"protocol":"json"})") + '\x1e', request);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Missing required property 'version'.");
  }
  SUBCASE("version not an integer") {
    auto parsed = parse_handshake(std::string(R"({"protocol":"json","version":"1"})") + '\x1e', request);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().message == "Missing required property 'version'.");
  }
}

TEST_CASE("rejects a handshake that is not a JSON object") {
  HandshakeRequest request;
  for (std::string body : {"[1,2]", "\"json\"", "not json", "", "{\"protocol\":"}) {
    CAPTURE(body);
    auto parsed = parse_handshake(body + '\x1e', request);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "invalid_handshake");
    CHECK(parsed.error().message == "The handshake request is not a JSON object.");
  }
}

TEST_CASE("encodes the handshake responses") {
  CHECK(sb::protocol::handshake_success_frame() == std::string("{}\x1e"));
  CHECK(sb::protocol::handshake_error_frame("The protocol 'foo' is not supported.") ==
        std::string(R"({"error":"The protocol 'foo' is not supported."})") + '\x1e');
  CHECK(sb::protocol::handshake_error_frame("a \"quoted\" text") ==
        std::string(R"({"error":"a \"quoted\" text"})") + '\x1e');
}
