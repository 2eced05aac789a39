#include "hub/hub_name.hpp"
#include "hub/upstream_reply.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::hub;

namespace {

const ReplyContext context{"chat", sb::protocol::HubProtocolKind::json, 1000};

UpstreamReply parse_ok(std::string_view body, std::string_view content_type = "application/json",
                       const ReplyContext& ctx = context) {
  auto reply = parse_upstream_reply(content_type, body, ctx);
  REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().message));
  return std::move(reply).value();
}

sb::Error parse_error(std::string_view body, std::string_view content_type = "application/json") {
  auto reply = parse_upstream_reply(content_type, body, context);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().code == "invalid_reply");
  return reply.error();
}

const std::string& frame_of(const SendAction& send) {
  return *send.message->for_protocol(sb::protocol::HubProtocolKind::json);
}

}  // namespace

TEST_CASE("reads an empty body as an empty reply") {
  auto reply = parse_ok("");
  CHECK(reply.kind == ReplyKind::empty);
  CHECK(reply.actions.empty());
  CHECK(parse_ok("", "text/plain").kind == ReplyKind::empty);
}

TEST_CASE("passes framed hub messages through verbatim") {
  std::string completion = std::string(R"({"type":3,"invocationId":"0","result":42})") + '\x1e';
  SUBCASE("application/json ending with the record separator") {
    auto reply = parse_ok(completion);
    CHECK(reply.kind == ReplyKind::verbatim);
    CHECK(reply.verbatim == completion);
  }
  SUBCASE("no content type, as Azure Functions replies") {
    auto reply = parse_ok(completion, "");
    CHECK(reply.kind == ReplyKind::verbatim);
    CHECK(reply.verbatim == completion);
  }
  SUBCASE("several records") {
    std::string two = completion + std::string(R"({"type":1,"target":"t","arguments":[]})") + '\x1e';
    auto reply = parse_ok(two, "application/octet-stream");
    CHECK(reply.kind == ReplyKind::verbatim);
    CHECK(reply.verbatim == two);
  }
  SUBCASE("media type parameters and case do not matter") {
    auto reply = parse_ok(completion, "Application/JSON; charset=utf-8");
    CHECK(reply.kind == ReplyKind::verbatim);
  }
}

TEST_CASE("rejects a verbatim reply that is not whole JSON hub messages") {
  SUBCASE("non-JSON media type with text") {
    parse_error("hello", "text/plain");
  }
  SUBCASE("a trailing incomplete record") {
    parse_error(std::string(R"({"type":6})") + '\x1e' + R"({"type":3)", "text/plain");
  }
  SUBCASE("an invalid record ending with the separator") {
    parse_error(std::string(R"({"type":1,"arguments":[]})") + '\x1e');
  }
  SUBCASE("JSON that is not a hub message") {
    parse_error(std::string("[1]") + '\x1e');
  }
}

TEST_CASE("passes a verbatim MessagePack Completion through after checking it") {
  ReplyContext msgpack = context;
  msgpack.protocol = sb::protocol::HubProtocolKind::messagepack;
  SUBCASE("a framed void Completion [3, {}, \"0\", 2]") {
    std::string body("\x06\x94\x03\x80\xa1\x30\x02", 7);
    auto reply = parse_ok(body, "application/x-msgpack", msgpack);
    CHECK(reply.kind == ReplyKind::verbatim);
    CHECK(reply.verbatim == body);
  }
  SUBCASE("an array header promising more elements than follow") {
    std::string body("\x06\x95\x03\x80\xa1\x30\x02", 7);
    CHECK_FALSE(parse_upstream_reply("application/x-msgpack", body, msgpack).ok());
  }
}

TEST_CASE("reads the envelope's result") {
  auto reply = parse_ok(R"({"result":{"a":[1,"x"]}})");
  CHECK(reply.kind == ReplyKind::envelope);
  CHECK(reply.result_json == std::optional<std::string>(R"({"a":[1,"x"]})"));
  CHECK_FALSE(reply.error.has_value());
  CHECK(reply.actions.empty());
  SUBCASE("a null result is a result") {
    CHECK(parse_ok(R"({"result":null})").result_json == std::optional<std::string>("null"));
  }
  SUBCASE("an empty object has neither") {
    auto empty = parse_ok("{}");
    CHECK(empty.kind == ReplyKind::envelope);
    CHECK_FALSE(empty.result_json.has_value());
    CHECK_FALSE(empty.error.has_value());
  }
}

