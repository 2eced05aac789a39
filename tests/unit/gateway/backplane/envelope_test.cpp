#include "backplane/envelope.hpp"

#include <doctest/doctest.h>

#include "protocol/encoded_message.hpp"
#include "protocol/json_hub_protocol.hpp"

using namespace sb::backplane;
namespace hub = sb::hub;
using sb::protocol::EncodedMessage;
using sb::protocol::HubProtocolKind;

namespace {

Envelope round_trip(const Envelope& envelope) {
  auto decoded = decode_envelope(encode_envelope(envelope));
  REQUIRE_MESSAGE(decoded.ok(), decoded.error().message);
  return decoded.value();
}

const hub::Action& action_of(const Envelope& envelope) {
  REQUIRE(std::holds_alternative<ActionEnvelope>(envelope));
  return *std::get<ActionEnvelope>(envelope).action;
}

}  // namespace

TEST_CASE("a send keeps its publisher, sequence, scope, exclusions and invocation") {
  hub::SendAction send{"chat", hub::Scope::group, "room", {"c1", "c2"},
                       std::make_shared<const EncodedMessage>("newMessage", R"(["hi",1])")};
  auto envelope = round_trip(ActionEnvelope{"gw-a", 42, std::make_shared<const hub::Action>(send)});
  CHECK(std::get<ActionEnvelope>(envelope).publisher == "gw-a");
  CHECK(std::get<ActionEnvelope>(envelope).sequence == 42);
  const auto& got = std::get<hub::SendAction>(action_of(envelope));
  CHECK(got.hub_key == "chat");
  CHECK(got.scope == hub::Scope::group);
  CHECK(got.id == "room");
  CHECK(got.excluded == std::vector<std::string>{"c1", "c2"});
  // Rebuilt from target and arguments: the same frames, encoded here once.
  CHECK(*got.message->for_protocol(HubProtocolKind::json) == *send.message->for_protocol(HubProtocolKind::json));
  CHECK(*got.message->for_protocol(HubProtocolKind::messagepack) ==
        *send.message->for_protocol(HubProtocolKind::messagepack));
}

TEST_CASE("a pre-framed send carries its frames as given") {
  auto json = sb::make_frame(sb::protocol::encode_json_invocation("t", "[1]"));
  auto message = EncodedMessage::from_frames(json, nullptr);
  hub::SendAction send{"h", hub::Scope::all, "", {}, message};
  auto envelope = round_trip(ActionEnvelope{"gw", 1, std::make_shared<const hub::Action>(send)});
  const auto& got = std::get<hub::SendAction>(action_of(envelope));
  CHECK(got.message->is_preframed());
  CHECK(*got.message->for_protocol(HubProtocolKind::json) == *json);
  CHECK(got.message->for_protocol(HubProtocolKind::messagepack));  // derived on this side
}

TEST_CASE("membership, remove-from-all and close actions survive the trip") {
  SUBCASE("a user membership with a TTL") {
    hub::MembershipAction m{"h", hub::MembershipOp::add, "g", hub::Scope::user, "alice", std::chrono::seconds(30)};
    auto envelope = round_trip(ActionEnvelope{"gw", 2, std::make_shared<const hub::Action>(m)});
    const auto& got = std::get<hub::MembershipAction>(action_of(envelope));
    CHECK(got.op == hub::MembershipOp::add);
    CHECK(got.group == "g");
    CHECK(got.subject == hub::Scope::user);
    CHECK(got.id == "alice");
    REQUIRE(got.ttl);
    CHECK(got.ttl->count() == 30);
  }
  SUBCASE("a connection membership without TTL") {
    hub::MembershipAction m{"h", hub::MembershipOp::remove, "g", hub::Scope::connection, "c", std::nullopt};
    auto envelope = round_trip(ActionEnvelope{"gw", 3, std::make_shared<const hub::Action>(m)});
    const auto& got = std::get<hub::MembershipAction>(action_of(envelope));
    CHECK(got.op == hub::MembershipOp::remove);
    CHECK(!got.ttl);
  }
  SUBCASE("remove from all groups") {
    hub::RemoveFromAllGroupsAction r{"h", hub::Scope::user, "bob"};
    auto envelope = round_trip(ActionEnvelope{"gw", 4, std::make_shared<const hub::Action>(r)});
    const auto& got = std::get<hub::RemoveFromAllGroupsAction>(action_of(envelope));
    CHECK(got.subject == hub::Scope::user);
    CHECK(got.id == "bob");
  }
  SUBCASE("close") {
    hub::CloseAction c{"h", hub::Scope::group, "g", {"x"}, "bye", true};
    auto envelope = round_trip(ActionEnvelope{"gw", 5, std::make_shared<const hub::Action>(c)});
    const auto& got = std::get<hub::CloseAction>(action_of(envelope));
    CHECK(got.scope == hub::Scope::group);
    REQUIRE(got.excluded.size() == 1);
    CHECK(got.excluded[0] == "x");
    CHECK(got.reason == "bye");
    CHECK(got.allow_reconnect);
  }
}

