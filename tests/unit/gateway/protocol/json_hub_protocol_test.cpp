#include "protocol/json_hub_protocol.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using namespace sb::protocol;

namespace {

std::string rs(std::string_view record) {
  return std::string(record) + '\x1e';
}

// Parses `input`, requiring success, and returns the messages.
std::vector<InboundMessage> parse_ok(std::string_view input) {
  std::vector<InboundMessage> out;
  auto consumed = parse_json_messages(input, out);
  REQUIRE_MESSAGE(consumed.ok(), (consumed.ok() ? "" : consumed.error().message));
  CHECK(*consumed == input.size());
  return out;
}

sb::Error parse_error(std::string_view input) {
  std::vector<InboundMessage> out;
  auto consumed = parse_json_messages(input, out);
  REQUIRE_FALSE(consumed.ok());
  return consumed.error();
}

}  // namespace

TEST_CASE("parses several records in one frame") {
  auto input = rs(R"({"type":6})") + rs(R"({"type":1,"target":"send","arguments":[1,"a"]})") +
               rs(R"({"type":1,"invocationId":"0","target":"echo","arguments":[]})");
  auto messages = parse_ok(input);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0].type == MessageType::ping);
  CHECK(messages[1].type == MessageType::invocation);
  CHECK(messages[1].target == "send");
  CHECK(messages[2].target == "echo");
  CHECK(messages[2].invocation_id == std::optional<std::string>("0"));
}

TEST_CASE("leaves a trailing incomplete record unconsumed") {
  std::string first = rs(R"({"type":6})");
  std::string input = first + R"({"type":1,"target":"x","argu)";
  std::vector<InboundMessage> out;
  auto consumed = parse_json_messages(input, out);
  REQUIRE(consumed.ok());
  CHECK(*consumed == first.size());
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == MessageType::ping);

  SUBCASE("and consumes nothing when no record is complete") {
    std::vector<InboundMessage> none;
    auto nothing = parse_json_messages(R"({"type":6})", none);
    REQUIRE(nothing.ok());
    CHECK(*nothing == 0);
    CHECK(none.empty());
  }
}

TEST_CASE("keeps the raw record of an invocation without its separator") {
  std::string record = R"({"type":1,"invocationId":"7","target":"broadcast","arguments":[{"a":1}]})";
  auto messages = parse_ok(rs(record));
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].raw == record);
}

