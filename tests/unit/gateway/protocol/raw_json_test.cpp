#include "protocol/raw_json.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::protocol;

TEST_CASE("raw_object_members keeps the members' order and their text as written") {
  std::string text = R"( {"zeta":1, "alpha" : {"y":2,"b":[3,{"k":"v","c":null}]},"mid":"m}\"]", "n":1.50e+2 } )";
  auto members = raw_object_members(text);
  REQUIRE(members);
  REQUIRE(members->size() == 4);
  CHECK((*members)[0].key == "zeta");
  CHECK((*members)[0].value == "1");
  CHECK((*members)[1].key == "alpha");
  CHECK((*members)[1].value == R"({"y":2,"b":[3,{"k":"v","c":null}]})");
  CHECK((*members)[2].value == R"("m}\"]")");
  CHECK((*members)[3].value == "1.50e+2");
}

TEST_CASE("raw_object_members unescapes keys") {
  auto members = raw_object_members(R"({"t\u0061rget":"x","a\"b":[]})");
  REQUIRE(members);
  CHECK((*members)[0].key == "target");
  CHECK((*members)[1].key == "a\"b");
}

TEST_CASE("raw_array_elements splits an array") {
  auto elements = raw_array_elements(R"([ 1 ,"a,b", {"x":[1,2]} ,[],null,true])");
  REQUIRE(elements);
  REQUIRE(elements->size() == 6);
  CHECK((*elements)[1] == R"("a,b")");
  CHECK((*elements)[2] == R"({"x":[1,2]})");
  CHECK((*elements)[3] == "[]");
  CHECK(raw_array_elements("[]")->empty());
  CHECK(raw_array_elements(" [ ] ")->empty());
}

TEST_CASE("raw_member finds the last of duplicate keys, case-insensitively when asked") {
  std::string text = R"({"Arguments":[1],"target":"a","arguments":[2]})";
  CHECK(*raw_member(text, "arguments") == "[2]");
  CHECK(*raw_member(text, "ARGUMENTS", true) == "[2]");
  CHECK(!raw_member(text, "ARGUMENTS"));
  CHECK(!raw_member(text, "missing"));
}

TEST_CASE("broken structure is refused, never read past") {
  for (std::string text : {"", "{", "[", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\":[}", "{\"a\":{]}",
                           "{\"a\":\"x}", "{a:1}", "{\"a\":1} x", "[\"\\\"]", "{\"a\" 1}", "1", "\"s\""}) {
    CAPTURE(text);
    CHECK(!raw_object_members(text));
    CHECK(!raw_array_elements(text));
  }
}

TEST_CASE("deep nesting is scanned without recursion") {
  std::string deep = "[" + std::string(100000, '[') + std::string(100000, ']') + "]";
  auto elements = raw_array_elements(deep);
  REQUIRE(elements);
  CHECK(elements->size() == 1);
}
