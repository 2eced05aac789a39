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

TEST_CASE("rejects other schemes, bad credentials, ports and databases, naming the part") {
  CHECK(parse_redis_url("http://x:1").error().message.find("redis://") != std::string::npos);
  CHECK(parse_redis_url("redis://user@x:1").error().message.find("credentials") != std::string::npos);
  CHECK(parse_redis_url("redis://user:@x:1").error().message.find("password") != std::string::npos);
  CHECK(parse_redis_url("redis://:p%4x@x:1").error().message.find("credentials") != std::string::npos);
  CHECK(parse_redis_url("redis://:p%4@x:1").error().message.find("credentials") != std::string::npos);
  CHECK(parse_redis_url("redis://x:0").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:70000").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:").error().message.find("port") != std::string::npos);
  CHECK(parse_redis_url("redis://x:1/db").error().message.find("database") != std::string::npos);
  CHECK(parse_redis_url("redis://:1").error().message.find("host") != std::string::npos);
}

TEST_CASE("reads a password, an ACL user and rediss://, and never repeats the password in an error") {
  auto plain = parse_redis_url("redis://:s3cret@cache:6380/1");
  REQUIRE(plain.ok());
  CHECK(plain->password == "s3cret");
  CHECK(plain->username.empty());
  CHECK(plain->port == 6380);
  CHECK(plain->database == 1);
  CHECK_FALSE(plain->tls);

  auto acl = parse_redis_url("rediss://gateway:p%40ss%3Aw@[::1]:6390");
  REQUIRE(acl.ok());
  CHECK(acl->tls);
  CHECK(acl->username == "gateway");
  CHECK(acl->password == "p@ss:w");
  CHECK(acl->host == "::1");
  CHECK(acl->port == 6390);

  auto unencoded_at = parse_redis_url("redis://:a@b@host");  // the last '@' ends the credentials
  REQUIRE(unencoded_at.ok());
  CHECK(unencoded_at->password == "a@b");
  CHECK(unencoded_at->host == "host");

  auto bad = parse_redis_url("redis://:topsecret@host:99999");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("topsecret") == std::string::npos);
}

TEST_CASE("reads a sentinel list") {
  auto list = sb::config::parse_host_ports("127.0.0.1:26379,[::1]:26380,sentinel-2:26381");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 3);
  CHECK((*list)[0].host == "127.0.0.1");
  CHECK((*list)[0].port == 26379);
  CHECK((*list)[1].host == "::1");
  CHECK((*list)[2].port == 26381);
  CHECK_FALSE(sb::config::parse_host_ports("127.0.0.1").ok());  // the port is required
  CHECK_FALSE(sb::config::parse_host_ports("a:1,").ok());
  CHECK_FALSE(sb::config::parse_host_ports("").ok());
}
