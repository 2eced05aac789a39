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
