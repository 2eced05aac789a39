#include "http/url_query.hpp"

#include <doctest/doctest.h>

using namespace sb::http;

TEST_CASE("percent-decodes escapes in either case") {
  CHECK(percent_decode("a%20b", false) == std::optional<std::string>("a b"));
  CHECK(percent_decode("%2f%2F", false) == std::optional<std::string>("//"));
  CHECK(percent_decode("%C3%A9", false) == std::optional<std::string>("\xc3\xa9"));
  CHECK(percent_decode("plain", false) == std::optional<std::string>("plain"));
  CHECK(percent_decode("", false) == std::optional<std::string>(""));
  CHECK(percent_decode("%41", false) == std::optional<std::string>("A"));
  CHECK(percent_decode("x%41", false) == std::optional<std::string>("xA"));
}

TEST_CASE("rejects malformed escapes and an encoded NUL") {
  CHECK_FALSE(percent_decode("%", false).has_value());
  CHECK_FALSE(percent_decode("%4", false).has_value());
  CHECK_FALSE(percent_decode("a%4", false).has_value());
  CHECK_FALSE(percent_decode("%zz", false).has_value());
  CHECK_FALSE(percent_decode("%g1", false).has_value());
  CHECK_FALSE(percent_decode("%00", false).has_value());
  CHECK_FALSE(percent_decode("a%00b", true).has_value());
}

TEST_CASE("turns + into a space only in query mode") {
  CHECK(percent_decode("a+b", true) == std::optional<std::string>("a b"));
  CHECK(percent_decode("a+b", false) == std::optional<std::string>("a+b"));
  CHECK(percent_decode("a%2Bb", true) == std::optional<std::string>("a+b"));
}

TEST_CASE("splits a request target into path and query") {
  auto t = split_target("/client/?hub=chat&id=x");
  CHECK(t.path == "/client/");
  CHECK(t.query == "hub=chat&id=x");
  auto no_query = split_target("/api/v1/health");
  CHECK(no_query.path == "/api/v1/health");
  CHECK(no_query.query.empty());
  auto empty_query = split_target("/x?");
  CHECK(empty_query.path == "/x");
  CHECK(empty_query.query.empty());
}

TEST_CASE("parses query pairs in order, decoded") {
  auto params = parse_query("hub=chat&excluded=a%2Fb&excluded=c+d&flag&=v&&empty=");
  REQUIRE(params.has_value());
  QueryParams expected{{"hub", "chat"}, {"excluded", "a/b"}, {"excluded", "c d"},
                       {"flag", ""},    {"", "v"},           {"empty", ""}};
  CHECK(*params == expected);
  CHECK(parse_query("")->empty());
  SUBCASE("a value may contain '='") {
    auto p = parse_query("access_token=a.b=c");
    REQUIRE(p.has_value());
    CHECK((*p)[0].second == "a.b=c");
  }
  SUBCASE("a malformed escape fails the whole query") {
    CHECK_FALSE(parse_query("hub=chat&bad=%zz").has_value());
    CHECK_FALSE(parse_query("b%00ad=1").has_value());
  }
}

TEST_CASE("finds query values case-insensitively") {
  auto params = parse_query("Hub=chat&EXCLUDED=a&excluded=b");
  REQUIRE(params.has_value());
  CHECK(query_values(*params, "hub") == std::vector<std::string>{"chat"});
  CHECK(query_values(*params, "excluded") == std::vector<std::string>{"a", "b"});
  CHECK(query_values(*params, "missing").empty());
  CHECK(query_value(*params, "HUB") == std::optional<std::string>("chat"));
  CHECK(query_value(*params, "excluded") == std::optional<std::string>("b"));  // the last one
  CHECK_FALSE(query_value(*params, "missing").has_value());
}

TEST_CASE("removes named parameters from a raw query") {
  CHECK(query_without("hub=chat&id=x&access_token=secret&a=%20", {"access_token"}) == "?hub=chat&id=x&a=%20");
  CHECK(query_without("ACCESS_TOKEN=s&hub=chat", {"access_token"}) == "?hub=chat");
  CHECK(query_without("access_token=s", {"access_token"}) == "");
  CHECK(query_without("", {"access_token"}) == "");
  CHECK(query_without("id=1&hub=c&id=2", {"id", "access_token"}) == "?hub=c");
  CHECK(query_without("a=1&&b=2", {}) == "?a=1&b=2");
}

TEST_CASE("counts query parameters the way parse_query finds them") {
  CHECK(count_query_parameters("") == 0);
  CHECK(count_query_parameters("hub=a") == 1);
  CHECK(count_query_parameters("hub=a&&id=b&") == 2);  // empty pairs are skipped, as parse_query skips them
  CHECK(count_query_parameters("a&b&c=%zz") == 3);     // counted without decoding
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "k=v&";
  CHECK(count_query_parameters(many) == 1000);
  CHECK(count_query_parameters(many) == parse_query(many)->size());
}

TEST_CASE("redacted_target hides credentials and token-like values in logged URLs") {
  using sb::http::redacted_target;
  // Issue 14: a /client request over the URL limit was logged with id=<connection token>.
  CHECK(redacted_target("/client/?hub=chat&id=AQEAaOXPiwEAABYAQUFB.GtGEVcZo") == "/client/?hub=chat&id=***");
  CHECK(redacted_target("/client/?hub=chat&ACCESS_TOKEN=eyJ.x.y&_=1") == "/client/?hub=chat&ACCESS_TOKEN=***&_=1");
  CHECK(redacted_target("/api/x?code=short&Key=k&sig=s") == "/api/x?code=***&Key=***&sig=***");
  // Any long token-like value, whatever its name.
  CHECK(redacted_target("/p?next=eyJhbGciOiJIUzI1NiJ9.e30.abc") == "/p?next=***");
  CHECK(redacted_target("/p?name=a%20room&count=3") == "/p?name=a%20room&count=3");
  CHECK(redacted_target("/p?q=a+long+sentence+that+is+not+a+token+at+all") == "/p?q=***");  // token alphabet: redacted anyway
  // No query, an empty query, bare names and a target cut short.
  CHECK(redacted_target("/api/v1/hubs/chat") == "/api/v1/hubs/chat");
  CHECK(redacted_target("/p?") == "/p?");
  CHECK(redacted_target("/p?flag&id") == "/p?flag&id");
  CHECK(redacted_target("/p?hub=h&id=abc") == "/p?hub=h&id=***");
  CHECK(redacted_target("/p?hub=h&id=") == "/p?hub=h&id=***");
}
