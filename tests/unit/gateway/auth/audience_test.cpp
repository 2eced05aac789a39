#include "auth/audience.hpp"

#include <doctest/doctest.h>

using sb::auth::client_audience_matches;
using sb::auth::host_without_port;
using sb::auth::rest_audience_matches;

TEST_CASE("matches a client audience on host, /client/ path and hub") {
  CHECK(client_audience_matches("http://localhost/client/?hub=chat", "localhost", "chat"));
  CHECK(client_audience_matches("https://example.com/client/?hub=chat", "example.com", "chat"));
}

TEST_CASE("compares the client audience host case-insensitively and ignores ports") {
  CHECK(client_audience_matches("http://LocalHost/client/?hub=chat", "localhost", "chat"));
  CHECK(client_audience_matches("http://localhost:8080/client/?hub=chat", "localhost", "chat"));
  CHECK(client_audience_matches("http://localhost/client/?hub=chat", "localhost:8080", "chat"));
  CHECK(client_audience_matches("http://localhost:1/client/?hub=chat", "LOCALHOST:2", "chat"));
  CHECK(client_audience_matches("HTTP://[::1]:8080/client/?hub=chat", "[::1]:9000", "chat"));
}

TEST_CASE("accepts the client path with or without its trailing slash") {
  CHECK(client_audience_matches("http://localhost/client/?hub=chat", "localhost", "chat"));
  CHECK(client_audience_matches("http://localhost/client?hub=chat", "localhost", "chat"));
}

TEST_CASE("compares the client audience hub case-insensitively among other query keys") {
  CHECK(client_audience_matches("http://localhost/client/?hub=Chat", "localhost", "chat"));
  CHECK(client_audience_matches("http://localhost/client/?hub=chat", "localhost", "CHAT"));
  CHECK(client_audience_matches("http://localhost/client/?asrs.op=%2F&hub=chat&x=1", "localhost", "chat"));
  CHECK(client_audience_matches("http://localhost/client/?HUB=chat", "localhost", "chat"));
}

TEST_CASE("rejects a client audience naming another path, host or hub") {
  SUBCASE("path") {
    CHECK_FALSE(client_audience_matches("http://localhost/api/?hub=chat", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost/client/x/?hub=chat", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost/?hub=chat", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost?hub=chat", "localhost", "chat"));
  }
  SUBCASE("host") {
    CHECK_FALSE(client_audience_matches("http://evil.com/client/?hub=chat", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost.evil.com/client/?hub=chat", "localhost", "chat"));
  }
  SUBCASE("hub") {
    CHECK_FALSE(client_audience_matches("http://localhost/client/?hub=other", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost/client/?hub=chatx", "localhost", "chat"));
    CHECK_FALSE(client_audience_matches("http://localhost/client/", "localhost", "chat"));
  }
}

TEST_CASE("rejects a client audience that is not an http URL") {
  CHECK_FALSE(client_audience_matches("ftp://localhost/client/?hub=chat", "localhost", "chat"));
  CHECK_FALSE(client_audience_matches("localhost/client/?hub=chat", "localhost", "chat"));
  CHECK_FALSE(client_audience_matches("", "localhost", "chat"));
  CHECK_FALSE(client_audience_matches("http:///client/?hub=chat", "localhost", "chat"));
}

TEST_CASE("matches a rest audience on host and path, ignoring the query and a trailing slash") {
  CHECK(rest_audience_matches("http://localhost/api/v1/hubs/chat", "localhost", "/api/v1/hubs/chat"));
  CHECK(rest_audience_matches("http://localhost/api/hubs/chat/:send?api-version=2022-06-01", "localhost",
                              "/api/hubs/chat/:send"));
  CHECK(rest_audience_matches("http://localhost/api/v1/hubs/chat/", "localhost", "/api/v1/hubs/chat"));
  CHECK(rest_audience_matches("http://localhost/api/v1/hubs/chat", "localhost", "/api/v1/hubs/chat/"));
  CHECK(rest_audience_matches("http://LOCALHOST:8080/api/v1/hubs/chat", "localhost:9090", "/api/v1/hubs/chat"));
}

TEST_CASE("compares the rest hub segment case-insensitively and other segments exactly") {
  CHECK(
      rest_audience_matches("http://localhost/api/v1/hubs/chat/users/Bob", "localhost", "/api/v1/hubs/Chat/users/Bob"));
  CHECK_FALSE(
      rest_audience_matches("http://localhost/api/v1/hubs/chat/users/bob", "localhost", "/api/v1/hubs/chat/users/Bob"));
  CHECK_FALSE(rest_audience_matches("http://localhost/API/v1/hubs/chat", "localhost", "/api/v1/hubs/chat"));
  CHECK_FALSE(
      rest_audience_matches("http://localhost/api/v1/hubs/chat/groups/a", "localhost", "/api/v1/hubs/chat/groups/b"));
  CHECK_FALSE(rest_audience_matches("http://localhost/api/v1/hubs/other", "localhost", "/api/v1/hubs/chat"));
  CHECK_FALSE(rest_audience_matches("http://localhost/api/v1/hubs/chat", "localhost", "/api/v1/hubs/chat/users/bob"));
  CHECK(rest_audience_matches("http://localhost/api/v1/health", "localhost", "/api/v1/health"));
  CHECK_FALSE(rest_audience_matches("http://localhost/api/v1/health", "localhost", "/api/v1/healthz"));
}

TEST_CASE("rejects a rest audience for another host or scheme") {
  CHECK_FALSE(rest_audience_matches("http://evil.com/api/v1/hubs/chat", "localhost", "/api/v1/hubs/chat"));
  CHECK_FALSE(rest_audience_matches("file://localhost/api/v1/hubs/chat", "localhost", "/api/v1/hubs/chat"));
  CHECK_FALSE(rest_audience_matches("not a url", "localhost", "/api/v1/hubs/chat"));
}

TEST_CASE("strips the port from a Host header value") {
  CHECK(host_without_port("example.com:8080") == "example.com");
  CHECK(host_without_port("example.com") == "example.com");
  CHECK(host_without_port("[::1]:80") == "[::1]");
  CHECK(host_without_port("[::1]") == "[::1]");
  CHECK(host_without_port("[fe80::1%25eth0]:443") == "[fe80::1%25eth0]");
  CHECK(host_without_port("[::1") == "");
  CHECK(host_without_port("") == "");
}
