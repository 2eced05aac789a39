#include "protocol/messagepack_hub_protocol.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/varint.hpp"

using namespace sb::protocol;
using nlohmann::json;

namespace {

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (auto b : list) out += static_cast<char>(b);
  return out;
}

// The MessagePack bytes of `value`, unframed.
std::string pack(const json& value) {
  auto v = json::to_msgpack(value);
  return std::string(v.begin(), v.end());
}

// One framed record holding `value`.
std::string record(const json& value) {
  return frame_with_varint(pack(value));
}

// The PROTOCOL.md part 1 §3 example: Invocation{"xyz","method",[42]}, unframed.
const std::string spec_example =
    bytes({0x96, 0x01, 0x80, 0xa3, 0x78, 0x79, 0x7a, 0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64, 0x91, 0x2a, 0x90});

std::vector<InboundMessage> parse_ok(std::string_view input, MessagePackParseLimits limits = {}) {
  std::vector<InboundMessage> out;
  auto consumed = parse_messagepack_messages(input, out, limits);
  REQUIRE_MESSAGE(consumed.ok(), (consumed.ok() ? "" : consumed.error().message));
  CHECK(*consumed == input.size());
  return out;
}

sb::Error parse_error(std::string_view input, MessagePackParseLimits limits = {}) {
  std::vector<InboundMessage> out;
  auto consumed = parse_messagepack_messages(input, out, limits);
  REQUIRE_FALSE(consumed.ok());
  return consumed.error();
}

// Strips one VarInt frame, requiring that `frame` is exactly one record, and decodes its body.
json unframe(const std::string& frame) {
  auto length = read_varint(frame);
  REQUIRE(length.status == VarIntStatus::ok);
  REQUIRE(length.header_bytes + length.value == frame.size());
  return json::from_msgpack(frame.substr(length.header_bytes), true, false);
}

std::string body_of(const std::string& frame) {
  auto length = read_varint(frame);
  REQUIRE(length.status == VarIntStatus::ok);
  return frame.substr(length.header_bytes);
}

}  // namespace

TEST_CASE("parses the spec's example invocation, framed") {
  auto framed = frame_with_varint(spec_example);
  CHECK(framed[0] == 0x11);  // 17 bytes
  auto messages = parse_ok(framed);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].type == MessageType::invocation);
  CHECK(messages[0].invocation_id == std::optional<std::string>("xyz"));
  CHECK(messages[0].target == "method");
  CHECK(messages[0].stream_ids.empty());
  CHECK(messages[0].raw == spec_example);
}

TEST_CASE("accepts the JS client's five-element invocation") {
  auto messages = parse_ok(record(json::array({1, json::object(), "0", "send", json::array({1, "a"})})));
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].type == MessageType::invocation);
  CHECK(messages[0].invocation_id == std::optional<std::string>("0"));
  CHECK(messages[0].target == "send");
  CHECK(messages[0].stream_ids.empty());
}

TEST_CASE("reads stream ids from a six-element invocation") {
  SUBCASE("non-empty") {
    auto m = parse_ok(record(json::array({1, json::object(), "1", "upload", json::array(), json::array({"2", "3"})})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].stream_ids == std::vector<std::string>{"2", "3"});
  }
  SUBCASE("empty, as ASP.NET writes") {
    auto m = parse_ok(record(json::array({1, json::object(), "1", "t", json::array(), json::array()})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].stream_ids.empty());
  }
  SUBCASE("nil") {
    auto m = parse_ok(record(json::array({1, json::object(), "1", "t", json::array(), nullptr})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].stream_ids.empty());
  }
}

TEST_CASE("counts a nil or empty-string invocation id as absent") {
  SUBCASE("nil") {
    auto m = parse_ok(record(json::array({1, json::object(), nullptr, "send", json::array()})));
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].invocation_id.has_value());
  }
  SUBCASE("empty string") {
    auto m = parse_ok(record(json::array({1, json::object(), "", "send", json::array()})));
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].invocation_id.has_value());
  }
}

