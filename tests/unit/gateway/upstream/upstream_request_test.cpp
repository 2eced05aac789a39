#include "upstream/upstream_request.hpp"

#include "auth/crypto.hpp"
#include "auth/upstream_signature.hpp"
#include "tls_client/client_tls_context.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::upstream;
using sb::connection::ConnectionIdentity;
using sb::connection::UpstreamEvent;
using sb::connection::UpstreamEventKind;
using Headers = std::vector<std::pair<std::string_view, std::string>>;

namespace {

std::string request_signature_of(const sb::upstream::UpstreamRequest& request, std::string_view ts, std::string_view path);

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));

const sb::auth::KeyRing keys{{"7aab239577fd4f24bc919802fb629f5f", "a5f2815d0d0c4b00bd27e832432f91ab"}};
const std::string signature =
    "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561,"
    "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760";

std::vector<sb::config::UpstreamRule> rules(std::initializer_list<const char*> texts) {
  std::vector<sb::config::UpstreamRule> out;
  for (const char* t : texts) {
    auto rule = sb::config::UpstreamRule::parse(t);
    REQUIRE(rule.ok());
    out.push_back(*rule);
  }
  return out;
}

ConnectionIdentity anonymous() {
  ConnectionIdentity identity;
  identity.connection_id = "0f9c97a2f0bf4706afe87a14e0797b11";
  identity.hub = "Chat";
  identity.hub_key = "chat";
  return identity;
}

UpstreamEvent event_of(UpstreamEventKind kind) {
  UpstreamEvent event;
  event.kind = kind;
  return event;
}

UpstreamEvent message_event(std::string target, std::string raw) {
  UpstreamEvent event;
  event.kind = UpstreamEventKind::message;
  event.message.type = sb::protocol::MessageType::invocation;
  event.message.target = std::move(target);
  event.message.invocation_id = "0";
  event.message.raw = std::move(raw);
  return event;
}

// What X-Switchboard-Signature must be for `request`: over its headers as built (the signature's own
// excepted) and its content type.
std::string request_signature_of(const sb::upstream::UpstreamRequest& request, std::string_view ts, std::string_view path) {
  sb::auth::HeaderList signed_headers;
  for (const auto& [name, value] : request.headers)
    if (name != "X-Switchboard-Signature") signed_headers.emplace_back(std::string(name), value);
  signed_headers.emplace_back("Content-Type", request.content_type);
  return sb::auth::request_signature(keys, ts, "POST", path, sb::auth::canonical_signed_headers(signed_headers), request.body);
}

}  // namespace

