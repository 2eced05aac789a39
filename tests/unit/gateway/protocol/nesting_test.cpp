#include "protocol/nesting.hpp"

#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

using namespace sb::protocol;
using nlohmann::json;

namespace {

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (auto b : list) out += static_cast<char>(b);
  return out;
}

std::string pack(const json& value) {
  auto v = json::to_msgpack(value);
  return std::string(v.begin(), v.end());
}

// `depth` single-element arrays, the innermost holding 1: `91 91 … 01`.
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '\x91') + '\x01';
}

// `depth` single-entry maps, {"k":{"k":…1}}.
std::string nested_maps(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += bytes({0x81, 0xa1, 'k'});
  return out + '\x01';
}

}  // namespace

TEST_CASE("json_depth_within counts nesting of arrays and objects") {
  CHECK(json_depth_within("", 0));
  CHECK(json_depth_within("1", 0));
  CHECK_FALSE(json_depth_within("[]", 0));
  CHECK(json_depth_within("[]", 1));
  CHECK(json_depth_within(R"([{"a":[1]}])", 3));
  CHECK_FALSE(json_depth_within(R"([{"a":[1]}])", 2));
  CHECK(json_depth_within("[][][][]", 1));  // siblings don't add up
  CHECK(json_depth_within(std::string(128, '[') + std::string(128, ']')));
  CHECK_FALSE(json_depth_within(std::string(129, '[') + std::string(129, ']')));
  CHECK_FALSE(json_depth_within(std::string(100000, '[')));  // unbalanced, still rejected
}

TEST_CASE("json_depth_within ignores brackets inside strings") {
  CHECK(json_depth_within(R"(["[[[[{{{{"])", 1));
  CHECK(json_depth_within(R"({"]]]]":"}}}}"})", 1));
  SUBCASE("an escaped quote doesn't end the string") {
    CHECK(json_depth_within(R"(["\"[[[["])", 1));
  }
  SUBCASE("an escaped backslash does not escape the closing quote") {
    CHECK_FALSE(json_depth_within(R"(["\\",[[1]]])", 2));
    CHECK(json_depth_within(R"(["\\",[[1]]])", 3));
  }
  SUBCASE("brackets after a string count again") {
    CHECK_FALSE(json_depth_within(R"(["a",["b",["c"]]])", 2));
  }
  SUBCASE("a backslash at the very end doesn't read past the input") {
    CHECK(json_depth_within(R"(["\)", 1));
  }
}

TEST_CASE("json_depth_within ignores stray closing brackets") {
  CHECK(json_depth_within("]]]}}}[1]", 1));
  CHECK_FALSE(json_depth_within("]]][[1]]", 1));
}

TEST_CASE("msgpack_well_formed accepts each type family") {
  SUBCASE("scalars") {
    for (const auto& b :
         {bytes({0x00}), bytes({0x7f}), bytes({0xe0}), bytes({0xff}), bytes({0xc0}), bytes({0xc2}), bytes({0xc3}),
          bytes({0xcc, 1}), bytes({0xcd, 1, 2}), bytes({0xce, 1, 2, 3, 4}), bytes({0xcf, 1, 2, 3, 4, 5, 6, 7, 8}),
          bytes({0xd0, 1}), bytes({0xd1, 1, 2}), bytes({0xd2, 1, 2, 3, 4}), bytes({0xd3, 1, 2, 3, 4, 5, 6, 7, 8}),
          bytes({0xca, 0x3f, 0xc0, 0, 0}), bytes({0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0})}) {
      CAPTURE(b.size());
      CHECK(msgpack_well_formed(b));
    }
  }
  SUBCASE("strings") {
    CHECK(msgpack_well_formed(bytes({0xa0})));
    CHECK(msgpack_well_formed(bytes({0xa3, 'x', 'y', 'z'})));
    CHECK(msgpack_well_formed(pack(std::string(31, 's'))));
    CHECK(msgpack_well_formed(bytes({0xd9, 2, 'a', 'b'})));
    CHECK(msgpack_well_formed(bytes({0xda, 0, 2, 'a', 'b'})));
    CHECK(msgpack_well_formed(bytes({0xdb, 0, 0, 0, 2, 'a', 'b'})));
    CHECK(msgpack_well_formed(pack(std::string(70000, 's'))));
  }
  SUBCASE("binaries") {
    CHECK(msgpack_well_formed(bytes({0xc4, 2, 1, 2})));
    CHECK(msgpack_well_formed(bytes({0xc5, 0, 2, 1, 2})));
    CHECK(msgpack_well_formed(bytes({0xc6, 0, 0, 0, 2, 1, 2})));
  }
  SUBCASE("extensions") {
    CHECK(msgpack_well_formed(bytes({0xd4, 1, 0xaa})));
    CHECK(msgpack_well_formed(bytes({0xd5, 1, 0xaa, 0xbb})));
    CHECK(msgpack_well_formed(bytes({0xd6, 0xff, 0, 0, 0, 0})));  // timestamp 32, as the JS client writes Dates
    CHECK(msgpack_well_formed(bytes({0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})));
    CHECK(msgpack_well_formed(std::string(1, '\xd8') + std::string(17, '\x01')));
    CHECK(msgpack_well_formed(bytes({0xc7, 2, 5, 0xaa, 0xbb})));
    CHECK(msgpack_well_formed(bytes({0xc8, 0, 2, 5, 0xaa, 0xbb})));
    CHECK(msgpack_well_formed(bytes({0xc9, 0, 0, 0, 2, 5, 0xaa, 0xbb})));
    CHECK(msgpack_well_formed(bytes({0xc7, 0, 5})));  // empty payload
  }
  SUBCASE("arrays") {
    CHECK(msgpack_well_formed(bytes({0x90})));
    CHECK(msgpack_well_formed(bytes({0x92, 0x01, 0xa1, 'a'})));
    CHECK(msgpack_well_formed(bytes({0xdc, 0, 2, 1, 2})));
    CHECK(msgpack_well_formed(bytes({0xdd, 0, 0, 0, 2, 1, 2})));
    CHECK(msgpack_well_formed(pack(json(std::vector<int>(20, 1)))));
  }
  SUBCASE("maps") {
    CHECK(msgpack_well_formed(bytes({0x80})));
    CHECK(msgpack_well_formed(bytes({0x81, 0xa1, 'a', 0x01})));
    CHECK(msgpack_well_formed(bytes({0xde, 0, 1, 0xa1, 'a', 0x01})));
    CHECK(msgpack_well_formed(bytes({0xdf, 0, 0, 0, 1, 0xa1, 'a', 0x01})));
  }
  SUBCASE("a realistic document") {
    CHECK(msgpack_well_formed(
        pack(json::parse(R"([1,{"h":"v"},"xyz","method",[42,-1.5,"s",null,true,{"a":[1,2,{"b":[]}]}],[]])"))));
  }
}

TEST_CASE("msgpack_well_formed rejects truncated values") {
  SUBCASE("empty input") {
    CHECK_FALSE(msgpack_well_formed(""));
  }
  SUBCASE("every proper prefix of a document") {
    auto doc = pack(json::parse(R"([1,{"h":"v"},"xyz","method",[42,-1.5,300,70000,"s",null,true],[]])"));
    for (std::size_t n = 0; n < doc.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(msgpack_well_formed(doc.substr(0, n)));
    }
  }
  SUBCASE("length prefixes cut short") {
    CHECK_FALSE(msgpack_well_formed(bytes({0xd9})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xda, 0})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xdb, 0, 0, 0})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xc5, 0})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xc9, 0, 0, 0, 1})));  // no type byte
    CHECK_FALSE(msgpack_well_formed(bytes({0xdc, 0})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xdf, 0, 0, 0})));
  }
  SUBCASE("containers promising more than the input holds") {
    CHECK_FALSE(msgpack_well_formed(bytes({0x92, 0x01})));
    CHECK_FALSE(msgpack_well_formed(bytes({0x81, 0xa1, 'a'})));  // a key without its value
    CHECK_FALSE(msgpack_well_formed(bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 'a'})));
  }
  SUBCASE("fixed-size values cut short") {
    CHECK_FALSE(msgpack_well_formed(bytes({0xcc})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xcf, 1, 2, 3, 4, 5, 6, 7})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xcb, 0, 0, 0})));
    CHECK_FALSE(msgpack_well_formed(bytes({0xd4, 1})));
    CHECK_FALSE(msgpack_well_formed(std::string(1, '\xd8') + std::string(16, '\x01')));
  }
}

