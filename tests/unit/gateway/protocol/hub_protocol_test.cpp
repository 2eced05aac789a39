#include "protocol/hub_protocol.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/json_hub_protocol.hpp"
#include "protocol/messagepack_hub_protocol.hpp"
#include "protocol/varint.hpp"

using namespace sb::protocol;
using nlohmann::json;

namespace {

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (auto b : list) out += static_cast<char>(b);
  return out;
}

json unframe_messagepack(const std::string& frame) {
  auto length = read_varint(frame);
  REQUIRE(length.status == VarIntStatus::ok);
  REQUIRE(length.header_bytes + length.value == frame.size());
  return json::from_msgpack(frame.substr(length.header_bytes), true, false);
}

}  // namespace

TEST_CASE("parse_hub_messages dispatches by protocol") {
  SUBCASE("json") {
    std::vector<InboundMessage> out;
    std::string input = std::string(R"({"type":1,"target":"t","arguments":[]})") + '\x1e';
    auto consumed = parse_hub_messages(HubProtocolKind::json, input, out, 1024);
    REQUIRE(consumed.ok());
    CHECK(*consumed == input.size());
    REQUIRE(out.size() == 1);
    CHECK(out[0].target == "t");
  }
  SUBCASE("messagepack") {
    auto input = frame_with_varint(bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 't', 0x90}));
    std::vector<InboundMessage> out;
    auto consumed = parse_hub_messages(HubProtocolKind::messagepack, input, out, 1024);
    REQUIRE(consumed.ok());
    CHECK(*consumed == input.size());
    REQUIRE(out.size() == 1);
    CHECK(out[0].target == "t");
  }
  SUBCASE("neither protocol reads the other's bytes as messages") {
    std::vector<InboundMessage> out;
    CHECK_FALSE(parse_hub_messages(HubProtocolKind::json, std::string("\x02\x91\x06\x1e", 4), out, 1024).ok());
    // '{' read as a VarInt is a 123-byte record, so MessagePack just waits for more.
    auto waiting = parse_hub_messages(HubProtocolKind::messagepack, std::string(R"({"type":6})") + '\x1e', out, 1024);
    REQUIRE(waiting.ok());
    CHECK(*waiting == 0);
    CHECK(out.empty());
  }
}

TEST_CASE("parse_hub_messages applies the size limit in both protocols") {
  std::vector<InboundMessage> out;
  std::string json_input = std::string(R"({"type":1,"target":"t","arguments":[]})") + '\x1e';
  auto json_result = parse_hub_messages(HubProtocolKind::json, json_input, out, 8);
  REQUIRE_FALSE(json_result.ok());
  CHECK(json_result.error().code == "message_too_large");
  auto mp_result = parse_hub_messages(HubProtocolKind::messagepack,
                                      frame_with_varint(bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 't', 0x90})), out, 6);
  REQUIRE_FALSE(mp_result.ok());
  CHECK(mp_result.error().code == "message_too_large");
}

TEST_CASE("ping frames per protocol") {
  const auto& json_ping = ping_frame(HubProtocolKind::json);
  const auto& mp_ping = ping_frame(HubProtocolKind::messagepack);
  REQUIRE(json_ping);
  REQUIRE(mp_ping);
  CHECK(*json_ping == std::string(R"({"type":6})") + '\x1e');
  CHECK(*mp_ping == bytes({0x02, 0x91, 0x06}));
  SUBCASE("shared, not rebuilt per call") {
    CHECK(ping_frame(HubProtocolKind::json).get() == json_ping.get());
    CHECK(ping_frame(HubProtocolKind::messagepack).get() == mp_ping.get());
  }
}

TEST_CASE("completion and close encoders dispatch by protocol") {
  SUBCASE("result: a JSON text goes into JSON as is, into MessagePack converted") {
    CHECK(encode_completion_result(HubProtocolKind::json, "1", R"({"a":[1,2]})") ==
          encode_json_completion_result("1", R"({"a":[1,2]})"));
    auto mp = encode_completion_result(HubProtocolKind::messagepack, "1", R"({"a":[1,2]})");
    CHECK(unframe_messagepack(mp) == json::array({3, json::object(), "1", 3, json::parse(R"({"a":[1,2]})")}));
  }
  SUBCASE("a result that isn't JSON becomes nil in MessagePack") {
    auto mp = encode_completion_result(HubProtocolKind::messagepack, "1", "not json");
    CHECK(unframe_messagepack(mp) == json::array({3, json::object(), "1", 3, nullptr}));
  }
  SUBCASE("void") {
    CHECK(encode_completion_void(HubProtocolKind::json, "2") == encode_json_completion_void("2"));
    CHECK(encode_completion_void(HubProtocolKind::messagepack, "2") == encode_messagepack_completion_void("2"));
  }
  SUBCASE("error") {
    CHECK(encode_completion_error(HubProtocolKind::json, "3", "e") == encode_json_completion_error("3", "e"));
    CHECK(encode_completion_error(HubProtocolKind::messagepack, "3", "e") ==
          encode_messagepack_completion_error("3", "e"));
  }
  SUBCASE("close") {
    CHECK(encode_close(HubProtocolKind::json, "bye", true) == encode_json_close("bye", true));
    CHECK(encode_close(HubProtocolKind::messagepack, "bye", true) == encode_messagepack_close("bye", true));
  }
}