TEST_CASE("writes exactly the Azure headers for an anonymous connection") {
  auto request =
      build_upstream_request(rules({"http://fn/api"}), keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  REQUIRE(request.has_value());
  CHECK(request->url->to_string() == "http://fn/api");
  REQUIRE(request->event_id.size() == 22);
  Headers expected{{"X-ASRS-Connection-Id", "0f9c97a2f0bf4706afe87a14e0797b11"},
                   {"X-ASRS-Hub", "Chat"},
                   {"X-ASRS-Category", "connections"},
                   {"X-ASRS-Event", "connected"},
                   {"X-ASRS-Signature", signature},
                   {"X-Switchboard-Event-Id", request->event_id},
                   {"X-Switchboard-Timestamp", "1700000000"},
                   {"X-Switchboard-Signature", request_signature_of(*request, "1700000000", "/api")}};
  CHECK(request->headers == expected);
  CHECK(request->content_type == "application/json");
  CHECK(request->body == R"({"type":10})");
}

TEST_CASE("adds user id, claims and client query only when present") {
  auto identity = anonymous();
  identity.user_id = "alice";
  identity.claims = {{"a", "b"}, {"c", "d"}};
  identity.client_query = "?hub=Chat&id=abc";
  auto request =
      build_upstream_request(rules({"http://fn/api"}), keys, identity, sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  REQUIRE(request.has_value());
  Headers expected{{"X-ASRS-Connection-Id", "0f9c97a2f0bf4706afe87a14e0797b11"},
                   {"X-ASRS-Hub", "Chat"},
                   {"X-ASRS-Category", "connections"},
                   {"X-ASRS-Event", "connected"},
                   {"X-ASRS-User-Id", "alice"},
                   {"X-ASRS-User-Claims", "a: b, c: d"},
                   {"X-ASRS-Client-Query", "?hub=Chat&id=abc"},
                   {"X-ASRS-Signature", signature},
                   {"X-Switchboard-Event-Id", request->event_id},
                   {"X-Switchboard-Timestamp", "1700000000"},
                   {"X-Switchboard-Signature", request_signature_of(*request, "1700000000", "/api")}};
  CHECK(request->headers == expected);
}

TEST_CASE("signs the whole request: timestamp, method, path and query, identity headers, body") {
  auto request = build_upstream_request(rules({"http://fn:7071/api/{hub}?code=x"}), keys, anonymous(),
                                        sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  REQUIRE(request.has_value());
  // Computed independently. v2 covers the identity headers, the event id and the content type, sorted
  // by lower-cased name; v1 (for older receivers) only timestamp, method, target and body.
  std::string v2 = "v2\n1700000000\nPOST\n/api/Chat?code=x\n"
                   "content-type:application/json\n"
                   "x-asrs-category:connections\n"
                   "x-asrs-connection-id:0f9c97a2f0bf4706afe87a14e0797b11\n"
                   "x-asrs-event:connected\n"
                   "x-asrs-hub:Chat\n"
                   "x-switchboard-event-id:" + request->event_id + "\n"
                   "\n{\"type\":10}";
  std::string v1 = "1700000000\nPOST\n/api/Chat?code=x\n{\"type\":10}";
  auto sign = [](const std::string& key, const std::string& message) {
    return sb::auth::to_hex(sb::auth::hmac(sb::auth::HashAlgorithm::sha256, key, message));
  };
  std::string expected;
  for (const auto& key : keys.keys) expected += (expected.empty() ? "v2=" : ",v2=") + sign(key, v2);
  for (const auto& key : keys.keys) expected += ",v1=" + sign(key, v1);
  std::string actual;
  for (const auto& [name, value] : request->headers)
    if (name == "X-Switchboard-Signature") actual = value;
  CHECK(actual == expected);
}

TEST_CASE("gives every event its own event id") {
  auto r = rules({"http://fn/api"});
  auto first = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  auto second = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  REQUIRE(first.has_value());
  REQUIRE(second.has_value());
  CHECK(first->event_id != second->event_id);
}

TEST_CASE("formats the claims header as .NET Claim.ToString joined by comma and space") {
  CHECK(format_claims_header({{"aud", "https://x/client/?hub=chat"}, {"asrs.s.uid", "u1"}, {"role", "admin"}}) ==
        "aud: https://x/client/?hub=chat, asrs.s.uid: u1, role: admin");
  CHECK(format_claims_header({}) == "");
  CHECK(format_claims_header({{"evil", "a\r\nX-Injected: 1"}}) == "evil: a  X-Injected: 1");
}

TEST_CASE("writes the disconnected body with the error only when there is one") {
  auto r = rules({"http://fn/api"});
  SUBCASE("clean") {
    auto request = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::disconnected), kNow);
    REQUIRE(request.has_value());
    CHECK(request->body == R"({"type":11})");
    CHECK(request->content_type == "application/json");
    CHECK(request->headers[3] == std::pair<std::string_view, std::string>{"X-ASRS-Event", "disconnected"});
    CHECK(request->headers[2] == std::pair<std::string_view, std::string>{"X-ASRS-Category", "connections"});
  }
  SUBCASE("with an error") {
    auto event = event_of(UpstreamEventKind::disconnected);
    event.error = "x";
    auto request = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event, kNow);
    REQUIRE(request.has_value());
    CHECK(request->body == R"({"type":11,"error":"x"})");
  }
  SUBCASE("with an error that needs escaping") {
    auto event = event_of(UpstreamEventKind::disconnected);
    event.error = "say \"hi\"";
    auto request = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event, kNow);
    REQUIRE(request.has_value());
    CHECK(request->body == R"({"type":11,"error":"say \"hi\""})");
  }
}