TEST_CASE("msgpack_well_formed rejects the reserved byte 0xc1") {
  CHECK_FALSE(msgpack_well_formed(bytes({0xc1})));
  CHECK_FALSE(msgpack_well_formed(bytes({0x92, 0x01, 0xc1})));
  CHECK(msgpack_well_formed(bytes({0xa1, 0xc1})));  // inside a string it is just a byte
}

TEST_CASE("msgpack_well_formed rejects bytes after the one value") {
  CHECK_FALSE(msgpack_well_formed(bytes({0x01, 0x02})));
  CHECK_FALSE(msgpack_well_formed(bytes({0x90, 0x90})));
  CHECK_FALSE(msgpack_well_formed(bytes({0x91, 0x01, 0x00})));
}

TEST_CASE("msgpack_well_formed rejects nesting deeper than the limit") {
  SUBCASE("arrays") {
    CHECK(msgpack_well_formed(nested_arrays(3), 3));
    CHECK_FALSE(msgpack_well_formed(nested_arrays(4), 3));
    CHECK(msgpack_well_formed(nested_arrays(max_document_depth)));
    CHECK_FALSE(msgpack_well_formed(nested_arrays(max_document_depth + 1)));
  }
  SUBCASE("maps") {
    CHECK(msgpack_well_formed(nested_maps(3), 3));
    CHECK_FALSE(msgpack_well_formed(nested_maps(4), 3));
  }
  SUBCASE("hostile nesting doesn't exhaust the stack") {
    CHECK_FALSE(msgpack_well_formed(nested_arrays(1000000)));
    CHECK_FALSE(msgpack_well_formed(std::string(1000000, '\x91')));
  }
  SUBCASE("siblings don't add up") {
    std::string wide = bytes({0xdc, 0x01, 0x00});  // 256 elements, each [[1]]
    for (int i = 0; i < 256; ++i) wide += nested_arrays(2);
    CHECK(msgpack_well_formed(wide, 3));
  }
}

// The contract says "false when containers nest deeper than max_depth", and json_depth_within
// counts "[[]]" as depth 2. msgpack_well_formed never pushes an empty container, so an empty
// array or map one level past the limit is accepted. Harmless for the stack (an empty container
// doesn't recurse), but the two checks disagree on the same document.
TEST_CASE("msgpack_well_formed counts an empty container toward the depth") {
  CHECK_FALSE(json_depth_within("[[]]", 1));
  CHECK_FALSE(msgpack_well_formed(bytes({0x91, 0x90}), 1));
  CHECK_FALSE(msgpack_well_formed(bytes({0x91, 0x80}), 1));
}

TEST_CASE("what msgpack_well_formed accepts, nlohmann reads without recursing too deeply") {
  auto doc = nested_arrays(max_document_depth);
  REQUIRE(msgpack_well_formed(doc));
  auto value = json::from_msgpack(doc, true, false);
  CHECK_FALSE(value.is_discarded());
}
