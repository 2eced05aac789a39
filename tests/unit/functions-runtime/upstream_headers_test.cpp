#include "switchboard/detail/upstream_headers.hpp"

#include <doctest/doctest.h>

using switchboard::detail::find_header;
using switchboard::detail::HeaderMap;
using switchboard::detail::parse_client_query;
using switchboard::detail::parse_user_claims;

using Pairs = std::multimap<std::string, std::string>;

TEST_CASE("parses the claims header of type: value pairs joined by comma and space") {
  // The shape from azure-sdk-for-net#27404 (PROTOCOL.md part 2 §2.3).
  const Pairs claims = parse_user_claims("aud: https://x/client/?hub=chat, asrs.s.uid: u1, role: admin");
  CHECK(claims == Pairs{{"aud", "https://x/client/?hub=chat"}, {"asrs.s.uid", "u1"}, {"role", "admin"}});
}

TEST_CASE("keeps every value of a claim type that repeats") {
  const Pairs claims = parse_user_claims("role: admin, role: editor");
  REQUIRE(claims.count("role") == 2);
  auto [first, last] = claims.equal_range("role");
  CHECK(first->second == "admin");
  CHECK(std::next(first)->second == "editor");
}

TEST_CASE("keeps a claim value that contains a comma and a space with the claim before it") {
  const Pairs claims = parse_user_claims("name: Smith, John, role: admin");
  CHECK(claims == Pairs{{"name", "Smith, John"}, {"role", "admin"}});
}

TEST_CASE("keeps colons inside a claim value, splitting only at the first colon and space") {
  const Pairs claims = parse_user_claims("url: http://h:80/a: b");
  CHECK(claims == Pairs{{"url", "http://h:80/a: b"}});
}

TEST_CASE("parses an empty claims header as no claims") {
  CHECK(parse_user_claims("").empty());
  CHECK(parse_user_claims("no separator here").empty());
}

TEST_CASE("parses the client query with its leading question mark, percent-decoded") {
  const Pairs query = parse_client_query("?hub=chat&id=abc%3D%3D&name=J%C3%B6rg+M&flag&=x&&room=a&room=b");
  CHECK(query == Pairs{{"hub", "chat"},
                       {"id", "abc=="},
                       {"name", "J\xc3\xb6rg M"},
                       {"flag", ""},
                       {"", "x"},
                       {"room", "a"},
                       {"room", "b"}});
}

TEST_CASE("parses a client query without the leading question mark") {
  CHECK(parse_client_query("a=1&b=2") == Pairs{{"a", "1"}, {"b", "2"}});
  CHECK(parse_client_query("").empty());
  CHECK(parse_client_query("?").empty());
}

TEST_CASE("finds a header whatever the case of its name") {
  const HeaderMap headers{{"x-asrs-hub", "chat"}, {"X-ASRS-Event", "say"}};
  REQUIRE(find_header(headers, "X-ASRS-Hub") != nullptr);
  CHECK(*find_header(headers, "X-ASRS-Hub") == "chat");
  CHECK(*find_header(headers, "x-asrs-event") == "say");
  CHECK(find_header(headers, "X-ASRS-User-Id") == nullptr);
}
