#include "http/rest_input.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::http;

TEST_CASE("parses a v1 REST target into hub, decoded segments and query") {
  auto t = parse_rest_target("/api/v1/hubs/Chat/users/a%2Fb?excluded=x&excluded=y");
  REQUIRE(t.ok());
  CHECK(t->is_v1);
  CHECK(t->hub == "Chat");
  CHECK(t->segments == std::vector<std::string>{"users", "a/b"});  // an id may hold an encoded '/'
  CHECK(query_values(t->query, "excluded") == std::vector<std::string>{"x", "y"});
  CHECK(t->raw_path == "/api/v1/hubs/Chat/users/a%2Fb");
  CHECK(*resolve_rest_hub(*t) == "Chat");
}

TEST_CASE("resolves ?application=app to the internal hub app_hub") {
  auto t = parse_rest_target("/api/hubs/chat/:send?api-version=2022-06-01&application=shop");
  REQUIRE(t.ok());
  CHECK_FALSE(t->is_v1);
  CHECK(*resolve_rest_hub(*t) == "shop_chat");
}

TEST_CASE("refuses REST targets that are not REST operations or are malformed") {
  SUBCASE("not under /api/…/hubs") { CHECK(parse_rest_target("/api/v1/other").error().code == "NotFound"); }
  SUBCASE("a '..' or '.' segment") {
    CHECK(parse_rest_target("/api/v1/hubs/chat/users/..").error().code == "InvalidPath");
    CHECK(parse_rest_target("/api/v1/hubs/../users/a").error().code == "InvalidPath");
    CHECK(parse_rest_target("/api/v1/hubs/chat/./users/a").error().code == "InvalidPath");
    // Encoded dots are data, not path structure: a user may be called "..".
    CHECK(parse_rest_target("/api/v1/hubs/chat/users/%2E%2E").ok());
  }
  SUBCASE("an encoded NUL or a broken escape") {
    CHECK(parse_rest_target("/api/v1/hubs/chat/users/a%00").error().code == "InvalidPath");
    CHECK(parse_rest_target("/api/v1/hubs/chat/users/a%zz").error().code == "InvalidPath");
    CHECK(parse_rest_target("/api/v1/hubs/chat/users/a?x=%").error().code == "InvalidQuery");
  }
  SUBCASE("a bad hub name, reported by resolve_rest_hub") {
    auto t = parse_rest_target("/api/v1/hubs/a%2Fb/users/u");
    REQUIRE(t.ok());
    CHECK(resolve_rest_hub(*t).error().code == "InvalidHub");
    auto app = parse_rest_target("/api/v1/hubs/chat?application=a%20b");
    REQUIRE(app.ok());
    CHECK(resolve_rest_hub(*app).error().code == "InvalidApplication");
  }
}

TEST_CASE("parses a JSON send body with case-insensitive keys") {
  auto b = parse_rest_send_body(R"({"Target":"news","Arguments":["hi",{"n":1}]})");
  REQUIRE(b.ok());
  CHECK(b->target == "news");
  CHECK(b->arguments_json == R"(["hi",{"n":1}])");
  CHECK(parse_rest_send_body(R"({"target":"t"})")->arguments_json == "[]");
}

TEST_CASE("refuses send bodies that are not {target, arguments}") {
  for (const char* body : {"", "nope", "[1]", R"({"arguments":[]})", R"({"target":""})", R"({"target":1})",
                           R"({"target":"t","arguments":{}})"}) {
    CAPTURE(body);
    auto b = parse_rest_send_body(body);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == "InvalidBody");
  }
  auto deep = parse_rest_send_body(R"({"target":"t","arguments":)" + std::string(10'000, '[') + "}");
  CHECK(deep.error().message == "The body nests deeper than 128 levels.");
}

TEST_CASE(":execute bodies: an array or {commands}, each command checked, arguments kept as written") {
  auto commands = parse_execute_body(R"([{"type":"JoinGroup","group":"g"},
    {"Type":"sendmessage","Target":"t","Arguments":[{"b":1, "a":2}]},
    {"type":"LeaveGroup","groupName":"h"},{"type":"CloseConnection","reason":"r","allowReconnect":true}])");
  REQUIRE(commands.ok());
  REQUIRE(commands->size() == 4);
  CHECK((*commands)[0].kind == sb::hub::CommandKind::join_group);
  CHECK((*commands)[0].group == "g");
  CHECK((*commands)[1].message->arguments_json() == R"([{"b":1, "a":2}])");
  CHECK((*commands)[2].kind == sb::hub::CommandKind::leave_group);
  CHECK((*commands)[2].group == "h");
  CHECK((*commands)[3].reason == "r");
  CHECK((*commands)[3].allow_reconnect);
  auto wrapped = parse_execute_body(R"({"commands":[{"type":"CloseConnection"}]})");
  REQUIRE(wrapped.ok());
  CHECK((*wrapped)[0].reason.empty());
}

TEST_CASE(":execute bodies that are refused, with the command named") {
  for (const char* body : {"", "{}", "[]", "1", R"([1])", R"([{"group":"g"}])", R"([{"type":"Dance"}])",
                           R"([{"type":"JoinGroup"}])", R"([{"type":"JoinGroup","group":""}])", R"([{"type":"JoinGroup","group":3}])",
                           R"([{"type":"SendMessage"}])", R"([{"type":"SendMessage","target":"t","arguments":{}}])",
                           R"([{"type":"CloseConnection","allowReconnect":"yes"}])", R"({"commands":{}})"}) {
    CAPTURE(body);
    auto parsed = parse_execute_body(body);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "InvalidBody");
  }
  CHECK(parse_execute_body(R"([{"type":"SendMessage","target":"t"},{"type":"Dance"}])").error().message.find("commands[1]") == 0);
  std::string many = "[";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + R"({"type":"CloseConnection"})";
  CHECK_FALSE(parse_execute_body(many + "]").ok());
}
