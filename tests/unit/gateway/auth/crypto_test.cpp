#include "auth/crypto.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace sb::auth;

TEST_CASE("computes HMAC-SHA256 over the key string's bytes (PROTOCOL.md test vector)") {
  const std::string connection_id = "0f9c97a2f0bf4706afe87a14e0797b11";
  CHECK(to_hex(hmac(HashAlgorithm::sha256, "7aab239577fd4f24bc919802fb629f5f", connection_id)) ==
        "7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561");
  CHECK(to_hex(hmac(HashAlgorithm::sha256, "a5f2815d0d0c4b00bd27e832432f91ab", connection_id)) ==
        "d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760");
}

TEST_CASE("computes HMAC-SHA512 (RFC 4231 test case 2)") {
  CHECK(to_hex(hmac(HashAlgorithm::sha512, "Jefe", "what do ya want for nothing?")) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b"
        "4b636e070a38bce737");
  CHECK(hmac(HashAlgorithm::sha512, "k", "m").size() == 64);
  CHECK(hmac(HashAlgorithm::sha256, "k", "m").size() == 32);
}

TEST_CASE("writes lower-case hex") {
  CHECK(to_hex(std::string("\x00\x0f\xab\xff", 4)) == "000fabff");
  CHECK(to_hex("") == "");
}

TEST_CASE("encodes base64url without padding") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("foob") == "Zm9vYg");
  CHECK(base64url_encode(std::string("\xfb\xff\xbf", 3)) == "-_-_");  // '+' and '/' in standard base64
  CHECK(base64url_encode(R"({"alg":"HS256","typ":"JWT"})") == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST_CASE("decodes base64url, padded or not, and round-trips every length") {
  CHECK(base64url_decode("Zm9vYg") == std::optional<std::string>("foob"));
  CHECK(base64url_decode("Zm9vYg==") == std::optional<std::string>("foob"));
  CHECK(base64url_decode("-_-_") == std::optional<std::string>(std::string("\xfb\xff\xbf", 3)));
  CHECK(base64url_decode("") == std::optional<std::string>(""));
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    bytes += static_cast<char>(i * 37 + 11);
    CAPTURE(i);
    CHECK(base64url_decode(base64url_encode(bytes)) == std::optional<std::string>(bytes));
  }
}

TEST_CASE("rejects base64url with characters outside its alphabet") {
  CHECK_FALSE(base64url_decode("Zm9v+g").has_value());  // standard base64 '+'
  CHECK_FALSE(base64url_decode("Zm9v/g").has_value());
  CHECK_FALSE(base64url_decode("Zm 9v").has_value());
  CHECK_FALSE(base64url_decode("Zm9v.").has_value());
  CHECK_FALSE(base64url_decode("Zm=9v").has_value());  // padding only at the end
  CHECK_FALSE(base64url_decode("Z").has_value());      // a length no encoder produces
  CHECK_FALSE(base64url_decode("Zm9vY").has_value());
}

TEST_CASE("compares secrets in constant time") {
  CHECK(constant_time_equals("abc", "abc"));
  CHECK(constant_time_equals("", ""));
  CHECK_FALSE(constant_time_equals("abc", "abd"));
  CHECK_FALSE(constant_time_equals("abc", "ab"));
  CHECK_FALSE(constant_time_equals("", "a"));
  CHECK(constant_time_equals(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(constant_time_equals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_CASE("HMAC keeps keyed contexts per thread: repeated, interleaved and evicted keys give the same bytes") {
  const std::string message = "what do ya want for nothing?";
  const std::string expected = hmac(HashAlgorithm::sha512, "Jefe", message);
  // 20 other keys push "Jefe" out of the 16-entry cache and back in; the answer never changes.
  for (int round = 0; round < 3; ++round) {
    CHECK(hmac(HashAlgorithm::sha512, "Jefe", message) == expected);
    for (int k = 0; k < 20; ++k) {
      std::string key = "key-" + std::to_string(k);
      CHECK(hmac(HashAlgorithm::sha256, key, "m") == hmac(HashAlgorithm::sha256, key, "m"));
      if (k == 7) CHECK(to_hex(hmac(HashAlgorithm::sha256, key, "m")) == "25df0d7bb253a1e1a73facbc67e331fee52f9504962b39efc7e41bc000caaa98");  // Python's hmac
    }
  }
  CHECK(to_hex(hmac(HashAlgorithm::sha512, "Jefe", message)) ==
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
  CHECK(to_hex(hmac(HashAlgorithm::sha256, "", "m")) == "a64092104c76d9ef65599c33c177609ecd49857456eb28133c4daea25bea960a");
  CHECK(to_hex(hmac(HashAlgorithm::sha256, "", "m")) == "a64092104c76d9ef65599c33c177609ecd49857456eb28133c4daea25bea960a");
}
