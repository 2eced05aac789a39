#include "config/upstream_rule.hpp"

#include <doctest/doctest.h>

using sb::config::escape_data_string;
using sb::config::NamePattern;
using sb::config::UpstreamRule;
using sb::config::validate_url_template;

TEST_CASE("parses a bare URL template as a rule matching every event") {
  auto rule = UpstreamRule::parse("http://localhost:7071/runtime/webhooks/signalr?code=abc");
  REQUIRE(rule.ok());
  CHECK(rule->url_template == "http://localhost:7071/runtime/webhooks/signalr?code=abc");
  CHECK(rule->hubs.any);
  CHECK(rule->categories.any);
  CHECK(rule->events.any);
  CHECK(rule->matches("chat", "messages", "broadcast"));
  CHECK(rule->matches("other", "connections", "connected"));
}

TEST_CASE("parses the rule form with trimmed comma lists") {
  auto rule = UpstreamRule::parse(
      " hub=chat, news ; category = connections ;event=connected,  disconnected;url=http://h/{hub}");
  REQUIRE_MESSAGE(rule.ok(), (rule.ok() ? "" : rule.error().message));
  CHECK_FALSE(rule->hubs.any);
  CHECK(rule->hubs.names == std::vector<std::string>{"chat", "news"});
  CHECK(rule->categories.names == std::vector<std::string>{"connections"});
  CHECK(rule->events.names == std::vector<std::string>{"connected", "disconnected"});
  CHECK(rule->url_template == "http://h/{hub}");
  CHECK(rule->matches("chat", "connections", "disconnected"));
  CHECK(rule->matches("news", "connections", "connected"));
  CHECK_FALSE(rule->matches("chat", "messages", "connected"));
  CHECK_FALSE(rule->matches("chat", "connections", "broadcast"));
  CHECK_FALSE(rule->matches("sports", "connections", "connected"));
}

TEST_CASE("treats * and omitted patterns as any") {
  SUBCASE("explicit star") {
    auto rule = UpstreamRule::parse("hub=*;category=*;event=*;url=http://h/");
    REQUIRE(rule.ok());
    CHECK(rule->matches("x", "y", "z"));
  }
  SUBCASE("omitted keys") {
    auto rule = UpstreamRule::parse("event=broadcast;url=http://h/");
    REQUIRE(rule.ok());
    CHECK(rule->hubs.any);
    CHECK(rule->categories.any);
    CHECK(rule->matches("any", "messages", "broadcast"));
    CHECK_FALSE(rule->matches("any", "messages", "echo"));
  }
  SUBCASE("url alone") {
    auto rule = UpstreamRule::parse("url=http://h/");
    REQUIRE(rule.ok());
    CHECK(rule->matches("x", "y", "z"));
  }
  SUBCASE("a star inside a list") {
    auto pattern = NamePattern::parse("a, *");
    REQUIRE(pattern.ok());
    CHECK(pattern->any);
  }
}

TEST_CASE("keeps a ';' in the url's query") {
  auto rule = UpstreamRule::parse("hub=chat;url=http://h/api?code=a;b&x=1");
  REQUIRE(rule.ok());
  CHECK(rule->url_template == "http://h/api?code=a;b&x=1");
}

TEST_CASE("rejects a rule with an unknown key") {
  auto rule = UpstreamRule::parse("hub=chat;color=red;url=http://h/");
  REQUIRE_FALSE(rule.ok());
  CHECK(rule.error().code == "invalid_rule");
  CHECK(rule.error().message.find("'color'") != std::string::npos);
}

TEST_CASE("rejects a rule without url") {
  SUBCASE("no url key") {
    auto rule = UpstreamRule::parse("hub=chat;event=x");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().message == "the rule has no url=");
  }
  SUBCASE("empty url") {
    auto rule = UpstreamRule::parse("hub=chat;url=");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().message == "the rule has no url=");
  }
  SUBCASE("an item without =") {
    auto rule = UpstreamRule::parse("hub=chat;junk;url=http://h/");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().message.find("expected key=value") != std::string::npos);
  }
  SUBCASE("an empty list item") {
    auto rule = UpstreamRule::parse("hub=a,,b;url=http://h/");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().code == "invalid_pattern");
  }
}