TEST_CASE("reads the envelope's error") {
  auto reply = parse_ok(R"({"error":"nope"})");
  CHECK(reply.error == std::optional<std::string>("nope"));
  CHECK_FALSE(reply.result_json.has_value());
  CHECK(parse_ok(R"({"result":1,"error":null})").result_json == std::optional<std::string>("1"));
  CHECK(parse_error(R"({"error":5})").message == "error: expected a string");
}

TEST_CASE("rejects an envelope with both result and error") {
  CHECK(parse_error(R"({"result":1,"error":"x"})").message == "the reply has both result and error");
}

TEST_CASE("reads message actions with Azure's address precedence") {
  auto reply = parse_ok(R"({"actions":[
    {"target":"newMessage","arguments":["alice","hi"],"groupName":"room1","excluded":["c1","c2"]},
    {"target":"welcome","arguments":[],"connectionId":"c3","userId":"bob","groupName":"g"},
    {"target":"ping","userId":"bob","groupName":"g"},
    {"target":"news","arguments":[1]},
    {"target":"elsewhere","arguments":[],"hub":"Other"}]})");
  REQUIRE(reply.actions.size() == 5);

  const auto& group = std::get<SendAction>(reply.actions[0]);
  CHECK(group.hub_key == "chat");
  CHECK(group.scope == Scope::group);
  CHECK(group.id == "room1");
  CHECK(group.excluded == std::vector<std::string>{"c1", "c2"});
  CHECK(frame_of(group) == std::string(R"({"type":1,"target":"newMessage","arguments":["alice","hi"]})") + '\x1e');

  const auto& connection = std::get<SendAction>(reply.actions[1]);
  CHECK(connection.scope == Scope::connection);
  CHECK(connection.id == "c3");

  const auto& user = std::get<SendAction>(reply.actions[2]);
  CHECK(user.scope == Scope::user);
  CHECK(user.id == "bob");
  CHECK(frame_of(user) == std::string(R"({"type":1,"target":"ping","arguments":[]})") + '\x1e');  // no arguments: []

  const auto& all = std::get<SendAction>(reply.actions[3]);
  CHECK(all.scope == Scope::all);
  CHECK(all.id.empty());
  CHECK(frame_of(all) == std::string(R"({"type":1,"target":"news","arguments":[1]})") + '\x1e');

  const auto& other_hub = std::get<SendAction>(reply.actions[4]);
  CHECK(other_hub.hub_key == "other");
  CHECK(other_hub.scope == Scope::all);
}

TEST_CASE("reads group actions") {
  auto reply = parse_ok(R"({"actions":[
    {"action":"add","groupName":"room1","connectionId":"c1"},
    {"action":"remove","groupName":"room1","userId":"bob"},
    {"action":"add","groupName":"room2","connectionId":"c1","userId":"bob"},
    {"action":"removeAll","userId":"bob"},
    {"action":"removeAll","connectionId":"c2"},
    {"action":"close","connectionId":"c3","reason":"bye","allowReconnect":true},
    {"action":"close","userId":"bob"},
    {"action":"close","groupName":"room1","hub":"Lobby"},
    {"action":"Add","groupName":"g","userId":"u"}]})");
  REQUIRE(reply.actions.size() == 9);

  const auto& add = std::get<MembershipAction>(reply.actions[0]);
  CHECK(add.hub_key == "chat");
  CHECK(add.op == MembershipOp::add);
  CHECK(add.group == "room1");
  CHECK(add.subject == Scope::connection);
  CHECK(add.id == "c1");
  CHECK_FALSE(add.ttl.has_value());

  const auto& remove = std::get<MembershipAction>(reply.actions[1]);
  CHECK(remove.op == MembershipOp::remove);
  CHECK(remove.subject == Scope::user);
  CHECK(remove.id == "bob");

  const auto& both = std::get<MembershipAction>(reply.actions[2]);
  CHECK(both.subject == Scope::connection);  // connectionId takes precedence
  CHECK(both.id == "c1");

  const auto& remove_user = std::get<RemoveFromAllGroupsAction>(reply.actions[3]);
  CHECK(remove_user.subject == Scope::user);
  CHECK(remove_user.id == "bob");
  const auto& remove_connection = std::get<RemoveFromAllGroupsAction>(reply.actions[4]);
  CHECK(remove_connection.subject == Scope::connection);
  CHECK(remove_connection.id == "c2");

  const auto& close_connection = std::get<CloseAction>(reply.actions[5]);
  CHECK(close_connection.scope == Scope::connection);
  CHECK(close_connection.id == "c3");
  CHECK(close_connection.reason == "bye");
  CHECK(close_connection.allow_reconnect);
  const auto& close_user = std::get<CloseAction>(reply.actions[6]);
  CHECK(close_user.scope == Scope::user);
  CHECK(close_user.id == "bob");
  CHECK_FALSE(close_user.allow_reconnect);
  const auto& close_group = std::get<CloseAction>(reply.actions[7]);
  CHECK(close_group.scope == Scope::group);
  CHECK(close_group.hub_key == "lobby");

  CHECK(std::get<MembershipAction>(reply.actions[8]).op == MembershipOp::add);  // verbs are case-insensitive
}