TEST_CASE("parses several records in one input") {
  auto input = messagepack_ping_frame() + frame_with_varint(spec_example) +
               record(json::array({1, json::object(), nullptr, "second", json::array()})) +
               record(json::array({5, json::object(), "xyz"}));
  auto messages = parse_ok(input);
  REQUIRE(messages.size() == 4);
  CHECK(messages[0].type == MessageType::ping);
  CHECK(messages[1].target == "method");
  CHECK(messages[2].target == "second");
  CHECK_FALSE(messages[2].invocation_id.has_value());
  CHECK(messages[3].type == MessageType::cancel_invocation);
  CHECK(messages[3].invocation_id == std::optional<std::string>("xyz"));
}

TEST_CASE("leaves a partial record unconsumed") {
  std::string first = messagepack_ping_frame();
  std::string second = frame_with_varint(spec_example);

  SUBCASE("body cut short") {
    for (std::size_t cut = 1; cut < second.size(); ++cut) {
      CAPTURE(cut);
      std::vector<InboundMessage> out;
      auto consumed = parse_messagepack_messages(first + second.substr(0, cut), out);
      REQUIRE(consumed.ok());
      CHECK(*consumed == first.size());
      REQUIRE(out.size() == 1);
      CHECK(out[0].type == MessageType::ping);
    }
  }
  SUBCASE("length prefix cut short") {
    std::string big =
        frame_with_varint(pack(json::array({1, json::object(), nullptr, "t", json::array({std::string(300, 'a')})})));
    REQUIRE(static_cast<unsigned char>(big[0]) >= 0x80);  // a two-byte length
    std::vector<InboundMessage> out;
    auto consumed = parse_messagepack_messages(first + big.substr(0, 1), out);
    REQUIRE(consumed.ok());
    CHECK(*consumed == first.size());
    CHECK(out.size() == 1);
  }
  SUBCASE("nothing complete consumes nothing") {
    std::vector<InboundMessage> out;
    auto consumed = parse_messagepack_messages(second.substr(0, second.size() - 1), out);
    REQUIRE(consumed.ok());
    CHECK(*consumed == 0);
    CHECK(out.empty());
  }
  SUBCASE("empty input") {
    std::vector<InboundMessage> out;
    auto consumed = parse_messagepack_messages("", out);
    REQUIRE(consumed.ok());
    CHECK(*consumed == 0);
  }
}

TEST_CASE("rejects a record longer than the limit as message_too_large") {
  MessagePackParseLimits limits{16};
  SUBCASE("the complete record") {
    auto error = parse_error(frame_with_varint(spec_example), limits);  // 17 bytes
    CHECK(error.code == "message_too_large");
    CHECK(error.message ==
          "The maximum message size of 16B was exceeded. The message size can be configured in AddHubOptions.");
  }
  SUBCASE("as soon as its length is known") {
    auto error = parse_error(frame_with_varint(spec_example).substr(0, 1), limits);
    CHECK(error.code == "message_too_large");
  }
  SUBCASE("a record of exactly the limit is fine") {
    auto m = parse_ok(frame_with_varint(spec_example), MessagePackParseLimits{17});
    CHECK(m.size() == 1);
  }
}

TEST_CASE("rejects a length prefix of six bytes or of 2^31 and more") {
  CHECK(parse_error(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01})).code == "invalid_message");
  CHECK(parse_error(bytes({0x80, 0x80, 0x80, 0x80, 0x08})).code == "invalid_message");
}

TEST_CASE("rejects records that aren't one well-formed MessagePack array") {
  SUBCASE("zero-length record") {
    CHECK(parse_error(bytes({0x00})).code == "invalid_message");
  }
  SUBCASE("reserved byte 0xc1") {
    CHECK(parse_error(frame_with_varint(bytes({0xc1}))).code == "invalid_message");
  }
  SUBCASE("trailing bytes inside the record") {
    CHECK(parse_error(frame_with_varint(spec_example + bytes({0xc0}))).code == "invalid_message");
  }
  SUBCASE("truncated value inside the record") {
    CHECK(parse_error(frame_with_varint(spec_example.substr(0, 10))).code == "invalid_message");
  }
  SUBCASE("not an array") {
    CHECK(parse_error(record(json::object({{"type", 1}}))).code == "invalid_message");
  }
  SUBCASE("an empty array") {
    CHECK(parse_error(record(json::array())).code == "invalid_message");
  }
  SUBCASE("type not an integer") {
    CHECK(parse_error(record(json::array({"1", json::object(), nullptr, "t", json::array()}))).code ==
          "invalid_message");
    CHECK(parse_error(record(json::array({1.0, json::object(), nullptr, "t", json::array()}))).code ==
          "invalid_message");
  }
  SUBCASE("nested too deeply") {
    json deep = 1;
    for (int i = 0; i < 200; ++i) deep = json::array({deep});
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, "t", deep}))).code == "invalid_message");
  }
}