TEST_CASE("accepts https templates; refuses other schemes") {
  SUBCASE("https") {
    auto rule = UpstreamRule::parse("https://h/api/{event}");
    REQUIRE(rule.ok());
    CHECK(rule->url_template == "https://h/api/{event}");
    CHECK(rule->expand("chat", "messages", "say") == "https://h/api/say");
    CHECK(rule->tls == nullptr);  // load_config gives it the process's TLS context
  }
  SUBCASE("https in the rule form, any case, with a port") {
    auto rule = UpstreamRule::parse("hub=chat;url=HTTPS://h:8443/api");
    REQUIRE(rule.ok());
    CHECK(rule->hubs.names == std::vector<std::string>{"chat"});
  }
  SUBCASE("ws and wss") {
    for (const char* text : {"ws://h/api", "wss://h/api"}) {
      auto rule = UpstreamRule::parse(text);
      REQUIRE_FALSE(rule.ok());
      CHECK(rule.error().code == "invalid_url");
      CHECK(rule.error().message.find("is not an absolute http:// or https:// URL") != std::string::npos);
    }
  }
  SUBCASE("not a URL") {
    auto rule = UpstreamRule::parse("localhost:7071/api");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().code == "invalid_url");
  }
  SUBCASE("no host") {
    auto rule = UpstreamRule::parse("http:///api");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().code == "invalid_url");
  }
}

TEST_CASE("rejects unknown placeholders and placeholders in the host") {
  SUBCASE("unknown") {
    auto rule = UpstreamRule::parse("http://h/{hub}/{user}");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().message.find("only {hub}, {category} and {event}") != std::string::npos);
  }
  SUBCASE("unterminated") {
    CHECK_FALSE(validate_url_template("http://h/{hub").ok());
  }
  SUBCASE("in the host") {
    auto rule = UpstreamRule::parse("http://{hub}.example.com/api");
    REQUIRE_FALSE(rule.ok());
    CHECK(rule.error().message.find("placeholders are not allowed in the host") != std::string::npos);
  }
  SUBCASE("known placeholders are fine") {
    CHECK(validate_url_template("http://h:7071/{hub}/{category}/{event}?x={event}").ok());
  }
}

TEST_CASE("expands placeholders with Uri.EscapeDataString encoding") {
  auto rule = UpstreamRule::parse("http://h/api/{hub}/{category}/{event}?e={event}");
  REQUIRE(rule.ok());
  CHECK(rule->expand("chat", "messages", "broadcast") == "http://h/api/chat/messages/broadcast?e=broadcast");
  CHECK(rule->expand("chat", "messages", "a b/c") == "http://h/api/chat/messages/a%20b%2Fc?e=a%20b%2Fc");
  CHECK(rule->expand("chat", "messages", "x?y&z=1#") ==
        "http://h/api/chat/messages/x%3Fy%26z%3D1%23?e=x%3Fy%26z%3D1%23");
  SUBCASE("a target of . or .. never makes a dot segment (issue 14: `..` reached /api/handler with the key)") {
    auto keyed = UpstreamRule::parse("http://h/api/{hub}/{event}/handler?code=SECRET");
    REQUIRE(keyed.ok());
    CHECK(keyed->expand("chat", "messages", "..") == "http://h/api/chat/%2E%2E/handler?code=SECRET");
    CHECK(keyed->expand("chat", "messages", ".") == "http://h/api/chat/%2E/handler?code=SECRET");
    CHECK(keyed->expand("chat", "messages", "...") == "http://h/api/chat/.../handler?code=SECRET");  // not a dot segment
    CHECK(keyed->expand("chat", "messages", "a.b") == "http://h/api/chat/a.b/handler?code=SECRET");
  }
  SUBCASE("placeholder names are case-insensitive") {
    auto upper = UpstreamRule::parse("http://h/{Hub}/{EVENT}");
    REQUIRE(upper.ok());
    CHECK(upper->expand("chat", "messages", "e") == "http://h/chat/e");
  }
  SUBCASE("a template without placeholders is unchanged") {
    auto plain = UpstreamRule::parse("http://h/api?code=k");
    REQUIRE(plain.ok());
    CHECK(plain->expand("chat", "messages", "e") == "http://h/api?code=k");
  }
}

TEST_CASE("escapes everything but RFC 3986 unreserved characters") {
  CHECK(escape_data_string("AZaz09-._~") == "AZaz09-._~");
  CHECK(escape_data_string(" ") == "%20");
  CHECK(escape_data_string("/") == "%2F");
  CHECK(escape_data_string("+%!*'()") == "%2B%25%21%2A%27%28%29");
  CHECK(escape_data_string("h\xc3\xa9") == "h%C3%A9");
  CHECK(escape_data_string("") == "");
}

TEST_CASE("matches names case-insensitively") {
  auto pattern = NamePattern::parse("Chat");
  REQUIRE(pattern.ok());
  CHECK(pattern->matches("chat"));
  CHECK(pattern->matches("CHAT"));
  CHECK_FALSE(pattern->matches("chats"));
}

TEST_CASE("builds a rule from the emulator's parts") {
  auto rule = UpstreamRule::from_parts("http://h/{event}", "chat", "messages", "a,b");
  REQUIRE(rule.ok());
  CHECK(rule->matches("chat", "messages", "b"));
  CHECK_FALSE(rule->matches("chat", "connections", "b"));
  CHECK_FALSE(UpstreamRule::from_parts("ftp://h/", "*", "*", "*").ok());
}
