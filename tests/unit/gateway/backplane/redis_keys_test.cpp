#include "backplane/redis_keys.hpp"

#include <doctest/doctest.h>

#include <tuple>

using sb::backplane::RedisKeys;

TEST_CASE("names every key and channel under the prefix") {
  RedisKeys keys("sb");
  CHECK(keys.actions_channel() == "sb:actions");
  CHECK(keys.gateways() == "sb:gateways");
  CHECK(keys.gateway_connections("gw1") == "sb:gwconns:gw1");
  CHECK(keys.reaped("gw1") == "sb:reaped:gw1");
  CHECK(keys.connection("c1") == "sb:conn:c1");
  CHECK(keys.connection_groups("c1") == "sb:conngroups:c1");
  CHECK(keys.hub_connections("chat") == "sb:hub:chat:conns");
  CHECK(keys.hub_users("chat") == "sb:hub:chat:users");
  CHECK(keys.user("chat", "alice") == "sb:hub:chat:user:alice");
  CHECK(keys.group("chat", "room") == "sb:hub:chat:group:room");
  CHECK(keys.user_groups("chat", "alice") == "sb:hub:chat:usergroups:alice");
}

TEST_CASE("keeps ids holding ':' from colliding with another kind of key") {
  RedisKeys keys("sb");
  // A connection id chosen to look like a connection's group set still names a hash of its own.
  CHECK(keys.connection("x:groups") != keys.connection_groups("x"));
  // A group named like a user path stays under group:.
  CHECK(keys.group("chat", "user:alice") != keys.user("chat", "alice"));
  CHECK(keys.group("chat", "a:b").rfind("sb:hub:chat:group:", 0) == 0);
}

TEST_CASE("separates fleets by prefix") {
  CHECK(RedisKeys("blue").actions_channel() != RedisKeys("green").actions_channel());
}

TEST_CASE("the parts a script joins give the names RedisKeys gives") {
  RedisKeys keys("sb");
  auto parts = keys.name_parts();
  REQUIRE(parts.size() == 10);
  const auto& [conn, conngroups, gwconns, reaped, checkpoints, hub, conns, users, user, group] =
      std::tie(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7], parts[8], parts[9]);
  CHECK(conn + "c:1" == keys.connection("c:1"));
  CHECK(conngroups + "c:1" == keys.connection_groups("c:1"));
  CHECK(gwconns + "gw1" == keys.gateway_connections("gw1"));
  CHECK(reaped + "gw1" == keys.reaped("gw1"));
  CHECK(checkpoints + "gw1" == keys.checkpoints("gw1"));
  CHECK(hub + "chat" + conns == keys.hub_connections("chat"));
  CHECK(hub + "chat" + users == keys.hub_users("chat"));
  CHECK(hub + "chat" + user + "alice" == keys.user("chat", "alice"));
  CHECK(hub + "chat" + group + "room" == keys.group("chat", "room"));
}
