#include "http/cors_policy.hpp"

#include <doctest/doctest.h>

using namespace sb::http;

namespace {

// The policy is process-wide: each case sets it and puts the default back.
struct Policy {
  explicit Policy(const std::vector<std::string>& origins) { set_allowed_origins(origins); }
  ~Policy() { set_allowed_origins({}); }
};

}  // namespace

TEST_CASE("without a list every origin is allowed but null, and WebSockets from anywhere") {
  Policy policy({});
  CHECK(is_origin_allowed("https://app.example.com"));
  CHECK(is_origin_allowed("http://localhost:3000"));
  CHECK_FALSE(is_origin_allowed("null"));
  CHECK_FALSE(is_origin_allowed(""));
  CHECK_FALSE(is_origin_allowed("https://x\r\nSet-Cookie: a=b"));  // never into a header
  CHECK(is_websocket_origin_allowed("https://anything.test"));
  CHECK(is_websocket_origin_allowed(""));
}

TEST_CASE("with a list only the listed origins, case-insensitively, and null only when listed") {
  Policy policy({"https://App.Example.com", "null"});
  CHECK(is_origin_allowed("https://app.example.com"));
  CHECK(is_origin_allowed("HTTPS://APP.EXAMPLE.COM"));
  CHECK(is_origin_allowed("null"));
  CHECK_FALSE(is_origin_allowed("https://app.example.com.evil.test"));
  CHECK_FALSE(is_origin_allowed("https://app.example.com:8443"));
  CHECK_FALSE(is_origin_allowed("http://app.example.com"));
  CHECK(is_websocket_origin_allowed("https://app.example.com"));
  CHECK_FALSE(is_websocket_origin_allowed("https://other.test"));
  CHECK(is_websocket_origin_allowed(""));  // not a browser: its token decides
}