TEST_CASE("reads an invocation with or without an invocationId") {
  SUBCASE("with an id") {
    auto m = parse_ok(rs(R"({"type":1,"invocationId":"12","target":"t","arguments":[]})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].invocation_id == std::optional<std::string>("12"));
  }
  SUBCASE("absent") {
    auto m = parse_ok(rs(R"({"type":1,"target":"t","arguments":[]})"));
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].invocation_id.has_value());
  }
  SUBCASE("null counts as absent") {
    auto m = parse_ok(rs(R"({"type":1,"invocationId":null,"target":"t","arguments":[]})"));
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].invocation_id.has_value());
  }
  SUBCASE("stream ids are read in order") {
    auto m = parse_ok(rs(R"({"type":1,"target":"t","arguments":[],"streamIds":["1","0"]})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].stream_ids == std::vector<std::string>{"1", "0"});
  }
  SUBCASE("a stream id that is not a string is refused") {
    CHECK(parse_error(rs(R"({"type":1,"target":"t","arguments":[],"streamIds":[1]})")).message == "streamIds: expected strings");
  }
  SUBCASE("empty or null stream ids are not streams") {
    auto m = parse_ok(rs(R"({"type":1,"target":"t","arguments":[],"streamIds":[]})") +
                      rs(R"({"type":1,"target":"t","arguments":[],"streamIds":null})"));
    REQUIRE(m.size() == 2);
    CHECK(m[0].stream_ids.empty());
    CHECK(m[1].stream_ids.empty());
  }
}

TEST_CASE("rejects an invocation missing its target or arguments") {
  SUBCASE("no target") {
    CHECK(parse_error(rs(R"({"type":1,"arguments":[]})")).message == "Missing required property 'target'.");
  }
  SUBCASE("empty target") {
    CHECK(parse_error(rs(R"({"type":1,"target":"","arguments":[]})")).message == "target: expected a non-empty string");
  }
  SUBCASE("no arguments") {
    CHECK(parse_error(rs(R"({"type":1,"target":"t"})")).message == "Missing required property 'arguments'.");
  }
  SUBCASE("a stream invocation without an id") {
    CHECK(parse_error(rs(R"({"type":4,"target":"t","arguments":[]})")).message ==
          "Missing required property 'invocationId'.");
  }
}

TEST_CASE("rejects fields of the wrong type") {
  SUBCASE("target a number") {
    CHECK(parse_error(rs(R"({"type":1,"target":5,"arguments":[]})")).message == "target: expected a non-empty string");
  }
  SUBCASE("arguments an object") {
    CHECK(parse_error(rs(R"({"type":1,"target":"t","arguments":{}})")).message == "arguments: expected an array");
  }
  SUBCASE("invocationId a number") {
    CHECK(parse_error(rs(R"({"type":1,"invocationId":1,"target":"t","arguments":[]})")).message ==
          "invocationId: expected a string");
  }
  SUBCASE("streamIds a string") {
    CHECK(parse_error(rs(R"({"type":1,"target":"t","arguments":[],"streamIds":"1"})")).message ==
          "streamIds: expected an array");
  }
  SUBCASE("type a string") {
    CHECK(parse_error(rs(R"({"type":"1"})")).message == "type: expected an integer");
  }
  SUBCASE("no type") {
    CHECK(parse_error(rs(R"({"target":"t"})")).message == "Missing required property 'type'.");
  }
  SUBCASE("not an object") {
    CHECK(parse_error(rs("[1]")).message == "Expected a JSON object.");
  }
  SUBCASE("not JSON") {
    auto error = parse_error(rs("{nope"));
    CHECK(error.code == "invalid_message");
    CHECK(error.message == "Error reading JSON.");
  }
  SUBCASE("a completion without an id") {
    CHECK(parse_error(rs(R"({"type":3,"result":1})")).message == "Missing required property 'invocationId'.");
  }
}

TEST_CASE("rejects a record over the size limit with ASP.NET's text") {
  JsonParseLimits limits{64};
  std::string big = R"({"type":1,"target":"t","arguments":[")" + std::string(100, 'x') + R"("]})";
  std::string expected =
      "The maximum message size of 64B was exceeded. The message size can be configured in AddHubOptions.";
  SUBCASE("a complete record") {
    std::vector<InboundMessage> out;
    auto consumed = parse_json_messages(rs(big), out, limits);
    REQUIRE_FALSE(consumed.ok());
    CHECK(consumed.error().code == "message_too_large");
    CHECK(consumed.error().message == expected);
  }
  SUBCASE("an incomplete record already over the limit") {
    std::vector<InboundMessage> out;
    auto consumed = parse_json_messages(big, out, limits);
    REQUIRE_FALSE(consumed.ok());
    CHECK(consumed.error().code == "message_too_large");
    CHECK(consumed.error().message == expected);
  }
  SUBCASE("after a record within the limit") {
    std::vector<InboundMessage> out;
    auto consumed = parse_json_messages(rs(R"({"type":6})") + rs(big), out, limits);
    REQUIRE_FALSE(consumed.ok());
    CHECK(consumed.error().code == "message_too_large");
  }
  SUBCASE("the default limit is 32 KiB") {
    std::string huge = R"({"type":1,"target":"t","arguments":[")" + std::string(40 * 1024, 'x') + R"("]})";
    std::vector<InboundMessage> out;
    auto consumed = parse_json_messages(rs(huge), out);
    REQUIRE_FALSE(consumed.ok());
    CHECK(consumed.error().message ==
          "The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions.");
  }
  SUBCASE("a record exactly at the limit is accepted") {
    std::string record = R"({"type":6,"pad":")";
    record += std::string(64 - record.size() - 2, 'x') + "\"}";
    REQUIRE(record.size() == 64);
    std::vector<InboundMessage> out;
    auto consumed = parse_json_messages(rs(record), out, limits);
    REQUIRE(consumed.ok());
    CHECK(out.size() == 1);
  }
}