TEST_CASE("rejects messages with too few elements") {
  CHECK(parse_error(record(json::array({1, json::object(), nullptr, "t"}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({4, json::object(), "1", "t"}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({2, json::object(), "1"}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({3, json::object(), "1"}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({5, json::object()}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({7}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({8}))).code == "invalid_message");
  CHECK(parse_error(record(json::array({9}))).code == "invalid_message");
}

TEST_CASE("rejects invocation fields of the wrong type") {
  SUBCASE("headers not a map") {
    CHECK(parse_error(record(json::array({1, json::array(), nullptr, "t", json::array()}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({1, nullptr, nullptr, "t", json::array()}))).code == "invalid_message");
  }
  SUBCASE("a header value not a string") {
    CHECK(parse_error(record(json::array({1, json::object({{"a", 1}}), nullptr, "t", json::array()}))).code ==
          "invalid_message");
  }
  SUBCASE("id not a string") {
    CHECK(parse_error(record(json::array({1, json::object(), 7, "t", json::array()}))).code == "invalid_message");
  }
  SUBCASE("target missing, empty or not a string") {
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, nullptr, json::array()}))).code ==
          "invalid_message");
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, "", json::array()}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, 3, json::array()}))).code == "invalid_message");
  }
  SUBCASE("arguments not an array") {
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, "t", json::object()}))).code ==
          "invalid_message");
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, "t", nullptr}))).code == "invalid_message");
  }
  SUBCASE("stream ids not an array") {
    CHECK(parse_error(record(json::array({1, json::object(), nullptr, "t", json::array(), "s"}))).code ==
          "invalid_message");
  }
  SUBCASE("a stream invocation without an id") {
    CHECK(parse_error(record(json::array({4, json::object(), nullptr, "t", json::array()}))).code == "invalid_message");
  }
}

TEST_CASE("accepts string headers on an invocation") {
  auto m = parse_ok(record(json::array({1, json::object({{"k", "v"}}), "1", "t", json::array()})));
  REQUIRE(m.size() == 1);
  CHECK(m[0].target == "t");
}