TEST_CASE("names protocols and their upstream content types") {
  CHECK(protocol_name(HubProtocolKind::json) == "json");
  CHECK(protocol_name(HubProtocolKind::messagepack) == "messagepack");
  CHECK(upstream_content_type(HubProtocolKind::json) == "application/json");
  CHECK(upstream_content_type(HubProtocolKind::messagepack) == "application/x-msgpack");
}

// Found by nesting_fuzz: nlohmann's lexer takes a NUL outside a string as the end of input, so
// parse_json_messages accepts `{…}` NUL `garbage` RS as a valid record and keeps the whole thing,
// NUL and garbage included, as `raw`, which goes upstream verbatim. ASP.NET's reader rejects
// anything but whitespace after the object.
TEST_CASE("the JSON protocol rejects bytes after a NUL inside a record") {
  std::string input = std::string(R"({"type":1,"target":"t","arguments":[]})") + '\0' + "garbage" + '\x1e';
  std::vector<InboundMessage> out;
  auto consumed = parse_hub_messages(HubProtocolKind::json, input, out, 1024);
  CHECK_FALSE(consumed.ok());
  CHECK(out.empty());
}

TEST_CASE("Ack and Sequence round-trip through both protocols with their ids whole") {
  for (auto kind : {HubProtocolKind::json, HubProtocolKind::messagepack}) {
    for (std::uint64_t id : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{255}, std::uint64_t{1} << 40,
                             ~std::uint64_t{0}}) {
      CAPTURE(protocol_name(kind));
      CAPTURE(id);
      for (auto [frame, type] : {std::pair{encode_ack(kind, id), MessageType::ack},
                                 std::pair{encode_sequence(kind, id), MessageType::sequence}}) {
        std::vector<InboundMessage> messages;
        auto consumed = parse_hub_messages(kind, frame, messages, 1024);
        REQUIRE(consumed.ok());
        CHECK(*consumed == frame.size());
        REQUIRE(messages.size() == 1);
        CHECK(messages[0].type == type);
        CHECK(messages[0].sequence_id == id);
      }
    }
  }
  CHECK(encode_ack(HubProtocolKind::json, 7) == std::string(R"({"type":8,"sequenceId":7})") + '\x1e');
  CHECK(encode_sequence(HubProtocolKind::messagepack, 7) ==
        bytes({0x0b, 0x92, 0x09, 0xcf, 0, 0, 0, 0, 0, 0, 0, 7}));
}

TEST_CASE("client results: an Invocation with an id, and the Completion's result as the client wrote it") {
  using sb::protocol::HubProtocolKind;
  CHECK(sb::protocol::encode_client_invocation(HubProtocolKind::json, "7", "ask", R"([1,{"b":1,"a":2}])") ==
        std::string(R"({"type":1,"invocationId":"7","target":"ask","arguments":[1,{"b":1,"a":2}]})") + '\x1e');
  auto result = sb::protocol::read_completion(HubProtocolKind::json, R"({"type":3,"invocationId":"7","result":{"b":1,"a":[2]}})");
  REQUIRE(result);
  CHECK(*result->result_json == R"({"b":1,"a":[2]})");
  CHECK(!result->error);
  auto error = sb::protocol::read_completion(HubProtocolKind::json, R"({"type":3,"invocationId":"7","error":"nope"})");
  REQUIRE(error);
  CHECK(*error->error == "nope");
  auto none = sb::protocol::read_completion(HubProtocolKind::json, R"({"type":3,"invocationId":"7"})");
  REQUIRE(none);
  CHECK((!none->error && !none->result_json));
  CHECK(!sb::protocol::read_completion(HubProtocolKind::json, R"({"type":3,"invocationId":"7","error":"x","result":1})"));

  // MessagePack: [3, {}, "7", 3, {"b":1,"a":bin(1,2)}] becomes JSON with the keys in order, bin as base64.
  const std::string record("\x95\x03\x80\xa1" "7" "\x03\x82\xa1" "b" "\x01\xa1" "a" "\xc4\x02\x01\x02", 16);
  auto packed = sb::protocol::read_completion(HubProtocolKind::messagepack, record);
  REQUIRE(packed);
  CHECK(*packed->result_json == R"({"b":1,"a":"AQI="})");
  const std::string failed("\x95\x03\x80\xa1" "7" "\x01\xa2" "no", 9);
  auto packed_error = sb::protocol::read_completion(HubProtocolKind::messagepack, failed);
  REQUIRE(packed_error);
  CHECK(*packed_error->error == "no");
}
