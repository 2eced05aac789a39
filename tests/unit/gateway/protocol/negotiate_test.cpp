#include "protocol/negotiate.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using sb::protocol::encode_negotiate_error;
using sb::protocol::encode_negotiate_response;
using sb::protocol::NegotiateResponse;

TEST_CASE("writes a v1 negotiate response with a connection token and the transports in order") {
  NegotiateResponse r;
  r.connection_id = "conn";
  r.connection_token = "token";
  r.server_sent_events = true;
  r.long_polling = true;
  auto text = encode_negotiate_response(r);
  CHECK(text == R"({"negotiateVersion":1,"connectionId":"conn","connectionToken":"token","availableTransports":[)"
                R"({"transport":"WebSockets","transferFormats":["Text","Binary"]},)"
                R"({"transport":"ServerSentEvents","transferFormats":["Text"]},)"
                R"({"transport":"LongPolling","transferFormats":["Text","Binary"]}]})");
  auto json = nlohmann::json::parse(text);
  CHECK(json["availableTransports"].size() == 3);
  CHECK_FALSE(json.contains("ProtocolVersion"));
}

TEST_CASE("lists only the enabled transports") {
  NegotiateResponse r;
  r.connection_id = "c";
  r.connection_token = "t";
  SUBCASE("websockets only") {
    auto json = nlohmann::json::parse(encode_negotiate_response(r));
    REQUIRE(json["availableTransports"].size() == 1);
    CHECK(json["availableTransports"][0]["transport"] == "WebSockets");
  }
  SUBCASE("long polling only") {
    r.websockets = false;
    r.long_polling = true;
    auto json = nlohmann::json::parse(encode_negotiate_response(r));
    REQUIRE(json["availableTransports"].size() == 1);
    CHECK(json["availableTransports"][0]["transport"] == "LongPolling");
  }
  SUBCASE("none") {
    r.websockets = false;
    auto json = nlohmann::json::parse(encode_negotiate_response(r));
    CHECK(json["availableTransports"].empty());
  }
}

TEST_CASE("writes a v0 negotiate response without a connection token") {
  NegotiateResponse r;
  r.negotiate_version = 0;
  r.connection_id = "conn";
  r.connection_token = "secret";
  auto text = encode_negotiate_response(r);
  auto json = nlohmann::json::parse(text);
  CHECK(json["negotiateVersion"] == 0);
  CHECK(json["connectionId"] == "conn");
  CHECK_FALSE(json.contains("connectionToken"));
  CHECK(text.find("secret") == std::string::npos);
  CHECK_FALSE(json.contains("ProtocolVersion"));
}

TEST_CASE("escapes ids and writes negotiate errors") {
  NegotiateResponse r;
  r.connection_id = "a\"b";
  r.connection_token = "c\\d";
  auto json = nlohmann::json::parse(encode_negotiate_response(r));
  CHECK(json["connectionId"] == "a\"b");
  CHECK(json["connectionToken"] == "c\\d");
  CHECK(encode_negotiate_error("Hub \"x\" is invalid") == R"({"error":"Hub \"x\" is invalid"})");
}

TEST_CASE("writes tokenLifetimeSeconds only when the token has one (ASP.NET 11 authentication refresh)") {
  NegotiateResponse r;
  r.connection_id = "c";
  r.connection_token = "t";
  CHECK_FALSE(nlohmann::json::parse(encode_negotiate_response(r)).contains("tokenLifetimeSeconds"));
  r.token_lifetime_seconds = 3599;
  CHECK(nlohmann::json::parse(encode_negotiate_response(r))["tokenLifetimeSeconds"] == 3599);
}
