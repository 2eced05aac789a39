#include "switchboard/detail/upstream_signature.hpp"

#include <doctest/doctest.h>

using switchboard::detail::is_upstream_signature_valid;
using switchboard::detail::sign_connection_id;

namespace {

// PROTOCOL.md part 2 §2.4, computed independently with Python's hmac.
constexpr const char* kConnectionId = "0f9c97a2f0bf4706afe87a14e0797b11";
constexpr const char* kPrimaryKey = "7aab239577fd4f24bc919802fb629f5f";
constexpr const char* kPrimarySignature = "sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561";
constexpr const char* kSecondaryKey = "a5f2815d0d0c4b00bd27e832432f91ab";
constexpr const char* kSecondarySignature =
    "sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760";

}  // namespace

TEST_CASE("signs a connection id as sha256= and the lower-case hex HMAC of the key") {
  CHECK(sign_connection_id(kPrimaryKey, kConnectionId) == kPrimarySignature);
  CHECK(sign_connection_id(kSecondaryKey, kConnectionId) == kSecondarySignature);
}

TEST_CASE("accepts the signature of a configured key") {
  CHECK(is_upstream_signature_valid(kPrimarySignature, kConnectionId, {kPrimaryKey}));
}

TEST_CASE("rejects a signature made with a key that is not configured") {
  CHECK_FALSE(is_upstream_signature_valid(kSecondarySignature, kConnectionId, {kPrimaryKey}));
  CHECK_FALSE(is_upstream_signature_valid(kPrimarySignature, "another-connection", {kPrimaryKey}));
}

TEST_CASE("rejects every signature when no key is configured") {
  CHECK_FALSE(is_upstream_signature_valid(kPrimarySignature, kConnectionId, {}));
  CHECK_FALSE(is_upstream_signature_valid("", kConnectionId, {}));
}

TEST_CASE("accepts a header listing one signature per key when any of them matches any configured key") {
  const std::string header = std::string(kSecondarySignature) + "," + kPrimarySignature;
  SUBCASE("the matching entry comes second") {
    CHECK(is_upstream_signature_valid(header, kConnectionId, {kPrimaryKey}));
  }
  SUBCASE("the matching key is configured second") {
    CHECK(is_upstream_signature_valid(kPrimarySignature, kConnectionId, {"rotated-out", kPrimaryKey}));
  }
  SUBCASE("blanks after the comma are tolerated") {
    CHECK(is_upstream_signature_valid(std::string(kSecondarySignature) + ", " + kPrimarySignature, kConnectionId,
                                      {kPrimaryKey}));
  }
  SUBCASE("no entry matches") {
    CHECK_FALSE(is_upstream_signature_valid(header, kConnectionId, {"some-other-key"}));
  }
}

TEST_CASE("compares the hex digest case-insensitively, as the Azure emulator sends upper case") {
  CHECK(is_upstream_signature_valid("sha256=7767EFFCB3946F3E1DE039DF4B986EF02C110B1469D02C0A06F41B3B727AB561",
                                    kConnectionId, {kPrimaryKey}));
  CHECK(is_upstream_signature_valid("SHA256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561",
                                    kConnectionId, {kPrimaryKey}));
}

TEST_CASE("rejects a truncated or bare signature") {
  CHECK_FALSE(is_upstream_signature_valid("sha256=7767effcb3946f3e", kConnectionId, {kPrimaryKey}));
  CHECK_FALSE(is_upstream_signature_valid("7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561",
                                          kConnectionId, {kPrimaryKey}));
}
