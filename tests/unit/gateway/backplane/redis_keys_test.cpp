#include "backplane/redis_keys.hpp"

#include <doctest/doctest.h>

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