TEST_CASE("a heartbeat carries the publisher's last sequence number") {
  auto envelope = round_trip(HeartbeatEnvelope{"gw-b", 300});
  REQUIRE(std::holds_alternative<HeartbeatEnvelope>(envelope));
  CHECK(std::get<HeartbeatEnvelope>(envelope).publisher == "gw-b");
  CHECK(std::get<HeartbeatEnvelope>(envelope).last_sequence == 300);
}

TEST_CASE("rejects malformed envelopes, naming the field") {
  hub::SendAction send{"h", hub::Scope::user, "u", {"a"}, std::make_shared<const EncodedMessage>("t", "[]")};
  auto bytes = encode_envelope(ActionEnvelope{"gw", 1, std::make_shared<const hub::Action>(send)});
  SUBCASE("every truncation fails") {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK(!decode_envelope(std::string_view(bytes).substr(0, n)).ok());
    }
  }
  SUBCASE("trailing bytes") { CHECK(decode_envelope(bytes + "x").error().message.find("trailing") != std::string::npos); }
  SUBCASE("an unknown version") {
    auto other = bytes;
    other[0] = 9;
    CHECK(decode_envelope(other).error().message.find("version") != std::string::npos);
  }
  SUBCASE("an unknown scope") {
    auto other = bytes;
    // version, kind, publisher (4 + 2), sequence (8), action kind, hub (4 + 1): then the scope.
    other[1 + 1 + 6 + 8 + 1 + 5] = 7;
    CHECK(decode_envelope(other).error().message.find("send.scope") != std::string::npos);
  }
  SUBCASE("a huge count with few bytes") {
    auto other = bytes;
    // The excluded count follows scope and id (4 + 1).
    std::size_t at = 1 + 1 + 6 + 8 + 1 + 5 + 1 + 5;
    for (int i = 0; i < 8; ++i) other[at + i] = '\xff';
    CHECK(decode_envelope(other).error().message.find("send.excluded") != std::string::npos);
  }
  SUBCASE("an empty publisher") {
    CHECK(decode_envelope(encode_envelope(HeartbeatEnvelope{"", 1})).error().message.find("publisher") !=
          std::string::npos);
  }
}

TEST_CASE("an envelope's stamp reads its publisher and number without the action") {
  hub::SendAction send;
  send.hub_key = "chat";
  send.message = std::make_shared<const EncodedMessage>("m", "[1]");
  auto action = encode_envelope(ActionEnvelope{"gw1", 42, std::make_shared<const hub::Action>(send)});
  auto stamp = decode_envelope_stamp(action);
  REQUIRE(stamp);
  CHECK_FALSE(stamp->is_heartbeat);
  CHECK(stamp->publisher == "gw1");
  CHECK(stamp->sequence == 42);
  auto heartbeat = decode_envelope_stamp(encode_envelope(HeartbeatEnvelope{"gw2", 7}));
  REQUIRE(heartbeat);
  CHECK(heartbeat->is_heartbeat);
  CHECK(heartbeat->sequence == 7);
  CHECK(decode_envelope_stamp(encode_envelope(HeartbeatEnvelope{"", 7})).error().message == "publisher: empty");
  CHECK(decode_envelope_stamp("").error().code == "invalid_envelope");
}

