#include "upstream/http_request_bytes.hpp"

#include <doctest/doctest.h>

using namespace sb::upstream;

TEST_CASE("format_http_request writes the whole POST with its length") {
  UpstreamRequest request;
  auto url = sb::parse_url("http://127.0.0.1:7071/upstream?e=1");
  REQUIRE(url);
  request.content_type = "application/json";
  request.headers = {{"X-ASRS-Hub", "chat"}, {"X-ASRS-Event", "send"}};
  request.body = R"({"type":1})";
  CHECK(format_http_request(*url, request) ==
        "POST /upstream?e=1 HTTP/1.1\r\n"
        "Host: 127.0.0.1:7071\r\n"
        "User-Agent: switchboard\r\n"
        "Content-Type: application/json\r\n"
        "X-ASRS-Hub: chat\r\n"
        "X-ASRS-Event: send\r\n"
        "Content-Length: 10\r\n"
        "\r\n"
        R"({"type":1})");
}

TEST_CASE("format_http_request: port 80 is implied, an IPv6 host keeps its brackets, an empty body has length 0") {
  UpstreamRequest request;
  request.content_type = "text/plain";
  auto default_port = format_http_request(*sb::parse_url("http://fn/x"), request);
  CHECK(default_port.find("\r\nHost: fn\r\n") != std::string::npos);
  CHECK(default_port.ends_with("Content-Length: 0\r\n\r\n"));
  auto v6 = format_http_request(*sb::parse_url("http://[::1]:81/x"), request);
  CHECK(v6.find("\r\nHost: [::1]:81\r\n") != std::string::npos);
}

TEST_CASE("format_http_request: CR, LF and NUL in a header value become spaces") {
  UpstreamRequest request;
  request.content_type = "application/json";
  request.headers = {{"X-ASRS-User-Id", std::string("eve\r\nX-Evil: 1\0z", 16)}};
  auto bytes = format_http_request(*sb::parse_url("http://fn/x"), request);
  CHECK(bytes.find("\r\nX-ASRS-User-Id: eve  X-Evil: 1 z\r\n") != std::string::npos);
  CHECK(bytes.find("\r\nX-Evil") == std::string::npos);
}
