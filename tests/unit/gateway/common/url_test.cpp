#include "common/url.hpp"

#include <doctest/doctest.h>

using sb::parse_url;

TEST_CASE("parse_url splits scheme, host, port, path and query") {
  auto plain = parse_url("http://fn.local/api/chat?x=1#frag");
  REQUIRE(plain);
  CHECK(plain->scheme == "http");
  CHECK(plain->host == "fn.local");
  CHECK(plain->port == 80);
  CHECK(plain->path == "/api/chat");
  CHECK(plain->query == "x=1");
  CHECK(plain->target() == "/api/chat?x=1");
  CHECK(plain->host_header() == "fn.local");
  CHECK(plain->origin() == "http://fn.local:80");
  CHECK(plain->to_string() == "http://fn.local/api/chat?x=1");

  auto with_port = parse_url("HTTP://127.0.0.1:7071");
  REQUIRE(with_port);
  CHECK(with_port->scheme == "http");
  CHECK(with_port->port == 7071);
  CHECK(with_port->target() == "/");
  CHECK(with_port->host_header() == "127.0.0.1:7071");

  auto query_only = parse_url("http://h:1?q=2");
  REQUIRE(query_only);
  CHECK(query_only->target() == "/?q=2");

  auto v6 = parse_url("https://[::1]:8443/x");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8443);
  CHECK(v6->is_tls());
  CHECK(v6->host_header() == "[::1]:8443");
  CHECK(v6->origin() == "https://[::1]:8443");

  auto tls_default = parse_url("wss://h/client/?hub=chat");
  REQUIRE(tls_default);
  CHECK(tls_default->port == 443);
  CHECK(tls_default->host_header() == "h");
}

TEST_CASE("an https URL: port 443 unless written, left out of Host, always in the origin") {
  auto url = parse_url("HTTPS://Fn.Example.com/api/{hub}?code=k");
  REQUIRE(url);
  CHECK(url->scheme == "https");
  CHECK(url->is_tls());
  CHECK(url->port == 443);
  CHECK(url->has_default_port());
  CHECK(url->host_header() == "Fn.Example.com");
  CHECK(url->origin() == "https://Fn.Example.com:443");
  CHECK(url->to_string() == "https://Fn.Example.com/api/{hub}?code=k");
  auto explicit_default = parse_url("https://fn.example.com:443/");
  REQUIRE(explicit_default);
  CHECK(explicit_default->host_header() == "fn.example.com");
  auto other_port = parse_url("https://127.0.0.1:8443/upstream");
  REQUIRE(other_port);
  CHECK(other_port->host_header() == "127.0.0.1:8443");
  CHECK(other_port->origin() == "https://127.0.0.1:8443");
}

TEST_CASE("the scheme keys the origin: http and https on one host differ") {
  CHECK(parse_url("http://h:8080/a")->origin() != parse_url("https://h:8080/a")->origin());
  CHECK(parse_url("http://h/a")->origin() == parse_url("http://h:80/b?c")->origin());
}

TEST_CASE("parse_url refuses what it can't request or compare") {
  for (const char* bad : {"ftp://h/x", "h/x", "http:///x", "http://h:/x", "http://[::1/x", "http://[::1]x/", "http://h:0/",
                          "http://h:65536/", "http://h:8a/", "http://h/a b", "http://h/a\r\nX: y", "http://user@h/", "http://a b/", "http://a:b:80/", "http://[[]/", "http://[fe80::1%eth0]/", "https://x:1]z:8443/", "http://h\r\nX:1/"}) {
    CAPTURE(bad);
    auto url = parse_url(bad);
    REQUIRE_FALSE(url);
    CHECK(url.error().code == "invalid_url");
  }
  CHECK(parse_url("http://h:65535/").ok());
}
