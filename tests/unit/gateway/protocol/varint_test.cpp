#include "protocol/varint.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

using namespace sb::protocol;

namespace {

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (auto b : list) out += static_cast<char>(b);
  return out;
}

std::string varint(std::size_t value) {
  std::string out;
  append_varint(out, value);
  return out;
}

}  // namespace

TEST_CASE("reads PROTOCOL.md's example 80 29 as 5248") {
  auto read = read_varint(bytes({0x80, 0x29}));
  REQUIRE(read.status == VarIntStatus::ok);
  CHECK(read.value == 5248);
  CHECK(read.header_bytes == 2);
}

TEST_CASE("reads a varint and stops at its last byte, ignoring what follows") {
  auto read = read_varint(bytes({0x80, 0x29, 0x96, 0x01}));
  REQUIRE(read.status == VarIntStatus::ok);
  CHECK(read.value == 5248);
  CHECK(read.header_bytes == 2);
}

TEST_CASE("reads one-byte varints") {
  SUBCASE("zero") {
    auto read = read_varint(bytes({0x00}));
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == 0);
    CHECK(read.header_bytes == 1);
  }
  SUBCASE("127, the largest") {
    auto read = read_varint(bytes({0x7f}));
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == 127);
    CHECK(read.header_bytes == 1);
  }
  SUBCASE("128 needs two bytes") {
    auto read = read_varint(bytes({0x80, 0x01}));
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == 128);
    CHECK(read.header_bytes == 2);
  }
}

TEST_CASE("reads five-byte varints up to 2^31 - 1") {
  SUBCASE("2^31 - 1, the largest length allowed") {
    auto read = read_varint(bytes({0xff, 0xff, 0xff, 0xff, 0x07}));
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == (std::size_t{1} << 31) - 1);
    CHECK(read.header_bytes == 5);
  }
  SUBCASE("2^28, the smallest five-byte value") {
    auto read = read_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x01}));
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == (std::size_t{1} << 28));
    CHECK(read.header_bytes == 5);
  }
}

TEST_CASE("reports a varint whose continuation bytes haven't arrived as incomplete") {
  CHECK(read_varint("").status == VarIntStatus::incomplete);
  CHECK(read_varint(bytes({0x80})).status == VarIntStatus::incomplete);
  CHECK(read_varint(bytes({0xff, 0xff})).status == VarIntStatus::incomplete);
  CHECK(read_varint(bytes({0x80, 0x80, 0x80, 0x80})).status == VarIntStatus::incomplete);
}

TEST_CASE("rejects a varint that would need a sixth byte") {
  SUBCASE("five continuation bytes and nothing after") {
    CHECK(read_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80})).status == VarIntStatus::invalid);
  }
  SUBCASE("six bytes") {
    CHECK(read_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01})).status == VarIntStatus::invalid);
  }
}

TEST_CASE("rejects lengths of 2^31 or more") {
  SUBCASE("exactly 2^31") {
    CHECK(read_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x08})).status == VarIntStatus::invalid);
  }
  SUBCASE("2^35 - 1, every payload bit set") {
    CHECK(read_varint(bytes({0xff, 0xff, 0xff, 0xff, 0x7f})).status == VarIntStatus::invalid);
  }
}

TEST_CASE("append_varint writes the shortest form, least significant group first") {
  CHECK(varint(0) == bytes({0x00}));
  CHECK(varint(127) == bytes({0x7f}));
  CHECK(varint(128) == bytes({0x80, 0x01}));
  CHECK(varint(5248) == bytes({0x80, 0x29}));
  CHECK(varint((std::size_t{1} << 31) - 1) == bytes({0xff, 0xff, 0xff, 0xff, 0x07}));
}

TEST_CASE("read_varint gives back what append_varint wrote") {
  for (std::size_t value :
       {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128}, std::size_t{300}, std::size_t{16383},
        std::size_t{16384}, std::size_t{5248}, std::size_t{2097151}, std::size_t{2097152}, std::size_t{268435455},
        std::size_t{268435456}, (std::size_t{1} << 31) - 1}) {
    CAPTURE(value);
    auto encoded = varint(value);
    CHECK(encoded.size() <= 5);
    auto read = read_varint(encoded);
    REQUIRE(read.status == VarIntStatus::ok);
    CHECK(read.value == value);
    CHECK(read.header_bytes == encoded.size());
  }
}

TEST_CASE("frame_with_varint prefixes a body with its length") {
  CHECK(frame_with_varint("") == bytes({0x00}));
  CHECK(frame_with_varint(bytes({0x91, 0x06})) == bytes({0x02, 0x91, 0x06}));
  std::string body(5248, 'x');
  auto framed = frame_with_varint(body);
  REQUIRE(framed.size() == body.size() + 2);
  CHECK(framed.substr(0, 2) == bytes({0x80, 0x29}));
  CHECK(framed.substr(2) == body);
}