TEST_CASE("sends a message event's raw record as the body") {
  std::string raw = R"({"type":1,"invocationId":"0","target":"broadcast","arguments":["hi"]})";
  auto request = build_upstream_request(rules({"http://fn/api"}), keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("broadcast", raw), kNow);
  REQUIRE(request.has_value());
  CHECK(request->body == raw);
  CHECK(request->content_type == "application/json");
  CHECK(request->headers[2] == std::pair<std::string_view, std::string>{"X-ASRS-Category", "messages"});
  CHECK(request->headers[3] == std::pair<std::string_view, std::string>{"X-ASRS-Event", "broadcast"});
}

TEST_CASE("uses the first matching rule") {
  auto r = rules({"hub=other;url=http://other/", "category=connections;url=http://connections/",
                  "event=broadcast;url=http://broadcast/", "http://fallback/"});
  auto connected = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow);
  REQUIRE(connected.has_value());
  CHECK(connected->url->to_string() == "http://connections/");
  auto broadcast = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("broadcast", "{}"), kNow);
  REQUIRE(broadcast.has_value());
  CHECK(broadcast->url->to_string() == "http://broadcast/");
  auto echo = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("echo", "{}"), kNow);
  REQUIRE(echo.has_value());
  CHECK(echo->url->to_string() == "http://fallback/");
}

TEST_CASE("sends nothing when no rule matches") {
  auto r = rules({"hub=other;url=http://other/", "event=connected;url=http://c/"});
  CHECK_FALSE(build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("broadcast", "{}"), kNow).has_value());
  CHECK_FALSE(build_upstream_request({}, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::connected), kNow).has_value());
}

TEST_CASE("expands the URL template for the event") {
  auto r = rules({"http://fn:7071/api/{hub}/{category}/{event}"});
  auto message = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("send to/all", "{}"), kNow);
  REQUIRE(message.has_value());
  CHECK(message->url->to_string() == "http://fn:7071/api/Chat/messages/send%20to%2Fall");
  auto disconnected = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, event_of(UpstreamEventKind::disconnected), kNow);
  REQUIRE(disconnected.has_value());
  CHECK(disconnected->url->to_string() == "http://fn:7071/api/Chat/connections/disconnected");
}

TEST_CASE("an https rule's TLS settings travel with each request made from it") {
  auto tls = sb::tls_client::ClientTlsContext::create({});
  REQUIRE(tls.ok());
  auto r = rules({"hub=secure;url=https://fn.example.com:8443/api/{event}", "http://fallback/"});
  r[0].tls = *tls;
  auto identity = anonymous();
  identity.hub = "secure";
  auto secure = build_upstream_request(r, keys, identity, sb::protocol::HubProtocolKind::json, message_event("say", "{}"), kNow);
  REQUIRE(secure.has_value());
  CHECK(secure->url->to_string() == "https://fn.example.com:8443/api/say");
  CHECK(secure->url->origin() == "https://fn.example.com:8443");
  CHECK(secure->tls == *tls);
  auto plain = build_upstream_request(r, keys, anonymous(), sb::protocol::HubProtocolKind::json, message_event("say", "{}"), kNow);
  REQUIRE(plain.has_value());
  CHECK(plain->tls == nullptr);
}

TEST_CASE("a route label keeps the rule's scheme, host and path, and drops user info, query and fragment") {
  CHECK(route_label("http://127.0.0.1:7071/upstream") == "http://127.0.0.1:7071/upstream");
  CHECK(route_label("https://fn.azurewebsites.net/runtime/webhooks/signalr?code=SECRET") ==
        "https://fn.azurewebsites.net/runtime/webhooks/signalr");
  CHECK(route_label("https://user:p@ss@fn.example/{hub}/{event}#x") == "https://fn.example/{hub}/{event}");
  CHECK(route_label("http://host/a@b") == "http://host/a@b");  // an @ in the path is not user info
}
