#include "config/redis_url.hpp"

#include <doctest/doctest.h>

using sb::config::parse_redis_url;

TEST_CASE("parses host, port and database of a redis URL") {
  auto parsed = parse_redis_url("redis://127.0.0.1:6380/2");
  REQUIRE(parsed.ok());
  CHECK(parsed->host == "127.0.0.1");
  CHECK(parsed->port == 6380);
  CHECK(parsed->database == 2);
}

TEST_CASE("defaults the port to 6379 and the database to 0") {
  auto parsed = parse_redis_url("redis://cache");
  REQUIRE(parsed.ok());
  CHECK(parsed->host == "cache");
  CHECK(parsed->port == 6379);
  CHECK(parsed->database == 0);
}

TEST_CASE("reads a bracketed IPv6 host") {
  auto parsed = parse_redis_url("redis://[::1]:7000");
  REQUIRE(parsed.ok());
  CHECK(parsed->host == "::1");
  CHECK(parsed->port == 7000);
}

TEST_CASE("rejects other schemes, credentials, bad ports and databases, naming the part") {
  CHECK(parse_redis_url("http://x:1").error().message.find("redis://") != std::string::npos);
  CHECK(parse_redis_url("rediss://x:1").error().code == "invalid_redis_url");
  CHECK(parse_redis_url("redis://user:pw@x:1").error().message.find("credentials") != std::string::npos);
  CHECK(parse_redis_url("redis://x:0").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:70000").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:1/db").error().message.find("database") != std::string::npos);
  CHECK(parse_redis_url("redis://:1").error().message.find("host") != std::string::npos);
}