TEST_CASE("names the offending field in every validation error") {
  auto error_of = [](std::string_view action) {
    auto reply = parse_upstream_reply(
        "application/json", R"({"actions":[{"target":"ok","arguments":[]},)" + std::string(action) + "]}", context);
    REQUIRE_FALSE(reply.ok());
    return reply.error().message;
  };
  CHECK(error_of(R"({"action":"add","connectionId":"c"})") == "actions[1].groupName: required for add");
  CHECK(error_of(R"({"action":"remove","groupName":"g"})") == "actions[1]: remove needs connectionId or userId");
  CHECK(error_of(R"({"action":"removeAll"})") == "actions[1]: removeAll needs userId or connectionId");
  CHECK(error_of(R"({"action":"close"})") == "actions[1]: close needs connectionId, userId or groupName");
  CHECK(error_of(R"({"action":"close","connectionId":"c","reason":1})") == "actions[1].reason: expected a string");
  CHECK(error_of(R"({"action":"close","connectionId":"c","allowReconnect":"yes"})") ==
        "actions[1].allowReconnect: expected true or false");
  CHECK(error_of(R"({"action":"kick","connectionId":"c"})") ==
        "actions[1].action: 'kick' is not add, remove, removeAll or close");
  CHECK(error_of(R"({"action":1})") == "actions[1].action: expected add, remove, removeAll or close");
  CHECK(error_of(R"({"action":"add","groupName":"","connectionId":"c"})") ==
        "actions[1].groupName: expected a non-empty string");
  CHECK(error_of(R"({"action":"add","groupName":"g","userId":5})") == "actions[1].userId: expected a non-empty string");
  CHECK(error_of(R"({"target":"","arguments":[]})") == "actions[1].target: expected a non-empty string");
  CHECK(error_of(R"({"target":3})") == "actions[1].target: expected a non-empty string");
  CHECK(error_of(R"({"target":"t","arguments":"x"})") == "actions[1].arguments: expected an array");
  CHECK(error_of(R"({"target":"t","connectionId":7})") == "actions[1].connectionId: expected a non-empty string");
  CHECK(error_of(R"({"target":"t","excluded":"c1"})") == "actions[1].excluded: expected an array of connection ids");
  CHECK(error_of(R"({"target":"t","excluded":[1]})") == "actions[1].excluded: expected an array of connection ids");
  CHECK(error_of(R"({"target":"t","hub":"9bad"})") == "actions[1].hub: not a valid hub name");
  CHECK(error_of(R"({"groupName":"g"})") == "actions[1]: needs \"target\" (a message) or \"action\"");
  CHECK(error_of(R"("add")") == "actions[1]: expected an object");
}

TEST_CASE("rejects a reply with too many actions") {
  ReplyContext small = context;
  small.max_actions = 2;
  auto reply =
      parse_upstream_reply("application/json", R"({"actions":[{"target":"a"},{"target":"b"},{"target":"c"}]})", small);
  REQUIRE_FALSE(reply.ok());
  CHECK(reply.error().message == "actions: 3 actions; at most 2");
  CHECK(parse_upstream_reply("application/json", R"({"actions":[{"target":"a"},{"target":"b"}]})", small).ok());
}

TEST_CASE("rejects a reply that is not an object or not JSON") {
  CHECK(parse_error("[1,2]").message == "the reply must be a JSON object {\"result\", \"error\", \"actions\"}");
  CHECK(parse_error("42").message == "the reply must be a JSON object {\"result\", \"error\", \"actions\"}");
  CHECK(parse_error("{not json").message == "the reply is not valid JSON");
  CHECK(parse_error(R"({"actions":{}})").message == "actions: expected an array");
  CHECK(parse_ok(R"({"actions":null})").actions.empty());
}

TEST_CASE("validates hub names and lower-cases hub keys") {
  CHECK(is_valid_hub_name("chat"));
  CHECK(is_valid_hub_name("Chat_1.x[y]`,"));
  CHECK_FALSE(is_valid_hub_name(""));
  CHECK_FALSE(is_valid_hub_name("1chat"));
  CHECK_FALSE(is_valid_hub_name("chat-room"));
  CHECK_FALSE(is_valid_hub_name("chat room"));
  CHECK(is_valid_hub_name(std::string(128, 'a')));
  CHECK_FALSE(is_valid_hub_name(std::string(129, 'a')));
  CHECK(hub_key_of("ChAt") == "chat");
}