TEST_CASE("an :execute keeps its filter (as text, parsed again) and its commands in order") {
  auto filter = sb::filter::ODataFilter::parse("userId eq 'a' or 'g' in groups");
  REQUIRE(filter);
  hub::ExecuteAction execute;
  execute.hub_key = "chat";
  execute.filter = std::make_shared<const sb::filter::ODataFilter>(std::move(*filter));
  execute.commands = {
      {hub::CommandKind::join_group, nullptr, "room", "", false},
      {hub::CommandKind::send, std::make_shared<const EncodedMessage>("note", R"([{"b":1,"a":2}])"), "", "", false},
      {hub::CommandKind::leave_group, nullptr, "lobby", "", false},
      {hub::CommandKind::close, nullptr, "", "bye", true},
  };
  auto envelope = round_trip(ActionEnvelope{"gw", 7, std::make_shared<const hub::Action>(execute)});
  const auto& got = std::get<hub::ExecuteAction>(action_of(envelope));
  CHECK(got.hub_key == "chat");
  REQUIRE(got.filter);
  CHECK(got.filter->text() == "userId eq 'a' or 'g' in groups");
  REQUIRE(got.commands.size() == 4);
  CHECK(got.commands[0].kind == hub::CommandKind::join_group);
  CHECK(got.commands[0].group == "room");
  CHECK(got.commands[1].kind == hub::CommandKind::send);
  CHECK(got.commands[1].message->arguments_json() == R"([{"b":1,"a":2}])");
  CHECK(got.commands[2].group == "lobby");
  CHECK(got.commands[3].reason == "bye");
  CHECK(got.commands[3].allow_reconnect);

  hub::ExecuteAction everyone{"chat", nullptr, {{hub::CommandKind::close, nullptr, "", "", false}}};
  auto unfiltered = round_trip(ActionEnvelope{"gw", 8, std::make_shared<const hub::Action>(everyone)});
  CHECK_FALSE(std::get<hub::ExecuteAction>(action_of(unfiltered)).filter);
}

TEST_CASE("an :execute from Redis with a filter that does not parse is refused") {
  hub::ExecuteAction execute{"chat", nullptr, {{hub::CommandKind::close, nullptr, "", "", false}}};
  auto bytes = encode_envelope(ActionEnvelope{"gw", 9, std::make_shared<const hub::Action>(execute)});
  // The filter is written as an empty text right after the hub: put a broken one in its place.
  const std::string empty_filter("\x00\x00\x00\x00", 4);
  auto at = bytes.find(std::string("chat") + empty_filter);
  REQUIRE(at != std::string::npos);
  bytes.replace(at + 4, 4, std::string("\x03\x00\x00\x00", 4) + "(((");
  auto decoded = decode_envelope(bytes);
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().message.find("execute.filter") == 0);
}

TEST_CASE("an invoke action (a client result for the function) survives the trip; bad JSON in it is refused") {
  hub::InvokeClientAction invoke{"chat", "c1", "confirm", R"(["sure?",{"b":1,"a":2}])", "confirmed", R"({"id":7})"};
  auto envelope = round_trip(ActionEnvelope{"gw", 3, std::make_shared<const hub::Action>(invoke)});
  const auto& got = std::get<hub::InvokeClientAction>(action_of(envelope));
  CHECK(got.connection_id == "c1");
  CHECK(got.target == "confirm");
  CHECK(got.arguments_json == R"(["sure?",{"b":1,"a":2}])");
  CHECK(got.result_target == "confirmed");
  CHECK(got.correlation_json == R"({"id":7})");

  hub::InvokeClientAction broken = invoke;
  broken.arguments_json = "[1,";
  auto refused = decode_envelope(encode_envelope(ActionEnvelope{"gw", 4, std::make_shared<const hub::Action>(broken)}));
  CHECK_FALSE(refused.ok());
}
