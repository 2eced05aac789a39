// The few OpenSSL primitives the runtime needs: HMAC-SHA256, random bytes, hex, and a comparison whose time does
// not depend on where two secrets first differ.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace switchboard::detail {

// 32 raw bytes. The key is used as given: Azure signs with the access key's UTF-8 bytes, never
// base64-decoded.
std::string hmac_sha256(std::string_view key, std::string_view message);

// `count` bytes from OpenSSL's RAND_bytes; throws std::runtime_error if OpenSSL has no randomness.
std::string random_bytes(std::size_t count);

std::string to_lower_hex(std::string_view bytes);

// False when the lengths differ (the length of a signature is public); otherwise CRYPTO_memcmp.
bool equals_constant_time(std::string_view a, std::string_view b);

}  // namespace switchboard::detail
