#include "auth/upstream_signature.hpp"

#include <doctest/doctest.h>

using sb::auth::KeyRing;
using sb::auth::upstream_signature;

TEST_CASE("signs the connection id once per key, joined by a comma without a space") {
  KeyRing keys{{"7aab239577fd4f24bc919802fb629f5f", "a5f2815d0d0c4b00bd27e832432f91ab"}};
  CHECK(upstream_signature(keys, "0f9c97a2f0bf4706afe87a14e0797b11") ==
        "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561,"
        "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760");
}

TEST_CASE("writes one signature for a single key") {
  KeyRing keys{{"a5f2815d0d0c4b00bd27e832432f91ab"}};
  CHECK(upstream_signature(keys, "0f9c97a2f0bf4706afe87a14e0797b11") ==
        "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760");
}
