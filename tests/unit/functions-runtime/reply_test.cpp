#include <doctest/doctest.h>

#include "switchboard/functions.hpp"

using switchboard::Json;
using switchboard::Reply;

// Shapes of PROTOCOL.md part 3 §3.4.

TEST_CASE("an empty reply is an empty JSON object") {
  Reply reply;
  CHECK(reply.empty());
  CHECK(reply.to_json() == Json::object());
  CHECK(reply.http_status() == 200);
}

TEST_CASE("a reply carries the invocation's result, including null and false") {
  CHECK(Reply().result(42).to_json() == Json{{"result", 42}});
  CHECK(Reply().result(false).to_json() == Json{{"result", false}});
  Reply null_result;
  null_result.result(nullptr);
  CHECK_FALSE(null_result.empty());
  CHECK(null_result.to_json() == Json::parse(R"({"result":null})"));
}

TEST_CASE("a reply's error replaces its result and the other way round") {
  CHECK(Reply().result(1).error("bad").to_json() == Json{{"error", "bad"}});
  CHECK(Reply().error("bad").result(1).to_json() == Json{{"result", 1}});
}

TEST_CASE("send_to_all becomes a message action with no address") {
  CHECK(Reply().send_to_all("news", Json::array({1, "two"})).to_json() ==
        Json::parse(R"({"actions":[{"target":"news","arguments":[1,"two"]}]})"));
}

TEST_CASE("send_to_all and send_to_group list excluded connections only when there are some") {
  CHECK(Reply().send_to_all("news", Json::array(), {"c1", "c2"}).to_json() ==
        Json::parse(R"({"actions":[{"target":"news","arguments":[],"excluded":["c1","c2"]}]})"));
  CHECK(Reply().send_to_group("room1", "message", Json::array({"alice", "hi"}), {"c1"}).to_json() ==
        Json::parse(
            R"({"actions":[{"target":"message","arguments":["alice","hi"],"groupName":"room1","excluded":["c1"]}]})"));
  CHECK(Reply().send_to_group("room1", "message", Json::array()).to_json() ==
        Json::parse(R"({"actions":[{"target":"message","arguments":[],"groupName":"room1"}]})"));
}

TEST_CASE("send_to_connection and send_to_user address the message by connectionId and userId") {
  CHECK(Reply().send_to_connection("c1", "welcome", Json::array()).to_json() ==
        Json::parse(R"({"actions":[{"target":"welcome","arguments":[],"connectionId":"c1"}]})"));
  CHECK(Reply().send_to_user("bob", "ping", Json::array()).to_json() ==
        Json::parse(R"({"actions":[{"target":"ping","arguments":[],"userId":"bob"}]})"));
}

TEST_CASE("a braced list of values is the argument array") {
  CHECK(Reply().send_to_all("message", {"alice", "hi"}).to_json() ==
        Json::parse(R"({"actions":[{"target":"message","arguments":["alice","hi"]}]})"));
}

TEST_CASE("null arguments, which is what {} converts to, mean no arguments") {
  CHECK(Reply().send_to_all("ping", {}).to_json() == Json::parse(R"({"actions":[{"target":"ping","arguments":[]}]})"));
  CHECK(Reply().send_to_user("bob", "ping", nullptr).to_json() ==
        Json::parse(R"({"actions":[{"target":"ping","arguments":[],"userId":"bob"}]})"));
}

TEST_CASE("a value that is not an array is sent as the single argument") {
  CHECK(Reply().send_to_all("news", "hello").to_json() ==
        Json::parse(R"({"actions":[{"target":"news","arguments":["hello"]}]})"));
  CHECK(Reply().send_to_all("news", Json{{"a", 1}}).to_json() ==
        Json::parse(R"({"actions":[{"target":"news","arguments":[{"a":1}]}]})"));
}

TEST_CASE("group membership actions name the action, the group and the connection or user") {
  CHECK(Reply().add_to_group("room1", "c1").to_json() ==
        Json::parse(R"({"actions":[{"action":"add","groupName":"room1","connectionId":"c1"}]})"));
  CHECK(Reply().remove_from_group("room1", "c1").to_json() ==
        Json::parse(R"({"actions":[{"action":"remove","groupName":"room1","connectionId":"c1"}]})"));
  CHECK(Reply().add_user_to_group("room1", "bob").to_json() ==
        Json::parse(R"({"actions":[{"action":"add","groupName":"room1","userId":"bob"}]})"));
  CHECK(Reply().remove_user_from_group("room1", "bob").to_json() ==
        Json::parse(R"({"actions":[{"action":"remove","groupName":"room1","userId":"bob"}]})"));
  CHECK(Reply().remove_user_from_all_groups("bob").to_json() ==
        Json::parse(R"({"actions":[{"action":"removeAll","userId":"bob"}]})"));
}

TEST_CASE("close_connection carries allowReconnect always and the reason when there is one") {
  CHECK(Reply().close_connection("c1").to_json() ==
        Json::parse(R"({"actions":[{"action":"close","connectionId":"c1","allowReconnect":false}]})"));
  CHECK(Reply().close_connection("c1", "bye", true).to_json() ==
        Json::parse(R"({"actions":[{"action":"close","connectionId":"c1","allowReconnect":true,"reason":"bye"}]})"));
}

TEST_CASE("actions keep the order they were added in, next to the result") {
  const Json reply = Reply()
                         .add_to_group("room1", "c1")
                         .send_to_group("room1", "system", Json::array({"alice joined"}))
                         .result(true)
                         .to_json();
  CHECK(reply == Json::parse(R"({"result":true,"actions":[
      {"action":"add","groupName":"room1","connectionId":"c1"},
      {"target":"system","arguments":["alice joined"],"groupName":"room1"}]})"));
}

TEST_CASE("a reply remembers the HTTP status it should be answered with") {
  CHECK(Reply().status(403).http_status() == 403);
}