TEST_CASE("parses stream items, completions and cancels, which need an id") {
  SUBCASE("stream item") {
    auto m = parse_ok(record(json::array({2, json::object(), "3", nullptr})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::stream_item);
    CHECK(m[0].invocation_id == std::optional<std::string>("3"));
  }
  SUBCASE("completion, void") {
    auto m = parse_ok(record(json::array({3, json::object(), "4", 2})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::completion);
    CHECK(m[0].invocation_id == std::optional<std::string>("4"));
  }
  SUBCASE("completion, result") {
    auto m = parse_ok(record(json::array({3, json::object(), "4", 3, json::array({1, 2})})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::completion);
  }
  SUBCASE("missing ids are errors") {
    CHECK(parse_error(record(json::array({2, json::object(), nullptr, 1}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({3, json::object(), "", 2}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({5, json::object(), nullptr}))).code == "invalid_message");
  }
}

TEST_CASE("parses the JS client's two-element close and the server's three-element one") {
  SUBCASE("[7, nil]") {
    auto m = parse_ok(record(json::array({7, nullptr})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::close);
    CHECK_FALSE(m[0].error.has_value());
  }
  SUBCASE("[7, \"x\", true]") {
    auto m = parse_ok(record(json::array({7, "x", true})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::close);
    CHECK(m[0].error == std::optional<std::string>("x"));
  }
  SUBCASE("an error that isn't a string") {
    CHECK(parse_error(record(json::array({7, 1}))).code == "invalid_message");
  }
}

TEST_CASE("parses ack and sequence with any unsigned width") {
  SUBCASE("fixint") {
    auto m = parse_ok(record(json::array({8, 5})));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::ack);
    CHECK(m[0].sequence_id == 5);
  }
  SUBCASE("uint8, uint16, uint32, uint64") {
    struct Case {
      std::string body;
      std::uint64_t value;
    };
    for (const auto& c :
         {Case{bytes({0x92, 0x09, 0xcc, 0xff}), 255}, Case{bytes({0x92, 0x09, 0xcd, 0x01, 0x00}), 256},
          Case{bytes({0x92, 0x09, 0xce, 0x00, 0x01, 0x00, 0x00}), 65536},
          Case{bytes({0x92, 0x09, 0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}), 1ull << 32}}) {
      CAPTURE(c.value);
      auto m = parse_ok(frame_with_varint(c.body));
      REQUIRE(m.size() == 1);
      CHECK(m[0].type == MessageType::sequence);
      CHECK(m[0].sequence_id == c.value);
    }
  }
  SUBCASE("negative or not an integer") {
    CHECK(parse_error(record(json::array({8, -1}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({9, "1"}))).code == "invalid_message");
    CHECK(parse_error(record(json::array({9, 1.5}))).code == "invalid_message");
  }
}

TEST_CASE("parses the ping frame 02 91 06") {
  auto m = parse_ok(bytes({0x02, 0x91, 0x06}));
  REQUIRE(m.size() == 1);
  CHECK(m[0].type == MessageType::ping);
  CHECK(m[0].raw == bytes({0x91, 0x06}));
}

TEST_CASE("passes messages of an unknown type through without checking them") {
  auto m = parse_ok(record(json::array({42, "anything"})));
  REQUIRE(m.size() == 1);
  CHECK(static_cast<int>(m[0].type) == 42);
}

TEST_CASE("encodes an invocation as six elements with an empty map, a nil id and no stream ids") {
  auto frame = encode_messagepack_invocation("method", pack(json::array({42})));
  CHECK(body_of(frame) == bytes({0x96, 0x01, 0x80, 0xc0, 0xa6, 0x6d, 0x65, 0x74, 0x68, 0x6f, 0x64, 0x91, 0x2a, 0x90}));
  auto decoded = unframe(frame);
  CHECK(decoded == json::array({1, json::object(), nullptr, "method", json::array({42}), json::array()}));
}

TEST_CASE("encodes targets of every string length class") {
  for (std::size_t n : {std::size_t{1}, std::size_t{31}, std::size_t{32}, std::size_t{255}, std::size_t{256},
                        std::size_t{65535}, std::size_t{65536}}) {
    CAPTURE(n);
    std::string target(n, 't');
    auto decoded = unframe(encode_messagepack_invocation(target, pack(json::array())));
    REQUIRE(decoded.is_array());
    REQUIRE(decoded.size() == 6);
    CHECK(decoded[3] == target);
  }
}

TEST_CASE("encodes completions with a result, void, or an error") {
  SUBCASE("result: [3, {}, id, 3, result]") {
    auto frame = encode_messagepack_completion_result("7", pack(json::object({{"a", 1}})));
    CHECK(unframe(frame) == json::array({3, json::object(), "7", 3, json::object({{"a", 1}})}));
  }
  SUBCASE("a nil result keeps its element") {
    auto frame = encode_messagepack_completion_result("7", bytes({0xc0}));
    CHECK(body_of(frame) == bytes({0x95, 0x03, 0x80, 0xa1, 0x37, 0x03, 0xc0}));
  }
  SUBCASE("void: [3, {}, id, 2]") {
    auto frame = encode_messagepack_completion_void("7");
    CHECK(body_of(frame) == bytes({0x94, 0x03, 0x80, 0xa1, 0x37, 0x02}));
  }
  SUBCASE("error: [3, {}, id, 1, error]") {
    auto frame = encode_messagepack_completion_error("7", "boom");
    CHECK(unframe(frame) == json::array({3, json::object(), "7", 1, "boom"}));
  }
}

TEST_CASE("encodes close as three elements always") {
  CHECK(body_of(encode_messagepack_close("", false)) == bytes({0x93, 0x07, 0xc0, 0xc2}));
  CHECK(body_of(encode_messagepack_close("", true)) == bytes({0x93, 0x07, 0xc0, 0xc3}));
  CHECK(unframe(encode_messagepack_close("bye", true)) == json::array({7, "bye", true}));
  CHECK(unframe(encode_messagepack_close("bye", false)) == json::array({7, "bye", false}));
}

TEST_CASE("the ping frame is 02 91 06") {
  CHECK(messagepack_ping_frame() == bytes({0x02, 0x91, 0x06}));
}

TEST_CASE("messagepack_from_json converts JSON values to native MessagePack") {
  SUBCASE("integers in their smallest form") {
    CHECK(messagepack_from_json("0") == bytes({0x00}));
    CHECK(messagepack_from_json("127") == bytes({0x7f}));
    CHECK(messagepack_from_json("128") == bytes({0xcc, 0x80}));
    CHECK(messagepack_from_json("-1") == bytes({0xff}));
    CHECK(messagepack_from_json("-33") == bytes({0xd0, 0xdf}));
    CHECK(json::from_msgpack(messagepack_from_json("4294967296")) == 4294967296ll);
    CHECK(json::from_msgpack(messagepack_from_json("-4294967296")) == -4294967296ll);
  }
  SUBCASE("floats") {
    CHECK(json::from_msgpack(messagepack_from_json("1.5")) == 1.5);
    CHECK(json::from_msgpack(messagepack_from_json("0.1")) == 0.1);
    CHECK(json::from_msgpack(messagepack_from_json("-2.5e10")) == -2.5e10);
  }
  SUBCASE("strings, booleans and null") {
    CHECK(messagepack_from_json(R"("xyz")") == bytes({0xa3, 'x', 'y', 'z'}));
    CHECK(json::from_msgpack(messagepack_from_json(R"("caf\u00e9 \ud83d\ude00")")) == "café 😀");
    CHECK(messagepack_from_json("true") == bytes({0xc3}));
    CHECK(messagepack_from_json("false") == bytes({0xc2}));
    CHECK(messagepack_from_json("null") == bytes({0xc0}));
  }
  SUBCASE("nested arrays and objects") {
    auto text = R"([1,"a",{"b":[true,null,{"c":-2.5}]},[]])";
    CHECK(json::from_msgpack(messagepack_from_json(text)) == json::parse(text));
    CHECK(messagepack_from_json("[42]") == bytes({0x91, 0x2a}));
  }
  SUBCASE("nil when it isn't JSON or nests too deeply") {
    CHECK(messagepack_from_json("") == bytes({0xc0}));
    CHECK(messagepack_from_json("[1,") == bytes({0xc0}));
    CHECK(messagepack_from_json("{'a':1}") == bytes({0xc0}));
    CHECK(messagepack_from_json(std::string(1000, '[') + std::string(1000, ']')) == bytes({0xc0}));
  }
}

TEST_CASE("decoding what we encode gives it back") {
  SUBCASE("invocation") {
    auto frame = encode_messagepack_invocation("broadcast", messagepack_from_json(R"([1,"a",{"b":null}])"));
    auto m = parse_ok(frame);
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::invocation);
    CHECK(m[0].target == "broadcast");
    CHECK_FALSE(m[0].invocation_id.has_value());
    CHECK(m[0].stream_ids.empty());
    CHECK(json::from_msgpack(m[0].raw)[4] == json::parse(R"([1,"a",{"b":null}])"));
  }
  SUBCASE("completions") {
    auto input = encode_messagepack_completion_result("1", messagepack_from_json("[2]")) +
                 encode_messagepack_completion_void("2") + encode_messagepack_completion_error("3", "no");
    auto m = parse_ok(input);
    REQUIRE(m.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(m[i].type == MessageType::completion);
      CHECK(m[i].invocation_id == std::optional<std::string>(std::to_string(i + 1)));
    }
  }
  SUBCASE("close") {
    auto m = parse_ok(encode_messagepack_close("going away", true) + encode_messagepack_close("", false));
    REQUIRE(m.size() == 2);
    CHECK(m[0].type == MessageType::close);
    CHECK(m[0].error == std::optional<std::string>("going away"));
    CHECK_FALSE(m[1].error.has_value());
  }
  SUBCASE("a large invocation needs a multi-byte length") {
    std::string target(300, 'x');
    auto frame =
        encode_messagepack_invocation(target, messagepack_from_json(R"([")" + std::string(70000, 'y') + R"("])"));
    auto m = parse_ok(frame, MessagePackParseLimits{1 << 20});
    REQUIRE(m.size() == 1);
    CHECK(m[0].target == target);
  }
}