TEST_CASE("reads a connect reply's user id, groups and actions") {
  auto reply = parse_connect_reply(
      "application/json; charset=utf-8",
      R"({"userId":"alice-2","groups":["vip","room 1"],"actions":[{"target":"joined","arguments":["alice-2"],"groupName":"vip"}]})",
      context);
  REQUIRE_MESSAGE(reply.ok(), (reply.ok() ? "" : reply.error().message));
  CHECK(reply->user_id == std::optional<std::string>("alice-2"));
  CHECK(reply->groups == std::vector<std::string>{"vip", "room 1"});
  REQUIRE(reply->actions.size() == 1);
  CHECK(std::get<SendAction>(reply->actions[0]).scope == Scope::group);
}

TEST_CASE("lets a client in on an empty or non-JSON connect reply") {
  for (auto [type, body] : {std::pair{"application/json", ""}, {"text/plain", "ok"}}) {
    CAPTURE(body);
    auto reply = parse_connect_reply(type, body, context);
    REQUIRE(reply.ok());
    CHECK_FALSE(reply->user_id.has_value());
    CHECK(reply->groups.empty());
    CHECK(reply->actions.empty());
  }
}

TEST_CASE("names what is wrong in a connect reply") {
  auto error_of = [](std::string_view body) {
    auto reply = parse_connect_reply("application/json", body, context);
    REQUIRE_FALSE(reply.ok());
    return reply.error().message;
  };
  CHECK(error_of("[1]").find("JSON object") != std::string::npos);
  CHECK(error_of(R"({"userId":7})") == "userId: expected a string");
  CHECK(error_of(R"({"groups":"vip"})") == "groups: expected an array of group names");
  CHECK(error_of(R"({"groups":["vip",""]})") == "groups[1]: expected a group name (1 to 1024 bytes)");
  CHECK(error_of(R"({"actions":[{"nope":1}]})").find("actions[0]") != std::string::npos);
}

TEST_CASE("reads a refusal's reason from the error field or a plain-text body") {
  CHECK(refusal_reason("application/json", R"({"error":"banned"})", "Forbidden") == "banned");
  CHECK(refusal_reason("text/plain; charset=utf-8", "go away", "Forbidden") == "go away");
  CHECK(refusal_reason("application/json", R"({"reason":"x"})", "Forbidden") == "Forbidden");
  CHECK(refusal_reason("text/html", "<h1>no</h1>", "Unauthorized") == "Unauthorized");
  CHECK(refusal_reason("text/plain", std::string(1000, 'x'), "F").size() == 256);
}

TEST_CASE("stream actions become sends of a StreamItem and a Completion to the connection, item as written") {
  auto reply = parse_ok(R"({"actions":[{"action":"streamItem","connectionId":"c1","streamId":"7","item":{"b":1, "a":2},"completed":true},
                                       {"action":"streamComplete","connectionId":"c2","streamId":"8","error":"dry"}]})");
  REQUIRE(reply.actions.size() == 3);
  auto frame_of = [&](std::size_t i) {
    const auto& send = std::get<SendAction>(reply.actions[i]);
    CHECK(send.scope == Scope::connection);
    return *send.message->for_protocol(sb::protocol::HubProtocolKind::json);
  };
  CHECK(frame_of(0) == std::string(R"({"type":2,"invocationId":"7","item":{"b":1, "a":2}})") + '\x1e');
  CHECK(frame_of(1) == std::string(R"({"type":3,"invocationId":"7"})") + '\x1e');
  CHECK(frame_of(2) == std::string(R"({"type":3,"invocationId":"8","error":"dry"})") + '\x1e');
  CHECK(std::get<SendAction>(reply.actions[2]).id == "c2");
}

TEST_CASE("stream actions need a connection, a stream and (for an item) the item") {
  CHECK(parse_error(R"({"actions":[{"action":"streamItem","streamId":"7","item":1}]})").message.find("connectionId") != std::string::npos);
  CHECK(parse_error(R"({"actions":[{"action":"streamItem","connectionId":"c","item":1}]})").message.find("streamId") != std::string::npos);
  CHECK(parse_error(R"({"actions":[{"action":"streamItem","connectionId":"c","streamId":"7"}]})").message.find("item") != std::string::npos);
  CHECK(parse_error(R"({"actions":[{"action":"streamItem","connectionId":"c","streamId":"7","item":1,"completed":"yes"}]})")
            .message.find("completed") != std::string::npos);
}
