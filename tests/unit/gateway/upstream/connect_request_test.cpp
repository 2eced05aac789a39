#include "upstream/connect_request.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "auth/upstream_signature.hpp"

using namespace sb::upstream;

namespace {

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
const sb::auth::KeyRing keys{{"7aab239577fd4f24bc919802fb629f5f"}};

std::vector<sb::config::UpstreamRule> rules(std::initializer_list<const char*> texts) {
  std::vector<sb::config::UpstreamRule> out;
  for (const char* t : texts) {
    auto rule = sb::config::UpstreamRule::parse(t);
    REQUIRE(rule.ok());
    out.push_back(*rule);
  }
  return out;
}

std::string header(const UpstreamRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "(absent)";
}

}  // namespace

TEST_CASE("only a rule that names connect matches it") {
  SUBCASE("a bare URL template matches every event but connect") {
    CHECK(find_connect_rule(rules({"http://f/api"}), "chat") == nullptr);
  }
  SUBCASE("event=* does not match connect") {
    CHECK(find_connect_rule(rules({"hub=*;category=*;event=*;url=http://f/api"}), "chat") == nullptr);
  }
  SUBCASE("event=connect does, and a later rule is found past earlier catch-alls") {
    auto r = rules({"http://f/all", "hub=chat;category=connections;event=connected,Connect;url=http://f/gate"});
    const auto* rule = find_connect_rule(r, "Chat");
    REQUIRE(rule != nullptr);
    CHECK(rule->url_template == "http://f/gate");
  }
  SUBCASE("the hub and category patterns still apply") {
    CHECK(find_connect_rule(rules({"hub=other;category=*;event=connect;url=http://f/gate"}), "chat") == nullptr);
    CHECK(find_connect_rule(rules({"hub=*;category=messages;event=connect;url=http://f/gate"}), "chat") == nullptr);
  }
}

TEST_CASE("builds the connect request: connected's headers without a connection id, and a JSON body") {
  auto r = rules({"hub=*;category=connections;event=connect;url=http://f/api/{hub}/{event}"});
  ConnectCaller caller;
  caller.hub = "Chat";
  caller.user_id = "alice";
  caller.claims = {{"sub", "alice"}, {"role", "admin"}, {"role", "dev"}};
  caller.query = {{"hub", "Chat"}, {"room", "7"}};
  caller.client_query = "?hub=Chat&room=7";
  auto request = build_connect_request(r[0], keys, caller, kNow);

  CHECK(request.url->to_string() == "http://f/api/Chat/connect");
  CHECK(header(request, "X-ASRS-Connection-Id") == "(absent)");
  CHECK(header(request, "X-ASRS-Hub") == "Chat");
  CHECK(header(request, "X-ASRS-Category") == "connections");
  CHECK(header(request, "X-ASRS-Event") == "connect");
  CHECK(header(request, "X-ASRS-User-Id") == "alice");
  CHECK(header(request, "X-ASRS-User-Claims") == "sub: alice, role: admin, role: dev");
  CHECK(header(request, "X-ASRS-Client-Query") == "?hub=Chat&room=7");
  CHECK(header(request, "X-ASRS-Signature") == sb::auth::upstream_signature(keys, ""));
  CHECK(header(request, "X-Switchboard-Timestamp") == "1700000000");
  sb::auth::HeaderList signed_headers;
  for (const auto& [name, value] : request.headers)
    if (name != "X-Switchboard-Signature") signed_headers.emplace_back(std::string(name), value);
  signed_headers.emplace_back("Content-Type", request.content_type);
  CHECK(header(request, "X-Switchboard-Signature") ==
        sb::auth::request_signature(keys, "1700000000", "POST", "/api/Chat/connect",
                                    sb::auth::canonical_signed_headers(signed_headers), request.body));
  CHECK(header(request, "X-Switchboard-Event-Id") == request.event_id);
  CHECK(request.content_type == "application/json");

  auto body = nlohmann::json::parse(request.body);
  CHECK(body["type"] == "connect");
  CHECK(body["claims"]["sub"] == "alice");
  CHECK(body["claims"]["role"] == nlohmann::json::array({"admin", "dev"}));
  CHECK(body["query"]["room"] == "7");
}

TEST_CASE("builds an anonymous connect request without user headers and with empty objects") {
  auto r = rules({"hub=*;category=*;event=connect;url=http://f/api"});
  ConnectCaller caller;
  caller.hub = "chat";
  auto request = build_connect_request(r[0], keys, caller, kNow);
  CHECK(header(request, "X-ASRS-User-Id") == "(absent)");
  CHECK(header(request, "X-ASRS-User-Claims") == "(absent)");
  CHECK(request.body == R"({"claims":{},"query":{},"type":"connect"})");
}
