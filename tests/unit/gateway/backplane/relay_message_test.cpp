#include "backplane/relay_message.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

using namespace sb::backplane;
using namespace std::string_view_literals;

namespace {

RelayMessage round_trip(const RelayMessage& message) {
  auto decoded = decode_relay_message(encode_relay_message(message));
  // Not REQUIRE_MESSAGE: doctest evaluates its message for passing checks too under -s, and error()
  // on a value aborts.
  if (!decoded.ok()) FAIL(decoded.error().message);
  return decoded.value();
}

// The error's message, after checking that decoding failed with the codec's code.
std::string rejection(std::string_view bytes) {
  auto decoded = decode_relay_message(bytes);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == "invalid_relay_message");
  return decoded.error().message;
}

void set_u32(std::string& bytes, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

const std::string binary_body("\x00\x01\xff\x1e\x00"sv);

RelayRequest a_send() {
  return RelayRequest{"gw-a", 0x0102030405060708ULL, RelayKind::send, "conn-1", binary_body};
}
RelayReply a_reply() {
  return RelayReply{77, 200, "application/octet-stream", binary_body};
}

// Offsets into a_send()'s encoding: version, type, from_gateway (4 + 4), request_id (8), kind,
// connection_id (4 + 6), then the body's length.
constexpr std::size_t send_from_gateway_at = 2;
constexpr std::size_t send_kind_at = 2 + 8 + 8;
constexpr std::size_t send_body_at = send_kind_at + 1 + 10;
// Offsets into a_reply()'s encoding: version, type, request_id (8), then the status.
constexpr std::size_t reply_status_at = 2 + 8;

}  // namespace

TEST_CASE("a relayed request keeps its asker, id, kind, connection and body") {
  SUBCASE("a send with a binary body holding NUL bytes") {
    auto request = a_send();
    auto got = round_trip(request);
    REQUIRE(std::holds_alternative<RelayRequest>(got));
    CHECK(std::get<RelayRequest>(got) == request);
    CHECK(std::get<RelayRequest>(got).body.size() == 5);
  }
  SUBCASE("a poll with an empty body") {
    RelayRequest request{"gw-b", 1, RelayKind::poll, "conn-2", ""};
    CHECK(std::get<RelayRequest>(round_trip(request)) == request);
  }
  SUBCASE("a stop, with every string empty and the largest id") {
    RelayRequest request{"", UINT64_MAX, RelayKind::stop, "", ""};
    CHECK(std::get<RelayRequest>(round_trip(request)) == request);
  }
}

TEST_CASE("a relayed reply keeps its id, status, content type and body") {
  SUBCASE("a binary body holding NUL bytes") {
    auto reply = a_reply();
    auto got = round_trip(reply);
    REQUIRE(std::holds_alternative<RelayReply>(got));
    CHECK(std::get<RelayReply>(got) == reply);
  }
  SUBCASE("no content type and an empty body") {
    RelayReply reply{0, 204, "", ""};
    CHECK(std::get<RelayReply>(round_trip(reply)) == reply);
  }
  SUBCASE("the lowest and highest statuses") {
    for (std::uint16_t status : {100, 599}) {
      RelayReply reply{9, status, "text/plain", "x"};
      CHECK(std::get<RelayReply>(round_trip(reply)) == reply);
    }
  }
}

TEST_CASE("writes the relay wire form every gateway of the fleet reads") {
  CHECK(encode_relay_message(RelayRequest{"gw-a", 0x0102030405060708ULL, RelayKind::poll, "c1", ""}) ==
        "\x01\x01"
        "\x04\x00\x00\x00gw-a"
        "\x08\x07\x06\x05\x04\x03\x02\x01"
        "\x02"
        "\x02\x00\x00\x00"
        "c1"
        "\x00\x00\x00\x00"sv);
  CHECK(encode_relay_message(RelayReply{7, 200, "text/plain", std::string("a\0b"sv)}) ==
        "\x01\x02"
        "\x07\x00\x00\x00\x00\x00\x00\x00"
        "\xc8\x00"
        "\x0a\x00\x00\x00text/plain"
        "\x03\x00\x00\x00"
        "a\x00"
        "b"sv);
}

TEST_CASE("rejects every truncation of a valid relay message") {
  for (const RelayMessage& message : {RelayMessage(a_send()), RelayMessage(a_reply())}) {
    auto bytes = encode_relay_message(message);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK(rejection(std::string_view(bytes).substr(0, n)).find("truncated") != std::string::npos);
    }
  }
  auto send = encode_relay_message(a_send());
  CHECK(rejection(std::string_view(send).substr(0, send.size() - 1)) == "request.body: truncated");
  auto reply = encode_relay_message(a_reply());
  CHECK(rejection(std::string_view(reply).substr(0, reply_status_at + 1)) == "reply.status: truncated");
}

TEST_CASE("rejects a relay message with trailing bytes") {
  CHECK(rejection(encode_relay_message(a_send()) + "x") == "request: trailing bytes");
  CHECK(rejection(encode_relay_message(a_reply()) + '\0') == "reply: trailing bytes");
}

TEST_CASE("rejects a relay message of unknown version or type") {
  auto bytes = encode_relay_message(a_send());
  SUBCASE("version") {
    for (char version : {'\x00', '\x02', '\xff'}) {
      bytes[0] = version;
      CHECK(rejection(bytes).find("version: expected 1") == 0);
    }
  }
  SUBCASE("type") {
    for (char type : {'\x00', '\x03', '\xff'}) {
      bytes[1] = type;
      CHECK(rejection(bytes).find("type: unknown value") == 0);
    }
  }
}

TEST_CASE("rejects a relayed request whose kind is none of the known ones") {
  auto bytes = encode_relay_message(a_send());
  REQUIRE(bytes[send_kind_at] == static_cast<char>(RelayKind::send));
  for (char kind : {'\x00', '\x08', '\xff'}) {
    bytes[send_kind_at] = kind;
    CHECK(rejection(bytes).find("request.kind: unknown value") == 0);
  }
}

TEST_CASE("rejects a relayed reply whose status is outside 100..599") {
  for (std::uint16_t status : {0, 99, 600, 65535}) {
    CAPTURE(status);
    CHECK(rejection(encode_relay_message(RelayReply{1, status, "", ""})) ==
          "reply.status: expected 100..599, got " + std::to_string(status));
  }
}

TEST_CASE("rejects a relay length beyond the bytes left before allocating it") {
  // A forged 4 GiB length must fail on the bound check: building the string first would allocate it.
  SUBCASE("the body") {
    auto bytes = encode_relay_message(a_send());
    set_u32(bytes, send_body_at, UINT32_MAX);
    CHECK(rejection(bytes) == "request.body: truncated");
  }
  SUBCASE("the first string") {
    auto bytes = encode_relay_message(a_send());
    set_u32(bytes, send_from_gateway_at, UINT32_MAX);
    CHECK(rejection(bytes) == "request.from_gateway: truncated");
  }
  SUBCASE("one byte more than is left") {
    auto bytes = encode_relay_message(a_send());
    set_u32(bytes, send_body_at, static_cast<std::uint32_t>(binary_body.size() + 1));
    CHECK(rejection(bytes) == "request.body: truncated");
  }
}
