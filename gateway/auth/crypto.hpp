#pragma once
// Small wrappers over OpenSSL for what tokens and signatures need. Pure: no I/O, no clock.
#include <optional>
#include <string>
#include <string_view>

namespace sb::auth {

enum class HashAlgorithm { sha256, sha512 };

// HMAC over message with the key's bytes (Azure: the UTF-8 bytes of the AccessKey string, not base64-decoded).
// Empty if OpenSSL fails, which no signature check accepts.
std::string hmac(HashAlgorithm algorithm, std::string_view key, std::string_view message);

std::string to_hex(std::string_view bytes);  // lower case
std::string base64url_encode(std::string_view bytes);
// Accepts unpadded or padded base64url; nullopt on any other character.
std::optional<std::string> base64url_decode(std::string_view text);

// Compares without an early exit, so timing reveals nothing about where two secrets differ.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace sb::auth
