#include "http/rest_routes.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sb::http;
using boost::beast::http::verb;
using Op = RestOperation;

namespace {

RestRoute resolved(verb method, std::vector<std::string> segments) {
  auto route = resolve_rest_route(method, segments);
  REQUIRE(route.ok());
  return *route;
}

std::string error_of(verb method, std::vector<std::string> segments) {
  auto route = resolve_rest_route(method, segments);
  REQUIRE_FALSE(route.ok());
  return route.error().code;
}

}  // namespace

TEST_CASE("hub-wide operations") {
  CHECK(resolved(verb::post, {}).operation == Op::send_to_all);
  CHECK(resolved(verb::post, {":send"}).operation == Op::send_to_all);
  CHECK(resolved(verb::get, {}).operation == Op::method_not_allowed);
  CHECK(resolved(verb::post, {":closeConnections"}).operation == Op::close_all);
  CHECK(resolved(verb::get, {":closeConnections"}).operation == Op::method_not_allowed);
  // Presence listings take any method here and check it themselves.
  CHECK(resolved(verb::get, {"connections"}).operation == Op::list_connections);
  CHECK(resolved(verb::post, {"users"}).operation == Op::list_users);
  CHECK(error_of(verb::get, {"groups"}) == "NotFound");
}

TEST_CASE("connection operations and their names") {
  auto send = resolved(verb::post, {"connections", "c1"});
  CHECK(send.operation == Op::send_to_connection);
  CHECK(send.connection_id == "c1");
  CHECK(resolved(verb::head, {"connections", "c1"}).operation == Op::connection_exists);
  CHECK(resolved(verb::delete_, {"connections", "c1"}).operation == Op::close_connection);
  CHECK(resolved(verb::put, {"connections", "c1"}).operation == Op::method_not_allowed);
  CHECK(resolved(verb::post, {"connections", "c1", ":send"}).operation == Op::send_to_connection);
  CHECK(error_of(verb::get, {"connections", "c1", ":send"}) == "NotFound");  // no catch-all row there
  CHECK(resolved(verb::delete_, {"connections", "c1", "groups"}).operation == Op::remove_connection_from_all_groups);
  CHECK(error_of(verb::get, {"connections", "c1", "groups"}) == "NotFound");
}

TEST_CASE("both orders of a membership path name the same connection and group") {
  auto a = resolved(verb::put, {"connections", "c1", "groups", "g1"});
  auto b = resolved(verb::put, {"groups", "g1", "connections", "c1"});
  for (const auto& route : {a, b}) {
    CHECK(route.operation == Op::connection_membership);
    CHECK(route.connection_id == "c1");
    CHECK(route.group == "g1");
  }
  CHECK(resolved(verb::get, {"groups", "g1", "connections", "c1"}).operation == Op::method_not_allowed);
  auto u = resolved(verb::head, {"groups", "g1", "users", "u1"});
  CHECK(u.operation == Op::user_membership);
  CHECK(u.user_id == "u1");
  CHECK(u.group == "g1");
  CHECK(resolved(verb::post, {"users", "u1", "groups", "g1"}).operation == Op::method_not_allowed);
}

TEST_CASE("group and user operations") {
  CHECK(resolved(verb::post, {"groups", "g"}).operation == Op::send_to_group);
  CHECK(resolved(verb::get, {"groups", "g"}).operation == Op::group_exists);
  CHECK(resolved(verb::get, {"groups", "g", "connections"}).operation == Op::list_group_connections);
  CHECK(resolved(verb::get, {"groups", "g", "users"}).operation == Op::list_group_users);
  CHECK(resolved(verb::post, {"groups", "g", ":closeConnections"}).operation == Op::close_group);
  CHECK(resolved(verb::post, {"users", "u"}).operation == Op::send_to_user);
  CHECK(resolved(verb::get, {"users", "u"}).operation == Op::user_exists);
  CHECK(resolved(verb::get, {"users", "u", "connections"}).operation == Op::list_user_connections);
  CHECK(resolved(verb::post, {"users", "u", ":closeConnections"}).operation == Op::close_user);
  CHECK(resolved(verb::delete_, {"users", "u", "groups"}).operation == Op::remove_user_from_all_groups);
  CHECK(error_of(verb::get, {"users", "u", "nothing", "x", "y"}) == "NotFound");
}

TEST_CASE("bad names are a 400 before anything else, even on paths the API lacks") {
  CHECK(error_of(verb::post, {"connections", " \t"}) == "InvalidName");
  CHECK(error_of(verb::post, {"users", std::string(1025, 'u')}) == "InvalidName");
  CHECK(error_of(verb::get, {"groups", "", "unknown"}) == "InvalidName");
  CHECK(error_of(verb::put, {"groups", "g", "connections", " "}) == "InvalidName");
  CHECK(error_of(verb::get, {"users", "u", "groups", "\r\n"}) == "InvalidName");
  CHECK(resolved(verb::post, {"users", std::string(1024, 'u')}).operation == Op::send_to_user);
  CHECK(is_valid_rest_name(" a "));
  CHECK_FALSE(is_valid_rest_name(""));
}