TEST_CASE("rejects a record nested deeper than 128 levels before parsing it") {
  SUBCASE("10,000 levels in the arguments") {
    std::string deep = R"({"type":1,"target":"t","arguments":)" + std::string(10'000, '[') + std::string(10'000, ']') + "}";
    auto error = parse_error(rs(deep));
    CHECK(error.code == "invalid_message");
    CHECK(error.message == "Error reading JSON: nested deeper than 128 levels.");
  }
  SUBCASE("unbalanced: only openings, as a hostile client sends them") {
    CHECK(parse_error(rs(std::string(10'000, '{'))).message == "Error reading JSON: nested deeper than 128 levels.");
  }
  SUBCASE("128 levels are accepted, brackets inside strings don't count") {
    std::string args = std::string(127, '[') + R"("[[[[")" + std::string(127, ']');
    auto messages = parse_ok(rs(R"({"type":1,"target":"t","arguments":)" + args + "}"));
    CHECK(messages.size() == 1);
  }
}

TEST_CASE("parses ping, close, ack and sequence messages") {
  SUBCASE("ping") {
    auto m = parse_ok(rs(R"({"type":6})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::ping);
  }
  SUBCASE("close with an error") {
    auto m = parse_ok(rs(R"({"type":7,"error":"bye","allowReconnect":true})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::close);
    CHECK(m[0].error == std::optional<std::string>("bye"));
  }
  SUBCASE("close without an error") {
    auto m = parse_ok(rs(R"({"type":7})"));
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].error.has_value());
  }
  SUBCASE("ack") {
    auto m = parse_ok(rs(R"({"type":8,"sequenceId":42})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::ack);
    CHECK(m[0].sequence_id == 42);
  }
  SUBCASE("sequence") {
    auto m = parse_ok(rs(R"({"type":9,"sequenceId":18446744073709551615})"));
    REQUIRE(m.size() == 1);
    CHECK(m[0].type == MessageType::sequence);
    CHECK(m[0].sequence_id == 18446744073709551615ull);
  }
  SUBCASE("a negative sequence id is rejected") {
    CHECK(parse_error(rs(R"({"type":8,"sequenceId":-1})")).message == "sequenceId: expected a non-negative integer");
  }
  SUBCASE("a missing sequence id is rejected") {
    CHECK(parse_error(rs(R"({"type":9})")).message == "sequenceId: expected a non-negative integer");
  }
}

TEST_CASE("ignores messages of an unknown type") {
  auto m = parse_ok(rs(R"({"type":99,"whatever":[1]})") + rs(R"({"type":6})"));
  REQUIRE(m.size() == 2);
  CHECK(static_cast<int>(m[0].type) == 99);
  CHECK(m[1].type == MessageType::ping);
  SUBCASE("huge type numbers too") {
    auto huge = parse_ok(rs(R"({"type":123456789012})"));
    REQUIRE(huge.size() == 1);
    CHECK(static_cast<int>(huge[0].type) == 0);
  }
}

TEST_CASE("encodes an invocation exactly") {
  CHECK(encode_json_invocation("t", "[1]") == std::string(R"({"type":1,"target":"t","arguments":[1]})") + '\x1e');
  CHECK(encode_json_invocation("a\"b", "[]") == std::string(R"({"type":1,"target":"a\"b","arguments":[]})") + '\x1e');
}

TEST_CASE("encodes completions with a result, void, or an error") {
  CHECK(encode_json_completion_result("0", "42") ==
        std::string(R"({"type":3,"invocationId":"0","result":42})") + '\x1e');
  CHECK(encode_json_completion_result("0", "null") ==
        std::string(R"({"type":3,"invocationId":"0","result":null})") + '\x1e');
  CHECK(encode_json_completion_void("3") == std::string(R"({"type":3,"invocationId":"3"})") + '\x1e');
  CHECK(encode_json_completion_error("1", "Invocation failed, status code 404") ==
        std::string(R"({"type":3,"invocationId":"1","error":"Invocation failed, status code 404"})") + '\x1e');
}

TEST_CASE("encodes a close message, writing allowReconnect only when true") {
  CHECK(encode_json_close("", false) == std::string(R"({"type":7})") + '\x1e');
  CHECK(encode_json_close("", true) == std::string(R"({"type":7,"allowReconnect":true})") + '\x1e');
  CHECK(encode_json_close("bye", false) == std::string(R"({"type":7,"error":"bye"})") + '\x1e');
  CHECK(encode_json_close("bye", true) == std::string(R"({"type":7,"error":"bye","allowReconnect":true})") + '\x1e');
}

TEST_CASE("encodes the ping frame") {
  CHECK(json_ping_frame() == std::string(R"({"type":6})") + '\x1e');
}

TEST_CASE("decoding an encoded invocation gives it back") {
  auto frame = encode_json_invocation("newMessage", R"(["alice","hi"])");
  auto m = parse_ok(frame);
  REQUIRE(m.size() == 1);
  CHECK(m[0].type == MessageType::invocation);
  CHECK(m[0].target == "newMessage");
  CHECK_FALSE(m[0].invocation_id.has_value());
  CHECK(m[0].raw + '\x1e' == frame);
}

TEST_CASE("json_quote escapes and replaces invalid UTF-8") {
  CHECK(json_quote("plain") == "\"plain\"");
  CHECK(json_quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_quote("line\nbreak\t") == R"("line\nbreak\t")");
  CHECK(json_quote(std::string_view("\x01", 1)) == R"("\u0001")");
  CHECK(json_quote("h\xc3\xa9") == "\"h\xc3\xa9\"");  // valid UTF-8 stays as it is
  SUBCASE("invalid UTF-8 becomes U+FFFD and the result is valid JSON") {
    auto quoted = json_quote("bad\xff byte");
    CHECK(quoted == "\"bad\xef\xbf\xbd byte\"");
    auto parsed = nlohmann::json::parse(quoted, nullptr, false);
    CHECK(parsed.is_string());
  }
}

TEST_CASE("an invocation's trace headers are read as sent") {
  auto messages = parse_ok(rs(R"({"type":1,"invocationId":"1","target":"t","arguments":[],)"
                              R"("headers":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"a=1"}})"));
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].trace_parent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK(messages[0].trace_state == "a=1");
  auto plain = parse_ok(rs(R"({"type":1,"target":"t","arguments":[],"headers":{"tracestate":7}})"));
  CHECK(plain[0].trace_state.empty());  // not a string: ignored
}
